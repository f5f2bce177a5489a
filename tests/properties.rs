//! Issue #9: property tests. Thousands of generated and mutated configuration and request
//! documents go to the loaded plugin; none may abort the process or come back as an
//! `internal` error, every rejection is typed (`config` for documents, `invalid_request` for
//! requests), and a rejected request never reaches the server.

use std::sync::OnceLock;

use e2e_tests::{init, plugin, provider_with, start_emulator, stream_bodies, MODEL};
use emulator::RunningEmulator;
use host_sdk::{
    CacheConfig, CacheRetention, ContentBlock, ConverseRequest, ErrorKind, InferenceConfig,
    Message, Provider, ReasoningConfig, Role, SinkFlow, Tool, ToolChoice, ToolResultContent,
};
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use serde_json::Value;

/// A configuration document the plugin accepts, the seed of every mutation.
const BASE_CONFIG: &str = r#"{
  // The gateway's shape.
  models: {
    bedrockDiscovery: {
      enabled: true,
      region: "us-east-1",
      providerFilter: ["anthropic", "amazon"],
      refreshInterval: 3600,
      defaultContextWindow: 32000,
      defaultMaxTokens: 4096,
    },
    providers: {
      "amazon-bedrock": {
        baseUrl: "http://127.0.0.1:9",
        api: "bedrock-converse-stream",
        auth: "aws-sdk",
        models: [
          { id: "us.anthropic.claude-opus-4-6-v1:0", name: "Opus", reasoning: true,
            input: ["text", "image"], cost: { input: 15, output: 75 },
            contextWindow: 200000, maxTokens: 8192 },
        ],
        timeouts: { connectMs: 5000, firstByteMs: 60000, idleMs: 30000 },
        retry: { maxAttempts: 4, baseDelayMs: 500, maxDelayMs: 20000 },
      },
    },
  },
}"#;

/// Text edits: replace, insert or delete a run of characters at a position.
fn mutated_config() -> impl Strategy<Value = String> {
    let edit = (
        any::<prop::sample::Index>(),
        0usize..12,
        prop_oneof![
            Just(String::new()),
            "[{}\\[\\]:,\"'/*\\\\]{1,6}",
            "-?[0-9]{1,25}(\\.[0-9]+)?(e[0-9]{1,4})?",
            "\\PC{1,8}",
            "(true|false|null|NaN|Infinity)",
        ],
    );
    vec(edit, 1..6).prop_map(|edits| {
        let mut text: Vec<char> = BASE_CONFIG.chars().collect();
        for (at, remove, insert) in edits {
            let start = at.index(text.len() + 1).min(text.len());
            let end = (start + remove).min(text.len());
            text.splice(start..end, insert.chars());
        }
        text.into_iter().collect()
    })
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(5, 40, 5, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..5).prop_map(Value::Array),
            btree_map("[a-zA-Z_$]{0,8}", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("  \n\t".to_string()),
        "[a-zA-Z0-9 .,!?]{1,40}",
        "\\PC{1,40}",
    ]
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => "[a-zA-Z][a-zA-Z0-9_-]{0,20}",
        1 => "\\PC{0,70}",
        1 => Just(String::new())
    ]
}

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        vec(any::<u8>(), 0..48),
        // Real magic numbers with random tails: PNG, JPEG, GIF, WebP, PDF.
        (
            prop::sample::select(vec![
                &b"\x89PNG\r\n\x1a\n"[..],
                b"\xff\xd8\xff",
                b"GIF89a",
                b"RIFF\0\0\0\0WEBP",
                b"%PDF-1.7",
            ]),
            vec(any::<u8>(), 0..32)
        )
            .prop_map(|(magic, tail)| [magic, &tail].concat()),
    ]
}

fn format() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "png", "jpeg", "gif", "webp", "pdf", "csv", "doc", "docx", "xls", "xlsx", "html",
            "txt", "md", "bmp", "", "PNG"
        ])
        .prop_map(str::to_string),
        "\\PC{0,8}",
    ]
}

fn block() -> impl Strategy<Value = ContentBlock> {
    prop_oneof![
        4 => text().prop_map(|text| ContentBlock::Text { text }),
        1 => (proptest::option::of(format()), bytes())
            .prop_map(|(format, data)| ContentBlock::Image { format, data, s3: None }),
        1 => (format(), name(), bytes())
            .prop_map(|(format, name, data)| ContentBlock::Document {
                format,
                name,
                data,
                citations: false,
                s3: None,
                text: None,
                content: Vec::new(),
                context: None,
            }),
        1 => (name(), name(), json_value())
            .prop_map(|(id, name, input)| ContentBlock::ToolUse { id, name, input }),
        1 => (name(), vec(tool_result(), 0..3), any::<bool>()).prop_map(
            |(tool_use_id, content, is_error)| ContentBlock::ToolResult {
                tool_use_id,
                content,
                is_error
            }
        ),
        1 => (text(), proptest::option::of(name()))
            .prop_map(|(text, signature)| ContentBlock::Reasoning { text, signature }),
        1 => bytes().prop_map(|data| ContentBlock::RedactedReasoning { data }),
    ]
}

fn tool_result() -> impl Strategy<Value = ToolResultContent> {
    prop_oneof![
        text().prop_map(|text| ToolResultContent::Text { text }),
        json_value().prop_map(|value| ToolResultContent::Json { value }),
        (proptest::option::of(format()), bytes())
            .prop_map(|(format, data)| ToolResultContent::Image { format, data }),
    ]
}

fn message() -> impl Strategy<Value = Message> {
    (
        prop_oneof![Just(Role::User), Just(Role::Assistant)],
        vec(block(), 0..4),
    )
        .prop_map(|(role, content)| Message { role, content })
}

fn request() -> impl Strategy<Value = ConverseRequest> {
    let model = prop_oneof![
        4 => Just(MODEL.to_string()),
        1 => Just("anthropic.claude-sonnet-4-5-20250929-v1:0".to_string()),
        1 => Just("us.anthropic.claude-sonnet-4-5-20250929-v1:0".to_string()),
        1 => name(),
        1 => "a{2040,2060}",
    ];
    // Mostly in range, sometimes anything.
    let unit = || prop_oneof![4 => 0.0f32..=1.0, 1 => any::<f32>()];
    let inference = (
        proptest::option::of(prop_oneof![4 => 1u32..100_000, 1 => any::<u32>()]),
        proptest::option::of(unit()),
        proptest::option::of(unit()),
        vec(text(), 0..3),
    )
        .prop_map(
            |(max_tokens, temperature, top_p, stop_sequences)| InferenceConfig {
                max_tokens,
                temperature,
                top_p,
                stop_sequences,
            },
        );
    let tools = vec(
        (name(), text(), json_value()).prop_map(|(name, description, input_schema)| {
            Tool::new(name, description, input_schema)
        }),
        0..3,
    );
    let choice = proptest::option::of(prop_oneof![
        Just(ToolChoice::Auto),
        Just(ToolChoice::Any),
        Just(ToolChoice::None),
        name().prop_map(|name| ToolChoice::Tool { name }),
    ]);
    let reasoning = proptest::option::of(
        (
            proptest::option::of(any::<u32>()),
            proptest::option::of(name()),
        )
            .prop_map(|(budget_tokens, effort)| ReasoningConfig {
                budget_tokens,
                effort,
                ..ReasoningConfig::default()
            }),
    );
    let cache = proptest::option::of(
        prop_oneof![Just(CacheRetention::Short), Just(CacheRetention::Long)]
            .prop_map(|retention| CacheConfig { retention }),
    );
    (
        model,
        vec(text(), 0..3),
        // Mostly a conversation that starts as Bedrock wants, then anything.
        prop_oneof![
            3 => ("[a-zA-Z ]{1,30}", vec(message(), 0..3)).prop_map(|(first, rest)| {
                [vec![Message::user_text(first)], rest].concat()
            }),
            1 => vec(message(), 0..4),
        ],
        tools,
        choice,
        inference,
        reasoning,
        cache,
        proptest::option::of(json_value()),
        vec((name(), text()), 0..3),
    )
        .prop_map(
            |(
                model,
                system,
                messages,
                tools,
                tool_choice,
                inference,
                reasoning,
                cache,
                extra,
                metadata,
            )| {
                ConverseRequest {
                    model,
                    system,
                    messages,
                    tools,
                    tool_choice,
                    inference,
                    reasoning,
                    cache,
                    extra,
                    metadata,
                    ..ConverseRequest::default()
                }
            },
        )
}

fn cases(n: u32) -> ProptestConfig {
    ProptestConfig {
        cases: n,
        // Failures are reported with the case; no files are written next to the tests.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(cases(3000))]

    #[test]
    fn mutated_configurations_are_accepted_or_refused_as_config_errors(text in mutated_config()) {
        init();
        if let Err(e) = plugin().new_provider(&text) {
            prop_assert_eq!(&e.kind, &ErrorKind::Config, "{}", e);
            prop_assert!(!e.message.is_empty());
        }
    }
}

/// One emulator and provider for every generated request (cases run one after another).
fn target() -> &'static (RunningEmulator, Provider) {
    static TARGET: OnceLock<(RunningEmulator, Provider)> = OnceLock::new();
    TARGET.get_or_init(|| {
        init();
        let emu = start_emulator();
        let provider = provider_with(&emu, "retry: { maxAttempts: 1 },");
        (emu, provider)
    })
}

proptest! {
    #![proptest_config(cases(1500))]

    #[test]
    fn generated_requests_are_refused_before_the_network_or_answered(request in request()) {
        let (emu, provider) = target();
        let before = stream_bodies(emu).len();
        match provider.start(&request, |_| SinkFlow::Continue) {
            Err(e) => {
                prop_assert_eq!(&e.kind, &ErrorKind::InvalidRequest, "{}", e);
                prop_assert_eq!(stream_bodies(emu).len(), before, "a rejected request reached the server");
            }
            Ok(running) => {
                // The service may refuse it; the plugin must still classify it.
                if let Err(e) = running.wait() {
                    prop_assert_ne!(e.kind(), &ErrorKind::Internal, "{}", e);
                }
                prop_assert_eq!(stream_bodies(emu).len(), before + 1);
            }
        }
    }
}
