//! A guardrail's assessment (`trace.guardrail` of the metadata event), back to the JSON the
//! service sent, in its own field names: the SDK reads it into types, and the host gets it as
//! a document (contract extension `guardrail`). Every policy's findings are kept; the
//! automated-reasoning findings, a deep tree of their own, are counted.

use std::collections::HashMap;

use aws_sdk_bedrockruntime::types::{
    AppliedGuardrailDetails, GuardrailAssessment, GuardrailContentPolicyAssessment,
    GuardrailContextualGroundingPolicyAssessment, GuardrailInvocationMetrics,
    GuardrailSensitiveInformationPolicyAssessment, GuardrailTopicPolicyAssessment,
    GuardrailTraceAssessment, GuardrailWordPolicyAssessment,
};
use serde_json::{json, Map, Value};

pub fn to_json(trace: &GuardrailTraceAssessment) -> Value {
    let mut out = Map::new();
    if !trace.model_output().is_empty() {
        out.insert("modelOutput".into(), json!(trace.model_output()));
    }
    if let Some(input) = trace.input_assessment() {
        out.insert("inputAssessment".into(), by_guardrail(input, assessment));
    }
    if let Some(outputs) = trace.output_assessments() {
        out.insert(
            "outputAssessments".into(),
            by_guardrail(outputs, |list| {
                Value::Array(list.iter().map(assessment).collect())
            }),
        );
    }
    if let Some(reason) = trace.action_reason() {
        out.insert("actionReason".into(), json!(reason));
    }
    Value::Object(out)
}

fn by_guardrail<T>(map: &HashMap<String, T>, f: impl Fn(&T) -> Value) -> Value {
    let mut ids: Vec<&String> = map.keys().collect();
    ids.sort();
    Value::Object(
        ids.into_iter()
            .map(|id| (id.clone(), f(&map[id])))
            .collect(),
    )
}

fn assessment(a: &GuardrailAssessment) -> Value {
    let policies = [
        ("topicPolicy", a.topic_policy().map(topic_policy)),
        ("contentPolicy", a.content_policy().map(content_policy)),
        ("wordPolicy", a.word_policy().map(word_policy)),
        (
            "sensitiveInformationPolicy",
            a.sensitive_information_policy()
                .map(sensitive_information_policy),
        ),
        (
            "contextualGroundingPolicy",
            a.contextual_grounding_policy()
                .map(contextual_grounding_policy),
        ),
        (
            "automatedReasoningPolicy",
            a.automated_reasoning_policy()
                .map(|p| json!({ "findingCount": p.findings().len() })),
        ),
        ("invocationMetrics", a.invocation_metrics().map(metrics)),
        (
            "appliedGuardrailDetails",
            a.applied_guardrail_details().map(applied_details),
        ),
    ];
    let out: Map<String, Value> = policies
        .into_iter()
        .filter_map(|(name, value)| Some((name.to_string(), value?)))
        .collect();
    Value::Object(out)
}

/// Which guardrail ran and why: named by the request, or enforced by the account or the
/// organisation (and whose it is).
fn applied_details(d: &AppliedGuardrailDetails) -> Value {
    let mut out = Map::new();
    for (key, value) in [
        ("guardrailId", d.guardrail_id()),
        ("guardrailVersion", d.guardrail_version()),
        ("guardrailArn", d.guardrail_arn()),
        (
            "guardrailOwnership",
            d.guardrail_ownership().map(|o| o.as_str()),
        ),
    ] {
        if let Some(value) = value {
            out.insert(key.into(), json!(value));
        }
    }
    if !d.guardrail_origin().is_empty() {
        let origins: Vec<&str> = d.guardrail_origin().iter().map(|o| o.as_str()).collect();
        out.insert("guardrailOrigin".into(), json!(origins));
    }
    Value::Object(out)
}

fn topic_policy(p: &GuardrailTopicPolicyAssessment) -> Value {
    let topics: Vec<Value> = p
        .topics()
        .iter()
        .map(|t| json!({"name": t.name(), "type": t.r#type().as_str(), "action": t.action().as_str(), "detected": t.detected()}))
        .collect();
    json!({ "topics": topics })
}

fn content_policy(p: &GuardrailContentPolicyAssessment) -> Value {
    let filters: Vec<Value> = p
        .filters()
        .iter()
        .map(|f| {
            json!({
                "type": f.r#type().as_str(),
                "confidence": f.confidence().as_str(),
                "filterStrength": f.filter_strength().map(|s| s.as_str()),
                "action": f.action().as_str(),
                "detected": f.detected(),
            })
        })
        .collect();
    json!({ "filters": filters })
}

fn word_policy(p: &GuardrailWordPolicyAssessment) -> Value {
    let custom: Vec<Value> = p
        .custom_words()
        .iter()
        .map(|w| json!({"match": w.r#match(), "action": w.action().as_str(), "detected": w.detected()}))
        .collect();
    let managed: Vec<Value> = p
        .managed_word_lists()
        .iter()
        .map(|w| json!({"match": w.r#match(), "type": w.r#type().as_str(), "action": w.action().as_str(), "detected": w.detected()}))
        .collect();
    json!({ "customWords": custom, "managedWordLists": managed })
}

fn sensitive_information_policy(p: &GuardrailSensitiveInformationPolicyAssessment) -> Value {
    let pii: Vec<Value> = p
        .pii_entities()
        .iter()
        .map(|e| json!({"match": e.r#match(), "type": e.r#type().as_str(), "action": e.action().as_str(), "detected": e.detected()}))
        .collect();
    let regexes: Vec<Value> = p
        .regexes()
        .iter()
        .map(|r| json!({"name": r.name(), "match": r.r#match(), "regex": r.regex(), "action": r.action().as_str(), "detected": r.detected()}))
        .collect();
    json!({ "piiEntities": pii, "regexes": regexes })
}

fn contextual_grounding_policy(p: &GuardrailContextualGroundingPolicyAssessment) -> Value {
    let filters: Vec<Value> = p
        .filters()
        .iter()
        .map(|f| {
            json!({
                "type": f.r#type().as_str(),
                "threshold": f.threshold(),
                "score": f.score(),
                "action": f.action().as_str(),
                "detected": f.detected(),
            })
        })
        .collect();
    json!({ "filters": filters })
}

fn metrics(m: &GuardrailInvocationMetrics) -> Value {
    let mut out = Map::new();
    if let Some(latency) = m.guardrail_processing_latency() {
        out.insert("guardrailProcessingLatency".into(), json!(latency));
    }
    if let Some(u) = m.usage() {
        out.insert(
            "usage".into(),
            json!({
                "topicPolicyUnits": u.topic_policy_units(),
                "contentPolicyUnits": u.content_policy_units(),
                "wordPolicyUnits": u.word_policy_units(),
                "sensitiveInformationPolicyUnits": u.sensitive_information_policy_units(),
                "sensitiveInformationPolicyFreeUnits": u.sensitive_information_policy_free_units(),
                "contextualGroundingPolicyUnits": u.contextual_grounding_policy_units(),
                "contentPolicyImageUnits": u.content_policy_image_units(),
                "automatedReasoningPolicyUnits": u.automated_reasoning_policy_units(),
                "automatedReasoningPolicies": u.automated_reasoning_policies(),
            }),
        );
    }
    if let Some(coverage) = m.guardrail_coverage() {
        let mut covered = Map::new();
        if let Some(text) = coverage.text_characters() {
            covered.insert(
                "textCharacters".into(),
                json!({"guarded": text.guarded(), "total": text.total()}),
            );
        }
        if let Some(images) = coverage.images() {
            covered.insert(
                "images".into(),
                json!({"guarded": images.guarded(), "total": images.total()}),
            );
        }
        out.insert("guardrailCoverage".into(), Value::Object(covered));
    }
    Value::Object(out)
}
