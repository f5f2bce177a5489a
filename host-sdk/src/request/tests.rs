use super::*;
use serde_json::Value;

#[test]
fn stop_reasons_round_trip_and_unknown_ones_are_kept() {
    assert_eq!(StopReason::parse("tool_use"), StopReason::ToolUse);
    assert_eq!(
        StopReason::parse("brand_new_reason"),
        StopReason::Other("brand_new_reason".into())
    );
    assert_eq!(
        StopReason::parse("brand_new_reason").as_str(),
        "brand_new_reason"
    );
}

/// A completion from a newer plugin, with a block type and a tool result part this
/// version does not know: it reads, the unknown parts are kept raw, and they are written
/// back unchanged (a host can replay them).
#[test]
fn unknown_block_types_are_kept_as_raw_json_both_ways() {
    let newer = serde_json::json!({
        "message": {"role": "assistant", "content": [
            {"type": "text", "text": "The answer"},
            {"type": "hologram", "frames": [1, 2], "nested": {"deep": true}},
            {"type": "toolResult", "toolUseId": "t1", "content": [
                {"type": "text", "text": "ok"},
                {"type": "audio", "uri": "s3://b/k"}
            ]}
        ]},
        "stopReason": "brand_new_reason",
        "someFieldFromTheFuture": 7
    });
    let completion: Completion = serde_json::from_value(newer.clone()).unwrap();
    let content = &completion.message.content;
    assert_eq!(
        content[0],
        ContentBlock::Text {
            text: "The answer".into()
        }
    );
    assert_eq!(content[1].type_name(), "hologram");
    assert_eq!(
        content[1],
        ContentBlock::Unknown(newer["message"]["content"][1].clone())
    );
    let ContentBlock::ToolResult { content: parts, .. } = &content[2] else {
        panic!("{content:?}")
    };
    assert_eq!(
        parts[1],
        ToolResultContent::Unknown(serde_json::json!({"type": "audio", "uri": "s3://b/k"}))
    );
    assert_eq!(
        completion.stop_reason,
        Some(StopReason::Other("brand_new_reason".into()))
    );
    let written = serde_json::to_value(&completion).unwrap();
    assert_eq!(written["message"], newer["message"]);
}

/// A block of a known type that is malformed is an error naming the block and the
/// problem, not an "unknown" block.
#[test]
fn a_malformed_known_block_is_an_error_that_names_it() {
    let bad = serde_json::json!({"role": "user", "content": [
        {"type": "text", "text": "fine"},
        {"type": "toolUse", "id": "t1"}
    ]});
    let e = serde_json::from_value::<Message>(bad)
        .unwrap_err()
        .to_string();
    assert!(e.contains("block 1 (toolUse) lacks `name`, `input`"), "{e}");
    let untyped = serde_json::json!({"role": "user", "content": [{"text": "no type"}]});
    let e = serde_json::from_value::<Message>(untyped)
        .unwrap_err()
        .to_string();
    assert!(e.contains("block 0 is not an object with a `type`"), "{e}");
}

/// Every variant's `type` name is in `KNOWN_TYPES`, so none is mistaken for unknown.
#[test]
fn known_types_list_every_variant() {
    let blocks = [
        ContentBlock::Text { text: "t".into() },
        ContentBlock::Image {
            format: None,
            data: vec![1],
            s3: None,
        },
        ContentBlock::Document {
            format: "txt".into(),
            name: "n".into(),
            data: vec![1],
            citations: false,
            s3: None,
            text: None,
            content: Vec::new(),
            context: None,
        },
        ContentBlock::ToolUse {
            id: "i".into(),
            name: "n".into(),
            input: Value::Null,
        },
        ContentBlock::ToolResult {
            tool_use_id: "i".into(),
            content: vec![],
            is_error: false,
        },
        ContentBlock::Reasoning {
            text: "r".into(),
            signature: None,
        },
        ContentBlock::RedactedReasoning { data: vec![1] },
        ContentBlock::GuardedText {
            text: "g".into(),
            qualifiers: vec![],
        },
        ContentBlock::ServerToolUse {
            id: "i".into(),
            name: "n".into(),
            input: Value::Null,
        },
        ContentBlock::CitedText {
            text: "t".into(),
            citations: vec![Value::Null],
        },
        ContentBlock::Video {
            format: "mp4".into(),
            data: vec![1],
            s3: None,
        },
        ContentBlock::SearchResult {
            source: "s".into(),
            title: "t".into(),
            content: vec!["c".into()],
            citations: true,
        },
        ContentBlock::ServerToolResult {
            tool_use_id: "i".into(),
            kind: "k".into(),
            is_error: false,
            content: vec![ToolResultContent::Json { value: Value::Null }],
        },
        ContentBlock::Audio {
            format: Some("wav".into()),
            data: vec![1],
            s3: None,
        },
        ContentBlock::GuardedImage {
            format: None,
            data: vec![1],
        },
        ContentBlock::ToolAddition {
            tool: crate::ToolReference {
                name: "t".into(),
                ..Default::default()
            },
        },
        ContentBlock::ToolRemoval {
            tool: crate::ToolReference {
                name: "t".into(),
                ..Default::default()
            },
        },
    ];
    assert_eq!(blocks.len(), ContentBlock::KNOWN_TYPES.len());
    for block in blocks {
        let json = serde_json::to_value(&block).unwrap();
        // Each required field really is: without it the block does not read.
        for field in <ContentBlock as FromRaw>::required(block.type_name()) {
            let mut lacking = json.clone();
            lacking.as_object_mut().unwrap().remove(*field);
            let message = serde_json::json!({"role": "user", "content": [lacking]});
            let e = serde_json::from_value::<Message>(message).unwrap_err();
            assert!(e.to_string().contains(field), "{field}: {e}");
        }
        assert_eq!(json["type"], block.type_name());
        assert!(ContentBlock::KNOWN_TYPES.contains(&block.type_name()));
        let back: Message =
            serde_json::from_value(serde_json::json!({"role": "user", "content": [json]})).unwrap();
        assert_eq!(back.content[0], block);
    }
    for part in [
        ToolResultContent::Text { text: "t".into() },
        ToolResultContent::Json { value: Value::Null },
        ToolResultContent::Image {
            format: None,
            data: vec![1],
        },
    ] {
        let json = serde_json::to_value(&part).unwrap();
        assert!(ToolResultContent::KNOWN_TYPES.contains(&json["type"].as_str().unwrap()));
    }
}

#[test]
fn request_json_is_camel_case_and_binary_is_base64() {
    let mut req = ConverseRequest::user_text("m", "hi");
    req.messages[0].content.push(ContentBlock::Image {
        format: None,
        data: vec![0xff, 0xd8, 0xff],
        s3: None,
    });
    let json = serde_json::to_value(&req).unwrap();
    assert_eq!(json["messages"][0]["content"][1]["data"], "/9j/");
    let back: ConverseRequest = serde_json::from_value(json).unwrap();
    assert_eq!(back, req);
}
