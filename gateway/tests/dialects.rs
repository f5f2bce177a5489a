//! Issue #19: the Responses and Messages dialects tried as an attacker and an overloaded
//! operator would, over raw HTTP: every model route checks the key before reading a body;
//! the door's refusals and the shed load come in each dialect's own shape and status; and a
//! stream in each dialect keeps the order its clients rely on. The official clients' view is
//! in the conformance tests (`openai_*`, `anthropic_*`) and the agents' in `agents.rs`.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{body_json, Gateway};
use serde_json::{json, Value};

const SONNET: &str = "amazon-bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0";

/// The data of each server-sent event of an answer, in order.
fn events(answer: &str) -> Vec<Value> {
    answer
        .lines()
        .filter_map(|line| line.strip_prefix("data: "))
        .filter_map(|data| serde_json::from_str(data).ok())
        .collect()
}

#[test]
fn every_model_route_checks_the_key_before_reading_a_body() {
    let gateway = Gateway::start(["--emulator", "--api-key", "sk-the-key"], &[]);
    for path in ["/v1/responses", "/v1/messages", "/v1/messages/count_tokens"] {
        let mut stream = TcpStream::connect(&gateway.address).unwrap();
        write!(
            stream,
            "POST {path} HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\ncontent-length: 20000000\r\n\r\n",
            gateway.address
        )
        .unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut answer = [0u8; 1024];
        let n = stream.read(&mut answer).expect("answered without the body");
        let answer = String::from_utf8_lossy(&answer[..n]);
        assert!(answer.starts_with("HTTP/1.1 401"), "{path}: {answer}");
        let shape = if path.starts_with("/v1/messages") {
            r#""type":"authentication_error""#
        } else {
            r#""code":"invalid_api_key""#
        };
        assert!(answer.contains(shape), "{path}: {answer}");
    }
}

#[test]
fn refusals_on_the_messages_routes_are_anthropic_errors() {
    let gateway = Gateway::start(["--emulator", "--max-body-bytes", "2000"], &[]);
    let cases = [
        ("POST", "/v1/messages", "{not json", "400", "invalid_request_error"),
        ("GET", "/v1/messages", "", "405", "invalid_request_error"),
        ("POST", "/v1/messages/batches", "{}", "404", "not_found_error"),
        (
            "POST",
            "/v1/messages",
            &json!({"model": SONNET, "max_tokens": 10, "messages": [{"role": "user", "content": "x".repeat(3000)}]}).to_string(),
            "413",
            "request_too_large",
        ),
        (
            "POST",
            "/v1/messages",
            &json!({"model": "no-such-model", "max_tokens": 10, "messages": [{"role": "user", "content": "x"}]}).to_string(),
            "404",
            "not_found_error",
        ),
    ];
    for (method, path, body, status, kind) in cases {
        let answer = gateway.fetch(method, path, body);
        assert!(
            answer.starts_with(&format!("HTTP/1.1 {status}")),
            "{answer}"
        );
        let error = body_json(&answer);
        assert_eq!(error["type"], "error", "{answer}");
        assert_eq!(error["error"]["type"], kind, "{answer}");
    }
}

/// Past capacity, a Messages client gets Anthropic's 529 `overloaded_error` (which its SDKs
/// retry) with `Retry-After`, at once; a Responses client OpenAI's 503.
#[test]
fn shed_load_is_each_dialects_overloaded_answer() {
    let gateway = Gateway::start(
        [
            "--emulator",
            "--max-in-flight",
            "1",
            "--queue-timeout",
            "20",
        ],
        &[],
    );
    let slow = format!(
        "EMULATOR_SCENARIO {}",
        json!({"text": "ab".repeat(10), "deltaSize": 2, "eventDelayMs": 100})
    );
    let holding = gateway.send(
        "POST",
        "/v1/messages",
        &json!({"model": SONNET, "max_tokens": 100, "messages": [{"role": "user", "content": slow}]})
            .to_string(),
    );
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    let messages = gateway.fetch(
        "POST",
        "/v1/messages",
        &json!({"model": SONNET, "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]})
            .to_string(),
    );
    let responses = gateway.fetch(
        "POST",
        "/v1/responses",
        &json!({"model": SONNET, "input": "hi"}).to_string(),
    );
    assert!(started.elapsed() < Duration::from_millis(800));
    assert!(messages.starts_with("HTTP/1.1 529"), "{messages}");
    assert!(messages.contains("retry-after: 1"), "{messages}");
    assert_eq!(body_json(&messages)["error"]["type"], "overloaded_error");
    assert!(responses.starts_with("HTTP/1.1 503"), "{responses}");
    drop(holding);
}

/// A Messages stream with thinking, text and a tool call: blocks numbered from 0 without
/// gaps, each started, given its deltas and stopped before the next starts, then
/// `message_delta` with the stop reason and the usage, then `message_stop`.
#[test]
fn a_messages_stream_keeps_anthropics_order() {
    let gateway = Gateway::start(["--emulator"], &[]);
    let prompt = format!(
        "EMULATOR_SCENARIO {}",
        json!({"reasoning": {"text": "Let me look.", "signature": "c2ln"}, "text": "Looking.",
            "toolCalls": [{"name": "lookup", "input": {"q": "rust"}, "fragmentSize": 3}]})
    );
    let answer = gateway.fetch(
        "POST",
        "/v1/messages",
        &json!({"model": SONNET, "max_tokens": 2000, "stream": true,
            "thinking": {"type": "enabled", "budget_tokens": 1024},
            "tools": [{"name": "lookup", "input_schema": {"type": "object"}}],
            "messages": [{"role": "user", "content": prompt}]})
        .to_string(),
    );
    let events = events(&answer);
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(kinds[..2], ["message_start", "ping"], "{answer}");
    assert_eq!(kinds[kinds.len() - 2..], ["message_delta", "message_stop"]);
    let mut open: Option<u64> = None;
    let mut started = Vec::new();
    for event in &events {
        let index = event["index"].as_u64();
        match event["type"].as_str() {
            Some("content_block_start") => {
                assert_eq!(open, None, "a block started inside another: {answer}");
                open = index;
                started.push(event["content_block"]["type"].as_str().unwrap().to_string());
                assert_eq!(index, Some(started.len() as u64 - 1), "{answer}");
            }
            Some("content_block_delta") => assert_eq!(index, open, "{answer}"),
            Some("content_block_stop") => {
                assert_eq!(index, open, "{answer}");
                open = None;
            }
            _ => {}
        }
    }
    assert_eq!(started, ["thinking", "text", "tool_use"]);
    let signature: String = events
        .iter()
        .filter_map(|e| e.pointer("/delta/signature").and_then(Value::as_str))
        .collect();
    assert_eq!(signature, "c2ln");
    let input: String = events
        .iter()
        .filter_map(|e| e.pointer("/delta/partial_json").and_then(Value::as_str))
        .collect();
    assert_eq!(
        serde_json::from_str::<Value>(&input).unwrap(),
        json!({"q": "rust"})
    );
    let delta = &events[events.len() - 2];
    assert_eq!(delta["delta"]["stop_reason"], "tool_use");
    assert!(
        delta["usage"]["output_tokens"].as_u64() > Some(0),
        "{delta}"
    );
}

/// In every dialect a streamed answer's first delta reaches the client when the model sends
/// it, not with the deltas after it: hyper writes the frames it holds whenever the stream has
/// nothing more ready, so a model that pauses between deltas is seen pausing.
#[test]
fn each_dialects_first_delta_arrives_before_the_next_is_produced() {
    let gateway = Gateway::start(["--emulator"], &[]);
    let prompt = format!(
        "EMULATOR_SCENARIO {}",
        json!({"text": "Hi".repeat(4), "deltaSize": 2, "eventDelayMs": 250})
    );
    let model = "amazon-bedrock/amazon.nova-micro-v1:0";
    let requests = [
        (
            "/v1/chat/completions",
            json!({"model": model, "stream": true, "messages": [{"role": "user", "content": prompt}]}),
        ),
        (
            "/v1/responses",
            json!({"model": model, "stream": true, "input": prompt}),
        ),
        (
            "/v1/messages",
            json!({"model": model, "max_tokens": 100, "stream": true,
                "messages": [{"role": "user", "content": prompt}]}),
        ),
    ];
    for (path, body) in requests {
        let mut connection = gateway.send("POST", path, &body.to_string());
        let mut answer = Vec::new();
        let mut chunk = [0u8; 4096];
        let mut first_delta = None;
        loop {
            let n = connection.read(&mut chunk).unwrap();
            if n == 0 {
                break;
            }
            answer.extend_from_slice(&chunk[..n]);
            if first_delta.is_none() && String::from_utf8_lossy(&answer).contains("\"Hi\"") {
                first_delta = Some(Instant::now());
            }
        }
        let answer = String::from_utf8_lossy(&answer);
        let first_delta = first_delta.unwrap_or_else(|| panic!("no delta: {answer}"));
        // Three more deltas follow, 250 ms apart.
        let ahead = first_delta.elapsed();
        assert!(
            ahead >= Duration::from_millis(500),
            "{path}: the first delta came only {ahead:?} before the end: {answer}"
        );
    }
}

/// A whole (not streamed) answer on `path` to an emulator scenario, offering `tools`, with
/// `options` added to the request.
fn whole_answer(
    gateway: &Gateway,
    path: &str,
    tools: &Value,
    scenario: Value,
    options: Value,
) -> Value {
    let prompt = format!("EMULATOR_SCENARIO {scenario}");
    let mut request = json!({"model": SONNET, "max_tokens": 2000, "tools": tools,
        "messages": [{"role": "user", "content": prompt}]});
    request
        .as_object_mut()
        .unwrap()
        .extend(options.as_object().unwrap().clone());
    body_json(&gateway.fetch("POST", path, &request.to_string()))
}

/// A whole Anthropic message as Anthropic's SDKs read it: a tool call with its input as an
/// object and `stop_reason: tool_use`; signed thinking before the text; `stop_sequence` present
/// and null; the four token counts.
#[test]
fn a_whole_anthropic_message_has_anthropics_shape() {
    let gateway = Gateway::start(["--emulator"], &[]);
    let tools = json!([{"name": "lookup", "input_schema": {"type": "object"}}]);
    let ask = |scenario, options| whole_answer(&gateway, "/v1/messages", &tools, scenario, options);
    let calls = ask(
        json!({"text": "", "toolCalls": [{"name": "lookup", "input": {"q": "rust"}}]}),
        json!({}),
    );
    assert_eq!(calls["type"], "message", "{calls}");
    assert_eq!(calls["role"], "assistant", "{calls}");
    assert_eq!(calls["model"], SONNET, "{calls}");
    assert_eq!(calls["stop_reason"], "tool_use", "{calls}");
    assert!(
        calls.get("stop_sequence").is_some_and(Value::is_null),
        "{calls}"
    );
    let call = calls["content"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["type"] == "tool_use")
        .unwrap_or_else(|| panic!("no tool_use block: {calls}"));
    assert_eq!(call["name"], "lookup", "{calls}");
    assert_eq!(call["input"], json!({"q": "rust"}), "{calls}");
    assert!(
        call["id"].as_str().is_some_and(|id| !id.is_empty()),
        "{calls}"
    );

    let reasoned = ask(
        json!({"reasoning": {"text": "Let me think.", "signature": "c2ln"}, "text": "Done."}),
        json!({"thinking": {"type": "enabled", "budget_tokens": 1024}}),
    );
    assert_eq!(
        reasoned["content"],
        json!([
            {"type": "thinking", "thinking": "Let me think.", "signature": "c2ln"},
            {"type": "text", "text": "Done."}
        ]),
        "{reasoned}"
    );
    assert_eq!(reasoned["stop_reason"], "end_turn", "{reasoned}");
    for count in [
        "input_tokens",
        "output_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
    ] {
        assert!(reasoned["usage"][count].is_u64(), "{count}: {reasoned}");
    }
    assert!(
        reasoned["usage"]["output_tokens"].as_u64() > Some(0),
        "{reasoned}"
    );
}

/// A whole Chat Completions answer has OpenAI's shape: an answer of tool calls alone has
/// `content: null` and each call's input as a JSON text; reasoning is `reasoning_content`;
/// the usage counts the prompt with its cached part.
#[test]
fn a_whole_chat_completion_has_openais_shape() {
    let gateway = Gateway::start(["--emulator"], &[]);
    let tools = json!([{"type": "function",
        "function": {"name": "lookup", "parameters": {"type": "object"}}}]);
    let ask = |scenario, options| {
        whole_answer(&gateway, "/v1/chat/completions", &tools, scenario, options)
    };
    let calls = ask(
        json!({"text": "", "toolCalls": [{"name": "lookup", "input": {"q": "rust"}}]}),
        json!({}),
    );
    assert_eq!(calls["object"], "chat.completion", "{calls}");
    let choice = &calls["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls", "{calls}");
    assert_eq!(choice["message"]["role"], "assistant");
    assert!(choice["message"]["content"].is_null(), "{calls}");
    let call = &choice["message"]["tool_calls"][0];
    assert_eq!(call["type"], "function", "{calls}");
    assert_eq!(call["function"]["name"], "lookup");
    let arguments: Value =
        serde_json::from_str(call["function"]["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(arguments, json!({"q": "rust"}));
    assert!(
        choice["message"].get("reasoning_content").is_none(),
        "{calls}"
    );

    let reasoned = ask(
        json!({"reasoning": {"text": "Let me think.", "signature": "c2ln"}, "text": "Done."}),
        json!({"reasoning_effort": "low"}),
    );
    let message = &reasoned["choices"][0]["message"];
    assert_eq!(message["content"], "Done.", "{reasoned}");
    assert_eq!(message["reasoning_content"], "Let me think.", "{reasoned}");
    assert!(message.get("tool_calls").is_none(), "{reasoned}");
    let usage = &reasoned["usage"];
    assert_eq!(
        usage["total_tokens"].as_u64(),
        Some(
            usage["prompt_tokens"].as_u64().unwrap() + usage["completion_tokens"].as_u64().unwrap()
        ),
        "{reasoned}"
    );
    assert!(
        usage["prompt_tokens_details"]["cached_tokens"].is_u64(),
        "{reasoned}"
    );
}

/// A Responses `response` object repeats what its request asked for (instructions, tools,
/// sampling, metadata, the tier), says the gateway keeps no state, and an answer cut by its
/// token limit is `incomplete` with why: whole, and as the streamed `response.incomplete`
/// after a `response.created` that repeats the request the same way.
#[test]
fn a_responses_object_repeats_its_request_and_says_why_it_stopped() {
    let gateway = Gateway::start(["--emulator"], &[]);
    let tool = json!({"type": "function", "name": "lookup",
        "parameters": {"type": "object", "properties": {}}});
    let request = json!({"model": SONNET, "instructions": "Be brief.",
        "input": r#"EMULATOR_SCENARIO {"text": "Cut sh", "stopReason": "max_tokens"}"#,
        "tools": [tool], "temperature": 0.3, "max_output_tokens": 64,
        "metadata": {"ticket": "T-1"}, "store": false});
    let repeats_the_request = |response: &Value| {
        assert_eq!(response["object"], "response", "{response}");
        assert_eq!(response["model"], SONNET, "{response}");
        assert_eq!(response["instructions"], "Be brief.", "{response}");
        assert_eq!(response["tools"], json!([tool]), "{response}");
        assert_eq!(response["tool_choice"], "auto", "{response}");
        assert_eq!(response["parallel_tool_calls"], true, "{response}");
        assert_eq!(response["temperature"], 0.3, "{response}");
        assert_eq!(response["max_output_tokens"], 64, "{response}");
        assert_eq!(response["metadata"], json!({"ticket": "T-1"}), "{response}");
        assert_eq!(response["text"]["format"]["type"], "text", "{response}");
        assert_eq!(response["store"], false, "{response}");
        assert!(response["previous_response_id"].is_null(), "{response}");
        assert_eq!(response["service_tier"], "auto", "{response}");
        assert!(response["error"].is_null(), "{response}");
    };

    let whole = body_json(&gateway.fetch("POST", "/v1/responses", &request.to_string()));
    repeats_the_request(&whole);
    assert_eq!(whole["status"], "incomplete", "{whole}");
    assert_eq!(
        whole["incomplete_details"],
        json!({"reason": "max_output_tokens"}),
        "{whole}"
    );
    assert_eq!(
        whole["output"][0]["content"][0]["text"], "Cut sh",
        "{whole}"
    );
    let usage = &whole["usage"];
    assert_eq!(
        usage["total_tokens"].as_u64(),
        Some(usage["input_tokens"].as_u64().unwrap() + usage["output_tokens"].as_u64().unwrap()),
        "{whole}"
    );

    let mut streamed = request.clone();
    streamed["stream"] = json!(true);
    let answer = gateway.fetch("POST", "/v1/responses", &streamed.to_string());
    let events = events(&answer);
    let created = &events[0];
    assert_eq!(created["type"], "response.created", "{answer}");
    assert_eq!(created["sequence_number"], 0, "{answer}");
    repeats_the_request(&created["response"]);
    assert_eq!(created["response"]["status"], "in_progress", "{answer}");
    assert_eq!(created["response"]["output"], json!([]), "{answer}");
    assert!(created["response"]["usage"].is_null(), "{answer}");
    let last = events.last().unwrap();
    assert_eq!(last["type"], "response.incomplete", "{answer}");
    assert_eq!(
        last["sequence_number"].as_u64(),
        Some(events.len() as u64 - 1),
        "{answer}"
    );
    repeats_the_request(&last["response"]);
    assert_eq!(
        last["response"]["incomplete_details"],
        json!({"reason": "max_output_tokens"}),
        "{answer}"
    );
    assert_eq!(
        last["response"]["output"][0]["content"][0]["text"], "Cut sh",
        "{answer}"
    );
    assert!(
        last["response"]["usage"]["output_tokens"].as_u64() > Some(0),
        "{answer}"
    );
}
