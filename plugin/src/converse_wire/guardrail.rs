//! A guardrail's trace (`metadata.trace.guardrail`) as the SDK's `GuardrailTraceAssessment`,
//! read from the wire JSON: every field [`crate::stream::guardrail_trace`] reports. Of the
//! automated reasoning policy's findings, each keeps its kind (valid, invalid, ...) without
//! its details, which the report leaves out (it counts them).

use std::collections::HashMap;

use aws_sdk_bedrockruntime::types::*;
use serde_json::Value;

type Built<T> = Result<T, String>;

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key)?.as_str().map(str::to_string)
}

fn int(v: &Value, key: &str) -> Option<i32> {
    v.get(key)?.as_i64().and_then(|n| i32::try_from(n).ok())
}

/// A field naming one of an enum's values (the SDK keeps a value it does not know).
fn kind<T: for<'a> From<&'a str>>(v: &Value, key: &str) -> Option<T> {
    v.get(key)?.as_str().map(T::from)
}

fn flag(v: &Value, key: &str) -> Option<bool> {
    v.get(key)?.as_bool()
}

fn list<'a>(v: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    v.get(key).and_then(Value::as_array).into_iter().flatten()
}

fn each<T>(v: &Value, key: &str, f: impl Fn(&Value) -> Built<T>) -> Built<Vec<T>> {
    list(v, key).map(f).collect()
}

fn built<T>(r: Result<T, aws_smithy_types::error::operation::BuildError>) -> Built<T> {
    r.map_err(|e| format!("guardrail trace: {e}"))
}

pub fn trace(v: &Value) -> Built<GuardrailTraceAssessment> {
    let model_output: Option<Vec<String>> = v.get("modelOutput").map(|_| {
        list(v, "modelOutput")
            .filter_map(|s| s.as_str().map(str::to_string))
            .collect()
    });
    let input = match v.get("inputAssessment").and_then(Value::as_object) {
        Some(map) => Some(
            map.iter()
                .map(|(id, a)| Ok((id.clone(), assessment(a)?)))
                .collect::<Built<HashMap<_, _>>>()?,
        ),
        None => None,
    };
    let outputs = match v.get("outputAssessments").and_then(Value::as_object) {
        Some(map) => Some(
            map.iter()
                .map(|(id, list)| {
                    let items = list
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(assessment)
                        .collect::<Built<Vec<_>>>()?;
                    Ok((id.clone(), items))
                })
                .collect::<Built<HashMap<_, _>>>()?,
        ),
        None => None,
    };
    Ok(GuardrailTraceAssessment::builder()
        .set_model_output(model_output)
        .set_input_assessment(input)
        .set_output_assessments(outputs)
        .set_action_reason(text(v, "actionReason"))
        .build())
}

fn assessment(v: &Value) -> Built<GuardrailAssessment> {
    let part = |key: &str| v.get(key);
    Ok(GuardrailAssessment::builder()
        .set_topic_policy(part("topicPolicy").map(topic_policy).transpose()?)
        .set_content_policy(part("contentPolicy").map(content_policy).transpose()?)
        .set_word_policy(part("wordPolicy").map(word_policy).transpose()?)
        .set_sensitive_information_policy(
            part("sensitiveInformationPolicy")
                .map(sensitive_policy)
                .transpose()?,
        )
        .set_contextual_grounding_policy(
            part("contextualGroundingPolicy")
                .map(grounding_policy)
                .transpose()?,
        )
        .set_automated_reasoning_policy(
            part("automatedReasoningPolicy")
                .map(reasoning_policy)
                .transpose()?,
        )
        .set_invocation_metrics(part("invocationMetrics").map(metrics).transpose()?)
        .set_applied_guardrail_details(part("appliedGuardrailDetails").map(applied))
        .build())
}

fn topic_policy(v: &Value) -> Built<GuardrailTopicPolicyAssessment> {
    let topics = each(v, "topics", |t| {
        built(
            GuardrailTopic::builder()
                .set_name(text(t, "name"))
                .set_type(kind::<GuardrailTopicType>(t, "type"))
                .set_action(kind::<GuardrailTopicPolicyAction>(t, "action"))
                .set_detected(flag(t, "detected"))
                .build(),
        )
    })?;
    built(
        GuardrailTopicPolicyAssessment::builder()
            .set_topics(Some(topics))
            .build(),
    )
}

fn content_policy(v: &Value) -> Built<GuardrailContentPolicyAssessment> {
    let filters = each(v, "filters", |f| {
        built(
            GuardrailContentFilter::builder()
                .set_type(kind::<GuardrailContentFilterType>(f, "type"))
                .set_confidence(kind::<GuardrailContentFilterConfidence>(f, "confidence"))
                .set_filter_strength(kind::<GuardrailContentFilterStrength>(f, "filterStrength"))
                .set_action(kind::<GuardrailContentPolicyAction>(f, "action"))
                .set_detected(flag(f, "detected"))
                .build(),
        )
    })?;
    built(
        GuardrailContentPolicyAssessment::builder()
            .set_filters(Some(filters))
            .build(),
    )
}

fn word_policy(v: &Value) -> Built<GuardrailWordPolicyAssessment> {
    let custom = each(v, "customWords", |w| {
        built(
            GuardrailCustomWord::builder()
                .set_match(text(w, "match"))
                .set_action(kind::<GuardrailWordPolicyAction>(w, "action"))
                .set_detected(flag(w, "detected"))
                .build(),
        )
    })?;
    let managed = each(v, "managedWordLists", |w| {
        built(
            GuardrailManagedWord::builder()
                .set_match(text(w, "match"))
                .set_type(kind::<GuardrailManagedWordType>(w, "type"))
                .set_action(kind::<GuardrailWordPolicyAction>(w, "action"))
                .set_detected(flag(w, "detected"))
                .build(),
        )
    })?;
    built(
        GuardrailWordPolicyAssessment::builder()
            .set_custom_words(Some(custom))
            .set_managed_word_lists(Some(managed))
            .build(),
    )
}

fn sensitive_policy(v: &Value) -> Built<GuardrailSensitiveInformationPolicyAssessment> {
    let action = |e: &Value| kind::<GuardrailSensitiveInformationPolicyAction>(e, "action");
    let pii = each(v, "piiEntities", |e| {
        built(
            GuardrailPiiEntityFilter::builder()
                .set_match(text(e, "match"))
                .set_type(kind::<GuardrailPiiEntityType>(e, "type"))
                .set_action(action(e))
                .set_detected(flag(e, "detected"))
                .build(),
        )
    })?;
    let regexes = each(v, "regexes", |r| {
        built(
            GuardrailRegexFilter::builder()
                .set_name(text(r, "name"))
                .set_match(text(r, "match"))
                .set_regex(text(r, "regex"))
                .set_action(action(r))
                .set_detected(flag(r, "detected"))
                .build(),
        )
    })?;
    built(
        GuardrailSensitiveInformationPolicyAssessment::builder()
            .set_pii_entities(Some(pii))
            .set_regexes(Some(regexes))
            .build(),
    )
}

fn grounding_policy(v: &Value) -> Built<GuardrailContextualGroundingPolicyAssessment> {
    let filters = each(v, "filters", |f| {
        built(
            GuardrailContextualGroundingFilter::builder()
                .set_type(kind::<GuardrailContextualGroundingFilterType>(f, "type"))
                .set_threshold(f.get("threshold").and_then(Value::as_f64))
                .set_score(f.get("score").and_then(Value::as_f64))
                .set_action(kind::<GuardrailContextualGroundingPolicyAction>(
                    f, "action",
                ))
                .set_detected(flag(f, "detected"))
                .build(),
        )
    })?;
    Ok(GuardrailContextualGroundingPolicyAssessment::builder()
        .set_filters(v.get("filters").map(|_| filters))
        .build())
}

fn reasoning_policy(v: &Value) -> Built<GuardrailAutomatedReasoningPolicyAssessment> {
    use GuardrailAutomatedReasoningFinding as Finding;
    // A kind newer than this table has no variant to be made as: it is left out.
    let findings = list(v, "findings")
        .filter_map(|f| {
            Some(match f.as_object()?.keys().next()?.as_str() {
                "valid" => {
                    Finding::Valid(GuardrailAutomatedReasoningValidFinding::builder().build())
                }
                "invalid" => {
                    Finding::Invalid(GuardrailAutomatedReasoningInvalidFinding::builder().build())
                }
                "satisfiable" => Finding::Satisfiable(
                    GuardrailAutomatedReasoningSatisfiableFinding::builder().build(),
                ),
                "impossible" => Finding::Impossible(
                    GuardrailAutomatedReasoningImpossibleFinding::builder().build(),
                ),
                "translationAmbiguous" => Finding::TranslationAmbiguous(
                    GuardrailAutomatedReasoningTranslationAmbiguousFinding::builder().build(),
                ),
                "tooComplex" => Finding::TooComplex(
                    GuardrailAutomatedReasoningTooComplexFinding::builder().build(),
                ),
                "noTranslations" => Finding::NoTranslations(
                    GuardrailAutomatedReasoningNoTranslationsFinding::builder().build(),
                ),
                _ => return None,
            })
        })
        .collect::<Vec<_>>();
    Ok(GuardrailAutomatedReasoningPolicyAssessment::builder()
        .set_findings(v.get("findings").map(|_| findings))
        .build())
}

fn metrics(v: &Value) -> Built<GuardrailInvocationMetrics> {
    let usage = match v.get("usage") {
        Some(u) => Some(built(
            GuardrailUsage::builder()
                .set_topic_policy_units(int(u, "topicPolicyUnits"))
                .set_content_policy_units(int(u, "contentPolicyUnits"))
                .set_word_policy_units(int(u, "wordPolicyUnits"))
                .set_sensitive_information_policy_units(int(u, "sensitiveInformationPolicyUnits"))
                .set_sensitive_information_policy_free_units(int(
                    u,
                    "sensitiveInformationPolicyFreeUnits",
                ))
                .set_contextual_grounding_policy_units(int(u, "contextualGroundingPolicyUnits"))
                .set_content_policy_image_units(int(u, "contentPolicyImageUnits"))
                .set_automated_reasoning_policy_units(int(u, "automatedReasoningPolicyUnits"))
                .set_automated_reasoning_policies(int(u, "automatedReasoningPolicies"))
                .build(),
        )?),
        None => None,
    };
    let coverage = v.get("guardrailCoverage").map(|c| {
        GuardrailCoverage::builder()
            .set_text_characters(c.get("textCharacters").map(|t| {
                GuardrailTextCharactersCoverage::builder()
                    .set_guarded(int(t, "guarded"))
                    .set_total(int(t, "total"))
                    .build()
            }))
            .set_images(c.get("images").map(|t| {
                GuardrailImageCoverage::builder()
                    .set_guarded(int(t, "guarded"))
                    .set_total(int(t, "total"))
                    .build()
            }))
            .build()
    });
    Ok(GuardrailInvocationMetrics::builder()
        .set_guardrail_processing_latency(
            v.get("guardrailProcessingLatency").and_then(Value::as_i64),
        )
        .set_usage(usage)
        .set_guardrail_coverage(coverage)
        .build())
}

fn applied(v: &Value) -> AppliedGuardrailDetails {
    let origins: Option<Vec<GuardrailOrigin>> = v.get("guardrailOrigin").map(|_| {
        list(v, "guardrailOrigin")
            .filter_map(|o| o.as_str().map(GuardrailOrigin::from))
            .collect()
    });
    AppliedGuardrailDetails::builder()
        .set_guardrail_id(text(v, "guardrailId"))
        .set_guardrail_version(text(v, "guardrailVersion"))
        .set_guardrail_arn(text(v, "guardrailArn"))
        .set_guardrail_origin(origins)
        .set_guardrail_ownership(kind::<GuardrailOwnership>(v, "guardrailOwnership"))
        .build()
}
