//! Issue #11, the demo host's side of request options: `chat` flags for the service tier,
//! latency, a guardrail and a schema, `--request FILE` (or `-`) sending a whole request
//! document, and `tokens count`. Against a real emulator the test controls (it defines the
//! guardrail, and its recorded requests show what reached the wire).

mod support;

use std::path::Path;

use emulator::{Emulator, EmulatorConfig, RunningEmulator};
use serde_json::{json, Value};
use support::{host_demo, run_host_demo, run_with_stdin, scratch, write_config, Run};

const GROUP: &str = "host-demo-requests";
const SONNET: &str = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";
const KEYS: [(&str, &str); 3] = [
    ("AWS_ACCESS_KEY_ID", emulator::DEFAULT_ACCESS_KEY_ID),
    ("AWS_SECRET_ACCESS_KEY", emulator::DEFAULT_SECRET_ACCESS_KEY),
    ("AWS_REGION", "us-east-1"),
];

fn setup(test: &str) -> (std::path::PathBuf, RunningEmulator) {
    let home = scratch(GROUP, test);
    let emu = Emulator::start_background(EmulatorConfig::default()).unwrap();
    write_config(&home, &emu.url(), "");
    (home, emu)
}

fn ok(home: &Path, args: &[&str]) -> Run {
    let ran = run_host_demo(home, &KEYS, args);
    assert_eq!(ran.status, 0, "host-demo {args:?}:\n{}", ran.all());
    ran
}

fn fails(home: &Path, args: &[&str]) -> Run {
    let ran = run_host_demo(home, &KEYS, args);
    assert_eq!(
        ran.status,
        1,
        "host-demo {args:?} should fail:\n{}",
        ran.all()
    );
    assert!(!ran.stderr.contains("panicked"), "{}", ran.stderr);
    ran
}

/// The body of the last ConverseStream request the emulator received.
fn last_body(emu: &RunningEmulator) -> Value {
    emu.requests()
        .into_iter()
        .rev()
        .find(|r| r.operation == "ConverseStream")
        .and_then(|r| r.body)
        .expect("a ConverseStream request")
}

#[test]
fn chat_flags_reach_the_wire() {
    let (home, emu) = setup("flags");
    let system = home.join("system.txt");
    std::fs::write(&system, "You are terse.\n").unwrap();
    ok(
        &home,
        &[
            "chat",
            "-m",
            SONNET,
            "--service-tier",
            "flex",
            "--latency",
            "optimized",
            "--temperature",
            "0.3",
            "--top-p",
            "0.9",
            "--stop",
            "END",
            "--stop",
            "STOP",
            "--max-tokens",
            "300",
            "--system-file",
            system.to_str().unwrap(),
            "hello",
        ],
    );
    let body = last_body(&emu);
    assert_eq!(body["serviceTier"], json!({"type": "flex"}));
    assert_eq!(body["performanceConfig"], json!({"latency": "optimized"}));
    let inference = &body["inferenceConfig"];
    assert_eq!(inference["maxTokens"], 300);
    assert_eq!(inference["stopSequences"], json!(["END", "STOP"]));
    // The SDK sends these as 32-bit floats.
    assert!(
        (inference["temperature"].as_f64().unwrap() - 0.3).abs() < 1e-6,
        "{inference}"
    );
    assert!(
        (inference["topP"].as_f64().unwrap() - 0.9).abs() < 1e-6,
        "{inference}"
    );
    assert_eq!(body["system"][0], json!({"text": "You are terse.\n"}));

    ok(
        &home,
        &["chat", "-m", SONNET, "--reasoning-budget", "2048", "think"],
    );
    assert_eq!(
        last_body(&emu)["additionalModelRequestFields"]["thinking"],
        json!({"type": "enabled", "budget_tokens": 2048})
    );
}

#[test]
fn a_guardrail_shows_its_assessment_and_the_stop_reason() {
    let (home, emu) = setup("guardrail");
    let (id, version) = emu.create_guardrail(&["dragons"], "I cannot discuss that.");
    let guardrail = format!("{id}:{version}");
    let ran = ok(
        &home,
        &[
            "chat",
            "-m",
            SONNET,
            "--guardrail",
            &guardrail,
            "tell me about dragons",
        ],
    );
    assert!(
        ran.stdout.contains("I cannot discuss that."),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stdout.contains("[guardrail: intervened]"),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stderr.contains("stop reason: guardrail_intervened"),
        "{}",
        ran.stderr
    );
    let sent = &last_body(&emu)["guardrailConfig"];
    assert_eq!(sent["guardrailIdentifier"], id.as_str());
    assert_eq!(sent["guardrailVersion"], version.as_str());
    assert_eq!(sent["trace"], "enabled");
    // --json prints the extension event as its own line.
    let ran = ok(
        &home,
        &[
            "chat",
            "--json",
            "-m",
            SONNET,
            "--guardrail",
            &guardrail,
            "tell me about dragons",
        ],
    );
    let extension = ran
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|e| e["type"] == "extension")
        .unwrap_or_else(|| panic!("no extension event in {}", ran.stdout));
    assert_eq!(extension["kind"], "guardrail");
    assert_eq!(extension["data"]["intervened"], true);

    let e = fails(
        &home,
        &["chat", "-m", SONNET, "--guardrail", "no-version", "hi"],
    );
    assert!(e.stderr.contains("ID:VERSION"), "{}", e.stderr);
}

#[test]
fn a_schema_constrains_the_answer_and_the_summary_says_it_matched() {
    let (home, _emu) = setup("schema");
    let schema = home.join("city.json");
    std::fs::write(
        &schema,
        r#"{"type":"object","properties":{"city":{"type":"string"},"population":{"type":"integer"}},"required":["city","population"],"additionalProperties":false}"#,
    )
    .unwrap();
    let ran = ok(
        &home,
        &[
            "chat",
            "-m",
            SONNET,
            "--schema",
            schema.to_str().unwrap(),
            "A city, please",
        ],
    );
    let answer = ran.stdout.lines().next().unwrap();
    let parsed: Value = serde_json::from_str(answer).unwrap_or_else(|e| panic!("{e}: {answer}"));
    assert!(parsed["population"].is_i64(), "{parsed}");
    // Piped, stdout is the JSON alone; the summary is on stderr.
    assert!(
        parsed.is_object() && ran.stdout.trim() == answer,
        "{}",
        ran.stdout
    );
    assert!(ran.stderr.contains("schema: matched"), "{}", ran.stderr);
}

#[test]
fn a_request_document_is_sent_as_is_from_a_file_or_stdin() {
    let (home, emu) = setup("request-file");
    let document = json!({
        "model": SONNET,
        "system": ["Answer in French."],
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "First question"}]},
            {"role": "assistant", "content": [{"type": "text", "text": "First answer"}]},
            {"role": "user", "content": [{"type": "text", "text": "Second question"}]}
        ],
        "serviceTier": "priority",
        "metadata": [["run", "doc-test"]],
        "providerOptions": {"amazon-bedrock": {"additionalModelResponseFieldPaths": ["/stop_sequence"]}}
    });
    let file = home.join("request.json");
    std::fs::write(&file, document.to_string()).unwrap();
    let ran = ok(&home, &["chat", "--request", file.to_str().unwrap()]);
    assert!(ran.stdout.contains("Second question"), "{}", ran.stdout);
    let body = last_body(&emu);
    assert_eq!(body["messages"].as_array().unwrap().len(), 3);
    assert_eq!(body["serviceTier"], json!({"type": "priority"}));
    assert_eq!(body["requestMetadata"], json!({"run": "doc-test"}));
    assert_eq!(
        body["additionalModelResponseFieldPaths"],
        json!(["/stop_sequence"])
    );

    // From stdin, with a prompt added as the last turn and a flag over the file's tier.
    let mut shorter = document.clone();
    shorter["messages"] = json!([]);
    let mut cmd = host_demo(&home, &KEYS);
    cmd.args([
        "chat",
        "--request",
        "-",
        "--service-tier",
        "flex",
        "Only question",
    ]);
    let ran = run_with_stdin(cmd, &shorter.to_string());
    assert_eq!(ran.status, 0, "{}", ran.all());
    let body = last_body(&emu);
    assert_eq!(body["messages"][0]["content"][0]["text"], "Only question");
    assert_eq!(body["serviceTier"], json!({"type": "flex"}));

    // A broken document names the file and the place.
    let broken = home.join("broken.json");
    std::fs::write(&broken, "{\n  \"model\": \"x\",\n  oops\n}").unwrap();
    let e = fails(&home, &["chat", "--request", broken.to_str().unwrap()]);
    assert!(
        e.stderr.contains("broken.json") && e.stderr.contains("line 3"),
        "{}",
        e.stderr
    );
    // A bad option is the plugin's clear error, before any call.
    let before = emu.requests().len();
    let e = fails(
        &home,
        &["chat", "-m", SONNET, "--service-tier", "gold", "hi"],
    );
    assert!(
        e.stderr.contains("priority, default, flex, reserved"),
        "{}",
        e.stderr
    );
    assert_eq!(emu.requests().len(), before);
}

#[test]
fn tokens_count_counts_what_the_model_would_be_charged() {
    let (home, emu) = setup("tokens");
    let ran = ok(
        &home,
        &[
            "tokens",
            "count",
            "--json",
            "-m",
            SONNET,
            "-s",
            "Be brief.",
            "How many tokens is this?",
        ],
    );
    let counted = ran.json();
    let tokens = counted["inputTokens"].as_u64().unwrap();
    assert!(tokens > 0, "{counted}");
    assert_eq!(counted["model"], SONNET);
    assert!(emu.requests().iter().any(|r| r.operation == "CountTokens"));
    let ran = ok(
        &home,
        &[
            "tokens",
            "count",
            "-m",
            SONNET,
            "-s",
            "Be brief.",
            "How many tokens is this?",
        ],
    );
    assert!(
        ran.stdout.starts_with(&format!("{tokens} input tokens")),
        "{}",
        ran.stdout
    );
    // A model that cannot count says so.
    let e = fails(
        &home,
        &["tokens", "count", "-m", "amazon.nova-micro-v1:0", "hi"],
    );
    assert!(e.stderr.contains("cannot count tokens"), "{}", e.stderr);
}

/// Issue #13: `-a FILE` attaches files, each as what its bytes say it is, before the prompt;
/// a model that cannot take one says so before any call.
#[test]
fn attachments_go_with_the_prompt_as_their_kind() {
    let (home, emu) = setup("attach");
    let png = home.join("dot.png");
    // A 1x1 PNG.
    std::fs::write(
        &png,
        [
            0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0,
            0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1f, 0x15, 0xc4, 0x89,
        ],
    )
    .unwrap();
    let notes = home.join("notes.md");
    std::fs::write(&notes, "# Notes\nThe launch is on Tuesday.\n").unwrap();
    ok(
        &home,
        &[
            "chat",
            "-m",
            SONNET,
            "-a",
            png.to_str().unwrap(),
            "-a",
            notes.to_str().unwrap(),
            "What is in these?",
        ],
    );
    let content = last_body(&emu)["messages"][0]["content"].clone();
    assert_eq!(content[0]["image"]["format"], "png");
    assert_eq!(content[1]["document"]["format"], "md");
    assert_eq!(content[1]["document"]["name"], "notes");
    assert_eq!(content[2]["text"], "What is in these?");

    let before = emu.requests().len();
    let e = fails(
        &home,
        &[
            "chat",
            "-m",
            "amazon.nova-micro-v1:0",
            "-a",
            png.to_str().unwrap(),
            "Describe",
        ],
    );
    assert!(
        e.stderr.contains("does not take image input"),
        "{}",
        e.stderr
    );
    assert_eq!(emu.requests().len(), before, "refused before any call");

    // Issue #20: a voice clip goes to a model that takes speech, as the audio its bytes are.
    let clip = home.join("clip.wav");
    let mut wav = b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00".to_vec();
    wav.extend([0x40, 0x1f, 0, 0, 0x80, 0x3e, 0, 0, 2, 0, 16, 0]);
    wav.extend(b"data\x00\x00\x00\x00");
    std::fs::write(&clip, &wav).unwrap();
    let voxtral = "mistral.voxtral-mini-3b-2507";
    let clip = clip.to_str().unwrap();
    ok(
        &home,
        &["chat", "-m", voxtral, "-a", clip, "Transcribe this"],
    );
    let content = last_body(&emu)["messages"][0]["content"].clone();
    assert_eq!(content[0]["audio"]["format"], "wav");
    assert_eq!(content[1]["text"], "Transcribe this");
    let before = emu.requests().len();
    let e = fails(&home, &["chat", "-m", SONNET, "-a", clip, "Transcribe"]);
    assert!(
        e.stderr.contains("does not take audio input"),
        "{}",
        e.stderr
    );
    assert_eq!(emu.requests().len(), before, "refused before any call");

    let binary = home.join("blob.bin");
    std::fs::write(&binary, [0u8, 159, 146, 150, 0, 1]).unwrap();
    let e = fails(
        &home,
        &[
            "chat",
            "-m",
            SONNET,
            "-a",
            binary.to_str().unwrap(),
            "What?",
        ],
    );
    assert!(
        e.stderr.contains("neither a known media type nor text"),
        "{}",
        e.stderr
    );
}

/// Issue #20: an image the model makes is saved as a file where `--image-dir` says, and the
/// user is told where.
#[test]
fn an_image_the_model_makes_is_saved_as_a_file() {
    let (home, _emu) = setup("image");
    let dir = home.join("images");
    std::fs::create_dir_all(&dir).unwrap();
    let png = b"\x89PNG\r\n\x1a\nnot really an image";
    let data = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(png)
    };
    let scenario = format!(
        r#"EMULATOR_SCENARIO {{"text":"Drawn.","image":{{"format":"png","data":"{data}"}}}}"#
    );
    let ran = ok(
        &home,
        &[
            "chat",
            "-m",
            SONNET,
            "--image-dir",
            dir.to_str().unwrap(),
            &scenario,
        ],
    );
    let saved: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().collect();
    assert_eq!(saved.len(), 1, "{}", ran.all());
    let path = saved[0].path();
    assert_eq!(path.extension().unwrap(), "png");
    assert_eq!(std::fs::read(&path).unwrap(), png);
    assert!(
        ran.stderr.contains("image saved:") || ran.stdout.contains("image saved:"),
        "{}",
        ran.all()
    );
}

/// Issue #13: conversations are kept by name and continued, as request documents on disk.
#[test]
fn conversations_are_saved_and_continued() {
    let (home, emu) = setup("conversation");
    let data = home.join("data");
    let data_dir = data.to_str().unwrap();
    let vars = [KEYS[0], KEYS[1], KEYS[2], ("HOST_DEMO_DATA_DIR", data_dir)];
    let chat = |args: &[&str]| {
        let ran = run_host_demo(&home, &vars, args);
        assert_eq!(ran.status, 0, "{args:?}: {}", ran.all());
        ran
    };
    chat(&[
        "chat",
        "-m",
        SONNET,
        "-s",
        "Be brief.",
        "-c",
        "trip",
        "My name is Ada.",
    ]);
    let saved: Value = serde_json::from_str(
        &std::fs::read_to_string(data.join("conversations/trip.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(saved["model"], SONNET);
    assert_eq!(saved["messages"].as_array().unwrap().len(), 2);
    // The same name sends the earlier turns first, with the saved model and system prompt.
    chat(&["chat", "-c", "trip", "What is my name?"]);
    let body = last_body(&emu);
    let texts: Vec<&str> = body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"][0]["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts.len(), 3, "{texts:?}");
    assert_eq!(texts[0], "My name is Ada.");
    assert_eq!(texts[2], "What is my name?");
    assert_eq!(body["system"][0]["text"], "Be brief.");
    // --continue takes the latest one.
    chat(&["chat", "--continue", "Thanks."]);
    assert_eq!(last_body(&emu)["messages"].as_array().unwrap().len(), 5);
    let e = run_host_demo(&home, &vars, &["chat", "-c", "../escape", "hi"]);
    assert_eq!(e.status, 1);
    assert!(e.stderr.contains("--conversation"), "{}", e.stderr);
}

/// Issue #13: the interactive chat's `/` commands and continued lines (driven through a pipe
/// with `-i`; on a terminal the same input gets line editing and history).
#[test]
fn interactive_commands_steer_the_session() {
    let (home, emu) = setup("repl");
    let notes = home.join("notes.md");
    std::fs::write(&notes, "Launch on Tuesday.\n").unwrap();
    let script = format!(
        "/system Be brief.\n/attach {}\nWhat does it say?\n/model us.anthropic.claude-haiku-4-5-20251001-v1:0\nLine one \\\nline two\n/frobnicate\n/clear\nAfter clear\n/exit\nnever sent\n",
        notes.display()
    );
    let mut cmd = host_demo(&home, &KEYS);
    cmd.args(["chat", "-i", "-m", SONNET]);
    let ran = run_with_stdin(cmd, &script);
    assert_eq!(ran.status, 0, "{}", ran.all());
    assert!(
        ran.stderr.contains("unknown command /frobnicate"),
        "{}",
        ran.stderr
    );
    let bodies: Vec<(String, Value)> = emu
        .requests()
        .into_iter()
        .filter(|r| r.operation == "ConverseStream")
        .map(|r| (r.path.clone(), r.body.unwrap()))
        .collect();
    assert_eq!(
        bodies.len(),
        3,
        "{:?}",
        bodies.iter().map(|b| &b.0).collect::<Vec<_>>()
    );
    let (first_path, first) = &bodies[0];
    assert!(first_path.contains("sonnet-4-5"), "{first_path}");
    assert_eq!(first["system"][0]["text"], "Be brief.");
    assert_eq!(
        first["messages"][0]["content"][0]["document"]["name"],
        "notes"
    );
    assert_eq!(
        first["messages"][0]["content"][1]["text"],
        "What does it say?"
    );
    let (second_path, second) = &bodies[1];
    assert!(second_path.contains("haiku-4-5"), "{second_path}");
    assert_eq!(second["messages"].as_array().unwrap().len(), 3);
    assert_eq!(
        second["messages"][2]["content"][0]["text"],
        "Line one \nline two"
    );
    let (_, third) = &bodies[2];
    assert_eq!(
        third["messages"].as_array().unwrap().len(),
        1,
        "/clear forgot the turns"
    );
    assert_eq!(third["messages"][0]["content"][0]["text"], "After clear");
}

/// Issue #13: a real tool loop: the model calls a tool from `--tools`, host-demo runs its
/// command with the input on stdin, sends what it printed back, and the model answers.
#[test]
fn a_tools_file_runs_a_real_tool_loop() {
    let (home, emu) = setup("tools");
    let tools = home.join("tools.json5");
    std::fs::write(
        &tools,
        r#"[{ name: "shout", description: "Upper-cases the input", inputSchema: { type: "object", properties: { text: { type: "string" } } }, command: ["sh", "-c", "tr a-z A-Z"] }]"#,
    )
    .unwrap();
    let call = r#"EMULATOR_SCENARIO {"toolCalls":[{"name":"shout","input":{"text":"hello"}}]}"#;
    let ran = ok(
        &home,
        &[
            "chat",
            "-m",
            SONNET,
            "--tools",
            tools.to_str().unwrap(),
            "--yes",
            call,
        ],
    );
    let bodies: Vec<Value> = emu
        .requests()
        .into_iter()
        .filter(|r| r.operation == "ConverseStream")
        .map(|r| r.body.unwrap())
        .collect();
    assert_eq!(bodies.len(), 2, "the call, then the answer to its result");
    assert_eq!(
        bodies[0]["toolConfig"]["tools"][0]["toolSpec"]["name"],
        "shout"
    );
    let result = &bodies[1]["messages"][2]["content"][0]["toolResult"];
    assert_eq!(result["status"], "success");
    assert_eq!(
        result["content"][0]["text"].as_str().unwrap().trim(),
        r#"{"TEXT":"HELLO"}"#
    );
    assert!(ran.stdout.contains("[tool call] shout"), "{}", ran.stdout);
    assert!(
        ran.stderr.contains("running sh -c tr a-z A-Z"),
        "{}",
        ran.stderr
    );

    // Without --yes and no terminal to ask on, nothing runs.
    let e = fails(
        &home,
        &[
            "chat",
            "-m",
            SONNET,
            "--tools",
            tools.to_str().unwrap(),
            call,
        ],
    );
    assert!(e.stderr.contains("pass --yes"), "{}", e.stderr);
}
