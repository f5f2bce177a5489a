//! The `anthropic-beta` header: which of Anthropic's betas mean something on Bedrock. As
//! data, one place: a beta Bedrock documents for its Claude models is passed on to them
//! (`additionalModelRequestFields.anthropic_beta`); interleaved thinking is the contract's
//! own option; the rest (client markers such as `claude-code-20250219`, features that are
//! simply on, betas of Anthropic's platform) change nothing a model sees and are ignored, as
//! clients such as Claude Code send them with every request.

/// Betas Bedrock's Claude models take in `anthropic_beta`.
const PASSED_TO_CLAUDE: &[&str] = &[
    "computer-use-2025-01-24",
    "token-efficient-tools-2025-02-19",
    "output-128k-2025-02-19",
    "dev-full-thinking-2025-05-14",
    "context-1m-2025-08-07",
    "context-management-2025-06-27",
    "effort-2025-11-24",
    "tool-search-tool-2025-10-19",
    "tool-examples-2025-10-29",
];

/// Thinking between tool calls: the contract's `reasoning.interleaved`.
pub const INTERLEAVED_THINKING: &str = "interleaved-thinking-2025-05-14";

/// What a request's `anthropic-beta` header asks of the provider.
#[derive(Debug, Default, PartialEq)]
pub struct Betas {
    pub interleaved_thinking: bool,
    /// Betas to pass to a Claude model.
    pub for_claude: Vec<String>,
}

impl Betas {
    /// The betas in `anthropic-beta` headers (each a comma-separated list).
    pub fn of(headers: &axum::http::HeaderMap) -> Self {
        let mut betas = Self::default();
        let named = headers
            .get_all("anthropic-beta")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|b| !b.is_empty());
        for beta in named {
            if beta == INTERLEAVED_THINKING {
                betas.interleaved_thinking = true;
            } else if PASSED_TO_CLAUDE.contains(&beta) {
                if !betas.for_claude.iter().any(|b| b == beta) {
                    betas.for_claude.push(beta.to_string());
                }
            } else {
                tracing::debug!(
                    beta,
                    "anthropic-beta ignored: nothing on Bedrock answers to it"
                );
            }
        }
        betas
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn betas_are_sorted_into_what_bedrock_takes_and_what_it_ignores() {
        let mut headers = axum::http::HeaderMap::new();
        headers.append(
            "anthropic-beta",
            "claude-code-20250219, interleaved-thinking-2025-05-14,context-1m-2025-08-07"
                .parse()
                .unwrap(),
        );
        headers.append("anthropic-beta", "context-1m-2025-08-07".parse().unwrap());
        assert_eq!(
            Betas::of(&headers),
            Betas {
                interleaved_thinking: true,
                for_claude: vec!["context-1m-2025-08-07".into()],
            }
        );
    }
}
