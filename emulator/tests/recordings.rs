//! Real ConverseStream bodies recorded from AWS (`tests/recordings/extracted`):
//! our frame reader must decode them exactly, and the emulator must be able to produce every
//! event shape they contain (apart from the documented features it does not emulate).

mod common;

use common::*;
use emulator::frames::{decode_all, exception_frame, Frame};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;

fn extracted_dir() -> PathBuf {
    let dir = recordings_dir().join("extracted");
    assert!(
        dir.is_dir(),
        "the recordings are missing: {}",
        dir.display()
    );
    dir
}

/// (path of the .bin, parsed .events.jsonl lines)
fn recordings() -> Vec<(PathBuf, Vec<Value>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(extracted_dir()).expect("readable dir") {
        let path = entry.expect("entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("bin") {
            continue;
        }
        let name = path.to_string_lossy();
        let jsonl = PathBuf::from(format!("{}.events.jsonl", name.trim_end_matches(".bin")));
        let text = std::fs::read_to_string(&jsonl)
            .unwrap_or_else(|e| panic!("{} has no events file: {e}", path.display()));
        let lines = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).expect("valid jsonl"))
            .collect();
        out.push((path, lines));
    }
    assert!(
        out.len() >= 20,
        "expected the 21 recorded bodies, found {}",
        out.len()
    );
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn decodes_every_recording_exactly() {
    for (path, expected) in recordings() {
        let bytes = std::fs::read(&path).expect("readable .bin");
        let frames = decode_all(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(frames.len(), expected.len(), "{}", path.display());
        for (i, (frame, line)) in frames.iter().zip(&expected).enumerate() {
            assert_eq!(
                frame.label(),
                line["event"].as_str().unwrap(),
                "{} #{i}",
                path.display()
            );
            assert_eq!(
                frame.json().unwrap(),
                line["payload"],
                "{} #{i}",
                path.display()
            );
            let names: Vec<&str> = frame.headers.iter().map(|(n, _)| n.as_str()).collect();
            let expected_order: &[&str] = if frame.message_type() == Some("exception") {
                &[":exception-type", ":content-type", ":message-type"]
            } else {
                &[":event-type", ":content-type", ":message-type"]
            };
            assert_eq!(names, expected_order, "{} #{i}", path.display());
        }
    }
}

fn key_paths(v: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(map) => {
            for (k, x) in map {
                let p = format!("{prefix}{k}");
                out.insert(p.clone());
                key_paths(x, &format!("{p}."), out);
            }
        }
        Value::Array(items) => {
            for x in items {
                key_paths(x, &format!("{prefix}[]."), out);
            }
        }
        _ => {}
    }
}

fn shape(frame: &Frame) -> (String, BTreeSet<String>) {
    let mut paths = BTreeSet::new();
    key_paths(&frame.json().expect("json payload"), "", &mut paths);
    (frame.label(), paths)
}

/// Features present in the recordings whose exact shape the emulator does not produce: the
/// recorded guardrail uses sensitive-information and contextual policies, the emulator's
/// guardrails block words (the `trace.guardrail` envelope is the same).
fn not_emulated(paths: &BTreeSet<String>) -> Option<&'static str> {
    let has = |p: &str| paths.iter().any(|x| x.starts_with(p));
    has("trace.guardrail").then_some("guardrail traces of other policies")
}

#[tokio::test]
async fn emulator_produces_every_recorded_shape() {
    let emu = start();
    let scenarios = [
        r#"{"text":"Hello there, friend.","deltaSize":4}"#,
        r#"{"text":""}"#,
        r#"{"reasoning":{"text":"Thinking hard.","signature":"EqQBCkYIBxgC"},"text":"Answer."}"#,
        r#"{"reasoning":{"text":"Nova style"},"text":"x"}"#,
        r#"{"redactedReasoning":["cmVkYWN0ZWQx","cmVkYWN0ZWQy"],"text":"Answer."}"#,
        r#"{"text":"Let me use the tool.","toolCalls":[{"name":"fetch_concept","input":{"concept":"distributed tracing"},"fragmentSize":8}]}"#,
        r#"{"toolCalls":[{"name":"get_temperature","input":{"city":"Paris"}}]}"#,
        r#"{"textLength":30,"usage":{"inputTokens":11,"outputTokens":236,"cacheReadInputTokens":0,"cacheWriteInputTokens":1028}}"#,
        r#"{"text":"abc","fault":{"kind":"exception","afterEvents":0,"exception":"serviceUnavailableException"}}"#,
    ];
    let path = "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream";
    let headers = vec![
        (
            "authorization".to_string(),
            format!("Bearer {}", emu.api_key()),
        ),
        ("content-type".to_string(), "application/json".to_string()),
    ];
    let mut produced: HashMap<String, Vec<BTreeSet<String>>> = HashMap::new();
    let mut emulator_frames = Vec::new();
    for s in scenarios {
        let body = serde_json::json!({"messages":[{"role":"user","content":[{"text": scenario_text(s)}]}]});
        let (status, _, bytes) =
            raw_http(&emu, "POST", path, &headers, body.to_string().as_bytes()).await;
        assert_eq!(status, 200, "{s}");
        let frames = decode_all(&bytes).expect("emulator frames decode");
        for f in &frames {
            let (label, paths) = shape(f);
            produced.entry(label).or_default().push(paths);
        }
        emulator_frames.extend(frames);
    }

    // Nova 2 running its code interpreter, then calling a client tool (the recorded shape).
    let code_interpreter = r#"{"serverToolCalls":[{"name":"nova_code_interpreter","input":{"snippet":"1234 * 5678"},"result":{"stdOut":"7006652","stdErr":"","exitCode":0,"isError":false}}],"toolCalls":[{"name":"final_result","input":{"result":7006652.0}}]}"#;
    let body = serde_json::json!({
        "messages": [{"role": "user", "content": [{"text": scenario_text(code_interpreter)}]}],
        "toolConfig": {"tools": [
            {"toolSpec": {"name": "final_result", "inputSchema": {"json": {"type": "object"}}}},
            {"systemTool": {"name": "nova_code_interpreter"}}
        ]}
    });
    let (status, _, bytes) = raw_http(
        &emu,
        "POST",
        "/model/us.amazon.nova-2-lite-v1%3A0/converse-stream",
        &headers,
        body.to_string().as_bytes(),
    )
    .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
    for f in decode_all(&bytes).expect("emulator frames decode") {
        let (label, paths) = shape(&f);
        produced.entry(label).or_default().push(paths);
        emulator_frames.push(f);
    }

    let mut missing = Vec::new();
    let mut skipped = BTreeSet::new();
    for (path, _) in recordings() {
        let frames = decode_all(&std::fs::read(&path).expect("bin")).expect("decodes");
        for f in &frames {
            let (label, paths) = shape(f);
            if let Some(reason) = not_emulated(&paths) {
                skipped.insert(reason);
                continue;
            }
            if !produced.get(&label).is_some_and(|all| all.contains(&paths)) {
                missing.push(format!("{label} {paths:?} (from {})", path.display()));
            }
        }
    }
    missing.sort();
    missing.dedup();
    assert!(
        missing.is_empty(),
        "shapes the emulator cannot produce:\n{}",
        missing.join("\n")
    );
    assert_eq!(
        skipped.len(),
        1,
        "the exclusion list should stay exact: {skipped:?}"
    );

    // Every event carries the padding field, and the header order matches the service's.
    for f in emulator_frames
        .iter()
        .filter(|f| f.message_type() == Some("event"))
    {
        let p = f.json().unwrap()["p"]
            .as_str()
            .map(str::to_string)
            .expect("padding");
        assert!("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".starts_with(&p));
        let names: Vec<&str> = f.headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, [":event-type", ":content-type", ":message-type"]);
    }
}

#[test]
fn exception_frame_is_byte_identical_to_the_recording() {
    let recorded = std::fs::read(
        extracted_dir().join("converse_stream_serviceUnavailableException.bin.0.bin"),
    )
    .expect("recording");
    let ours = exception_frame(
        "serviceUnavailableException",
        &serde_json::json!({"message": "Bedrock is unable to process your request."}),
    );
    assert_eq!(ours.as_ref(), recorded.as_slice());
}

#[test]
fn event_frames_round_trip_a_recorded_event_exactly() {
    // Re-encoding a recorded payload with our writer gives the recorded bytes back.
    let path = extracted_dir().join("bedrock_converse_stream.yaml.0.bin");
    let bytes = std::fs::read(path).expect("recording");
    let frames = decode_all(&bytes).expect("decodes");
    let mut rebuilt = Vec::new();
    for f in &frames {
        let event_type = f.header(":event-type").expect("event");
        rebuilt.extend_from_slice(&emulator::frames::event_frame(
            event_type,
            f.payload.clone(),
        ));
    }
    assert_eq!(rebuilt, bytes);
}

/// The recordings are genuine because both CRCs of every message check out; this proves the
/// reader really checks them, on the official cross-SDK vectors (aws-sdk-go's testdata).
#[test]
fn frame_reader_checks_both_crcs_on_the_official_vectors() {
    use base64::Engine;
    let vectors = recordings_dir().join("aws-sdk-go-eventstream-testdata");
    let base64 = base64::engine::general_purpose::STANDARD;
    let names = |kind: &str| -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(vectors.join("encoded").join(kind))
            .expect("vectors")
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };

    let positive = names("positive");
    assert_eq!(positive.len(), 5, "{positive:?}");
    for name in &positive {
        let encoded = std::fs::read(vectors.join("encoded/positive").join(name)).unwrap();
        let decoded: Value = serde_json::from_slice(
            &std::fs::read(vectors.join("decoded/positive").join(name)).unwrap(),
        )
        .unwrap();
        let frames = decode_all(&encoded).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(frames.len(), 1, "{name}");
        assert_eq!(encoded.len() as u64, decoded["total_length"], "{name}");
        let names: Vec<&str> = frames[0].headers.iter().map(|(n, _)| n.as_str()).collect();
        let expected: Vec<&str> = decoded["headers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, expected, "{name}");
        let payload = base64
            .decode(decoded["payload"].as_str().unwrap_or(""))
            .unwrap();
        assert_eq!(frames[0].payload.as_ref(), payload.as_slice(), "{name}");
    }

    let negative = names("negative");
    assert_eq!(negative.len(), 4, "{negative:?}");
    for name in &negative {
        let encoded = std::fs::read(vectors.join("encoded/negative").join(name)).unwrap();
        let why = std::fs::read_to_string(vectors.join("decoded/negative").join(name)).unwrap();
        let err = decode_all(&encoded).expect_err(name);
        assert!(why.contains("checksum mismatch"), "{name}: {why}");
        // A corrupted length field may already fail the framing before its CRC is read; a
        // corrupted header or payload can only be caught by a CRC.
        let message = err.message.to_lowercase();
        let caught_by_crc = message.contains("crc") || message.contains("checksum");
        assert!(
            caught_by_crc || (name.contains("len") && message.contains("length")),
            "{name}: expected a checksum failure ({why}), got {err}"
        );
    }
}
