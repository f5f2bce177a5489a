use super::*;
use aws_sdk_bedrockruntime::types::ImageFormat;
use host_sdk::{
    CacheRetention, ContentBlock, Message, ReasoningConfig, Role, Tool, ToolChoice,
    ToolResultContent,
};

const MODEL: &str = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";

fn req(messages: Vec<Message>) -> ConverseRequest {
    ConverseRequest {
        model: MODEL.into(),
        messages,
        ..Default::default()
    }
}

#[test]
fn consecutive_roles_merge_and_empty_turns_drop() {
    let p = prepare(
        &req(vec![
            Message::user_text("a"),
            Message::user_text("b"),
            Message::assistant_text("  "),
            Message::user_text("c"),
        ]),
        MODEL,
        ModelTable::built_in(),
    )
    .unwrap();
    assert_eq!(p.messages.len(), 1);
    // a, b, c and the cache point on the last user message.
    assert_eq!(p.messages[0].content().len(), 4);
}

#[test]
fn images_are_checked_from_bytes() {
    let mut r = req(vec![Message::user_text("look")]);
    r.messages[0].content.push(ContentBlock::Image {
        format: Some("png".into()),
        data: b"not an image".to_vec(),
        s3: None,
    });
    let e = prepare(&r, &r.model, ModelTable::built_in()).unwrap_err();
    assert!(
        e.message.contains("messages[0].content[1]"),
        "{}",
        e.message
    );
    assert_eq!(sniff_image(b"GIF89a...."), Some(ImageFormat::Gif));
    assert_eq!(
        sniff_image(b"RIFF\0\0\0\0WEBPVP8 "),
        Some(ImageFormat::Webp)
    );
}

#[test]
fn tool_ids_are_normalised() {
    assert_eq!(normalise_tool_id("call:1/x"), "call:1_x");
    assert_eq!(
        normalise_tool_id("functions.get_weather:0"),
        "functions.get_weather:0"
    );
    assert_eq!(normalise_tool_id(&"a".repeat(80)).len(), 64);
}

#[test]
fn budget_thinking_raises_max_tokens_and_drops_temperature() {
    let mut r = req(vec![Message::user_text("think")]);
    r.inference.max_tokens = Some(1000);
    r.inference.temperature = Some(0.2);
    r.reasoning = Some(ReasoningConfig {
        budget_tokens: Some(2048),
        effort: None,
        ..ReasoningConfig::default()
    });
    let p = prepare(&r, &r.model, ModelTable::built_in()).unwrap();
    let inf = p.inference.unwrap();
    assert!(inf.max_tokens().unwrap() > 2048);
    assert_eq!(inf.temperature(), None);
    let extra = p.additional_fields.unwrap();
    let thinking = extra.as_object().unwrap().get("thinking").unwrap();
    assert_eq!(
        thinking
            .as_object()
            .unwrap()
            .get("type")
            .unwrap()
            .as_string(),
        Some("enabled")
    );
}

#[test]
fn tool_choice_none_sends_no_tool_config() {
    let mut r = req(vec![Message::user_text("hi")]);
    r.tools = vec![Tool {
        name: "t".into(),
        description: String::new(),
        input_schema: serde_json::json!({"type": "object"}),
        ..Default::default()
    }];
    r.tool_choice = Some(ToolChoice::None);
    assert!(prepare(&r, &r.model, ModelTable::built_in())
        .unwrap()
        .tool_config
        .is_none());
}

#[test]
fn tool_history_without_tools_gets_a_tool_config() {
    let r = req(vec![
        Message::user_text("weather?"),
        Message {
            role: Role::Assistant,
            content: vec![ContentBlock::ToolUse {
                id: "t1".into(),
                name: "get_weather".into(),
                input: serde_json::json!({}),
            }],
        },
        Message {
            role: Role::User,
            content: vec![ContentBlock::ToolResult {
                tool_use_id: "t1".into(),
                content: vec![ToolResultContent::Text {
                    text: "sunny".into(),
                }],
                is_error: false,
            }],
        },
    ]);
    let p = prepare(&r, &r.model, ModelTable::built_in()).unwrap();
    let tc = p.tool_config.unwrap();
    assert_eq!(tc.tools()[0].as_tool_spec().unwrap().name(), "get_weather");
}

fn extra_json(p: &Prepared) -> Value {
    p.additional_fields
        .as_ref()
        .map(crate::document::from_document)
        .unwrap_or(Value::Null)
}

fn reasoning(budget: Option<u32>, effort: Option<&str>) -> Option<ReasoningConfig> {
    Some(ReasoningConfig {
        budget_tokens: budget,
        effort: effort.map(Into::into),
        ..ReasoningConfig::default()
    })
}

#[test]
fn adaptive_thinking_sends_effort_in_converses_own_output_config() {
    let mut r = req(vec![Message::user_text("think")]);
    r.model = "us.anthropic.claude-opus-4-6-v1".into();
    r.reasoning = reasoning(None, Some("medium"));
    r.inference.temperature = Some(0.5);
    let p = prepare(&r, &r.model, ModelTable::built_in()).unwrap();
    assert_eq!(
        extra_json(&p),
        serde_json::json!({"thinking": {"type": "adaptive"}})
    );
    let effort = |p: &Prepared| {
        p.options
            .output
            .as_ref()
            .and_then(|o| o.effort())
            .map(str::to_string)
    };
    assert_eq!(effort(&p).as_deref(), Some("medium"));
    let inf = p.inference.unwrap();
    assert_eq!(inf.max_tokens(), Some(ADAPTIVE_DEFAULT_MAX_TOKENS as i32));
    assert_eq!(inf.temperature(), None);

    // Opus 4.7 hides its reasoning unless asked for a summary.
    r.model = "us.anthropic.claude-opus-4-7".into();
    r.reasoning = reasoning(Some(2000), None);
    r.inference.max_tokens = Some(9000);
    let p = prepare(&r, &r.model, ModelTable::built_in()).unwrap();
    assert_eq!(
        extra_json(&p),
        serde_json::json!({"thinking": {"type": "adaptive", "display": "summarized"}})
    );
    assert_eq!(effort(&p).as_deref(), Some("low"));
    assert_eq!(p.inference.clone().unwrap().max_tokens(), Some(9000));

    // A host that wrote Anthropic's own `output_config` keeps it, and the effort goes there.
    r.provider_options.insert(
        "amazon-bedrock".into(),
        serde_json::json!({"additionalModelRequestFields": {"output_config": {"task_budget": 1}}}),
    );
    let p = prepare(&r, &r.model, ModelTable::built_in()).unwrap();
    assert_eq!(effort(&p), None);
    assert_eq!(
        extra_json(&p)["output_config"],
        serde_json::json!({"task_budget": 1, "effort": "low"})
    );
}

#[test]
fn effort_levels_are_checked() {
    let mut r = req(vec![Message::user_text("think")]);
    r.model = "anthropic.claude-sonnet-4-6".into();
    r.reasoning = reasoning(None, Some("extreme"));
    let e = prepare(&r, &r.model, ModelTable::built_in()).unwrap_err();
    assert_eq!(e.code.as_str(), "invalid_request");
    assert!(e.message.contains("reasoning.effort"), "{}", e.message);
}

#[test]
fn budget_from_effort_fits_the_model() {
    let mut r = req(vec![Message::user_text("think")]);
    r.model = "us.anthropic.claude-opus-4-1-20250805-v1:0".into();
    r.reasoning = reasoning(None, Some("max"));
    let p = prepare(&r, &r.model, ModelTable::built_in()).unwrap();
    let budget = extra_json(&p)["thinking"]["budget_tokens"]
        .as_u64()
        .unwrap();
    let max = p.inference.unwrap().max_tokens().unwrap() as u64;
    assert!(budget < max && max <= 32_000, "{budget} {max}");
}

#[test]
fn forced_tool_choice_with_thinking_is_refused_early() {
    let mut r = req(vec![Message::user_text("hi")]);
    r.tools = vec![Tool {
        name: "t".into(),
        description: String::new(),
        input_schema: serde_json::json!({"type": "object"}),
        ..Default::default()
    }];
    r.tool_choice = Some(ToolChoice::Any);
    r.reasoning = reasoning(Some(2048), None);
    let e = prepare(&r, &r.model, ModelTable::built_in()).unwrap_err();
    assert!(e.message.contains("toolChoice auto"), "{}", e.message);
}

#[test]
fn tool_results_come_first_in_their_turn() {
    let r = req(vec![
        Message::user_text("weather?"),
        Message {
            role: Role::Assistant,
            content: vec![ContentBlock::ToolUse {
                id: "t1".into(),
                name: "get_weather".into(),
                input: serde_json::json!({"city": "Paris"}),
            }],
        },
        Message::user_text("and hurry"),
        Message {
            role: Role::User,
            content: vec![ContentBlock::ToolResult {
                tool_use_id: "t1".into(),
                content: vec![ToolResultContent::Text {
                    text: "sunny".into(),
                }],
                is_error: false,
            }],
        },
    ]);
    let p = prepare(&r, &r.model, ModelTable::built_in()).unwrap();
    let last = p.messages.last().unwrap().content();
    assert!(last[0].is_tool_result());
    assert_eq!(last[1].as_text().unwrap(), "and hurry");
}

#[test]
fn nova_caches_system_and_messages_but_not_tools() {
    let mut r = req(vec![Message::user_text("hi")]);
    r.model = "us.amazon.nova-pro-v1:0".into();
    r.system = vec!["be brief".into()];
    r.tools = vec![Tool {
        name: "t".into(),
        description: String::new(),
        input_schema: serde_json::json!({"type": "object"}),
        ..Default::default()
    }];
    r.cache = Some(host_sdk::CacheConfig {
        retention: CacheRetention::Long,
    });
    let p = prepare(&r, &r.model, ModelTable::built_in()).unwrap();
    assert!(p.system.last().unwrap().is_cache_point());
    // Nova has no one-hour retention: the default is used.
    assert_eq!(
        p.system.last().unwrap().as_cache_point().unwrap().ttl(),
        None
    );
    assert!(!p
        .tool_config
        .unwrap()
        .tools()
        .iter()
        .any(|t| t.is_cache_point()));
    assert!(p.messages[0].content().last().unwrap().is_cache_point());
}

#[test]
fn long_tool_ids_stay_distinct() {
    let a = normalise_tool_id(&format!("{}a", "x".repeat(70)));
    let b = normalise_tool_id(&format!("{}b", "x".repeat(70)));
    assert_ne!(a, b);
    assert_eq!(a.len(), 64);
    assert!(a
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-')));
    assert_eq!(normalise_tool_id("tooluse_abc-1"), "tooluse_abc-1");
}
