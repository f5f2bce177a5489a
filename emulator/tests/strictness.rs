//! The emulator refuses per model what Bedrock refuses (issue #10), so a client that passes
//! against it sends what Bedrock accepts: output-token limits, tools and forced tool choice,
//! prompt caching, image and video input, image formats, sizes and bytes, document names and
//! the text a document needs, Anthropic's own field checks and its thinking rules, and the
//! reasoning settings of Nova 2, gpt-oss and GPT-5.6, tool-use ids. Each refusal has an accepted twin.

mod common;

use base64::Engine;
use common::*;
use serde_json::{json, Value};

const HAIKU_3: &str = "anthropic.claude-3-haiku-20240307-v1:0";
const SONNET_45: &str = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";
const OPUS_46: &str = "us.anthropic.claude-opus-4-6-v1";
const NOVA_MICRO: &str = "amazon.nova-micro-v1:0";
const NOVA_2: &str = "us.amazon.nova-2-lite-v1:0";
const GPT_OSS: &str = "openai.gpt-oss-120b-1:0";
const LLAMA_3: &str = "meta.llama3-8b-instruct-v1:0";
const TITAN: &str = "amazon.titan-text-express-v1";

async fn converse(emu: &emulator::RunningEmulator, model: &str, body: Value) -> (u16, String) {
    let path = format!("/model/{}/converse", model.replace(':', "%3A"));
    let headers = vec![
        (
            "authorization".to_string(),
            format!("Bearer {}", emu.api_key()),
        ),
        ("content-type".to_string(), "application/json".to_string()),
    ];
    let (status, _, bytes) =
        raw_http(emu, "POST", &path, &headers, body.to_string().as_bytes()).await;
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

fn user(content: Value) -> Value {
    json!({"messages": [{"role": "user", "content": content}]})
}

fn hi() -> Value {
    user(json!([{"text": "hi"}]))
}

fn with(mut body: Value, key: &str, value: Value) -> Value {
    body[key] = value;
    body
}

fn tools() -> Value {
    json!({"tools": [{"toolSpec": {"name": "get_weather", "inputSchema": {"json": {"type": "object"}}}}]})
}

/// A tool use and its result under `id`, with the tool declared.
fn tool_round(id: &str) -> Value {
    with(
        json!({"messages": [
            {"role": "user", "content": [{"text": "weather?"}]},
            {"role": "assistant", "content": [{"toolUse": {"toolUseId": id, "name": "get_weather", "input": {}}}]},
            {"role": "user", "content": [{"toolResult": {"toolUseId": id, "content": [{"text": "sunny"}]}}]},
        ]}),
        "toolConfig",
        tools(),
    )
}

fn png() -> String {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend_from_slice(&[0; 32]);
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn image(format: &str, bytes: String) -> Value {
    user(
        json!([{"text": "what is it?"}, {"image": {"format": format, "source": {"bytes": bytes}}}]),
    )
}

fn document(name: &str, with_text: bool) -> Value {
    let doc = json!({"document": {"format": "txt", "name": name, "source": {"bytes": "aGVsbG8="}}});
    if with_text {
        user(json!([{"text": "summarise"}, doc]))
    } else {
        user(json!([doc]))
    }
}

fn thinking(budget: u64, max_tokens: u64) -> Value {
    let body = with(hi(), "inferenceConfig", json!({"maxTokens": max_tokens}));
    with(
        body,
        "additionalModelRequestFields",
        json!({"thinking": {"type": "enabled", "budget_tokens": budget}}),
    )
}

#[tokio::test]
async fn refuses_per_model_what_bedrock_refuses() {
    let emu = start();
    let cases: Vec<(&str, &str, Value, Option<&str>)> = vec![
        // Output-token limits.
        (
            "maxTokens over the limit",
            HAIKU_3,
            with(hi(), "inferenceConfig", json!({"maxTokens": 4097})),
            Some("exceeds the model limit of 4096"),
        ),
        (
            "maxTokens at the limit",
            HAIKU_3,
            with(hi(), "inferenceConfig", json!({"maxTokens": 4096})),
            None,
        ),
        (
            "Opus 4.6 takes 128k",
            OPUS_46,
            with(hi(), "inferenceConfig", json!({"maxTokens": 128000})),
            None,
        ),
        // Tools.
        (
            "tools on a model without",
            LLAMA_3,
            with(hi(), "toolConfig", tools()),
            Some("doesn't support tool use"),
        ),
        (
            "tools on Titan",
            TITAN,
            with(hi(), "toolConfig", tools()),
            Some("doesn't support tool use"),
        ),
        (
            "tools on Nova",
            NOVA_MICRO,
            with(hi(), "toolConfig", tools()),
            None,
        ),
        (
            "toolChoice.any where only auto works",
            GPT_OSS,
            with(
                hi(),
                "toolConfig",
                json!({"tools": tools()["tools"], "toolChoice": {"any": {}}}),
            ),
            Some("toolConfig.toolChoice.any"),
        ),
        (
            "toolChoice.tool undeclared",
            SONNET_45,
            with(
                hi(),
                "toolConfig",
                json!({"tools": tools()["tools"], "toolChoice": {"tool": {"name": "nope"}}}),
            ),
            Some("The tool nope named in toolConfig.toolChoice.tool"),
        ),
        (
            "toolChoice.tool declared",
            SONNET_45,
            with(
                hi(),
                "toolConfig",
                json!({"tools": tools()["tools"], "toolChoice": {"tool": {"name": "get_weather"}}}),
            ),
            None,
        ),
        // Tools the service runs itself: Nova 2 only, and only the ones that exist.
        (
            "a systemTool on Nova Micro",
            NOVA_MICRO,
            with(
                hi(),
                "toolConfig",
                json!({"tools": [{"systemTool": {"name": "nova_code_interpreter"}}]}),
            ),
            Some("doesn't support system tools"),
        ),
        (
            "an unknown systemTool",
            NOVA_2,
            with(
                hi(),
                "toolConfig",
                json!({"tools": [{"systemTool": {"name": "web_browser"}}]}),
            ),
            Some("The system tool web_browser is not supported"),
        ),
        (
            "the code interpreter on Nova 2",
            NOVA_2,
            with(
                hi(),
                "toolConfig",
                json!({"tools": [{"systemTool": {"name": "nova_code_interpreter"}}]}),
            ),
            None,
        ),
        // Prompt caching.
        (
            "cachePoint where there is no caching",
            HAIKU_3,
            with(
                hi(),
                "system",
                json!([{"text": "s"}, {"cachePoint": {"type": "default"}}]),
            ),
            Some("doesn't support prompt caching"),
        ),
        (
            "cachePoint on Sonnet 4.5",
            SONNET_45,
            with(
                hi(),
                "system",
                json!([{"text": "s"}, {"cachePoint": {"type": "default"}}]),
            ),
            None,
        ),
        // Images and video.
        (
            "an image to a text-only model",
            NOVA_MICRO,
            image("png", png()),
            Some("doesn't support the image content block"),
        ),
        ("an image to Haiku 3", HAIKU_3, image("png", png()), None),
        (
            "a format outside the enum",
            HAIKU_3,
            image("bmp", png()),
            Some("Member must satisfy enum value set: [png, jpeg, gif, webp]"),
        ),
        (
            "bytes that are not the format",
            HAIKU_3,
            image("png", "aGVsbG8gd29ybGQ=".into()),
            Some("Could not process image"),
        ),
        (
            "a 6 MB image",
            HAIKU_3,
            image(
                "png",
                base64::engine::general_purpose::STANDARD
                    .encode([b"\x89PNG\r\n\x1a\n".as_slice(), &vec![0u8; 6_000_000]].concat()),
            ),
            Some("at most 3.75 MB"),
        ),
        (
            "video to Haiku 3",
            HAIKU_3,
            user(
                json!([{"text": "what?"}, {"video": {"format": "mp4", "source": {"bytes": "AAAA"}}}]),
            ),
            Some("doesn't support the video content block"),
        ),
        // Documents.
        (
            "a document name with a dot",
            HAIKU_3,
            document("notes.txt", true),
            Some("The document file name can only contain"),
        ),
        (
            "a document name with two spaces",
            HAIKU_3,
            document("my  notes", true),
            Some("more than one consecutive whitespace"),
        ),
        (
            "a document without text",
            HAIKU_3,
            document("notes", false),
            Some("has a document but no text block"),
        ),
        (
            "a good document",
            HAIKU_3,
            document("Quarterly notes (v2)", true),
            None,
        ),
        // Anthropic's own checks.
        (
            "an unknown Anthropic field",
            SONNET_45,
            with(hi(), "additionalModelRequestFields", json!({"top_kk": 5})),
            Some("top_kk: Extra inputs are not permitted"),
        ),
        (
            "top_k is known",
            SONNET_45,
            with(hi(), "additionalModelRequestFields", json!({"top_k": 5})),
            None,
        ),
        (
            "a thinking budget under 1024",
            SONNET_45,
            thinking(512, 4096),
            Some("greater than or equal to 1024"),
        ),
        (
            "a thinking budget at maxTokens",
            SONNET_45,
            thinking(4096, 4096),
            Some("`max_tokens` must be greater than `thinking.budget_tokens`"),
        ),
        (
            "a good thinking budget",
            SONNET_45,
            thinking(2048, 4096),
            None,
        ),
        (
            "thinking with temperature 0.5",
            SONNET_45,
            with(
                thinking(2048, 4096),
                "inferenceConfig",
                json!({"maxTokens": 4096, "temperature": 0.5}),
            ),
            Some("`temperature` may only be set to 1"),
        ),
        (
            "thinking on Haiku 3",
            HAIKU_3,
            thinking(2048, 4000),
            Some("thinking: Extra inputs are not permitted"),
        ),
        (
            "adaptive thinking on Sonnet 4.5",
            SONNET_45,
            with(
                hi(),
                "additionalModelRequestFields",
                json!({"thinking": {"type": "adaptive"}}),
            ),
            Some("thinking.type"),
        ),
        (
            "adaptive thinking on Opus 4.6",
            OPUS_46,
            with(
                hi(),
                "additionalModelRequestFields",
                json!({"thinking": {"type": "adaptive"}, "output_config": {"effort": "low"}}),
            ),
            None,
        ),
        // Other reasoning settings.
        (
            "Nova 2 reasoningConfig",
            NOVA_2,
            with(
                hi(),
                "additionalModelRequestFields",
                json!({"reasoningConfig": {"type": "enabled", "maxReasoningEffort": "low"}}),
            ),
            None,
        ),
        (
            "reasoningConfig on Nova Micro",
            NOVA_MICRO,
            with(
                hi(),
                "additionalModelRequestFields",
                json!({"reasoningConfig": {"type": "enabled"}}),
            ),
            Some("reasoningConfig is not supported"),
        ),
        (
            "gpt-oss effort",
            GPT_OSS,
            with(
                hi(),
                "additionalModelRequestFields",
                json!({"reasoning_effort": "high"}),
            ),
            None,
        ),
        (
            "gpt-oss effort out of range",
            GPT_OSS,
            with(
                hi(),
                "additionalModelRequestFields",
                json!({"reasoning_effort": "max"}),
            ),
            Some("reasoning_effort must be one of low, medium, high"),
        ),
        // Tool-use ids: `.` and `:` are accepted since 2026-04; anything else is not.
        (
            "a tool-use id with dots and colons",
            HAIKU_3,
            tool_round("functions.get_weather:0"),
            None,
        ),
        (
            "a tool-use id with a slash",
            HAIKU_3,
            tool_round("call/1"),
            Some("Member must satisfy regular expression pattern: [a-zA-Z0-9_.:-]+"),
        ),
        (
            "a tool-use id over 64 characters",
            HAIKU_3,
            tool_round(&"t".repeat(65)),
            Some("Member must have length between 1 and 64"),
        ),
        (
            "GPT-5.6 nested effort",
            "us.openai.gpt-5.6-sol",
            with(
                hi(),
                "additionalModelRequestFields",
                json!({"reasoning": {"effort": "max"}}),
            ),
            None,
        ),
        (
            "GPT-5.6 flat effort",
            "us.openai.gpt-5.6-sol",
            with(
                hi(),
                "additionalModelRequestFields",
                json!({"reasoning_effort": "high"}),
            ),
            Some("Unknown parameter: 'reasoning_effort'"),
        ),
        (
            "GPT-5.6 effort out of range",
            "global.openai.gpt-5.6-luna",
            with(
                hi(),
                "additionalModelRequestFields",
                json!({"reasoning": {"effort": "minimal"}}),
            ),
            Some("Invalid value for 'reasoning.effort'"),
        ),
    ];
    let mut wrong = Vec::new();
    for (name, model, body, refusal) in cases {
        let (status, answer) = converse(&emu, model, body).await;
        match refusal {
            Some(needle) if status != 400 || !answer.contains(needle) => wrong.push(format!(
                "{name}: expected 400 with {needle:?}, got {status} {answer}"
            )),
            None if status != 200 => {
                wrong.push(format!("{name}: expected 200, got {status} {answer}"))
            }
            _ => {}
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[tokio::test]
async fn request_metadata_is_held_to_bedrocks_limits() {
    let emu = start();
    let many: serde_json::Map<String, Value> =
        (0..17).map(|i| (format!("k{i}"), json!("v"))).collect();
    for (metadata, accepted) in [
        (json!({"team": "search", "run": "2026-11-29"}), true),
        (json!({"bad{key}": "v"}), false),
        (json!({"k": "a\"quoted\" value"}), false),
        (Value::Object(many), false),
    ] {
        let (status, answer) = converse(
            &emu,
            HAIKU_3,
            with(hi(), "requestMetadata", metadata.clone()),
        )
        .await;
        assert_eq!(status == 200, accepted, "{metadata}: {status} {answer}");
    }
}
