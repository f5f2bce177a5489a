//! Converse/ConverseStream request validation, for the mistakes clients actually make,
//! with the service's messages.

use crate::error::ApiError;
use serde_json::Value;
use std::collections::HashSet;

/// Validates a Converse request body the way the service does before invoking a model.
pub fn converse_request(body: &Value) -> Result<(), ApiError> {
    let Some(obj) = body.as_object() else {
        return Err(ApiError::validation(
            "Malformed input request, please reformat your input and try again.",
        ));
    };
    let messages = match obj.get("messages") {
        None | Some(Value::Null) => {
            return Err(ApiError::validation(
                "1 validation error detected: Value null at 'messages' failed to satisfy constraint: Member must not be null",
            ))
        }
        Some(Value::Array(ms)) => ms,
        Some(_) => {
            return Err(ApiError::validation(
                "Malformed input request, please reformat your input and try again.",
            ))
        }
    };
    if messages.is_empty() {
        return Err(ApiError::validation(
            "A conversation must start with a user message. Try again with a conversation that starts with a user message.",
        ));
    }
    inference_config(obj.get("inferenceConfig"))?;
    let has_tool_config = obj.get("toolConfig").is_some_and(|t| !t.is_null());
    if let Some(tc) = obj.get("toolConfig").filter(|t| !t.is_null()) {
        let tools = tc.get("tools").and_then(Value::as_array);
        if tools.is_none_or(|t| t.is_empty()) {
            return Err(ApiError::validation(
                "The toolConfig field must be defined with at least one tool.",
            ));
        }
    }

    let mut previous_role: Option<&str> = None;
    // toolUse ids of the previous assistant turn: a toolResult must answer one of them.
    let mut open_tool_uses: HashSet<String> = HashSet::new();
    for (i, message) in messages.iter().enumerate() {
        let role = message.get("role").and_then(Value::as_str).unwrap_or("");
        if role != "user" && role != "assistant" {
            return Err(ApiError::validation(format!(
                "1 validation error detected: Value '{role}' at 'messages.{}.member.role' failed to satisfy constraint: Member must satisfy enum value set: [user, assistant]",
                i + 1
            )));
        }
        if i == 0 && role != "user" {
            return Err(ApiError::validation(
                "A conversation must start with a user message. Try again with a conversation that starts with a user message.",
            ));
        }
        if previous_role == Some(role) {
            return Err(ApiError::validation(
                "A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.",
            ));
        }
        previous_role = Some(role);
        let content = message
            .get("content")
            .and_then(Value::as_array)
            .filter(|c| !c.is_empty())
            .ok_or_else(|| {
                ApiError::validation(format!(
                    "The content field in the Message object at messages.{i} is empty. Add a ContentBlock object to the content field and try again."
                ))
            })?;
        let mut this_turn_uses = HashSet::new();
        for (j, block) in content.iter().enumerate() {
            if let Some(text) = block.get("text") {
                if text.as_str().is_none_or(|t| t.trim().is_empty()) {
                    return Err(ApiError::validation(format!(
                        "The text field in the ContentBlock object at messages.{i}.content.{j} is blank. Add text to the text field, and try again."
                    )));
                }
            }
            if let Some(tool_use) = block.get("toolUse") {
                if !has_tool_config {
                    return Err(tool_config_required());
                }
                if role != "assistant" {
                    return Err(ApiError::validation(format!(
                        "messages.{i}.content.{j}: toolUse blocks are only allowed in assistant messages."
                    )));
                }
                if let Some(id) = tool_use.get("toolUseId").and_then(Value::as_str) {
                    this_turn_uses.insert(id.to_string());
                }
            }
            if let Some(tool_result) = block.get("toolResult") {
                if !has_tool_config {
                    return Err(tool_config_required());
                }
                let id = tool_result
                    .get("toolUseId")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                if !open_tool_uses.contains(id) {
                    return Err(ApiError::validation(format!(
                        "The toolUseId {id} in the toolResult block at messages.{i}.content.{j} does not match any toolUse block in the previous assistant message."
                    )));
                }
            }
        }
        open_tool_uses = this_turn_uses;
    }
    Ok(())
}

fn tool_config_required() -> ApiError {
    ApiError::validation(
        "The toolConfig field must be defined when using toolUse and toolResult content blocks.",
    )
}

fn inference_config(cfg: Option<&Value>) -> Result<(), ApiError> {
    let Some(cfg) = cfg.filter(|c| !c.is_null()) else {
        return Ok(());
    };
    if let Some(max) = cfg.get("maxTokens") {
        if max.as_i64().is_none_or(|m| m < 1) {
            return Err(ApiError::validation(format!(
                "1 validation error detected: Value '{max}' at 'inferenceConfig.maxTokens' failed to satisfy constraint: Member must have value greater than or equal to 1"
            )));
        }
    }
    for (field, max) in [("temperature", 1.0), ("topP", 1.0)] {
        if let Some(v) = cfg.get(field) {
            if v.as_f64().is_none_or(|x| !(0.0..=max).contains(&x)) {
                return Err(ApiError::validation(format!(
                    "1 validation error detected: Value '{v}' at 'inferenceConfig.{field}' failed to satisfy constraint: Member must have value less than or equal to {max}"
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn msg(v: Value) -> Result<(), ApiError> {
        converse_request(&v)
    }

    #[test]
    fn rejects_common_mistakes() {
        assert!(msg(json!({})).is_err());
        assert!(msg(json!({"messages": []})).is_err());
        assert!(msg(json!({"messages": [{"role":"assistant","content":[{"text":"x"}]}]})).is_err());
        assert!(msg(json!({"messages": [{"role":"user","content":[{"text":"x"}]},{"role":"user","content":[{"text":"y"}]}]})).is_err());
        assert!(msg(json!({"messages": [{"role":"user","content":[{"text":"  "}]}]})).is_err());
        assert!(msg(json!({"messages": [{"role":"user","content":[{"text":"x"}]}], "inferenceConfig": {"maxTokens": 0}})).is_err());
        let tool_history = json!([
            {"role":"user","content":[{"text":"x"}]},
            {"role":"assistant","content":[{"toolUse":{"toolUseId":"t1","name":"f","input":{}}}]},
            {"role":"user","content":[{"toolResult":{"toolUseId":"t1","content":[{"text":"r"}]}}]}
        ]);
        assert!(msg(json!({"messages": tool_history})).is_err());
        let cfg = json!({"tools":[{"toolSpec":{"name":"f","inputSchema":{"json":{}}}}]});
        assert!(msg(json!({"messages": tool_history, "toolConfig": cfg})).is_ok());
        let mut wrong = tool_history.clone();
        wrong[2]["content"][0]["toolResult"]["toolUseId"] = json!("t2");
        assert!(msg(json!({"messages": wrong, "toolConfig": cfg})).is_err());
    }
}
