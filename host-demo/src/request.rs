//! The request a command sends: a request document from `--request` (or an empty one), the
//! model chosen, the prompt added as the last user turn, and every flag applied on top.
//! Flags for one provider's own settings (`--latency`, `--guardrail`) go under
//! `providerOptions[<provider id>]`, in Bedrock's field names.

use std::io::Read;
use std::path::Path;

use host_sdk::{ConverseRequest, Message, OutputFormat, ReasoningConfig};
use serde_json::{json, Value};

use crate::cli::RequestArgs;
use crate::error::{CliError, CliResult};
use crate::session::Session;

/// Whether `--request -` takes standard input (then no piped prompt can).
pub fn reads_stdin(args: &RequestArgs) -> bool {
    args.request.as_deref() == Some(Path::new("-"))
}

/// Builds the request; `prompt`, when given, becomes its last user turn.
pub fn build(
    session: &Session,
    args: &RequestArgs,
    prompt: Option<String>,
) -> CliResult<ConverseRequest> {
    let mut request = match &args.request {
        Some(path) => read_document(path)?,
        None => ConverseRequest::default(),
    };
    request.model = match (&args.model, request.model.trim().is_empty()) {
        (None, false) => request.model,
        (model, _) => session.choose_model(model.as_deref())?,
    };
    if prompt.is_some() || !args.attachments.is_empty() {
        request.messages.push(user_turn(args, prompt)?);
    }
    if let Some(system) = system_prompt(args)? {
        request.system = vec![system];
    }
    let inference = &mut request.inference;
    inference.max_tokens = args.max_tokens.or(inference.max_tokens);
    inference.temperature = args.temperature.or(inference.temperature);
    inference.top_p = args.top_p.or(inference.top_p);
    if !args.stop_sequences.is_empty() {
        inference.stop_sequences = args.stop_sequences.clone();
    }
    if args.reasoning_effort.is_some() || args.reasoning_budget.is_some() {
        request.reasoning = Some(ReasoningConfig {
            budget_tokens: args.reasoning_budget,
            effort: args.reasoning_effort.clone(),
            ..ReasoningConfig::default()
        });
    }
    for tool in &args.server_tools {
        if !request.server_tools.contains(tool) {
            request.server_tools.push(tool.clone());
        }
    }
    if let Some(tier) = &args.service_tier {
        request.service_tier = Some(tier.clone());
    }
    if let Some(path) = &args.schema {
        request.output_format = Some(OutputFormat::JsonSchema {
            schema: read_json(path, "--schema")?,
            name: path.file_stem().map(|s| {
                s.to_string_lossy()
                    .replace(|c: char| !c.is_ascii_alphanumeric(), "_")
            }),
            description: None,
        });
    }
    add_provider_options(&mut request, session, args)?;
    Ok(request)
}

/// The user's turn from the flags: attachments first (with citations if asked), then the
/// prompt that asks about them.
fn user_turn(args: &RequestArgs, prompt: Option<String>) -> CliResult<Message> {
    let mut content = args
        .attachments
        .iter()
        .map(|path| crate::attachments::block(path))
        .collect::<CliResult<Vec<_>>>()?;
    if args.citations {
        cite_documents(&mut content)?;
    }
    if let Some(prompt) = prompt {
        content.push(host_sdk::ContentBlock::Text { text: prompt });
    }
    Ok(Message {
        role: host_sdk::Role::User,
        content,
    })
}

/// The provider-only flags, merged into the request file's `providerOptions` for this
/// provider.
fn add_provider_options(
    request: &mut ConverseRequest,
    session: &Session,
    args: &RequestArgs,
) -> CliResult<()> {
    let own = provider_options(args)?;
    if own.is_empty() {
        return Ok(());
    }
    let entry = request
        .provider_options
        .entry(session.provider_id())
        .or_insert_with(|| json!({}));
    let Some(entry) = entry.as_object_mut() else {
        return Err(CliError::new(format!(
            "providerOptions[\"{}\"] in the request file must be an object",
            session.provider_id()
        )));
    };
    entry.extend(own);
    Ok(())
}

/// The provider's own options the flags ask for, in Bedrock's field names.
fn provider_options(args: &RequestArgs) -> CliResult<serde_json::Map<String, Value>> {
    let mut own = serde_json::Map::new();
    if let Some(latency) = &args.latency {
        own.insert("performanceConfig".into(), json!({ "latency": latency }));
    }
    if let Some(guardrail) = &args.guardrail {
        // An ARN holds colons too: the version is after the last one.
        let Some((id, version)) = guardrail
            .rsplit_once(':')
            .filter(|(id, v)| !id.is_empty() && !v.is_empty())
        else {
            return Err(CliError::new(format!(
                "--guardrail takes ID:VERSION (such as abc123xyz:1 or abc123xyz:DRAFT), not {guardrail:?}"
            )));
        };
        own.insert(
            "guardrailConfig".into(),
            json!({ "guardrailIdentifier": id, "guardrailVersion": version, "trace": "enabled" }),
        );
    }
    Ok(own)
}

fn system_prompt(args: &RequestArgs) -> CliResult<Option<String>> {
    if let Some(system) = &args.system {
        return Ok(Some(system.clone()));
    }
    let Some(path) = &args.system_file else {
        return Ok(None);
    };
    std::fs::read_to_string(path)
        .map(Some)
        .map_err(|e| CliError::new(format!("cannot read --system-file {}: {e}", path.display())))
}

fn read_text(path: &Path, flag: &str) -> CliResult<String> {
    let mut text = String::new();
    let read = if path == Path::new("-") {
        std::io::stdin().read_to_string(&mut text).map(drop)
    } else {
        std::fs::read_to_string(path).map(|t| text = t)
    };
    read.map_err(|e| CliError::new(format!("cannot read {flag} {}: {e}", path.display())))?;
    Ok(text)
}

fn read_json(path: &Path, flag: &str) -> CliResult<Value> {
    let text = read_text(path, flag)?;
    serde_json::from_str(&text).map_err(|e| {
        CliError::new(format!(
            "{flag} {} is not JSON: {e} (line {}, column {})",
            path.display(),
            e.line(),
            e.column()
        ))
    })
}

/// A request document, its errors naming the file and the place in it.
fn read_document(path: &Path) -> CliResult<ConverseRequest> {
    let value = read_json(path, "--request")?;
    serde_json::from_value(value).map_err(|e| {
        CliError::new(format!(
            "--request {} is not a request document (the contract's ConverseRequest: model, system, messages, tools, providerOptions, ...): {e}",
            path.display()
        ))
    })
}

/// `--citations`: the attached documents may be cited; at least one must be a document.
fn cite_documents(content: &mut [host_sdk::ContentBlock]) -> CliResult {
    let mut any = false;
    for block in content.iter_mut() {
        if let host_sdk::ContentBlock::Document { citations, .. } = block {
            *citations = true;
            any = true;
        }
    }
    if any {
        Ok(())
    } else {
        Err(crate::error::CliError::new(
            "--citations: no attachment is a document (PDF, text, office file) the model could cite",
        ))
    }
}

/// The flags given and the request fields they set, as `--flag (field)`: what a refusal that
/// names a field refers to in the user's own terms.
pub fn flags_and_fields(args: &RequestArgs) -> Vec<String> {
    let given = [
        (
            args.max_tokens.is_some(),
            "--max-tokens",
            "inference.maxTokens",
        ),
        (
            args.temperature.is_some(),
            "--temperature",
            "inference.temperature",
        ),
        (args.top_p.is_some(), "--top-p", "inference.topP"),
        (
            !args.stop_sequences.is_empty(),
            "--stop",
            "inference.stopSequences",
        ),
        (
            args.reasoning_effort.is_some(),
            "--reasoning-effort",
            "reasoning.effort",
        ),
        (
            args.reasoning_budget.is_some(),
            "--reasoning-budget",
            "reasoning.budgetTokens",
        ),
        (args.service_tier.is_some(), "--service-tier", "serviceTier"),
        (
            args.latency.is_some(),
            "--latency",
            "performanceConfig.latency",
        ),
        (args.guardrail.is_some(), "--guardrail", "guardrailConfig"),
        (args.schema.is_some(), "--schema", "outputFormat"),
        (
            !args.server_tools.is_empty(),
            "--server-tool",
            "serverTools",
        ),
        (args.citations, "--citations", "document citations"),
    ];
    given
        .iter()
        .filter(|(set, _, _)| *set)
        .map(|(_, flag, field)| format!("{flag} ({field})"))
        .collect()
}
