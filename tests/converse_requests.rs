//! Issue #4, requests: every part of a ConverseRequest a coding agent sends, proved by the
//! exact JSON the emulator received (what Bedrock would get) from the real plugin.

use e2e_tests::{
    b64, only_body, provider_for, run, scripted_request, start_emulator, stream_bodies,
};
use host_sdk::{
    CacheConfig, CacheRetention, ContentBlock, ConverseRequest, ErrorKind, InferenceConfig,
    Message, ReasoningConfig, Role, Tool, ToolChoice, ToolResultContent,
};
use serde_json::{json, Value};

const NOVA: &str = "amazon.nova-micro-v1:0";
const SONNET_45: &str = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";
const SONNET_37: &str = "us.anthropic.claude-3-7-sonnet-20250219-v1:0";

fn no_cache() -> Option<CacheConfig> {
    Some(CacheConfig {
        retention: CacheRetention::None,
    })
}

fn user(content: Vec<ContentBlock>) -> Message {
    Message {
        role: Role::User,
        content,
    }
}

fn assistant(content: Vec<ContentBlock>) -> Message {
    Message {
        role: Role::Assistant,
        content,
    }
}

fn text(t: &str) -> ContentBlock {
    ContentBlock::Text { text: t.into() }
}

fn weather_tool() -> Tool {
    Tool {
        name: "get_weather".into(),
        description: "Current weather for a city".into(),
        input_schema: json!({
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"]
        }),
        ..Default::default()
    }
}

fn request(model: &str, messages: Vec<Message>) -> ConverseRequest {
    ConverseRequest {
        model: model.into(),
        messages,
        cache: no_cache(),
        ..ConverseRequest::default()
    }
}

#[test]
fn system_history_merging_empty_blocks_inference_config_and_extra_fields() {
    let emu = start_emulator();
    let p = provider_for(&emu);
    let mut req = request(
        NOVA,
        vec![
            user(vec![text("first")]),
            user(vec![text(""), text("second")]),
            assistant(vec![text("   ")]),
            user(vec![text("third")]),
            assistant(vec![text("reply")]),
            assistant(vec![text("more reply")]),
            user(vec![text("last"), text("")]),
        ],
    );
    req.system = vec![
        "You are terse.".into(),
        "  ".into(),
        "Answer in English.".into(),
    ];
    req.inference = InferenceConfig {
        max_tokens: Some(256),
        temperature: Some(0.5),
        top_p: Some(0.75),
        stop_sequences: vec!["END".into()],
    };
    req.extra = Some(json!({"inferenceConfig": {"topK": 40}}));
    req.metadata = vec![("session".into(), "abc".into())];
    run(&p, &req).completion();

    let body = only_body(&emu);
    assert_eq!(
        body["system"],
        json!([{"text": "You are terse."}, {"text": "Answer in English."}])
    );
    assert_eq!(
        body["messages"],
        json!([
            {"role": "user", "content": [{"text": "first"}, {"text": "second"}, {"text": "third"}]},
            {"role": "assistant", "content": [{"text": "reply"}, {"text": "more reply"}]},
            {"role": "user", "content": [{"text": "last"}]},
        ])
    );
    assert_eq!(
        body["inferenceConfig"],
        json!({"maxTokens": 256, "temperature": 0.5, "topP": 0.75, "stopSequences": ["END"]})
    );
    assert_eq!(
        body["additionalModelRequestFields"],
        json!({"inferenceConfig": {"topK": 40}})
    );
    assert_eq!(body["requestMetadata"], json!({"session": "abc"}));
    assert!(body.get("toolConfig").is_none(), "{body}");
}

#[test]
fn images_are_sent_with_the_format_of_their_bytes() {
    let emu = start_emulator();
    let p = provider_for(&emu);
    let png = [b"\x89PNG\r\n\x1a\n".as_slice(), &[0, 0, 0, 13, 1, 2, 3]].concat();
    let jpeg = vec![0xff, 0xd8, 0xff, 0xe0, 0, 16, b'J', b'F', b'I', b'F'];
    let gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00".to_vec();
    let webp = b"RIFF\x1a\x00\x00\x00WEBPVP8 \x0e\x00\x00\x00".to_vec();
    let image = |format: Option<&str>, data: &[u8]| ContentBlock::Image {
        format: format.map(Into::into),
        data: data.to_vec(),
        s3: None,
    };
    let req = request(
        "amazon.nova-lite-v1:0",
        vec![user(vec![
            text("what are these?"),
            // Labels are hints only: the bytes decide.
            image(Some("jpeg"), &png),
            image(Some("image/png"), &jpeg),
            image(None, &gif),
            image(Some("gif"), &webp),
        ])],
    );
    run(&p, &req).completion();
    let body = only_body(&emu);
    let img = |format: &str, data: &[u8]| json!({"image": {"format": format, "source": {"bytes": b64(data)}}});
    assert_eq!(
        body["messages"][0]["content"],
        json!([
            {"text": "what are these?"},
            img("png", &png),
            img("jpeg", &jpeg),
            img("gif", &gif),
            img("webp", &webp),
        ])
    );
}

#[test]
fn bad_or_oversized_images_are_refused_before_any_call() {
    let emu = start_emulator();
    let p = provider_for(&emu);
    for (data, needle) in [
        (b"<svg xmlns=...>".to_vec(), "not PNG, JPEG, GIF or WebP"),
        (
            [b"\x89PNG\r\n\x1a\n".as_slice(), &vec![0u8; 3_750_001]].concat(),
            "at most 3750000 bytes",
        ),
    ] {
        let req = request(
            SONNET_45,
            vec![user(vec![
                text("look"),
                ContentBlock::Image {
                    format: None,
                    data,
                    s3: None,
                },
            ])],
        );
        let out = run(&p, &req);
        let e = out.error();
        assert_eq!(e.kind(), &ErrorKind::InvalidRequest);
        assert!(!e.error.retryable);
        assert!(e.error.message.contains(needle), "{}", e.error.message);
        assert!(
            e.error.message.contains("messages[0].content[1]"),
            "{}",
            e.error.message
        );
    }
    assert!(stream_bodies(&emu).is_empty(), "nothing was sent");
}

#[test]
fn documents_of_every_supported_format() {
    let emu = start_emulator();
    let p = provider_for(&emu);
    let docs: Vec<(&str, &str, Vec<u8>)> = vec![
        ("pdf", "report.pdf", b"%PDF-1.7\n%...".to_vec()),
        ("csv", "data", b"a,b\n1,2\n".to_vec()),
        ("doc", "old doc", vec![0xd0, 0xcf, 0x11, 0xe0]),
        ("docx", "new_doc", b"PK\x03\x04word".to_vec()),
        ("xls", "sheet", vec![0xd0, 0xcf, 0x11, 0xe0, 1]),
        ("xlsx", "sheet (2)", b"PK\x03\x04xl".to_vec()),
        ("html", "page", b"<html></html>".to_vec()),
        ("txt", "notes", b"plain notes".to_vec()),
        ("md", "README", b"# Title".to_vec()),
    ];
    let mut content = vec![text("summarise")];
    for (format, name, data) in &docs {
        content.push(ContentBlock::Document {
            format: format.to_string(),
            name: name.to_string(),
            data: data.clone(),
            citations: false,
            s3: None,
            text: None,
            content: Vec::new(),
            context: None,
        });
    }
    run(&p, &request(NOVA, vec![user(content)])).completion();
    let body = only_body(&emu);
    let sent = body["messages"][0]["content"].as_array().unwrap().clone();
    assert_eq!(sent.len(), docs.len() + 1);
    // Names keep only the characters Bedrock allows.
    let names = [
        "report pdf",
        "data",
        "old doc",
        "new doc",
        "sheet",
        "sheet (2)",
        "page",
        "notes",
        "README",
    ];
    for (((format, _, data), block), name) in docs.iter().zip(&sent[1..]).zip(names) {
        assert_eq!(
            block,
            &json!({"document": {"format": format, "name": name, "source": {"bytes": b64(data)}}})
        );
    }

    // A format Bedrock does not take, or a "pdf" that is not one, never leaves the host.
    for (format, data) in [("rtf", b"{\\rtf1}".to_vec()), ("pdf", b"hello".to_vec())] {
        let req = request(
            NOVA,
            vec![user(vec![
                text("read"),
                ContentBlock::Document {
                    format: format.into(),
                    name: "x".into(),
                    data,
                    citations: false,
                    s3: None,
                    text: None,
                    content: Vec::new(),
                    context: None,
                },
            ])],
        );
        assert_eq!(run(&p, &req).error().kind(), &ErrorKind::InvalidRequest);
    }
    assert_eq!(stream_bodies(&emu).len(), 1);
}

fn tool_history() -> Vec<Message> {
    vec![
        user(vec![text("Weather in Paris and Oslo?")]),
        assistant(vec![
            text("Checking both."),
            ContentBlock::ToolUse {
                id: "functions.get_weather:1/paris".into(),
                name: "get_weather".into(),
                input: json!({"city": "Paris"}),
            },
            ContentBlock::ToolUse {
                id: "call:2 oslo".into(),
                name: "get_weather".into(),
                input: json!({"city": "Oslo"}),
            },
        ]),
        // Two tool results sent as separate messages, as many hosts do.
        user(vec![ContentBlock::ToolResult {
            tool_use_id: "functions.get_weather:1/paris".into(),
            content: vec![
                ToolResultContent::Text {
                    text: "sunny".into(),
                },
                ToolResultContent::Json {
                    value: json!({"celsius": 21}),
                },
                ToolResultContent::Image {
                    format: None,
                    data: b"GIF89a\x01\x00".to_vec(),
                },
            ],
            is_error: false,
        }]),
        user(vec![ContentBlock::ToolResult {
            tool_use_id: "call:2 oslo".into(),
            content: vec![ToolResultContent::Text {
                text: "station offline".into(),
            }],
            is_error: true,
        }]),
    ]
}

fn expected_tool_messages() -> Value {
    json!([
        {"role": "user", "content": [{"text": "Weather in Paris and Oslo?"}]},
        {"role": "assistant", "content": [
            {"text": "Checking both."},
            {"toolUse": {"toolUseId": "functions.get_weather:1_paris", "name": "get_weather", "input": {"city": "Paris"}}},
            {"toolUse": {"toolUseId": "call:2_oslo", "name": "get_weather", "input": {"city": "Oslo"}}},
        ]},
        {"role": "user", "content": [
            {"toolResult": {"toolUseId": "functions.get_weather:1_paris", "status": "success", "content": [
                {"text": "sunny"},
                {"json": {"celsius": 21}},
                {"image": {"format": "gif", "source": {"bytes": b64(b"GIF89a\x01\x00")}}},
            ]}},
            {"toolResult": {"toolUseId": "call:2_oslo", "status": "error", "content": [
                {"text": "station offline"},
            ]}},
        ]},
    ])
}

#[test]
fn tools_choices_and_grouped_results_with_normalised_ids() {
    let emu = start_emulator();
    let p = provider_for(&emu);
    let spec = json!({"toolSpec": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "inputSchema": {"json": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"]
        }}
    }});
    for (choice, wire) in [
        (None, json!({"auto": {}})),
        (Some(ToolChoice::Auto), json!({"auto": {}})),
        (Some(ToolChoice::Any), json!({"any": {}})),
        (
            Some(ToolChoice::Tool {
                name: "get_weather".into(),
            }),
            json!({"tool": {"name": "get_weather"}}),
        ),
    ] {
        emu.clear_requests();
        let mut req = request(NOVA, tool_history());
        req.tools = vec![weather_tool()];
        req.tool_choice = choice.clone();
        run(&p, &req).completion();
        let body = only_body(&emu);
        assert_eq!(
            body["toolConfig"],
            json!({"tools": [spec], "toolChoice": wire}),
            "{choice:?}"
        );
        assert_eq!(body["messages"], expected_tool_messages(), "{choice:?}");
    }

    // A named tool that is not offered is the host's mistake, caught before the call.
    let mut req = request(NOVA, tool_history());
    req.tools = vec![weather_tool()];
    req.tool_choice = Some(ToolChoice::Tool {
        name: "get_time".into(),
    });
    assert_eq!(run(&p, &req).error().kind(), &ErrorKind::InvalidRequest);
}

#[test]
fn tool_choice_none_sends_no_tool_config_and_replays_tools_as_text() {
    let emu = start_emulator();
    let p = provider_for(&emu);
    let mut req = request(NOVA, tool_history());
    req.tools = vec![weather_tool()];
    req.tool_choice = Some(ToolChoice::None);
    run(&p, &req).completion();
    let body = only_body(&emu);
    assert!(body.get("toolConfig").is_none(), "{body}");
    let blocks = body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["content"].as_array().unwrap().clone())
        .collect::<Vec<_>>();
    assert!(
        blocks.iter().all(|b| b.get("text").is_some()),
        "only text blocks: {blocks:?}"
    );
    assert_eq!(
        body["messages"][1]["content"][1],
        json!({"text": "[called tool get_weather with {\"city\":\"Paris\"}]"})
    );
}

#[test]
fn tool_history_without_tools_still_gets_the_required_tool_config() {
    let emu = start_emulator();
    let p = provider_for(&emu);
    let req = request(NOVA, tool_history());
    run(&p, &req).completion();
    let body = only_body(&emu);
    assert_eq!(
        body["toolConfig"],
        json!({"tools": [{"toolSpec": {
            "name": "get_weather",
            "description": "A tool used earlier in this conversation.",
            "inputSchema": {"json": {"type": "object"}}
        }}]})
    );
    assert_eq!(body["messages"], expected_tool_messages());
}

#[test]
fn budget_thinking_raises_max_tokens_and_drops_sampling() {
    let emu = start_emulator();
    let p = provider_for(&emu);
    let mut req = request(SONNET_45, vec![user(vec![text("think hard")])]);
    req.inference.max_tokens = Some(1000);
    req.inference.temperature = Some(0.3);
    req.reasoning = Some(ReasoningConfig {
        budget_tokens: Some(2048),
        effort: None,
        ..ReasoningConfig::default()
    });
    run(&p, &req).completion();
    let body = only_body(&emu);
    // Claude 4 models also think between tool calls unless the host says no.
    assert_eq!(
        body["additionalModelRequestFields"],
        json!({"thinking": {"type": "enabled", "budget_tokens": 2048}, "anthropic_beta": ["interleaved-thinking-2025-05-14"]})
    );
    // 1000 answer tokens would not fit above a 2048 budget: room for the budget plus the
    // default answer room is asked for instead.
    assert_eq!(body["inferenceConfig"], json!({"maxTokens": 2048 + 4096}));

    // Enough room already: maxTokens is kept.
    emu.clear_requests();
    req.inference.max_tokens = Some(10_000);
    run(&p, &req).completion();
    assert_eq!(
        only_body(&emu)["inferenceConfig"],
        json!({"maxTokens": 10_000})
    );

    // A model without configurable reasoning refuses it clearly.
    let mut req = request(NOVA, vec![user(vec![text("think")])]);
    req.reasoning = Some(ReasoningConfig {
        budget_tokens: Some(2048),
        effort: None,
        ..ReasoningConfig::default()
    });
    assert_eq!(run(&p, &req).error().kind(), &ErrorKind::InvalidRequest);
}

#[test]
fn adaptive_thinking_with_converses_own_effort_for_the_models_that_take_it() {
    let emu = start_emulator();
    let p = provider_for(&emu);
    for (model, reasoning, expected, effort) in [
        (
            "us.anthropic.claude-opus-4-6-v1",
            ReasoningConfig {
                budget_tokens: None,
                effort: Some("max".into()),
                ..ReasoningConfig::default()
            },
            json!({"thinking": {"type": "adaptive"}}),
            Some("max"),
        ),
        (
            "global.anthropic.claude-sonnet-4-6",
            ReasoningConfig {
                budget_tokens: None,
                effort: None,
                ..ReasoningConfig::default()
            },
            json!({"thinking": {"type": "adaptive"}}),
            None,
        ),
        (
            // Opus 4.7 only shows its reasoning when asked for a summary.
            "us.anthropic.claude-opus-4-7",
            ReasoningConfig {
                budget_tokens: None,
                effort: Some("low".into()),
                ..ReasoningConfig::default()
            },
            json!({"thinking": {"type": "adaptive", "display": "summarized"}}),
            Some("low"),
        ),
    ] {
        emu.clear_requests();
        // No scripted answer: the emulator checks the request as Bedrock would first.
        let mut req = request(model, vec![user(vec![text("plan the refactor")])]);
        req.reasoning = Some(reasoning);
        req.inference.temperature = Some(0.2);
        let out = run(&p, &req);
        assert!(
            out.completion()
                .message
                .text()
                .contains("plan the refactor"),
            "{model}"
        );
        let body = only_body(&emu);
        assert_eq!(body["additionalModelRequestFields"], expected, "{model}");
        // The effort is Converse's own `outputConfig.effort`, which the emulator accepted (it
        // refuses it for models that do not think adaptively, and levels outside botocore's
        // five).
        assert_eq!(body["outputConfig"]["effort"].as_str(), effort, "{model}");
        // Thinking and answer share maxTokens: leave room for both; sampling stays default.
        assert_eq!(
            body["inferenceConfig"],
            json!({"maxTokens": 32_000}),
            "{model}"
        );
    }
}

#[test]
fn reasoning_replay_signed_exactly_unsigned_never_redacted_as_is() {
    let emu = start_emulator();
    let p = provider_for(&emu);
    let redacted = vec![0x01, 0x02, 0xfe, 0xff];
    let req = request(
        SONNET_37,
        vec![
            user(vec![text("first question")]),
            assistant(vec![
                ContentBlock::Reasoning {
                    text: "Let me think.".into(),
                    signature: Some("EqQBCkgIBxABGAIq==".into()),
                },
                ContentBlock::RedactedReasoning {
                    data: redacted.clone(),
                },
                text("Answer one."),
            ]),
            user(vec![text("second question")]),
            assistant(vec![
                // Unsigned reasoning (another model's, or a summary) is not replayed.
                ContentBlock::Reasoning {
                    text: "unsigned musing".into(),
                    signature: None,
                },
                text("Answer two."),
            ]),
            user(vec![text("third question")]),
        ],
    );
    run(&p, &req).completion();
    let body = only_body(&emu);
    assert_eq!(
        body["messages"],
        json!([
            {"role": "user", "content": [{"text": "first question"}]},
            {"role": "assistant", "content": [
                {"reasoningContent": {"reasoningText": {"text": "Let me think.", "signature": "EqQBCkgIBxABGAIq=="}}},
                {"reasoningContent": {"redactedContent": b64(&redacted)}},
                {"text": "Answer one."},
            ]},
            {"role": "user", "content": [{"text": "second question"}]},
            {"role": "assistant", "content": [{"text": "Answer two."}]},
            {"role": "user", "content": [{"text": "third question"}]},
        ])
    );
}

#[test]
fn cache_points_after_system_tools_and_last_user_message() {
    let emu = start_emulator();
    let p = provider_for(&emu);
    let short = json!({"cachePoint": {"type": "default"}});
    let long = json!({"cachePoint": {"type": "default", "ttl": "1h"}});
    let base = |retention: Option<CacheRetention>, model: &str| {
        let mut req = request(
            model,
            vec![
                user(vec![text("q1")]),
                assistant(vec![text("a1")]),
                user(vec![text("q2")]),
            ],
        );
        req.system = vec!["Long stable instructions.".into()];
        req.tools = vec![weather_tool()];
        req.cache = retention.map(|retention| CacheConfig { retention });
        req
    };

    for (retention, point) in [
        (None, &short),
        (Some(CacheRetention::Short), &short),
        (Some(CacheRetention::Long), &long),
    ] {
        emu.clear_requests();
        run(&p, &base(retention, SONNET_45)).completion();
        let body = only_body(&emu);
        assert_eq!(
            body["system"],
            json!([{"text": "Long stable instructions."}, point]),
            "{retention:?}"
        );
        let tools = body["toolConfig"]["tools"].as_array().unwrap();
        assert_eq!((tools.len(), &tools[1]), (2, point), "{retention:?}");
        assert_eq!(
            body["messages"],
            json!([
                {"role": "user", "content": [{"text": "q1"}]},
                {"role": "assistant", "content": [{"text": "a1"}]},
                {"role": "user", "content": [{"text": "q2"}, point]},
            ]),
            "{retention:?}"
        );
    }

    // Off by choice: no cache point anywhere.
    emu.clear_requests();
    run(&p, &base(Some(CacheRetention::None), SONNET_45)).completion();
    let body = only_body(&emu);
    assert!(!body.to_string().contains("cachePoint"), "{body}");

    // Nova caches the system prompt and messages, not tools, and only for five minutes.
    emu.clear_requests();
    run(
        &p,
        &base(Some(CacheRetention::Long), "us.amazon.nova-pro-v1:0"),
    )
    .completion();
    let body = only_body(&emu);
    assert_eq!(body["system"][1], short);
    assert_eq!(body["toolConfig"]["tools"].as_array().unwrap().len(), 1);
    assert_eq!(body["messages"][2]["content"][1], short);

    // A model with tools but without prompt caching gets none (Bedrock would refuse them).
    emu.clear_requests();
    run(&p, &base(None, "meta.llama3-1-70b-instruct-v1:0")).completion();
    assert!(!only_body(&emu).to_string().contains("cachePoint"));
}

/// Issue #11 (item 8): request metadata is held to Bedrock's requestMetadata limits before
/// the network.
#[test]
fn request_metadata_beyond_bedrocks_limits_is_refused_before_the_network() {
    let emu = start_emulator();
    let p = provider_for(&emu);
    let with_metadata = |metadata: Vec<(String, String)>| {
        let mut req = scripted_request(NOVA, "hi", json!({"text": "ok"}));
        req.metadata = metadata;
        req
    };
    let ok = run(&p, &with_metadata(vec![("team".into(), "search".into())]));
    assert_eq!(ok.text(), "ok");
    for (metadata, needle) in [
        (
            (0..17).map(|i| (format!("k{i}"), "v".into())).collect(),
            "at most 16",
        ),
        (vec![("bad{key}".into(), "v".into())], "metadata key"),
        (vec![("k".into(), "x".repeat(257))], "metadata value"),
    ] {
        emu.clear_requests();
        let e = run(&p, &with_metadata(metadata)).error().error.clone();
        assert_eq!(e.kind, ErrorKind::InvalidRequest, "{e}");
        assert!(e.message.contains(needle), "{e}");
        assert!(stream_bodies(&emu).is_empty());
    }
}

/// Issue #12: each model family is asked to reason its own way, and a host's own settings win.
#[test]
fn reasoning_follows_each_family_and_keeps_the_hosts_own_settings() {
    let emu = start_emulator();
    let p = provider_for(&emu);
    let reasoning = |effort: Option<&str>, budget: Option<u32>| {
        Some(ReasoningConfig {
            effort: effort.map(str::to_string),
            budget_tokens: budget,
            ..ReasoningConfig::default()
        })
    };
    let last_fields = |emu: &emulator::RunningEmulator| {
        stream_bodies(emu).pop().unwrap()["additionalModelRequestFields"].clone()
    };

    // Interleaved thinking can be turned off.
    let mut req = request(SONNET_45, vec![user(vec![text("think")])]);
    req.reasoning = Some(ReasoningConfig {
        budget_tokens: Some(2048),
        interleaved: Some(false),
        ..ReasoningConfig::default()
    });
    run(&p, &req).completion();
    assert_eq!(last_fields(&emu).get("anthropic_beta"), None);

    // Nova 2: reasoningConfig with the effort (xhigh is its high), or the budget's effort.
    let mut req = request(
        "us.amazon.nova-2-lite-v1:0",
        vec![user(vec![text("think")])],
    );
    req.reasoning = reasoning(Some("xhigh"), None);
    run(&p, &req).completion();
    assert_eq!(
        last_fields(&emu),
        json!({"reasoningConfig": {"type": "enabled", "maxReasoningEffort": "high"}})
    );
    req.reasoning = reasoning(None, Some(1024));
    run(&p, &req).completion();
    assert_eq!(
        last_fields(&emu)["reasoningConfig"]["maxReasoningEffort"],
        "low"
    );

    // gpt-oss: reasoning_effort; a host's own value is kept.
    let mut req = request("openai.gpt-oss-120b-1:0", vec![user(vec![text("think")])]);
    req.reasoning = reasoning(Some("low"), None);
    run(&p, &req).completion();
    assert_eq!(last_fields(&emu), json!({"reasoning_effort": "low"}));
    req.extra = Some(json!({"reasoning_effort": "high"}));
    run(&p, &req).completion();
    assert_eq!(last_fields(&emu), json!({"reasoning_effort": "high"}));

    // GPT-5.6 on Converse: the nested reasoning.effort at any level (the flat field is an
    // unknown parameter to it), and its reasoning comes back encrypted, kept for the next turn.
    let mut req = request("us.openai.gpt-5.6-sol", vec![user(vec![text("think")])]);
    req.reasoning = reasoning(Some("xhigh"), None);
    let outcome = run(&p, &req);
    let completion = outcome.completion();
    assert_eq!(last_fields(&emu), json!({"reasoning": {"effort": "xhigh"}}));
    assert!(
        completion
            .message
            .content
            .iter()
            .any(|b| matches!(b, ContentBlock::RedactedReasoning { .. })),
        "{completion:?}"
    );
    req.reasoning = reasoning(None, Some(1024));
    run(&p, &req).completion();
    assert_eq!(last_fields(&emu), json!({"reasoning": {"effort": "low"}}));

    // Opus 4.7 shows summarized reasoning by default; a host that wants it omitted says so.
    let mut req = request(
        "us.anthropic.claude-opus-4-7",
        vec![user(vec![text("think")])],
    );
    req.reasoning = reasoning(Some("high"), None);
    req.extra = Some(json!({"thinking": {"display": "omitted"}}));
    run(&p, &req).completion();
    assert_eq!(
        last_fields(&emu)["thinking"],
        json!({"type": "adaptive", "display": "omitted"})
    );
}

/// Issue #12: media from S3 (with the bucket owner), video as bytes or from S3, and the
/// content kinds tool results carry, as Bedrock takes them; bad locations and media the
/// model does not take are refused before any call.
#[test]
fn s3_media_video_and_rich_tool_results_reach_the_wire() {
    let emu = start_emulator();
    let p = provider_for(&emu);
    const NOVA_PRO: &str = "us.amazon.nova-pro-v1:0";
    let s3 = |uri: &str| {
        Some(host_sdk::S3Location {
            uri: uri.into(),
            bucket_owner: Some("111122223333".into()),
        })
    };
    let req = request(
        NOVA_PRO,
        vec![user(vec![
            ContentBlock::Image {
                format: Some("png".into()),
                data: vec![],
                s3: s3("s3://media/cat.png"),
            },
            ContentBlock::Video {
                format: "mp4".into(),
                data: vec![],
                s3: s3("s3://media/clip.mp4"),
            },
            ContentBlock::Video {
                format: "webm".into(),
                data: vec![0x1a, 0x45, 0xdf, 0xa3, 1, 2, 3],
                s3: None,
            },
            ContentBlock::Document {
                format: "pdf".into(),
                name: "report".into(),
                data: vec![],
                citations: false,
                s3: s3("s3://media/report.pdf"),
                text: None,
                content: Vec::new(),
                context: None,
            },
            text("describe all of these"),
        ])],
    );
    run(&p, &req).completion();
    let sent = only_body(&emu)["messages"][0]["content"].clone();
    let owner = json!({"uri": "s3://media/cat.png", "bucketOwner": "111122223333"});
    assert_eq!(
        sent[0]["image"],
        json!({"format": "png", "source": {"s3Location": owner}})
    );
    assert_eq!(
        sent[1]["video"]["source"]["s3Location"]["uri"],
        "s3://media/clip.mp4"
    );
    assert_eq!(sent[2]["video"]["format"], "webm");
    assert_eq!(
        sent[2]["video"]["source"]["bytes"],
        b64(&[0x1a, 0x45, 0xdf, 0xa3, 1, 2, 3])
    );
    assert_eq!(
        sent[3]["document"]["source"]["s3Location"]["uri"],
        "s3://media/report.pdf"
    );

    // A tool result can carry a document, a video and search results.
    let tool_use = ContentBlock::ToolUse {
        id: "t1".into(),
        name: "fetch".into(),
        input: json!({}),
    };
    let mut req = request(
        NOVA_PRO,
        vec![
            user(vec![text("fetch it")]),
            assistant(vec![tool_use]),
            user(vec![ContentBlock::ToolResult {
                tool_use_id: "t1".into(),
                content: vec![
                    ToolResultContent::Document {
                        format: "txt".into(),
                        name: "notes".into(),
                        data: b"plain notes".to_vec(),
                        s3: None,
                    },
                    ToolResultContent::Video {
                        format: "mov".into(),
                        data: vec![],
                        s3: s3("s3://media/clip.mov"),
                    },
                    ToolResultContent::SearchResult {
                        source: "https://example.com".into(),
                        title: "Example".into(),
                        content: vec!["A passage.".into()],
                        citations: false,
                    },
                ],
                is_error: false,
            }]),
        ],
    );
    req.tools = vec![weather_tool()];
    run(&p, &req).completion();
    let result = stream_bodies(&emu).pop().unwrap()["messages"][2]["content"][0]["toolResult"]
        ["content"]
        .clone();
    assert_eq!(result[0]["document"]["name"], "notes");
    assert_eq!(
        result[1]["video"]["source"]["s3Location"]["uri"],
        "s3://media/clip.mov"
    );
    assert_eq!(
        result[2]["searchResult"]["content"],
        json!([{"text": "A passage."}])
    );

    // Refused before the network: a malformed location, bytes and a location together, an
    // image for a model that takes none.
    let before = stream_bodies(&emu).len();
    for (block, wants) in [
        (
            ContentBlock::Image {
                format: Some("png".into()),
                data: vec![],
                s3: Some(host_sdk::S3Location {
                    uri: "https://media/cat.png".into(),
                    bucket_owner: None,
                }),
            },
            "s3://<bucket>/<key>",
        ),
        (
            ContentBlock::Video {
                format: "mp4".into(),
                data: vec![1],
                s3: s3("s3://media/clip.mp4"),
            },
            "not both",
        ),
    ] {
        let bad = request(NOVA_PRO, vec![user(vec![block, text("look")])]);
        let out = run(&p, &bad);
        assert!(out.error().error.message.contains(wants), "{}", out.error());
    }
    let image_for_micro = request(
        NOVA,
        vec![user(vec![
            ContentBlock::Image {
                format: None,
                data: b"\x89PNG\r\n\x1a\n0000".to_vec(),
                s3: None,
            },
            text("look"),
        ])],
    );
    let out = run(&p, &image_for_micro);
    assert_eq!(out.error().kind(), &ErrorKind::InvalidRequest);
    assert!(
        out.error()
            .error
            .message
            .contains("does not take image input"),
        "{}",
        out.error()
    );
    assert_eq!(stream_bodies(&emu).len(), before);
}

/// Issue #20: a document given as plain text or as chunks of text, with context beside it,
/// reaches Bedrock as `DocumentSource.text`/`content` and `DocumentBlock.context`; the
/// emulator cites it; a document given two ways is refused before any call.
#[test]
fn documents_as_text_or_chunks_with_their_context_reach_the_wire() {
    let emu = start_emulator();
    let p = provider_for(&emu);
    let document = |text: Option<&str>, content: Vec<&str>| ContentBlock::Document {
        format: "txt".into(),
        name: "notes".into(),
        data: vec![],
        citations: true,
        s3: None,
        text: text.map(str::to_string),
        content: content.into_iter().map(str::to_string).collect(),
        context: Some("Minutes of the March meeting".into()),
    };
    let req = request(
        SONNET_45,
        vec![user(vec![
            document(Some("The budget was approved."), vec![]),
            text("What was decided?"),
        ])],
    );
    let completion = run(&p, &req).completion().clone();
    let sent = only_body(&emu)["messages"][0]["content"][0]["document"].clone();
    assert_eq!(sent["source"], json!({"text": "The budget was approved."}));
    assert_eq!(sent["context"], "Minutes of the March meeting");
    assert!(
        completion
            .message
            .content
            .iter()
            .any(|b| matches!(b, ContentBlock::CitedText { text, .. } if text.contains("budget"))),
        "{completion:?}"
    );

    let req = request(
        SONNET_45,
        vec![user(vec![
            document(None, vec!["First point.", "Second point."]),
            text("Summarise"),
        ])],
    );
    run(&p, &req).completion();
    let sent = stream_bodies(&emu).last().unwrap()["messages"][0]["content"][0]["document"].clone();
    assert_eq!(
        sent["source"],
        json!({"content": [{"text": "First point."}, {"text": "Second point."}]})
    );

    let calls = stream_bodies(&emu).len();
    let req = request(
        SONNET_45,
        vec![user(vec![document(Some("x"), vec!["y"]), text("?")])],
    );
    let e = run(&p, &req).error().error.clone();
    assert_eq!(e.kind, ErrorKind::InvalidRequest);
    assert!(e.message.contains("one way"), "{e}");
    assert_eq!(stream_bodies(&emu).len(), calls, "no call was made");
}

/// Issue #20: a `system` message between turns changes the tools on offer by reference
/// (`toolAddition`, `toolRemoval`, with an MCP server's name), without the tool list again;
/// a reference to an undeclared tool, or one outside a system message, is refused before any
/// call.
#[test]
fn a_system_message_adds_and_removes_tools_by_reference() {
    let emu = start_emulator();
    let p = provider_for(&emu);
    let reference = |name: &str, server: Option<&str>| host_sdk::ToolReference {
        name: name.into(),
        kind: None,
        server_name: server.map(str::to_string),
    };
    let system = |content| Message {
        role: Role::System,
        content,
    };
    let mut req = request(
        SONNET_45,
        vec![
            user(vec![text("What is the weather?")]),
            assistant(vec![text("Sunny.")]),
            system(vec![
                ContentBlock::ToolRemoval {
                    tool: reference("get_weather", None),
                },
                ContentBlock::ToolAddition {
                    tool: reference("get_quote", Some("markets")),
                },
            ]),
            user(vec![text("And the ACME share price?")]),
        ],
    );
    req.tools = vec![
        weather_tool(),
        Tool::new("get_quote", "A share price", json!({"type": "object"})),
    ];
    run(&p, &req).completion();
    let sent = only_body(&emu)["messages"][2].clone();
    assert_eq!(
        sent,
        json!({"role": "system", "content": [
            {"toolRemoval": {"tool": {"name": "get_weather"}}},
            {"toolAddition": {"tool": {"name": "get_quote", "serverName": "markets"}}}
        ]})
    );

    let calls = stream_bodies(&emu).len();
    let mut unknown = req.clone();
    unknown.tools.truncate(1);
    let e = run(&p, &unknown).error().error.clone();
    assert!(e.message.contains("not among the request's `tools`"), "{e}");
    let mut misplaced = req.clone();
    misplaced.messages[3]
        .content
        .push(ContentBlock::ToolAddition {
            tool: reference("get_quote", None),
        });
    let e = run(&p, &misplaced).error().error.clone();
    assert!(
        e.message.contains("go in a message of role `system`"),
        "{e}"
    );
    assert_eq!(stream_bodies(&emu).len(), calls, "refused before any call");
}

/// Issue #25: ConverseStream calls are written, signed and decoded by the plugin itself (the
/// AWS SDK's per-call machinery cost about 0.1 ms of CPU each); the service's request log
/// (CloudTrail's `userAgent`) names the plugin, and the emulator, as strict as Bedrock,
/// accepts the signature and the body, a document's included.
#[test]
fn converse_stream_calls_are_signed_by_the_plugin_and_name_it() {
    let emu = start_emulator();
    let p = provider_for(&emu);
    let document = ContentBlock::Document {
        format: "txt".into(),
        name: "notes".into(),
        data: b"some notes".to_vec(),
        citations: false,
        s3: None,
        text: None,
        content: Vec::new(),
        context: None,
    };
    for content in [vec![text("hello")], vec![text("hello"), document]] {
        let outcome = run(&p, &request(NOVA, vec![user(content)]));
        assert!(!outcome.completion().message.content.is_empty());
    }
    let calls = e2e_tests::recorded(&emu, "ConverseStream");
    assert_eq!(calls.len(), 2);
    for call in &calls {
        let agent = call.header("user-agent").unwrap_or_default();
        assert!(agent.starts_with("amazon-bedrock-plugin/"), "{agent}");
        assert!(call.auth.is_some(), "signed and accepted: {call:?}");
        assert_eq!(call.status, 200);
    }
}
