//! InvokeGuardrailChecks (`POST /guardrail-checks/invoke`): messages assessed by checks the
//! request configures inline, without a guardrail resource. The request is checked as the
//! service's model declares it; the assessment is deterministic, so tests know what to expect:
//!
//! - content filters score each configured category by the words of a short list per category
//!   (0 without one; 0.6, then 0.1 more per further word, at most 1);
//! - prompt attacks are phrases in `user` and `system` messages ("ignore previous
//!   instructions" is an injection, "developer mode" a jailbreak, "system prompt" a leak):
//!   0.9 when present, else 0;
//! - sensitive information is found for `EMAIL`, `PHONE`, `URL`, `IP_ADDRESS`,
//!   `AWS_ACCESS_KEY`, `US_SOCIAL_SECURITY_NUMBER` and `CREDIT_DEBIT_CARD_NUMBER` (Luhn-valid),
//!   with character offsets (end exclusive) into each content block; other types are accepted
//!   and never found. Past [`MAX_ENTITIES`] results the list is cut and `truncated` set.
//!
//! Each check's usage is its text units: a block's characters in thousands, rounded up.

use std::sync::LazyLock;

use axum::body::Body;
use axum::http::Response;
use regex::Regex;
use serde_json::{json, Value};

use crate::error::{check_enum, json_object, ApiError};
use crate::json_http::json_response;

const CONTENT_CATEGORIES: &[&str] = &["VIOLENCE", "HATE", "SEXUAL", "MISCONDUCT", "INSULTS"];
const ATTACK_CATEGORIES: &[&str] = &["JAILBREAK", "PROMPT_INJECTION", "PROMPT_LEAKAGE"];
/// Sensitive-information results returned at most; the rest are cut (`truncated`).
pub const MAX_ENTITIES: usize = 100;

/// The words each content-filter category scores.
fn category_words(category: &str) -> &'static [&'static str] {
    match category {
        "VIOLENCE" => &[
            "kill", "murder", "attack", "stab", "shoot", "bomb", "weapon", "assault",
        ],
        "HATE" => &["hate", "hateful", "racist", "bigot", "subhuman"],
        "SEXUAL" => &["sexual", "explicit", "nude", "porn"],
        "MISCONDUCT" => &[
            "steal",
            "launder",
            "fraud",
            "smuggle",
            "counterfeit",
            "hack",
        ],
        _ => &["idiot", "stupid", "moron", "loser", "pathetic"],
    }
}

/// The phrases each prompt-attack category finds (lower case).
fn attack_phrases(category: &str) -> &'static [&'static str] {
    match category {
        "JAILBREAK" => &[
            "developer mode",
            "no restrictions",
            "jailbreak",
            "do anything now",
        ],
        "PROMPT_INJECTION" => &[
            "ignore previous instructions",
            "ignore all previous instructions",
            "disregard the above",
        ],
        _ => &[
            "system prompt",
            "reveal your instructions",
            "your hidden instructions",
        ],
    }
}

/// The detectors of the entity types the emulator finds.
static ENTITIES: LazyLock<Vec<(&'static str, Regex)>> = LazyLock::new(|| {
    [
        ("EMAIL", r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"),
        ("URL", r"https?://[^\s]+"),
        ("AWS_ACCESS_KEY", r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
        ("US_SOCIAL_SECURITY_NUMBER", r"\b\d{3}-\d{2}-\d{4}\b"),
        (
            "IP_ADDRESS",
            r"\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b",
        ),
        (
            "PHONE",
            r"(?:\+\d{1,2}[ .-]?)?\(?\b\d{3}\)?[ .-]\d{3}[ .-]\d{4}\b",
        ),
        ("CREDIT_DEBIT_CARD_NUMBER", r"\b\d(?:[ -]?\d){12,18}\b"),
    ]
    .into_iter()
    .map(|(kind, pattern)| (kind, Regex::new(pattern).expect("a fixed pattern")))
    .collect()
});

/// One content block of a message.
struct Block {
    message: usize,
    content: usize,
    role: String,
    text: String,
}

/// POST /guardrail-checks/invoke
pub fn invoke(body: &[u8]) -> Result<Response<Body>, ApiError> {
    let request = json_object(body)?;
    let blocks = blocks(request.get("messages"))?;
    let checks = request
        .get("checks")
        .and_then(Value::as_object)
        .ok_or_else(|| ApiError::missing("checks"))?;
    if !["contentFilter", "promptAttack", "sensitiveInformation"]
        .iter()
        .any(|k| checks.contains_key(*k))
    {
        return Err(ApiError::validation(
            "checks must configure at least one of contentFilter, promptAttack and sensitiveInformation.",
        ));
    }
    let units: u64 = blocks
        .iter()
        .map(|b| (b.text.chars().count() as u64).div_ceil(1000))
        .sum();
    let (mut results, mut usage) = (json!({}), json!({}));
    if let Some(config) = checks.get("contentFilter") {
        let at = "checks.contentFilter.categories";
        let categories = configured(config, "categories", "category", at, CONTENT_CATEGORIES, 5)?;
        results["contentFilter"] = json!({"results": content_filter(&blocks, &categories)});
        usage["contentFilter"] = json!({"textUnits": units});
    }
    if let Some(config) = checks.get("promptAttack") {
        let at = "checks.promptAttack.categories";
        let categories = configured(config, "categories", "category", at, ATTACK_CATEGORIES, 3)?;
        results["promptAttack"] = json!({"results": prompt_attack(&blocks, &categories)});
        usage["promptAttack"] = json!({"textUnits": units});
    }
    if let Some(config) = checks.get("sensitiveInformation") {
        let at = "checks.sensitiveInformation.entities";
        let types = configured(config, "entities", "type", at, ENTITY_TYPES, 31)?;
        let (found, truncated) = sensitive_information(&blocks, &types);
        results["sensitiveInformation"] = json!({"results": found, "truncated": truncated});
        usage["sensitiveInformation"] = json!({"textUnits": units});
    }
    Ok(json_response(
        json!({"results": results, "usage": usage}).to_string(),
    ))
}

fn too_short(at: &str) -> ApiError {
    ApiError::constraint_on(at, "Member must have length greater than or equal to 1")
}

/// The messages' text blocks, checked: a role of the enum, at least one block each, a text
/// of at least one character in every block.
fn blocks(messages: Option<&Value>) -> Result<Vec<Block>, ApiError> {
    let messages = messages
        .and_then(Value::as_array)
        .ok_or_else(|| ApiError::missing("messages"))?;
    if messages.is_empty() {
        return Err(too_short("messages"));
    }
    let mut blocks = Vec::new();
    for (m, message) in messages.iter().enumerate() {
        let at = format!("messages.{}.member", m + 1);
        let role = message.get("role").and_then(Value::as_str);
        let role = role.ok_or_else(|| ApiError::missing(&format!("{at}.role")))?;
        check_enum(
            &format!("{at}.role"),
            Some(role),
            &["user", "assistant", "system"],
        )?;
        let content = message.get("content").and_then(Value::as_array);
        let content = content.ok_or_else(|| ApiError::missing(&format!("{at}.content")))?;
        if content.is_empty() {
            return Err(too_short(&format!("{at}.content")));
        }
        for (c, block) in content.iter().enumerate() {
            let block_at = format!("{at}.content.{}.member", c + 1);
            let text = match block.as_object().map(|b| (b.len(), b.get("text"))) {
                Some((1, Some(Value::String(text)))) => text,
                _ => {
                    return Err(ApiError::constraint_on(
                        &block_at,
                        "Member must have exactly one of text",
                    ))
                }
            };
            if text.is_empty() {
                return Err(too_short(&format!("{block_at}.text")));
            }
            blocks.push(Block {
                message: m,
                content: c,
                role: role.to_string(),
                text: text.clone(),
            });
        }
    }
    Ok(blocks)
}

/// A check's list of configured names (`list` of objects naming one under `key`), each of
/// `allowed` and named once, at least one and at most `max`.
fn configured<'a>(
    config: &'a Value,
    list: &str,
    key: &str,
    at: &str,
    allowed: &[&str],
    max: usize,
) -> Result<Vec<&'a str>, ApiError> {
    let items = config
        .get(list)
        .and_then(Value::as_array)
        .ok_or_else(|| ApiError::missing(at))?;
    if items.is_empty() {
        return Err(too_short(at));
    }
    if items.len() > max {
        return Err(ApiError::constraint_on(
            at,
            &format!("Member must have length less than or equal to {max}"),
        ));
    }
    let mut names = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let name_at = format!("{at}.{}.member.{key}", i + 1);
        let name = item.get(key).and_then(Value::as_str);
        let name = name.ok_or_else(|| ApiError::missing(&name_at))?;
        check_enum(&name_at, Some(name), allowed)?;
        if names.contains(&name) {
            return Err(ApiError::validation(format!(
                "{at} names {name} more than once; configure each at most once."
            )));
        }
        names.push(name);
    }
    Ok(names)
}

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

fn content_filter(blocks: &[Block], categories: &[&str]) -> Vec<Value> {
    let words: Vec<String> = blocks.iter().flat_map(|b| words(&b.text)).collect();
    categories
        .iter()
        .map(|category| {
            let hits = words
                .iter()
                .filter(|w| category_words(category).contains(&w.as_str()))
                .count();
            let score = match hits {
                0 => 0.0,
                n => (0.6 + 0.1 * (n - 1) as f64).min(1.0),
            };
            json!({"category": category, "severityScore": (score * 100.0).round() / 100.0})
        })
        .collect()
}

fn prompt_attack(blocks: &[Block], categories: &[&str]) -> Vec<Value> {
    let input: String = blocks
        .iter()
        .filter(|b| b.role != "assistant")
        .map(|b| b.text.to_lowercase())
        .collect::<Vec<_>>()
        .join("\n");
    categories
        .iter()
        .map(|category| {
            let found = attack_phrases(category).iter().any(|p| input.contains(p));
            json!({"category": category, "severityScore": if found { 0.9 } else { 0.0 }})
        })
        .collect()
}

fn luhn(number: &str) -> bool {
    let digits: Vec<u32> = number.chars().filter_map(|c| c.to_digit(10)).collect();
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| match (i % 2, d * 2) {
            (1, doubled) if doubled > 9 => doubled - 9,
            (1, doubled) => doubled,
            _ => d,
        })
        .sum();
    sum.is_multiple_of(10)
}

/// The requested entities found, in block order, and whether the list was cut.
fn sensitive_information(blocks: &[Block], types: &[&str]) -> (Vec<Value>, bool) {
    let mut found = Vec::new();
    for block in blocks {
        for (kind, pattern) in ENTITIES.iter().filter(|(k, _)| types.contains(k)) {
            for m in pattern.find_iter(&block.text) {
                if *kind == "CREDIT_DEBIT_CARD_NUMBER" && !luhn(m.as_str()) {
                    continue;
                }
                let begin = block.text[..m.start()].chars().count();
                found.push(json!({
                    "type": kind,
                    "confidenceScore": 0.99,
                    "beginOffset": begin,
                    "endOffset": begin + m.as_str().chars().count(),
                    "messageIndex": block.message,
                    "contentIndex": block.content,
                }));
            }
        }
    }
    let truncated = found.len() > MAX_ENTITIES;
    found.truncate(MAX_ENTITIES);
    (found, truncated)
}

const ENTITY_TYPES: &[&str] = &[
    "ADDRESS",
    "AGE",
    "AWS_ACCESS_KEY",
    "AWS_SECRET_KEY",
    "CA_HEALTH_NUMBER",
    "CA_SOCIAL_INSURANCE_NUMBER",
    "CREDIT_DEBIT_CARD_CVV",
    "CREDIT_DEBIT_CARD_EXPIRY",
    "CREDIT_DEBIT_CARD_NUMBER",
    "DRIVER_ID",
    "EMAIL",
    "INTERNATIONAL_BANK_ACCOUNT_NUMBER",
    "IP_ADDRESS",
    "LICENSE_PLATE",
    "MAC_ADDRESS",
    "NAME",
    "PASSWORD",
    "PHONE",
    "PIN",
    "SWIFT_CODE",
    "UK_NATIONAL_HEALTH_SERVICE_NUMBER",
    "UK_NATIONAL_INSURANCE_NUMBER",
    "UK_UNIQUE_TAXPAYER_REFERENCE_NUMBER",
    "URL",
    "USERNAME",
    "US_BANK_ACCOUNT_NUMBER",
    "US_BANK_ROUTING_NUMBER",
    "US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER",
    "US_PASSPORT_NUMBER",
    "US_SOCIAL_SECURITY_NUMBER",
    "VEHICLE_IDENTIFICATION_NUMBER",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(body: Value) -> Value {
        let response = invoke(body.to_string().as_bytes()).unwrap();
        let bytes =
            futures::executor::block_on(axum::body::to_bytes(response.into_body(), 1 << 20));
        serde_json::from_slice(&bytes.unwrap()).unwrap()
    }

    #[test]
    fn entities_carry_character_offsets_and_cards_must_pass_luhn() {
        let text =
            "Café: write to ana@example.com; card 4111 1111 1111 1111, not 4111 1111 1111 1112.";
        let got = answer(json!({
            "messages": [{"role": "user", "content": [{"text": "hi"}, {"text": text}]}],
            "checks": {"sensitiveInformation": {"entities": [{"type": "EMAIL"}, {"type": "CREDIT_DEBIT_CARD_NUMBER"}]}}
        }));
        let found = got["results"]["sensitiveInformation"]["results"]
            .as_array()
            .unwrap();
        let spans: Vec<(String, &str)> = found
            .iter()
            .map(|f| {
                let (b, e) = (
                    f["beginOffset"].as_u64().unwrap(),
                    f["endOffset"].as_u64().unwrap(),
                );
                let span: String = text
                    .chars()
                    .skip(b as usize)
                    .take((e - b) as usize)
                    .collect();
                (span, f["type"].as_str().unwrap())
            })
            .collect();
        assert_eq!(
            spans,
            [
                ("ana@example.com".to_string(), "EMAIL"),
                (
                    "4111 1111 1111 1111".to_string(),
                    "CREDIT_DEBIT_CARD_NUMBER"
                )
            ]
        );
        assert_eq!(found[0]["contentIndex"], 1);
        assert_eq!(got["usage"]["sensitiveInformation"]["textUnits"], 2);
    }

    #[test]
    fn requests_are_checked_before_any_assessment() {
        let refused = |body: Value| invoke(body.to_string().as_bytes()).unwrap_err().message;
        let user = json!([{"role": "user", "content": [{"text": "x"}]}]);
        assert!(refused(json!({"messages": user, "checks": {}})).contains("at least one"));
        assert!(refused(json!({"messages": [], "checks": {"promptAttack": {"categories": [{"category": "JAILBREAK"}]}}}))
            .contains("'messages'"));
        let twice = json!({"messages": user, "checks": {"promptAttack": {"categories": [{"category": "JAILBREAK"}, {"category": "JAILBREAK"}]}}});
        assert!(refused(twice).contains("more than once"));
        let tool = json!({"messages": [{"role": "tool", "content": [{"text": "x"}]}], "checks": {"promptAttack": {"categories": [{"category": "JAILBREAK"}]}}});
        assert!(refused(tool).contains("enum value set: [user, assistant, system]"));
    }
}
