//! Reasoning a client carries from one turn to the next: the `encrypted_content` of a
//! `reasoning` item. The gateway keeps no state, so the item carries what the provider needs
//! to accept the reasoning back: its text and signature (the provider's own proof that the
//! text is unchanged: Bedrock refuses reasoning whose signature does not match), or the
//! provider's encrypted bytes. Versioned, so a later format can still read this one.

use base64::Engine as _;
use host_sdk::ContentBlock;
use serde::{Deserialize, Serialize};

use crate::errors::ApiError;

const PREFIX: &str = "gw1.";

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Carried {
    Signed { text: String, signature: String },
    Redacted { data: String },
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
}

/// The `encrypted_content` for a reasoning block; none for reasoning without a signature,
/// which no provider takes back.
pub fn carry(block: &ContentBlock) -> Option<String> {
    let carried = match block {
        ContentBlock::Reasoning {
            text,
            signature: Some(signature),
        } => Carried::Signed {
            text: text.clone(),
            signature: signature.clone(),
        },
        ContentBlock::RedactedReasoning { data } => Carried::Redacted {
            data: base64::engine::general_purpose::STANDARD.encode(data),
        },
        _ => return None,
    };
    let json = serde_json::to_vec(&carried).ok()?;
    Some(format!("{PREFIX}{}", b64().encode(json)))
}

/// The reasoning block an `encrypted_content` carries.
pub fn restore(encrypted: &str, at: &str) -> Result<ContentBlock, ApiError> {
    let refused = || {
        ApiError::bad_request(format!(
            "{at}.encrypted_content was not made by this gateway: send back reasoning items exactly as the gateway returned them (with include: [\"reasoning.encrypted_content\"])"
        ))
    };
    let bytes = encrypted
        .strip_prefix(PREFIX)
        .and_then(|rest| b64().decode(rest).ok())
        .ok_or_else(refused)?;
    match serde_json::from_slice(&bytes).map_err(|_| refused())? {
        Carried::Signed { text, signature } => Ok(ContentBlock::Reasoning {
            text,
            signature: Some(signature),
        }),
        Carried::Redacted { data } => Ok(ContentBlock::RedactedReasoning {
            data: base64::engine::general_purpose::STANDARD
                .decode(data)
                .map_err(|_| refused())?,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasoning_round_trips_through_encrypted_content() {
        for block in [
            ContentBlock::Reasoning {
                text: "Let me think.".into(),
                signature: Some("c2ln".into()),
            },
            ContentBlock::RedactedReasoning {
                data: vec![0, 1, 2, 255],
            },
        ] {
            let carried = carry(&block).unwrap();
            assert_eq!(restore(&carried, "input[0]").unwrap(), block);
        }
        assert!(carry(&ContentBlock::Reasoning {
            text: "unsigned".into(),
            signature: None
        })
        .is_none());
        assert!(restore("gAAAAABo-openai", "input[0]").is_err());
    }
}
