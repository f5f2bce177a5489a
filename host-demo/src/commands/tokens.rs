//! `tokens count`: the input tokens a request would cost, from the provider's own counter.

use crate::cli::RequestArgs;
use crate::commands::chat::prompt_with_piped_input;
use crate::error::{CliError, CliResult};
use crate::request;
use crate::session::Session;

pub fn count(session: &Session, prompt: Option<&str>, args: &RequestArgs, json: bool) -> CliResult {
    let prompt = if request::reads_stdin(args) {
        prompt.map(str::to_string)
    } else if args.request.is_some() {
        prompt_with_piped_input(prompt).ok()
    } else {
        Some(prompt_with_piped_input(prompt)?)
    };
    let request = request::build(session, args, prompt)?;
    let tokens = session.provider.count_tokens(&request).map_err(|e| {
        CliError::new(format!(
            "cannot count tokens for {}/{}: {e}",
            session.provider_id(),
            request.model
        ))
    })?;
    if json {
        println!(
            "{}",
            serde_json::json!({ "model": request.model, "inputTokens": tokens })
        );
    } else {
        println!(
            "{tokens} input tokens ({}/{})",
            session.provider_id(),
            request.model
        );
    }
    Ok(())
}
