//! A Responses request's `input`, checked item by item as OpenAI's API checks it, and read
//! into the Converse-shaped conversation the emulator's model answers (so scenarios and the
//! echo work the same on every API).

use serde_json::{json, Value};

use super::OpenAiError;

/// The reasoning items' encrypted content the emulator hands out starts with this (base64
/// decoded): a reasoning item sent back must carry exactly what it was given.
const ENCRYPTED_PREFIX: &str = "emulator-encrypted-reasoning:";

/// What the emulator encrypts reasoning item `id` as: a digest of the id, so content that
/// was changed, or made up, is caught.
pub fn encrypted_content(id: &str) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(format!("{ENCRYPTED_PREFIX}{id}").as_bytes());
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    base64::engine::general_purpose::STANDARD.encode(format!("{ENCRYPTED_PREFIX}{id}:{hex}"))
}

/// The conversation `input` holds, as Converse messages (`{role, content: [{text} |
/// {toolUse} | {toolResult}]}`), after checking every item.
pub fn conversation(input: &Value) -> Result<Vec<Value>, OpenAiError> {
    let items = match input {
        Value::String(text) => {
            return Ok(vec![json!({"role": "user", "content": [{"text": text}]})])
        }
        Value::Array(items) => items,
        other => {
            return Err(OpenAiError::invalid_type(
                "input",
                "a string or an array",
                other,
            ))
        }
    };
    let mut calls: Vec<&str> = Vec::new();
    let mut messages: Vec<Value> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let at = format!("input[{i}]");
        let kind =
            item.get("type")
                .and_then(Value::as_str)
                .unwrap_or(if item.get("role").is_some() {
                    "message"
                } else {
                    ""
                });
        let (role, block) = match kind {
            "message" => message(item, &at)?,
            "function_call" => {
                let call_id = required_str(item, "call_id", &at)?;
                let name = required_str(item, "name", &at)?;
                let arguments = required_str(item, "arguments", &at)?;
                calls.push(call_id);
                let input: Value = serde_json::from_str(arguments).unwrap_or(Value::Null);
                ("assistant", vec![json!({"toolUse": {"toolUseId": call_id, "name": name, "input": input}})])
            }
            "function_call_output" => {
                let call_id = required_str(item, "call_id", &at)?;
                if !calls.contains(&call_id) {
                    return Err(OpenAiError::invalid(
                        format!("No tool call found for function call output with call_id {call_id}."),
                        Some("input"),
                        None,
                    ));
                }
                let output = item.get("output").ok_or_else(|| OpenAiError::missing(&format!("{at}.output")))?;
                let text = output.as_str().map(str::to_string).unwrap_or_else(|| output.to_string());
                ("user", vec![json!({"toolResult": {"toolUseId": call_id, "content": [{"text": text}]}})])
            }
            "reasoning" => {
                reasoning_item(item, &at)?;
                continue;
            }
            other => {
                return Err(OpenAiError::invalid(
                    format!("Invalid value: '{other}'. Supported values are: 'message', 'function_call', 'function_call_output', and 'reasoning'."),
                    Some(&format!("{at}.type")),
                    Some("invalid_value"),
                ))
            }
        };
        // Consecutive items of one role make one Converse turn.
        match messages.last_mut() {
            Some(last) if last["role"] == role => {
                if let Some(content) = last["content"].as_array_mut() {
                    content.extend(block);
                }
            }
            _ => messages.push(json!({"role": role, "content": block})),
        }
    }
    Ok(messages)
}

/// A message item: its role and its content as Converse blocks.
fn message(item: &Value, at: &str) -> Result<(&'static str, Vec<Value>), OpenAiError> {
    let role = required_str(item, "role", at)?;
    OpenAiError::check_enum(
        &format!("{at}.role"),
        role,
        &["user", "assistant", "system", "developer"],
    )?;
    let role = if role == "assistant" {
        "assistant"
    } else {
        "user"
    };
    let content = match item.get("content") {
        Some(Value::String(text)) => return Ok((role, vec![json!({"text": text})])),
        Some(Value::Array(parts)) => parts,
        Some(other) => {
            return Err(OpenAiError::invalid_type(
                &format!("{at}.content"),
                "a string or an array",
                other,
            ))
        }
        None => return Err(OpenAiError::missing(&format!("{at}.content"))),
    };
    let mut blocks = Vec::new();
    for (j, part) in content.iter().enumerate() {
        let at = format!("{at}.content[{j}]");
        let kind = required_str(part, "type", &at)?;
        let allowed: &[&str] = if role == "assistant" {
            &["output_text", "refusal"]
        } else {
            &["input_text", "input_image", "input_file"]
        };
        OpenAiError::check_enum(&format!("{at}.type"), kind, allowed)?;
        match kind {
            "input_text" | "output_text" => {
                blocks.push(json!({"text": required_str(part, "text", &at)?}))
            }
            "refusal" => blocks.push(json!({"text": required_str(part, "refusal", &at)?})),
            "input_image" => {
                let url = required_str(part, "image_url", &at)?;
                if !url.starts_with("data:image/") && !url.starts_with("https://") {
                    return Err(OpenAiError::invalid(
                        format!("Invalid '{at}.image_url'. Expected a base64-encoded data URL with an image MIME type (e.g. 'data:image/png;base64,aW1nIGJ5dGVzIGhlcmU='), but got a value without the 'data:' prefix."),
                        Some(&format!("{at}.image_url")),
                        Some("invalid_value"),
                    ));
                }
                blocks.push(json!({"text": "(an image)"}));
            }
            _ => blocks.push(json!({"text": "(a file)"})),
        }
    }
    Ok((role, blocks))
}

/// A reasoning item sent back: without storage it must carry the encrypted content it was
/// given, unchanged.
fn reasoning_item(item: &Value, at: &str) -> Result<(), OpenAiError> {
    let id = item.get("id").and_then(Value::as_str).unwrap_or("");
    match item.get("encrypted_content").and_then(Value::as_str) {
        None => Err(OpenAiError::not_found(format!(
            "Item with id '{id}' not found. Items are not persisted when `store` is set to false. Try again with `store` set to true, or remove this item from your input."
        ))),
        Some(content) if content != encrypted_content(id) => Err(OpenAiError::invalid(
            format!("The encrypted content for item {id} could not be verified."),
            Some(&format!("{at}.encrypted_content")),
            Some("invalid_encrypted_content"),
        )),
        Some(_) => Ok(()),
    }
}

fn required_str<'a>(item: &'a Value, key: &str, at: &str) -> Result<&'a str, OpenAiError> {
    match item.get(key) {
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(OpenAiError::invalid_type(
            &format!("{at}.{key}"),
            "a string",
            other,
        )),
        None => Err(OpenAiError::missing(&format!("{at}.{key}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_function_output_must_answer_a_call_in_the_input() {
        let input = json!([{"type": "function_call_output", "call_id": "call_1", "output": "4"}]);
        let e = conversation(&input).unwrap_err();
        assert!(e.message.contains("No tool call found"), "{e:?}");
        let input = json!([
            {"role": "user", "content": "2+2?"},
            {"type": "function_call", "call_id": "call_1", "name": "add", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "call_1", "output": "4"}
        ]);
        let messages = conversation(&input).unwrap();
        assert_eq!(messages.len(), 3);
        assert_eq!(
            messages[2]["content"][0]["toolResult"]["toolUseId"],
            "call_1"
        );
    }

    #[test]
    fn reasoning_comes_back_only_as_it_was_given() {
        let good = json!([{"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": encrypted_content("rs_1")}]);
        assert!(conversation(&good).is_ok());
        let changed = json!([{"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": encrypted_content("rs_2")}]);
        assert_eq!(conversation(&changed).unwrap_err().status, 400);
        let missing = json!([{"type": "reasoning", "id": "rs_1", "summary": []}]);
        assert_eq!(conversation(&missing).unwrap_err().status, 404);
    }
}
