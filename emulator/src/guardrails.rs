//! Guardrails tests can define: a list of blocked words, with the messages shown instead of a
//! blocked input or answer, applied as Bedrock applies a guardrail named in `guardrailConfig`:
//! the input (only the `guardContent` blocks when a request has any, else the user and system
//! text) is assessed before the model runs, the answer after; a match ends the answer with
//! `guardrail_intervened`, and with `trace` enabled the `metadata` event (or the Converse
//! response) carries `trace.guardrail` in the service's shape.

use serde_json::{json, Value};

use crate::answer::{Answer, Block};
use crate::error::{check_enum, ApiError};
use crate::json_http::{decode_segment, json_response};

/// A guardrail created by a test ([`crate::RunningEmulator::create_guardrail`]).
#[derive(Debug, Clone)]
pub struct Guardrail {
    pub id: String,
    pub version: String,
    /// Matched case-insensitively, as whole words.
    pub blocked_words: Vec<String>,
    /// The text that replaces a blocked input's answer.
    pub blocked_input_message: String,
    /// The text that replaces a blocked answer.
    pub blocked_output_message: String,
}

/// The guardrail a request names, and whether it asked for the trace.
pub struct Applied<'a> {
    pub guardrail: &'a Guardrail,
    pub trace: bool,
}

/// The `guardrailConfig` of a request, checked and resolved against the defined guardrails.
pub fn config<'a>(
    request: &Value,
    guardrails: &'a [Guardrail],
    stream: bool,
) -> Result<Option<Applied<'a>>, ApiError> {
    let Some(cfg) = request.get("guardrailConfig").filter(|c| !c.is_null()) else {
        return Ok(None);
    };
    let field = |k: &str| cfg.get(k).and_then(Value::as_str);
    let (Some(id), Some(version)) = (field("guardrailIdentifier"), field("guardrailVersion"))
    else {
        return Err(ApiError::validation(
            "guardrailConfig must name a guardrailIdentifier and a guardrailVersion.",
        ));
    };
    let trace = field("trace").unwrap_or("disabled");
    check_enum(
        "guardrailConfig.trace",
        Some(trace),
        &["enabled", "disabled", "enabled_full"],
    )?;
    if let Some(mode) = field("streamProcessingMode") {
        if !stream || !["sync", "async"].contains(&mode) {
            return Err(ApiError::validation(format!(
                "guardrailConfig.streamProcessingMode '{mode}' is only valid for ConverseStream, as sync or async."
            )));
        }
    }
    let id = id.rsplit_once("guardrail/").map_or(id, |(_, id)| id);
    let guardrail = guardrails
        .iter()
        .find(|g| g.id == id && (g.version == version || version == "DRAFT"))
        .ok_or_else(|| {
            ApiError::validation(
                "The guardrail identifier or version provided in the request does not exist.",
            )
        })?;
    Ok(Some(Applied {
        guardrail,
        trace: trace != "disabled",
    }))
}

/// The text a guardrail assesses in a request.
pub fn input_text(request: &Value) -> String {
    let mut guarded = Vec::new();
    let mut plain = Vec::new();
    let blocks = request
        .get("system")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .chain(
            request
                .get("messages")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|m| m.get("role").and_then(Value::as_str) == Some("user"))
                .flat_map(|m| {
                    m.get("content")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                }),
        );
    let mut marked = false;
    for block in blocks {
        marked |= block.get("guardContent").is_some();
        if let Some(t) = block
            .pointer("/guardContent/text/text")
            .and_then(Value::as_str)
        {
            guarded.push(t);
        } else if let Some(t) = block.get("text").and_then(Value::as_str) {
            // A scenario is the test's instruction to the emulator, not the user's words.
            if !crate::scenario::is_scenario_text(t) {
                plain.push(t);
            }
        }
    }
    // With guardContent blocks (text or images) only they are assessed.
    if marked { guarded } else { plain }.join("\n")
}

/// The images a request marks for the guardrail (`guardContent.image`).
pub fn guarded_images(request: &Value) -> usize {
    request
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .flat_map(|m| {
            m.get("content")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
        })
        .filter(|b| b.pointer("/guardContent/image").is_some())
        .count()
}

impl Guardrail {
    /// The blocked words found in `text`.
    pub fn matches(&self, text: &str) -> Vec<String> {
        let words: Vec<String> = text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect();
        self.blocked_words
            .iter()
            .filter(|b| words.contains(&b.to_lowercase()))
            .cloned()
            .collect()
    }

    /// One assessment; `arn` is the guardrail's in the emulated account and region.
    fn assessment(&self, arn: &str, matched: &[String], characters: usize) -> Value {
        self.assessment_with_images(arn, matched, characters, 0)
    }

    /// One assessment that also covered `images` images.
    fn assessment_with_images(
        &self,
        arn: &str,
        matched: &[String],
        characters: usize,
        images: usize,
    ) -> Value {
        let mut assessment = json!({
            // Which guardrail ran and why: the request named it (account- and
            // organisation-enforced guardrails would say so here).
            "appliedGuardrailDetails": {
                "guardrailId": self.id, "guardrailVersion": self.version, "guardrailArn": arn,
                "guardrailOrigin": ["REQUEST"], "guardrailOwnership": "SELF"
            },
            "invocationMetrics": {
                "guardrailCoverage": {"textCharacters": {"guarded": characters, "total": characters}},
                "guardrailProcessingLatency": 12,
                "usage": {"contentPolicyUnits": 0, "sensitiveInformationPolicyUnits": 0,
                          "topicPolicyUnits": 0, "wordPolicyUnits": 1,
                          "contextualGroundingPolicyUnits": 0, "contentPolicyImageUnits": 0,
                          "automatedReasoningPolicies": 0, "automatedReasoningPolicyUnits": 0,
                          "sensitiveInformationPolicyFreeUnits": 0}
            }
        });
        if images > 0 {
            assessment["invocationMetrics"]["guardrailCoverage"]["images"] =
                json!({"guarded": images, "total": images});
        }
        if !matched.is_empty() {
            assessment["wordPolicy"] = json!({
                "customWords": matched
                    .iter()
                    .map(|w| json!({"action": "BLOCKED", "detected": true, "match": w}))
                    .collect::<Vec<_>>()
            });
        }
        assessment
    }
}

/// Applies `applied` to the request's input and the model's `answer`: the answer, replaced
/// when the guardrail intervenes, with its trace when asked for. `arn` is the guardrail's.
pub fn apply(applied: &Applied<'_>, arn: &str, request: &Value, mut answer: Answer) -> Answer {
    let g = applied.guardrail;
    let input = input_text(request);
    let input_matches = g.matches(&input);
    let images = guarded_images(request);
    let mut trace = json!({
        "inputAssessment": {
            &g.id: g.assessment_with_images(arn, &input_matches, input.chars().count(), images)
        },
    });
    let intervened = if !input_matches.is_empty() {
        answer.blocks = vec![Block::Text {
            text: g.blocked_input_message.clone(),
            delta_size: usize::MAX,
        }];
        true
    } else {
        let output: String = answer
            .blocks
            .iter()
            .filter_map(|b| match b {
                Block::Text { text, .. } | Block::CitedText { text, .. } => Some(text.as_str()),
                _ => None,
            })
            .collect();
        let output_matches = g.matches(&output);
        trace["modelOutput"] = json!([output]);
        trace["outputAssessments"] =
            json!({ &g.id: [g.assessment(arn, &output_matches, output.chars().count())] });
        if output_matches.is_empty() {
            false
        } else {
            answer.blocks = vec![Block::Text {
                text: g.blocked_output_message.clone(),
                delta_size: usize::MAX,
            }];
            true
        }
    };
    if intervened {
        answer.stop_reason = "guardrail_intervened".into();
        trace["actionReason"] = json!("Guardrail blocked.");
    } else {
        trace["actionReason"] = json!("No action.");
    }
    if applied.trace {
        answer
            .response_fields
            .push(("trace", json!({ "guardrail": trace })));
    }
    answer
}

/// ApplyGuardrail (`POST /guardrail/{id}/version/{version}/apply`): `content` assessed by the
/// guardrail on its own, as the input (`source: INPUT`) or a model's output (`OUTPUT`), with
/// the message shown instead when it intervenes.
pub fn apply_alone(
    guardrails: &[Guardrail],
    region_account: (&str, &str),
    raw_id: &str,
    version: &str,
    body: &[u8],
) -> Result<axum::http::Response<axum::body::Body>, ApiError> {
    let (source, texts) = apply_request(body)?;
    let id = decode_segment(raw_id).unwrap_or_default();
    let id = id
        .rsplit_once("guardrail/")
        .map_or(id.as_str(), |(_, id)| id)
        .to_string();
    let guardrail = guardrails
        .iter()
        .find(|g| g.id == id && (g.version == version || version == "DRAFT"))
        .ok_or_else(|| {
            ApiError::new(
                404,
                "ResourceNotFoundException",
                "The guardrail identifier or version provided in the request does not exist.",
            )
        })?;
    let (region, account) = region_account;
    let arn = format!(
        "arn:aws:bedrock:{region}:{account}:guardrail/{}",
        guardrail.id
    );
    let text = texts.join("\n");
    let matched = guardrail.matches(&text);
    let characters = text.chars().count();
    let assessment = guardrail.assessment(&arn, &matched, characters);
    let intervened = !matched.is_empty();
    let message = if source == "INPUT" {
        &guardrail.blocked_input_message
    } else {
        &guardrail.blocked_output_message
    };
    let answer = json!({
        "usage": assessment["invocationMetrics"]["usage"],
        "action": if intervened { "GUARDRAIL_INTERVENED" } else { "NONE" },
        "actionReason": if intervened { "Guardrail blocked." } else { "No action." },
        "outputs": if intervened { json!([{"text": message}]) } else { json!([]) },
        "assessments": [assessment],
        "guardrailCoverage": {"textCharacters": {"guarded": characters, "total": characters}},
    });
    Ok(json_response(answer.to_string()))
}

/// An ApplyGuardrail body, checked: its `source` and the texts of its `content`.
fn apply_request(body: &[u8]) -> Result<(String, Vec<String>), ApiError> {
    let request: Value = serde_json::from_slice(body).map_err(|_| {
        ApiError::validation("Malformed input request, please reformat your input and try again.")
    })?;
    let source = request
        .get("source")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::missing("source"))?;
    check_enum("source", Some(source), &["INPUT", "OUTPUT"])?;
    check_enum(
        "outputScope",
        request.get("outputScope").and_then(Value::as_str),
        &["INTERVENTIONS", "FULL"],
    )?;
    let content = request
        .get("content")
        .and_then(Value::as_array)
        .ok_or_else(|| ApiError::missing("content"))?;
    let mut texts = Vec::new();
    for (i, block) in content.iter().enumerate() {
        match (block.pointer("/text/text").and_then(Value::as_str), block.get("image")) {
            (Some(text), _) => texts.push(text.to_string()),
            (None, Some(_)) => {}
            (None, None) => {
                return Err(ApiError::validation(format!(
                    "1 validation error detected: Value at 'content.{}.member' failed to satisfy constraint: Member must have exactly one of text or image",
                    i + 1
                )))
            }
        }
    }
    Ok((source.to_string(), texts))
}
