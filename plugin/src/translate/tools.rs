//! Tool declarations and the tool choice, and tool-use ids the service accepts.

use std::collections::BTreeSet;

use aws_sdk_bedrockruntime::types::{
    self as bt, AnyToolChoice, AutoToolChoice, CacheTtl, SpecificToolChoice, SystemTool,
    ToolConfiguration, ToolInputSchema, ToolSpecification, ToolUseBlock, ToolUseType,
};
use host_sdk::{ConverseRequest, ProviderError, ToolChoice};

use super::{cache_point, to_document};
use crate::errors::invalid_request;

/// Bedrock accepts tool-use ids matching `[a-zA-Z0-9_.:-]{1,64}` (`.` and `:` since April
/// 2026: Kimi's `functions.get_weather:0` and OpenAI's ids are kept as sent); other clients'
/// ids are mapped deterministically so a tool use and its result still match. Ids that had to be shortened
/// keep a hash of the whole original, so two long ids with a common prefix stay distinct.
pub fn normalise_tool_id(id: &str) -> String {
    const MAX: usize = 64;
    let mut out: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.len() > MAX {
        // FNV-1a: stable across runs and platforms (unlike the std hasher).
        let hash = id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
        });
        out.truncate(MAX - 17);
        out.push_str(&format!("_{hash:016x}"));
    }
    if out.is_empty() {
        out.push_str("tool_use");
    }
    out
}

pub(super) fn tool_config(
    req: &ConverseRequest,
    caching: Option<&CacheTtl>,
) -> Result<ToolConfiguration, ProviderError> {
    let mut tools = Vec::new();
    let mut names = BTreeSet::new();
    for (i, tool) in req.tools.iter().enumerate() {
        if tool.name.trim().is_empty() {
            return Err(invalid_request(format!("tools[{i}] has no name")));
        }
        if !names.insert(tool.name.as_str()) {
            return Err(invalid_request(format!(
                "tools[{i}]: the tool name `{}` is used twice",
                tool.name
            )));
        }
        if !tool.input_schema.is_object() {
            return Err(invalid_request(format!(
                "tools[{i}] (`{}`): inputSchema must be a JSON Schema object",
                tool.name
            )));
        }
        let mut spec = ToolSpecification::builder()
            .name(&tool.name)
            .input_schema(ToolInputSchema::Json(to_document(&tool.input_schema)));
        if !tool.description.trim().is_empty() {
            spec = spec.description(&tool.description);
        }
        if tool.strict {
            spec = spec.strict(true);
        }
        tools.push(bt::Tool::ToolSpec(
            spec.build()
                .map_err(|e| invalid_request(format!("tools[{i}]: {e}")))?,
        ));
    }
    for (i, name) in req.server_tools.iter().enumerate() {
        if name.trim().is_empty() || !names.insert(name.as_str()) {
            return Err(invalid_request(format!(
                "serverTools[{i}]: `{name}` is empty or names a tool twice"
            )));
        }
        tools.push(system_tool(name)?);
    }
    if let Some(ttl) = caching {
        tools.push(bt::Tool::CachePoint(cache_point(ttl)));
    }
    let choice = match &req.tool_choice {
        None | Some(ToolChoice::Auto) => {
            Some(bt::ToolChoice::Auto(AutoToolChoice::builder().build()))
        }
        Some(ToolChoice::Any) => Some(bt::ToolChoice::Any(AnyToolChoice::builder().build())),
        Some(ToolChoice::Tool { name }) => {
            if !names.contains(name.as_str()) {
                return Err(invalid_request(format!(
                    "toolChoice names `{name}`, which is not among the request's tools"
                )));
            }
            Some(bt::ToolChoice::Tool(
                SpecificToolChoice::builder()
                    .name(name)
                    .build()
                    .map_err(|e| invalid_request(e.to_string()))?,
            ))
        }
        Some(ToolChoice::None) => None,
        Some(other) => {
            return Err(invalid_request(format!(
                "toolChoice {other:?} is not supported by this plugin (contract {})",
                host_sdk::CONTRACT_VERSION
            )))
        }
    };
    ToolConfiguration::builder()
        .set_tools(Some(tools))
        .set_tool_choice(choice)
        .build()
        .map_err(|e| invalid_request(format!("tool configuration: {e}")))
}

/// A tool the service runs itself (Bedrock's `systemTool`).
fn system_tool(name: &str) -> Result<bt::Tool, ProviderError> {
    SystemTool::builder()
        .name(name)
        .build()
        .map(bt::Tool::SystemTool)
        .map_err(|e| invalid_request(format!("serverTools: {e}")))
}

/// Whether a tool-use block is a call of a server tool.
pub(super) fn is_server_call(tool_use: &ToolUseBlock) -> bool {
    tool_use.r#type() == Some(&ToolUseType::ServerToolUse)
}

pub(super) fn history_uses_tools(messages: &[bt::Message]) -> bool {
    messages
        .iter()
        .flat_map(|m| m.content())
        .any(|b| b.is_tool_use() || b.is_tool_result())
}

/// The service requires a toolConfig whenever the history holds tool blocks; when the host
/// sent none, declare the tools the history used: client tools with permissive schemas,
/// server tools as the system tools they are.
pub(super) fn tool_config_from_history(messages: &[bt::Message]) -> ToolConfiguration {
    let uses = || {
        messages
            .iter()
            .flat_map(|m| m.content())
            .filter_map(|b| b.as_tool_use().ok())
    };
    let server: BTreeSet<&str> = uses()
        .filter(|t| is_server_call(t))
        .map(|t| t.name())
        .collect();
    let names: BTreeSet<&str> = uses()
        .filter(|t| !is_server_call(t))
        .map(|t| t.name())
        .collect();
    let names: Vec<&str> = if names.is_empty() && server.is_empty() {
        vec!["tool"]
    } else {
        names.into_iter().collect()
    };
    let server_tools = server.into_iter().filter_map(|name| system_tool(name).ok());
    let tools = names
        .into_iter()
        .filter_map(|name| {
            ToolSpecification::builder()
                .name(name)
                .description("A tool used earlier in this conversation.")
                .input_schema(ToolInputSchema::Json(to_document(
                    &serde_json::json!({"type": "object"}),
                )))
                .build()
                .ok()
                .map(bt::Tool::ToolSpec)
        })
        .chain(server_tools)
        .collect();
    ToolConfiguration::builder()
        .set_tools(Some(tools))
        .build()
        .expect("tools are set")
}
