//! Issue #11: the request options a Bedrock user relies on, end to end through the real
//! plugin and the strict emulator: what reaches the wire, what the host sees (events,
//! extension events, the completion), and that bad options are refused before any call.

use e2e_tests::{
    b64, extensions, only_body, provider_for, recorded, run, scripted_request, start_emulator,
    stream_bodies,
};
use host_sdk::contract::extension_kinds;
use host_sdk::{
    CacheConfig, CacheRetention, ContentBlock, ConverseRequest, ErrorKind, Message, OutputFormat,
    Role, StopReason, Tool,
};
use serde_json::{json, Value};

const SONNET_45: &str = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";
const NOVA: &str = "amazon.nova-micro-v1:0";

fn request(model: &str, prompt: &str) -> ConverseRequest {
    ConverseRequest {
        cache: Some(CacheConfig {
            retention: CacheRetention::None,
        }),
        ..ConverseRequest::user_text(model, prompt)
    }
}

fn bedrock_options(options: Value) -> serde_json::Map<String, Value> {
    let mut map = serde_json::Map::new();
    map.insert("amazon-bedrock".into(), options);
    map
}

/// Runs `req` expecting it refused before the network: the error, and no call was made.
fn refused(req: &ConverseRequest) -> String {
    let emu = start_emulator();
    let p = provider_for(&emu);
    let outcome = run(&p, req);
    let error = outcome.error();
    assert_eq!(error.kind(), &ErrorKind::InvalidRequest, "{error}");
    assert!(
        stream_bodies(&emu).is_empty(),
        "a bad option must not reach the network: {error}"
    );
    error.error.message.clone()
}

#[test]
fn a_guardrail_assesses_guarded_text_stops_the_answer_and_its_trace_reaches_the_host() {
    let emu = start_emulator();
    let (id, version) = emu.create_guardrail(&["dragons"], "Sorry, I cannot talk about that.");
    let p = provider_for(&emu);
    let mut req = request(SONNET_45, "ignored: only guarded text is assessed");
    req.messages[0].content.push(ContentBlock::GuardedText {
        text: "Tell me about dragons".into(),
        qualifiers: vec!["query".into()],
    });
    // Issue #20: an image for the guardrail too (a 1x1 PNG).
    let png = vec![
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0,
        0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1f, 0x15, 0xc4, 0x89,
    ];
    req.messages[0].content.push(ContentBlock::GuardedImage {
        format: None,
        data: png.clone(),
    });
    req.system_blocks = vec![
        ContentBlock::Text {
            text: "Be brief.".into(),
        },
        ContentBlock::GuardedText {
            text: "Policy: stay on topic.".into(),
            qualifiers: vec!["guard_content".into()],
        },
    ];
    req.provider_options = bedrock_options(json!({"guardrailConfig": {
        "guardrailIdentifier": id, "guardrailVersion": version,
        "trace": "enabled", "streamProcessingMode": "sync"
    }}));
    let outcome = run(&p, &req);
    let completion = outcome.completion();

    let body = only_body(&emu);
    assert_eq!(
        body["guardrailConfig"],
        json!({"guardrailIdentifier": id, "guardrailVersion": version, "trace": "enabled", "streamProcessingMode": "sync"})
    );
    assert_eq!(
        body["system"],
        json!([{"text": "Be brief."}, {"guardContent": {"text": {"text": "Policy: stay on topic.", "qualifiers": ["guard_content"]}}}])
    );
    assert_eq!(
        body["messages"][0]["content"][1],
        json!({"guardContent": {"text": {"text": "Tell me about dragons", "qualifiers": ["query"]}}})
    );
    assert_eq!(
        body["messages"][0]["content"][2],
        json!({"guardContent": {"image": {"format": "png", "source": {"bytes": b64(&png)}}}})
    );

    assert_eq!(
        completion.stop_reason,
        Some(StopReason::GuardrailIntervened)
    );
    assert_eq!(
        completion.message.text(),
        "Sorry, I cannot talk about that."
    );
    let seen = extensions(&outcome.events);
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].kind, extension_kinds::GUARDRAIL);
    assert_eq!(seen[0].data["intervened"], true);
    let words = &seen[0].data["trace"]["inputAssessment"][&id]["wordPolicy"]["customWords"];
    assert_eq!(words[0]["match"], "dragons", "{}", seen[0].data);
    assert_eq!(words[0]["action"], "BLOCKED");
    // Which guardrail ran, and that the request is why.
    let applied = &seen[0].data["trace"]["inputAssessment"][&id]["appliedGuardrailDetails"];
    assert_eq!(applied["guardrailId"], id.as_str(), "{applied}");
    assert_eq!(applied["guardrailOrigin"], json!(["REQUEST"]));
    assert_eq!(applied["guardrailOwnership"], "SELF");
    let coverage =
        &seen[0].data["trace"]["inputAssessment"][&id]["invocationMetrics"]["guardrailCoverage"];
    assert_eq!(
        coverage["images"],
        json!({"guarded": 1, "total": 1}),
        "{coverage}"
    );
    assert!(applied["guardrailArn"]
        .as_str()
        .is_some_and(|arn| arn.ends_with(&format!(":guardrail/{id}"))));
    // The completion keeps it: a host that stores only the completion has the trace too.
    assert_eq!(completion.extensions.len(), 1);
    assert_eq!(&completion.extensions[0], seen[0]);
}

#[test]
fn service_tier_latency_metadata_response_paths_and_model_fields_reach_the_wire() {
    let emu = start_emulator();
    let p = provider_for(&emu);
    let mut req = request(SONNET_45, "hello");
    req.service_tier = Some("priority".into());
    req.metadata = vec![("team".into(), "search".into())];
    req.extra = Some(json!({"top_k": 5}));
    req.provider_options = bedrock_options(json!({
        "serviceTier": {"type": "priority"},
        "performanceConfig": {"latency": "optimized"},
        "requestMetadata": {"tenant": "acme"},
        "additionalModelResponseFieldPaths": ["/stop_sequence"],
        "additionalModelRequestFields": {"anthropic_beta": ["context-1m-2025-08-07"]}
    }));
    // Options for another provider are that provider's business.
    req.provider_options
        .insert("openai".into(), json!({"reasoningSummary": "auto"}));
    let outcome = run(&p, &req);
    let completion = outcome.completion();
    // What served the request comes back to the host, in the completion too.
    let served: Vec<_> = completion
        .extensions
        .iter()
        .filter(|e| e.kind == extension_kinds::SERVED)
        .collect();
    assert_eq!(served.len(), 1, "{:?}", completion.extensions);
    assert_eq!(
        served[0].data,
        json!({"serviceTier": "priority", "latency": "optimized"})
    );
    let body = only_body(&emu);
    assert_eq!(body["serviceTier"], json!({"type": "priority"}));
    assert_eq!(body["performanceConfig"], json!({"latency": "optimized"}));
    assert_eq!(
        body["requestMetadata"],
        json!({"team": "search", "tenant": "acme"})
    );
    assert_eq!(
        body["additionalModelResponseFieldPaths"],
        json!(["/stop_sequence"])
    );
    assert_eq!(
        body["additionalModelRequestFields"],
        json!({"top_k": 5, "anthropic_beta": ["context-1m-2025-08-07"]})
    );
}

#[test]
fn bad_options_are_refused_before_the_network_naming_what_to_fix() {
    let with = |options: Value| {
        let mut req = request(SONNET_45, "hello");
        req.provider_options = bedrock_options(options);
        req
    };
    let e = refused(&with(json!({"guardrailConfg": {}})));
    assert!(
        e.contains("guardrailConfg") && e.contains("did you mean `guardrailConfig`"),
        "{e}"
    );
    let e = refused(&with(
        json!({"guardrailConfig": {"guardrailIdentifier": "abc123", "guardrailVersion": "1", "trace": "full"}}),
    ));
    assert!(
        e.contains("trace") && e.contains("enabled, disabled, enabled_full"),
        "{e}"
    );
    let e = refused(&with(
        json!({"guardrailConfig": {"guardrailIdentifier": "abc123", "guardrailVersion": "v1"}}),
    ));
    assert!(e.contains("guardrailVersion") && e.contains("DRAFT"), "{e}");
    let e = refused(&with(json!({"guardrailConfig": {"guardrailVersion": "1"}})));
    assert!(e.contains("guardrailIdentifier"), "{e}");
    let e = refused(&with(json!({"performanceConfig": {"latency": "fast"}})));
    assert!(e.contains("standard, optimized"), "{e}");
    let e = refused(&with(json!({"promptVariables": {"topic": {"text": "x"}}})));
    assert!(
        e.contains("promptVariables") && e.contains("prompt's ARN"),
        "{e}"
    );
    let paths: Vec<String> = (0..11).map(|i| format!("/f{i}")).collect();
    let e = refused(&with(json!({"additionalModelResponseFieldPaths": paths})));
    assert!(e.contains("at most 10"), "{e}");
    let e = refused(&with(json!({"serviceTier": {"type": "gold"}})));
    assert!(e.contains("priority, default, flex, reserved"), "{e}");

    let mut both = with(json!({"serviceTier": {"type": "flex"}}));
    both.service_tier = Some("priority".into());
    assert!(refused(&both).contains("keep one"));
    let mut both = with(json!({"additionalModelRequestFields": {"top_k": 1}}));
    both.extra = Some(json!({"top_k": 2}));
    assert!(refused(&both).contains("top_k"));

    let mut bad_schema = request(SONNET_45, "hello");
    bad_schema.output_format = Some(OutputFormat::JsonSchema {
        schema: json!({"type": 12}),
        name: None,
        description: None,
    });
    let e = refused(&bad_schema);
    assert!(
        e.contains("outputFormat.schema is not a valid JSON Schema"),
        "{e}"
    );

    let mut newer = request(SONNET_45, "hello");
    newer.messages[0].content.push(
        serde_json::from_value::<Message>(
            json!({"role": "user", "content": [{"type": "hologram", "frames": 3}]}),
        )
        .unwrap()
        .content
        .remove(0),
    );
    let e = refused(&newer);
    assert!(
        e.contains("`hologram`") && e.contains("upgrade the plugin"),
        "{e}"
    );
}

fn person_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "name": {"type": "string", "minLength": 2},
            "age": {"type": "integer", "minimum": 18},
            "tags": {"type": "array", "items": {"enum": ["a", "b"]}}
        },
        "required": ["name", "age", "tags"],
        "additionalProperties": false
    })
}

#[test]
fn structured_output_sends_the_schema_and_the_completion_says_the_answer_matches() {
    let emu = start_emulator();
    let p = provider_for(&emu);
    let mut req = request(SONNET_45, "Describe a person");
    req.output_format = Some(OutputFormat::JsonSchema {
        schema: person_schema(),
        name: Some("person".into()),
        description: Some("A person".into()),
    });
    let completion = run(&p, &req).completion().clone();
    let body = only_body(&emu);
    let format = &body["outputConfig"]["textFormat"];
    assert_eq!(format["type"], "json_schema");
    assert_eq!(format["structure"]["jsonSchema"]["name"], "person");
    // Bedrock takes the schema as a string of JSON.
    let sent: Value = serde_json::from_str(
        format["structure"]["jsonSchema"]["schema"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(sent, person_schema());

    let check = completion
        .output_check
        .expect("a structured request is checked");
    assert!(check.valid, "{check:?}: {}", completion.message.text());
    let answer: Value = serde_json::from_str(&completion.message.text()).unwrap();
    assert!(answer["age"].as_i64().unwrap() >= 18, "{answer}");

    // An answer that does not match is reported, not hidden (the stream still succeeds).
    let mut off = scripted_request(
        SONNET_45,
        "Describe a person",
        json!({"text": "{\"name\": \"Al\"}"}),
    );
    off.output_format = req.output_format.clone();
    let completion = run(&p, &off).completion().clone();
    let check = completion.output_check.unwrap();
    assert!(!check.valid);
    assert!(check.problem.unwrap().contains("age"));
}

#[test]
fn strict_tools_reach_the_wire_and_models_without_structured_output_are_refused_by_the_service() {
    let emu = start_emulator();
    let p = provider_for(&emu);
    let mut req = request(SONNET_45, "Weather?");
    req.tools = vec![Tool {
        strict: true,
        ..Tool::new(
            "weather",
            "Weather for a city",
            json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"], "additionalProperties": false}),
        )
    }];
    run(&p, &req).completion();
    assert_eq!(
        only_body(&emu)["toolConfig"]["tools"][0]["toolSpec"]["strict"],
        true
    );

    // Nova micro has no structured output: Bedrock says so, and so does the error.
    req.model = NOVA.into();
    let outcome = run(&p, &req);
    let e = outcome.error();
    assert_eq!(e.kind(), &ErrorKind::Validation, "{e}");
    assert!(e.error.message.contains("strict tool use"), "{e}");
    let mut structured = request(NOVA, "hello");
    structured.output_format = Some(OutputFormat::JsonSchema {
        schema: person_schema(),
        name: None,
        description: None,
    });
    let outcome = run(&p, &structured);
    assert!(
        outcome.error().error.message.contains("structured outputs"),
        "{}",
        outcome.error()
    );
}

#[test]
fn count_tokens_counts_what_a_stream_of_the_same_request_is_charged() {
    let emu = start_emulator();
    let p = provider_for(&emu);
    let mut req = request(
        SONNET_45,
        "How many tokens is this question worth, roughly?",
    );
    req.system = vec!["You are a careful assistant.".into()];
    let counted = p.count_tokens(&req).expect("Claude counts tokens");
    let calls = recorded(&emu, "CountTokens");
    assert_eq!(calls.len(), 1);
    // Counted for the foundation model behind the profile.
    assert!(
        calls[0]
            .path
            .contains("anthropic.claude-sonnet-4-5-20250929-v1%3A0")
            && !calls[0].path.contains("us.anthropic"),
        "{}",
        calls[0].path
    );
    let charged = run(&p, &req).completion().usage.unwrap().input_tokens;
    assert!(counted > 0);
    assert_eq!(counted, charged);

    // A bad request is refused before the network; a model that cannot count says so.
    let mut bad = req.clone();
    bad.model = String::new();
    assert_eq!(
        p.count_tokens(&bad).unwrap_err().kind,
        ErrorKind::InvalidRequest
    );
    assert_eq!(
        recorded(&emu, "CountTokens").len(),
        1,
        "the bad request made no call"
    );
    let e = p.count_tokens(&request(NOVA, "hello")).unwrap_err();
    assert!(e.message.contains("counting tokens"), "{e}");

    // The async form gives the same count.
    let again = futures::executor::block_on(p.count_tokens_async(&req)).unwrap();
    assert_eq!(again, counted);
}

#[test]
fn guarded_text_alone_is_a_user_turn() {
    // Guarded text alone is a valid user turn.
    let emu = start_emulator();
    let p = provider_for(&emu);
    let req = ConverseRequest {
        model: SONNET_45.into(),
        messages: vec![Message {
            role: Role::User,
            content: vec![ContentBlock::GuardedText {
                text: "Only guarded".into(),
                qualifiers: vec![],
            }],
        }],
        ..ConverseRequest::default()
    };
    run(&p, &req).completion();
    assert_eq!(
        only_body(&emu)["messages"][0]["content"][0],
        json!({"guardContent": {"text": {"text": "Only guarded"}}})
    );
}

#[test]
fn response_fields_asked_for_by_path_reach_the_host() {
    let emu = start_emulator();
    let p = provider_for(&emu);
    let mut req = scripted_request(
        SONNET_45,
        "Count to ten",
        json!({"text": "1 2 3", "stopReason": "stop_sequence"}),
    );
    req.inference.stop_sequences = vec!["4".into()];
    req.provider_options =
        bedrock_options(json!({"additionalModelResponseFieldPaths": ["/stop_sequence"]}));
    let outcome = run(&p, &req);
    let seen = extensions(&outcome.events);
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].kind, extension_kinds::MODEL_RESPONSE_FIELDS);
    assert_eq!(seen[0].data, json!({"fields": {"stop_sequence": "4"}}));
    assert_eq!(outcome.completion().extensions[0].data, seen[0].data);
    assert_eq!(
        outcome.completion().stop_reason,
        Some(StopReason::StopSequence)
    );
}
