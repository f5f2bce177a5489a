//! Converse/ConverseStream request validation, for the mistakes clients actually make,
//! with the service's messages.

use crate::error::{check_enum, ApiError};
use crate::model_rules::Reasoning;
use serde_json::Value;
use std::collections::HashSet;

mod media;
mod reasoning;

use media::media;
use reasoning::reasoning;

/// Validates a Converse request body the way the service does before invoking a model.
pub fn converse_request(body: &Value) -> Result<(), ApiError> {
    let Some(obj) = body.as_object() else {
        return Err(ApiError::validation(
            "Malformed input request, please reformat your input and try again.",
        ));
    };
    let messages = messages(obj.get("messages"))?;
    inference_config(obj.get("inferenceConfig"))?;
    request_metadata(obj.get("requestMetadata"))?;
    response_field_paths(obj.get("additionalModelResponseFieldPaths"))?;
    enum_fields(obj)?;
    let has_tool_config = obj.get("toolConfig").is_some_and(|t| !t.is_null());
    if let Some(tc) = obj.get("toolConfig").filter(|t| !t.is_null()) {
        let tools = tc.get("tools").and_then(Value::as_array);
        if tools.is_none_or(|t| t.is_empty()) {
            return Err(ApiError::validation(
                "The toolConfig field must be defined with at least one tool.",
            ));
        }
    }
    conversation(messages, has_tool_config)?;
    tool_references(body, messages)
}

/// `toolAddition` and `toolRemoval` blocks, which only a `system` message holds (and it holds
/// nothing else), name tools declared in `toolConfig`.
fn tool_references(body: &Value, messages: &[Value]) -> Result<(), ApiError> {
    let declared = declared_tools(body, "toolSpec");
    for (i, message) in messages.iter().enumerate() {
        let system = message.get("role").and_then(Value::as_str) == Some("system");
        let content = message.get("content").and_then(Value::as_array);
        for (j, block) in content.into_iter().flatten().enumerate() {
            let reference = block
                .get("toolAddition")
                .or_else(|| block.get("toolRemoval"))
                .map(|b| {
                    b.pointer("/tool/name")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                });
            match (system, reference) {
                (true, None) => {
                    return Err(ApiError::validation(format!(
                        "messages.{i}.content.{j}: a message with the system role can only contain toolAddition and toolRemoval blocks."
                    )))
                }
                (false, Some(_)) => {
                    return Err(ApiError::validation(format!(
                        "messages.{i}.content.{j}: toolAddition and toolRemoval blocks are only allowed in messages with the system role."
                    )))
                }
                (true, Some(name)) if !declared.contains(&name) => {
                    return Err(ApiError::validation(format!(
                        "messages.{i}.content.{j}: the tool {name} is not defined in toolConfig."
                    )))
                }
                _ => {}
            }
        }
    }
    Ok(())
}

const MUST_START_WITH_USER: &str = "A conversation must start with a user message. Try again with a conversation that starts with a user message.";

fn messages(messages: Option<&Value>) -> Result<&Vec<Value>, ApiError> {
    match messages {
        None | Some(Value::Null) => Err(ApiError::missing("messages")),
        Some(Value::Array(ms)) if ms.is_empty() => Err(ApiError::validation(MUST_START_WITH_USER)),
        Some(Value::Array(ms)) => Ok(ms),
        Some(_) => Err(ApiError::validation(
            "Malformed input request, please reformat your input and try again.",
        )),
    }
}

/// `performanceConfig.latency` and `serviceTier.type`, each one of its enum's values.
fn enum_fields(obj: &serde_json::Map<String, Value>) -> Result<(), ApiError> {
    for (field, key, allowed) in [
        (
            "performanceConfig",
            "latency",
            &["standard", "optimized"][..],
        ),
        (
            "serviceTier",
            "type",
            &["priority", "default", "flex", "reserved"][..],
        ),
    ] {
        if let Some(value) = obj.get(field).filter(|v| !v.is_null()) {
            let v = value.get(key).and_then(Value::as_str).unwrap_or("");
            check_enum(&format!("{field}.{key}"), Some(v), allowed)?;
        }
    }
    Ok(())
}

/// The turns: roles that alternate from the user's, content in each, and every block as
/// Bedrock takes it.
fn conversation(messages: &[Value], has_tool_config: bool) -> Result<(), ApiError> {
    let mut previous_role: Option<&str> = None;
    // toolUse ids of the previous assistant turn: a toolResult must answer one of them.
    let mut open_tool_uses: HashSet<String> = HashSet::new();
    for (i, message) in messages.iter().enumerate() {
        let role = message.get("role").and_then(Value::as_str).unwrap_or("");
        check_enum(
            &format!("messages.{}.member.role", i + 1),
            Some(role),
            &["user", "assistant", "system"],
        )?;
        if i == 0 && role != "user" {
            return Err(ApiError::validation(MUST_START_WITH_USER));
        }
        // A system message changes the tools between turns; it is no turn of its own.
        if role == "system" {
            if message
                .get("content")
                .and_then(Value::as_array)
                .is_none_or(|c| c.is_empty())
            {
                return Err(ApiError::validation(format!(
                    "The content field in the Message object at messages.{i} is empty. Add a ContentBlock object to the content field and try again."
                )));
            }
            continue;
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
        let mut turn = Turn {
            role,
            has_tool_config,
            open_tool_uses: &open_tool_uses,
            tool_uses: HashSet::new(),
            server_tool_uses: HashSet::new(),
        };
        for (j, block) in content.iter().enumerate() {
            turn.block(block, i, j)?;
        }
        open_tool_uses = turn.tool_uses;
    }
    Ok(())
}

/// One message's blocks, checked in order: which tool uses it makes, and which it answers.
struct Turn<'a> {
    role: &'a str,
    has_tool_config: bool,
    /// The previous assistant turn's tool uses, which a user turn's results answer.
    open_tool_uses: &'a HashSet<String>,
    tool_uses: HashSet<String>,
    /// A server tool's call is answered in the same message, by the service.
    server_tool_uses: HashSet<String>,
}

impl Turn<'_> {
    /// Block `j` of message `i`.
    fn block(&mut self, block: &Value, i: usize, j: usize) -> Result<(), ApiError> {
        if block.get("citationsContent").is_some() && self.role != "assistant" {
            return Err(ApiError::validation(format!(
                "messages.{i}.content.{j}: citationsContent blocks are only allowed in assistant messages."
            )));
        }
        if let Some(text) = block.get("text") {
            if text.as_str().is_none_or(|t| t.trim().is_empty()) {
                return Err(ApiError::validation(format!(
                    "The text field in the ContentBlock object at messages.{i}.content.{j} is blank. Add text to the text field, and try again."
                )));
            }
        }
        if let Some(reasoning) = block.pointer("/reasoningContent/reasoningText") {
            let text = reasoning.get("text").and_then(Value::as_str).unwrap_or("");
            let signature = reasoning.get("signature").and_then(Value::as_str);
            if signature.is_some_and(|s| crate::answer::signature_mismatch(text, s)) {
                return Err(ApiError::validation(format!(
                    "messages.{i}.content.{j}: Invalid `signature` in `thinking` block"
                )));
            }
        }
        if let Some(tool_use) = block.get("toolUse") {
            self.tool_use(tool_use, i, j)?;
        }
        if let Some(tool_result) = block.get("toolResult") {
            self.tool_result(tool_result, i, j)?;
        }
        Ok(())
    }

    fn tool_use(&mut self, tool_use: &Value, i: usize, j: usize) -> Result<(), ApiError> {
        if !self.has_tool_config {
            return Err(tool_config_required());
        }
        if self.role != "assistant" {
            return Err(ApiError::validation(format!(
                "messages.{i}.content.{j}: toolUse blocks are only allowed in assistant messages."
            )));
        }
        if let Some(id) = tool_use.get("toolUseId").and_then(Value::as_str) {
            tool_use_id(
                id,
                &format!("messages.{i}.member.content.{j}.member.toolUse"),
            )?;
            if tool_use.get("type").and_then(Value::as_str) == Some("server_tool_use") {
                self.server_tool_uses.insert(id.to_string());
            } else {
                self.tool_uses.insert(id.to_string());
            }
        }
        Ok(())
    }

    fn tool_result(&self, tool_result: &Value, i: usize, j: usize) -> Result<(), ApiError> {
        if !self.has_tool_config {
            return Err(tool_config_required());
        }
        let id = tool_result.get("toolUseId").and_then(Value::as_str);
        if let Some(id) = id {
            tool_use_id(
                id,
                &format!("messages.{i}.member.content.{j}.member.toolResult"),
            )?;
        }
        let id = id.unwrap_or("");
        if self.role == "assistant" {
            if !self.server_tool_uses.contains(id) {
                return Err(ApiError::validation(format!(
                    "The toolResult block at messages.{i}.content.{j} is in an assistant message but does not answer a server tool use (type server_tool_use) before it in that message."
                )));
            }
            return Ok(());
        }
        if !self.open_tool_uses.contains(id) {
            return Err(ApiError::validation(format!(
                "The toolUseId {id} in the toolResult block at messages.{i}.content.{j} does not match any toolUse block in the previous assistant message."
            )));
        }
        Ok(())
    }
}

/// `requestMetadata`: at most 16 pairs; keys 1-256, values 0-256 characters of
/// `[a-zA-Z0-9\s:_@$#=/+,-.]`.
/// `additionalModelResponseFieldPaths`: at most 10 paths of 1 to 256 characters.
fn response_field_paths(paths: Option<&Value>) -> Result<(), ApiError> {
    let Some(paths) = paths.filter(|p| !p.is_null()) else {
        return Ok(());
    };
    let Some(paths) = paths.as_array() else {
        return Err(ApiError::validation(
            "Malformed input request, please reformat your input and try again.",
        ));
    };
    if paths.len() > 10 {
        return Err(ApiError::validation(format!(
            "1 validation error detected: Value at 'additionalModelResponseFieldPaths' failed to satisfy constraint: Member must have length less than or equal to 10 (got {})",
            paths.len()
        )));
    }
    for (i, path) in paths.iter().enumerate() {
        let len = path.as_str().map_or(0, |p| p.chars().count());
        if !(1..=256).contains(&len) {
            return Err(ApiError::validation(format!(
                "1 validation error detected: Value at 'additionalModelResponseFieldPaths.{}.member' failed to satisfy constraint: Member must have length between 1 and 256",
                i + 1
            )));
        }
    }
    Ok(())
}

fn request_metadata(metadata: Option<&Value>) -> Result<(), ApiError> {
    let Some(map) = metadata.and_then(Value::as_object) else {
        return Ok(());
    };
    if map.len() > 16 {
        return Err(ApiError::validation(format!(
            "1 validation error detected: Value at 'requestMetadata' failed to satisfy constraint: Member must have length less than or equal to 16 (got {})",
            map.len()
        )));
    }
    let allowed =
        |c: char| c.is_ascii_alphanumeric() || c.is_whitespace() || ":_@$#=/+,-.".contains(c);
    for (key, value) in map {
        // The emulator's own scenario carrier holds JSON, which the pattern would refuse: the
        // one exception, for tests only.
        if key == crate::scenario::SCENARIO_METADATA_KEY {
            continue;
        }
        let value = value.as_str().unwrap_or("");
        for (text, min) in [(key.as_str(), 1), (value, 0)] {
            let len = text.chars().count();
            if len < min || len > 256 || !text.chars().all(allowed) {
                return Err(ApiError::validation(format!(
                    "1 validation error detected: Value '{text}' at 'requestMetadata' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9\\s:_@$#=/+,-.]{{{min},256}}"
                )));
            }
        }
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

/// Validates a Converse request against what `model` accepts ([`crate::model_rules`], the
/// catalogue's input modalities), with Bedrock's messages (and, for Anthropic models, the
/// messages Bedrock relays from Anthropic's API).
pub fn for_model(body: &Value, model: &crate::catalogue::FoundationModel) -> Result<(), ApiError> {
    let rules = crate::model_rules::for_model(model.id);
    let max_tokens = body
        .pointer("/inferenceConfig/maxTokens")
        .and_then(Value::as_u64);
    if let Some(max) = max_tokens {
        let limit = rules.max_output_tokens;
        if max > u64::from(limit) {
            return Err(ApiError::validation(format!(
                "The maximum tokens you requested exceeds the model limit of {limit}. Try again with a maximum tokens value that is lower than {limit}."
            )));
        }
    }
    if let Some(tool_config) = body.get("toolConfig").filter(|t| !t.is_null()) {
        if !rules.tools {
            return Err(ApiError::validation("This model doesn't support tool use."));
        }
        for tool in tool_config
            .get("tools")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(name) = tool.pointer("/systemTool/name") {
                let name = name.as_str().unwrap_or("");
                if !rules.system_tools {
                    return Err(ApiError::validation(
                        "This model doesn't support system tools. Remove the systemTool from toolConfig.tools and try again.",
                    ));
                }
                if !crate::model_rules::SYSTEM_TOOLS.contains(&name) {
                    return Err(ApiError::validation(format!(
                        "The system tool {name} is not supported. Supported system tools: {}.",
                        crate::model_rules::SYSTEM_TOOLS.join(", ")
                    )));
                }
            }
        }
        if let Some(choice) = tool_config.get("toolChoice") {
            for kind in ["any", "tool"] {
                if choice.get(kind).is_some() && !rules.forced_tool_choice {
                    return Err(ApiError::validation(format!(
                        "This model doesn't support the toolConfig.toolChoice.{kind} field. Remove toolConfig.toolChoice.{kind} and try again."
                    )));
                }
            }
            if let Some(name) = choice.pointer("/tool/name").and_then(Value::as_str) {
                let declared = tool_config
                    .get("tools")
                    .and_then(Value::as_array)
                    .is_some_and(|tools| {
                        tools.iter().any(|t| {
                            t.pointer("/toolSpec/name").and_then(Value::as_str) == Some(name)
                        })
                    });
                if !declared {
                    return Err(ApiError::validation(format!(
                        "The tool {name} named in toolConfig.toolChoice.tool is not one of the tools in toolConfig.tools. Add a tool named {name} or change toolConfig.toolChoice and try again."
                    )));
                }
            }
        }
    }
    if !rules.cache_points && has_cache_point(body) {
        return Err(ApiError::validation(
            "This model doesn't support prompt caching. Remove the cachePoint blocks from the request and try again.",
        ));
    }
    if !rules.citations && enables_citations(body) {
        return Err(ApiError::validation(
            "This model doesn't support citations. Remove citations from the document content blocks and try again.",
        ));
    }
    structured_output(body, &rules)?;
    effort(body, &rules)?;
    media(body, model)?;
    reasoning(body, &rules, max_tokens)
}

/// `outputConfig.effort` (botocore's model, 2026-07): one of five levels, for the models
/// whose effort Converse sets itself, the Claude models that think adaptively; another
/// model's effort goes in its own fields.
fn effort(body: &Value, rules: &crate::model_rules::ModelRules) -> Result<(), ApiError> {
    let Some(effort) = body
        .pointer("/outputConfig/effort")
        .filter(|e| !e.is_null())
    else {
        return Ok(());
    };
    check_enum(
        "outputConfig.effort",
        Some(effort.as_str().unwrap_or_default()),
        &["low", "medium", "high", "xhigh", "max"],
    )?;
    if rules.reasoning != Reasoning::AnthropicAdaptive {
        return Err(ApiError::validation(
            "This model doesn't support the effort parameter. Remove outputConfig.effort and try again.",
        ));
    }
    Ok(())
}

/// `outputConfig.textFormat` and strict tools: only on models with structured output, and
/// only with a schema Bedrock can compile (it answers 400 at once otherwise).
fn structured_output(body: &Value, rules: &crate::model_rules::ModelRules) -> Result<(), ApiError> {
    if let Some(format) = body
        .pointer("/outputConfig/textFormat")
        .filter(|f| !f.is_null())
    {
        if !rules.structured_output {
            return Err(ApiError::validation(
                "This model doesn't support structured outputs. Remove outputConfig.textFormat and try again.",
            ));
        }
        let kind = format.get("type").and_then(Value::as_str).unwrap_or("");
        check_enum("outputConfig.textFormat.type", Some(kind), &["json_schema"])?;
        let schema = format
            .pointer("/structure/jsonSchema/schema")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                ApiError::missing("outputConfig.textFormat.structure.jsonSchema.schema")
            })?;
        compiled_schema(schema, "outputConfig.textFormat")?;
    }
    for tool in body
        .pointer("/toolConfig/tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|t| t.pointer("/toolSpec/strict") == Some(&Value::Bool(true)))
    {
        let name = tool
            .pointer("/toolSpec/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        if !rules.structured_output {
            return Err(ApiError::validation(format!(
                "This model doesn't support strict tool use. Remove strict from the tool {name} and try again."
            )));
        }
        let schema = tool
            .pointer("/toolSpec/inputSchema/json")
            .cloned()
            .unwrap_or(Value::Null);
        compiled_schema(&schema.to_string(), &format!("the tool {name}"))?;
    }
    Ok(())
}

/// The schema text as a JSON Schema object, or the service's refusal.
pub fn compiled_schema(text: &str, whose: &str) -> Result<Value, ApiError> {
    let schema: Value = serde_json::from_str(text)
        .ok()
        .filter(Value::is_object)
        .ok_or_else(|| {
            ApiError::validation(format!(
                "The JSON schema of {whose} is not a valid JSON object."
            ))
        })?;
    jsonschema::validator_for(&schema)
        .map_err(|e| ApiError::validation(format!("The JSON schema of {whose} is invalid: {e}")))?;
    Ok(schema)
}

/// The names of the tools `body` declares of `kind` (`toolSpec` or `systemTool`).
pub fn declared_tools<'a>(body: &'a Value, kind: &str) -> Vec<&'a str> {
    body.pointer("/toolConfig/tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| t.get(kind)?.get("name")?.as_str())
        .collect()
}

fn enables_citations(body: &Value) -> bool {
    body.get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|m| m.get("content").and_then(Value::as_array))
        .flatten()
        .any(|b| {
            [
                "/document/citations/enabled",
                "/searchResult/citations/enabled",
            ]
            .iter()
            .any(|p| b.pointer(p).and_then(Value::as_bool) == Some(true))
        })
}

fn has_cache_point(body: &Value) -> bool {
    let in_list = |list: Option<&Value>| {
        list.and_then(Value::as_array)
            .is_some_and(|blocks| blocks.iter().any(|b| b.get("cachePoint").is_some()))
    };
    in_list(body.get("system"))
        || in_list(body.pointer("/toolConfig/tools"))
        || body
            .get("messages")
            .and_then(Value::as_array)
            .is_some_and(|ms| ms.iter().any(|m| in_list(m.get("content"))))
}

/// A tool-use id as Bedrock constrains it: 1 to 64 of `[a-zA-Z0-9_.:-]` (`.` and `:` since
/// botocore's 2026-04-02 model). `at` is the block's member path.
fn tool_use_id(id: &str, at: &str) -> Result<(), ApiError> {
    let constraint = if id.is_empty() || id.len() > 64 {
        "Member must have length between 1 and 64"
    } else if !id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-'))
    {
        "Member must satisfy regular expression pattern: [a-zA-Z0-9_.:-]+"
    } else {
        return Ok(());
    };
    Err(ApiError::validation(format!(
        "1 validation error detected: Value '{id}' at '{at}.toolUseId' failed to satisfy constraint: {constraint}"
    )))
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

    #[test]
    fn reasoning_sent_back_changed_is_refused_as_bedrock_refuses_it() {
        let turn = |text: &str, signature: &str| {
            json!({"messages": [
                {"role":"user","content":[{"text":"x"}]},
                {"role":"assistant","content":[
                    {"reasoningContent":{"reasoningText":{"text": text, "signature": signature}}},
                    {"text":"answer"}
                ]},
                {"role":"user","content":[{"text":"y"}]}
            ]})
        };
        let signed = crate::answer::reasoning_signature("I thought.");
        assert!(msg(turn("I thought.", &signed)).is_ok());
        let error = msg(turn("I thought otherwise.", &signed)).unwrap_err();
        assert!(
            error.message.contains("Invalid `signature`"),
            "{}",
            error.message
        );
        // A signature the emulator did not make (a recording's) is not its to judge.
        assert!(msg(turn("I thought otherwise.", "EqQBCkgIBxABGAIq==")).is_ok());
    }
}
