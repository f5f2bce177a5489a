//! Issue #22: the gateway as a team's operator runs it: per-key rate limits and budgets
//! (in-process, and shared by two gateways through a real `redis-server`, which fails closed
//! while Redis is down and recovers when it returns), an alias's fallbacks, the admin
//! endpoint, and JSON access lines. `redis-server` comes from scripts/redis-env (scripts/test
//! runs it); each test starts its own on a free port.

mod common;

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{body_json, exchange, Gateway};
use serde_json::json;

const NOVA: &str = "amazon-bedrock/amazon.nova-micro-v1:0";
const LITE: &str = "amazon-bedrock/amazon.nova-lite-v1:0";

/// POSTs `body` to `path` with `key` (none: no key); the whole answer.
fn post(gateway: &Gateway, path: &str, key: Option<&str>, body: &serde_json::Value) -> String {
    let body = body.to_string();
    let auth = key.map_or(String::new(), |k| format!("authorization: Bearer {k}\r\n"));
    let head = format!(
        "POST {path} HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\n{auth}content-length: {}\r\nconnection: close\r\n\r\n",
        gateway.address,
        body.len()
    );
    exchange(&gateway.address, &head, body.as_bytes())
}

fn get(gateway: &Gateway, path: &str, key: &str) -> String {
    let head = format!(
        "GET {path} HTTP/1.1\r\nhost: {}\r\nauthorization: Bearer {key}\r\nconnection: close\r\n\r\n",
        gateway.address
    );
    exchange(&gateway.address, &head, b"")
}

/// A Chat Completions request to `model` with `key`; the whole answer.
fn chat_as(gateway: &Gateway, key: Option<&str>, model: &str, content: &str) -> String {
    post(gateway, "/v1/chat/completions", key, &chat(model, content))
}

fn chat(model: &str, content: &str) -> serde_json::Value {
    json!({"model": model, "messages": [{"role": "user", "content": content}]})
}

fn status(answer: &str) -> &str {
    answer.split(' ').nth(1).unwrap_or("")
}

fn header<'a>(answer: &'a str, name: &str) -> Option<&'a str> {
    answer.split("\r\n\r\n").next()?.lines().find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// A `redis-server` of this test's own, on a free port, keeping nothing on disk.
struct Redis {
    port: u16,
    child: Child,
}

impl Redis {
    fn start() -> Redis {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Redis::on(port)
    }

    fn on(port: u16) -> Redis {
        let server = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server runs (scripts/redis-env installs it; scripts/test runs that)");
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Redis {
            port,
            child: server,
        }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn emulator() -> emulator::RunningEmulator {
    emulator::Emulator::start_background(Default::default()).unwrap()
}

/// The JSON5 `keys` and `store` members of a team's gateway section.
fn team(store: Option<&str>) -> String {
    let store = store.map_or(String::new(), |url| format!("store: {url:?},"));
    format!(
        r#"keys: [
            {{ key: "sk-limited", name: "team-a", limits: {{ requestsPerMinute: 3 }} }},
            {{ key: "sk-tokens", name: "team-t", limits: {{ tokensPerMinute: 5 }} }},
            {{ key: "sk-budget", name: "team-b", budget: {{ usd: 0.000001, period: "day" }} }},
            {{ key: "sk-free", name: "free" }},
        ], {store}"#
    )
}

#[test]
fn a_key_past_its_request_limit_is_refused_with_when_to_come_back() {
    let emulator = emulator();
    let gateway = Gateway::in_front_of_configured(&emulator, "", &team(None), &[]);
    for _ in 0..3 {
        let answer = chat_as(&gateway, Some("sk-limited"), NOVA, "hi");
        assert_eq!(status(&answer), "200", "{answer}");
    }
    let refused = chat_as(&gateway, Some("sk-limited"), NOVA, "hi");
    assert_eq!(status(&refused), "429", "{refused}");
    assert_eq!(body_json(&refused)["error"]["code"], "rate_limit_exceeded");
    assert_eq!(header(&refused, "x-ratelimit-limit-requests"), Some("3"));
    assert_eq!(
        header(&refused, "x-ratelimit-remaining-requests"),
        Some("0")
    );
    let retry: u64 = header(&refused, "retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{refused}");
    // The same refusal in Anthropic's dialect is its rate_limit_error.
    let messages = post(
        &gateway,
        "/v1/messages",
        Some("sk-limited"),
        &json!({"model": NOVA, "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}),
    );
    assert_eq!(status(&messages), "429", "{messages}");
    assert_eq!(body_json(&messages)["error"]["type"], "rate_limit_error");
    // Other keys are not limited by it.
    let free = chat_as(&gateway, Some("sk-free"), NOVA, "hi");
    assert_eq!(status(&free), "200", "{free}");
}

#[test]
fn token_limits_and_budgets_count_what_answers_used() {
    let emulator = emulator();
    let gateway = Gateway::in_front_of_configured(
        &emulator,
        "",
        &team(None),
        &["--admin-key-file", &admin_key_file()],
    );
    // One answer uses more than the 5 tokens a minute; the next is refused.
    let first = chat_as(&gateway, Some("sk-tokens"), NOVA, "hello there");
    assert_eq!(status(&first), "200", "{first}");
    let refused = wait_for_status(|| chat_as(&gateway, Some("sk-tokens"), NOVA, "hi"), "429");
    assert_eq!(body_json(&refused)["error"]["type"], "tokens", "{refused}");
    assert_eq!(header(&refused, "x-ratelimit-limit-tokens"), Some("5"));
    // The budget: one answer spends more than a millionth of a dollar.
    let spent = chat_as(&gateway, Some("sk-budget"), NOVA, "hello there");
    assert_eq!(status(&spent), "200", "{spent}");
    let broke = wait_for_status(|| chat_as(&gateway, Some("sk-budget"), NOVA, "hi"), "429");
    let error = &body_json(&broke)["error"];
    assert_eq!(error["type"], "insufficient_quota", "{broke}");
    assert!(
        error["message"].as_str().unwrap().contains("team-b"),
        "{broke}"
    );
    assert!(!broke.contains("sk-budget"), "the key never shows: {broke}");
    // The admin endpoint lists keys by name with what they used, never the keys.
    let admin = get(&gateway, "/admin/keys", "sk-admin");
    assert_eq!(status(&admin), "200", "{admin}");
    assert!(
        !admin.contains("sk-budget") && !admin.contains("sk-tokens"),
        "{admin}"
    );
    let keys = body_json(&admin)["keys"].as_array().unwrap().clone();
    let budget = keys.iter().find(|k| k["id"] == "team-b").unwrap();
    assert!(
        budget["usage"]["spend_usd_this_period"].as_f64() > Some(0.000001),
        "{admin}"
    );
    assert_eq!(budget["budget"]["period"], "day");
    let tokens = keys.iter().find(|k| k["id"] == "team-t").unwrap();
    assert!(
        tokens["usage"]["tokens_this_minute"].as_u64() > Some(5),
        "{admin}"
    );
    assert_eq!(status(&get(&gateway, "/admin/keys", "sk-free")), "401");
    // Spend per key in the metrics.
    let metrics = get(&gateway, "/metrics", "sk-free");
    assert!(
        metrics.contains("gateway_spend_usd_total{key=\"team-b\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains("gateway_rate_limited_total{limit=\"budget\"}"),
        "{metrics}"
    );
}

/// Issue #21: embeddings count against a key's limits and budget as chat does: the same
/// gate, the tokens Bedrock counted, the price of the embedding model.
#[test]
fn embeddings_count_against_the_same_limits_and_budget() {
    let emulator = emulator();
    let gateway = Gateway::in_front_of_configured(&emulator, "", &team(None), &[]);
    let embed = |key: &str| {
        post(
            &gateway,
            "/v1/embeddings",
            Some(key),
            &json!({"model": "amazon.titan-embed-text-v2:0", "input": ["some words to embed"]}),
        )
    };
    for _ in 0..3 {
        let answer = embed("sk-limited");
        assert_eq!(status(&answer), "200", "{answer}");
        assert_eq!(
            body_json(&answer)["data"][0]["embedding"]
                .as_array()
                .map(Vec::len),
            Some(1024)
        );
    }
    let refused = embed("sk-limited");
    assert_eq!(status(&refused), "429", "{refused}");
    assert_eq!(header(&refused, "x-ratelimit-limit-requests"), Some("3"));
    // 5 tokens a minute: one batch of more is the last.
    assert_eq!(status(&embed("sk-tokens")), "200");
    let over = wait_for_status(|| embed("sk-tokens"), "429");
    assert_eq!(body_json(&over)["error"]["type"], "tokens", "{over}");
}

/// Charges are written after the answer, off its path: the refusal comes within a moment.
fn wait_for_status(mut ask: impl FnMut() -> String, wanted: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let answer = ask();
        if status(&answer) == wanted || Instant::now() > deadline {
            assert_eq!(status(&answer), wanted, "{answer}");
            return answer;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn admin_key_file() -> String {
    let file = std::env::temp_dir().join(format!("gateway-admin-key-{}", std::process::id()));
    std::fs::write(&file, "sk-admin\n").unwrap();
    file.display().to_string()
}

#[test]
fn two_gateways_share_one_limit_through_redis_and_fail_closed_while_it_is_down() {
    let emulator = emulator();
    let redis = Redis::start();
    let section = team(Some(&redis.url()));
    let one = Gateway::in_front_of_configured(&emulator, "", &section, &[]);
    let two = Gateway::in_front_of_configured(&emulator, "", &section, &[]);
    // Three requests a minute for team-a, across both gateways.
    for gateway in [&one, &two, &one] {
        let answer = chat_as(gateway, Some("sk-limited"), NOVA, "hi");
        assert_eq!(status(&answer), "200", "{answer}");
    }
    let refused = chat_as(&two, Some("sk-limited"), NOVA, "hi");
    assert_eq!(
        status(&refused),
        "429",
        "the fourth, on the other gateway: {refused}"
    );
    // Redis goes away: a counted key is refused with a clear 503, an uncounted one is served.
    let port = redis.port;
    drop(redis);
    let down = chat_as(&one, Some("sk-budget"), NOVA, "hi");
    assert_eq!(status(&down), "503", "{down}");
    assert_eq!(
        body_json(&down)["error"]["code"],
        "store_unavailable",
        "{down}"
    );
    let free = chat_as(&one, Some("sk-free"), NOVA, "hi");
    assert_eq!(status(&free), "200", "{free}");
    // Redis returns (empty: a new process): the gateways count again.
    let _back = Redis::on(port);
    let recovered = wait_for_status(|| chat_as(&two, Some("sk-budget"), NOVA, "hi"), "200");
    assert_eq!(status(&recovered), "200");
}

/// Two busy gateways admit most requests of a key on slots they reserved in Redis (no
/// round trip on the request's path), and together still exactly the key's limit.
#[test]
fn two_busy_gateways_reserve_slots_and_together_admit_exactly_the_limit() {
    const LIMIT: usize = 150;
    let emulator = emulator();
    let redis = Redis::start();
    let section = format!(
        r#"keys: [
             {{ key: "sk-busy", name: "busy", limits: {{ requestsPerMinute: {LIMIT} }} }},
             {{ key: "sk-roomy", name: "roomy", limits: {{ requestsPerMinute: 100000 }} }},
           ],
           store: {:?},"#,
        redis.url()
    );
    let one = Gateway::in_front_of_configured(&emulator, "", &section, &[]);
    let two = Gateway::in_front_of_configured(&emulator, "", &section, &[]);
    // Eight clients at once, each alternating between the gateways: 240 requests; their
    // statuses.
    let burst = |key: &str| -> Vec<String> {
        std::thread::scope(|scope| {
            let clients: Vec<_> = (0..8)
                .map(|_| {
                    scope.spawn(|| {
                        (0..30)
                            .map(|i| {
                                let gateway = if i % 2 == 0 { &one } else { &two };
                                status(&chat_as(gateway, Some(key), NOVA, "hi")).to_string()
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            clients
                .into_iter()
                .flat_map(|client| client.join().unwrap())
                .collect()
        })
    };
    let on_slots = || -> usize {
        [&one, &two]
            .iter()
            .map(|gateway| {
                get(gateway, "/metrics", "sk-roomy")
                    .lines()
                    .find_map(|line| line.strip_prefix(r#"gateway_admissions_total{by="slot"} "#))
                    .map_or(0, |n| n.trim().parse().unwrap())
            })
            .sum()
    };
    // Far from its limit, most of a busy key's requests need no round trip.
    let roomy = burst("sk-roomy");
    assert!(roomy.iter().all(|s| s == "200"), "{roomy:?}");
    let roomy_on_slots = on_slots();
    assert!(
        roomy_on_slots >= 240 / 2,
        "most admissions should need no round trip: {roomy_on_slots} of 240"
    );
    // The limit is per minute of the clock: the limited burst within one.
    let into_minute = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        % 60;
    if into_minute > 40 {
        std::thread::sleep(Duration::from_secs(61 - into_minute));
    }
    let statuses = burst("sk-busy");
    let served = statuses.iter().filter(|s| *s == "200").count();
    let refused = statuses.iter().filter(|s| *s == "429").count();
    assert_eq!(served + refused, 240, "{statuses:?}");
    assert!(served <= LIMIT, "{served} served past the limit of {LIMIT}");
    // Slots a gateway still held when the others were refused are all it may leave unused.
    assert!(served >= LIMIT - 16, "only {served} of {LIMIT} served");
    assert!(
        on_slots() > roomy_on_slots,
        "the limited key used slots too"
    );
}

/// An alias's next model answers when the one before is throttled before its first output;
/// the answer names the model that served it; a client error is never retried elsewhere.
#[test]
fn an_alias_falls_back_when_its_model_is_throttled() {
    let emulator = emulator();
    let gateway = Gateway::in_front_of_configured(
        &emulator,
        "retry: { maxAttempts: 1 },",
        &format!("aliases: {{ fast: [{NOVA:?}, {LITE:?}] }},"),
        &[],
    );
    let throttled_once = format!(
        "EMULATOR_SCENARIO {}",
        json!({"throttleFirst": 1, "text": "served"})
    );
    let answer = chat_as(&gateway, None, "fast", &throttled_once);
    assert_eq!(status(&answer), "200", "{answer}");
    assert_eq!(header(&answer, "x-gateway-model"), Some(LITE), "{answer}");
    assert_eq!(
        body_json(&answer)["choices"][0]["message"]["content"],
        "served"
    );
    let plain = chat_as(&gateway, None, "fast", "hi");
    assert_eq!(header(&plain, "x-gateway-model"), Some(NOVA), "{plain}");
    // A request the provider refuses as invalid goes to no other model.
    let invalid = format!(
        "EMULATOR_SCENARIO {}",
        json!({"error": {"type": "ValidationException", "status": 400}})
    );
    let refused = chat_as(&gateway, None, "fast", &invalid);
    assert_eq!(status(&refused), "400", "{refused}");
    let metrics = gateway.fetch("GET", "/metrics", "");
    assert!(metrics.contains("gateway_fallbacks_total 1"), "{metrics}");
}

/// Access lines are JSON, one per request: the key's name (never the key), the model asked
/// and the one that served, the service tier that served it, status, tokens (reasoning
/// tokens among them when counted), cost, latency and time to the first output.
#[test]
fn access_lines_are_json_with_what_each_request_cost() {
    let log = std::env::temp_dir().join(format!("gateway-access-{}.log", std::process::id()));
    let gateway = Gateway::start_logging_to(
        ["--emulator", "--api-key", "sk-cli", "--log-format", "json"],
        &[],
        Stdio::from(std::fs::File::create(&log).unwrap()),
    );
    let answer = chat_as(&gateway, Some("sk-cli"), NOVA, "hello there");
    assert_eq!(status(&answer), "200", "{answer}");
    let refused = chat_as(&gateway, Some("sk-wrong"), NOVA, "hi");
    assert_eq!(status(&refused), "401");
    // Served at another tier than asked; and a model that counts its reasoning tokens.
    let mut flex = chat(NOVA, r#"EMULATOR_SCENARIO {"servedTier": "default"}"#);
    flex["service_tier"] = json!("flex");
    let flex = post(&gateway, "/v1/chat/completions", Some("sk-cli"), &flex);
    assert_eq!(status(&flex), "200", "{flex}");
    let mut reasoned = chat("amazon-bedrock/openai.gpt-5.5", "think first");
    reasoned["reasoning_effort"] = json!("low");
    let reasoned = post(&gateway, "/v1/chat/completions", Some("sk-cli"), &reasoned);
    assert_eq!(status(&reasoned), "200", "{reasoned}");
    drop(gateway);
    let text = std::fs::read_to_string(&log).unwrap();
    let _ = std::fs::remove_file(&log);
    assert!(
        !text.contains("sk-cli") && !text.contains("sk-wrong"),
        "{text}"
    );
    let lines: Vec<serde_json::Value> = text
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .filter(|line: &serde_json::Value| line["target"] == "gateway::access")
        .collect();
    assert_eq!(lines.len(), 4, "{text}");
    let served = &lines[0];
    assert_eq!(served["status"], 200, "{served}");
    assert!(
        served["key"].as_str().unwrap().starts_with("key-"),
        "{served}"
    );
    assert_eq!(served["model"], NOVA);
    assert_eq!(served["served_model"], NOVA);
    assert!(served["output_tokens"].as_u64() > Some(0), "{served}");
    assert!(served["cost_usd"].as_f64() > Some(0.0), "{served}");
    assert!(served["first_output_ms"].as_f64() > Some(0.0), "{served}");
    assert_eq!(lines[1]["status"], 401, "{}", lines[1]);
    assert_eq!(lines[2]["service_tier"], "default", "{}", lines[2]);
    assert!(
        lines[0].get("service_tier").is_none(),
        "no tier asked, none said: {served}"
    );
    assert!(
        lines[3]["reasoning_tokens"].as_u64() > Some(0),
        "{}",
        lines[3]
    );
}

#[path = "../src/bin/support/otlp_sink.rs"]
mod otlp_sink;

/// An OTLP/HTTP collector of this test's own: it keeps the JSON bodies of what it receives.
struct Collector {
    url: String,
    received: otlp_sink::Received,
}

impl Collector {
    fn start() -> Collector {
        let received = otlp_sink::Received::default();
        let url = otlp_sink::start(Some(received.clone())).expect("the collector listens");
        Collector { url, received }
    }

    /// The spans received so far: (name, attributes by key as JSON values).
    fn spans(&self) -> Vec<(String, serde_json::Map<String, serde_json::Value>)> {
        let mut spans = Vec::new();
        for body in self.received.lock().unwrap().iter() {
            let Ok(document) = serde_json::from_str::<serde_json::Value>(body) else {
                continue;
            };
            let all = document["resourceSpans"].as_array().into_iter().flatten();
            for scope in all.flat_map(|r| r["scopeSpans"].as_array().into_iter().flatten()) {
                for span in scope["spans"].as_array().into_iter().flatten() {
                    let mut attributes = serde_json::Map::new();
                    for attribute in span["attributes"].as_array().into_iter().flatten() {
                        let value = attribute["value"]
                            .as_object()
                            .and_then(|v| v.values().next().cloned());
                        attributes.insert(
                            attribute["key"].as_str().unwrap_or("").to_string(),
                            value.unwrap_or_default(),
                        );
                    }
                    spans.push((span["name"].as_str().unwrap_or("").to_string(), attributes));
                }
            }
        }
        spans
    }
}

/// A number in OTLP's JSON, which writes 64-bit integers as strings.
fn number(value: Option<&serde_json::Value>) -> f64 {
    match value {
        Some(serde_json::Value::String(s)) => s.parse().unwrap_or(0.0),
        Some(v) => v.as_f64().unwrap_or(0.0),
        None => 0.0,
    }
}

/// Model calls are traced over OTLP/HTTP with the GenAI conventions, batched off the
/// request's path; neither the prompt nor the key is in them.
#[test]
fn model_calls_are_traced_over_otlp_with_the_genai_conventions() {
    let collector = Collector::start();
    let config = std::env::temp_dir().join(format!("gateway-otlp-{}.json5", std::process::id()));
    std::fs::write(
        &config,
        format!(
            r#"{{ gateway: {{ keys: [{{ key: "sk-traced", name: "team-o" }}], telemetry: {{ otlpEndpoint: "{}" }} }} }}"#,
            collector.url
        ),
    )
    .unwrap();
    let gateway = Gateway::start(
        [
            "--emulator".as_ref(),
            "--config".as_ref(),
            config.as_os_str(),
        ],
        &[],
    );
    let answer = chat_as(&gateway, Some("sk-traced"), NOVA, "secret prompt words");
    assert_eq!(status(&answer), "200", "{answer}");
    let invalid = format!(
        "EMULATOR_SCENARIO {}",
        json!({"error": {"type": "ValidationException", "status": 400}})
    );
    let refused = post(
        &gateway,
        "/v1/messages",
        Some("sk-traced"),
        &json!({"model": NOVA, "max_tokens": 10, "messages": [{"role": "user", "content": invalid}]}),
    );
    assert_eq!(status(&refused), "400", "{refused}");
    let deadline = Instant::now() + Duration::from_secs(10);
    let spans = loop {
        let spans = collector.spans();
        if spans.len() >= 2 || Instant::now() > deadline {
            break spans;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(spans.len(), 2, "{spans:?}");
    let (name, ok) = &spans
        .iter()
        .find(|(_, a)| !a.contains_key("error.type"))
        .unwrap();
    assert_eq!(name, &format!("chat {NOVA}"));
    assert_eq!(ok["gen_ai.operation.name"], "chat");
    assert_eq!(ok["gen_ai.request.model"], NOVA);
    assert_eq!(ok["gen_ai.response.model"], NOVA);
    assert!(number(ok.get("gen_ai.usage.input_tokens")) > 0.0, "{ok:?}");
    assert!(number(ok.get("gen_ai.usage.output_tokens")) > 0.0, "{ok:?}");
    assert!(
        number(ok.get("gen_ai.server.time_to_first_token")) > 0.0,
        "{ok:?}"
    );
    assert_eq!(ok["gateway.key"], "team-o");
    let (_, failed) = &spans
        .iter()
        .find(|(_, a)| a.contains_key("error.type"))
        .unwrap();
    assert_eq!(failed["http.route"], "/v1/messages");
    let everything = collector.received.lock().unwrap().join("\n");
    assert!(!everything.contains("sk-traced"), "the key is never traced");
    assert!(
        !everything.contains("secret prompt words"),
        "the prompt is never traced"
    );
}

/// The README's team configuration, as written (its Redis and collector addresses made this
/// test's own), serves its key through the alias, counts it in Redis and traces it.
#[test]
fn the_readme_team_configuration_runs_as_written() {
    let redis = Redis::start();
    let collector = Collector::start();
    let block = common::readme_blocks(
        "### A team's gateway: limits, budgets, fallbacks, traces",
        "json5",
    )
    .remove(0)
    .replace("redis://127.0.0.1:6379", &redis.url())
    .replace("http://127.0.0.1:4318", &collector.url);
    let config = std::env::temp_dir().join(format!("gateway-team-{}.json5", std::process::id()));
    std::fs::write(&config, block).unwrap();
    let gateway = Gateway::start(
        [
            "--emulator".as_ref(),
            "--config".as_ref(),
            config.as_os_str(),
        ],
        &[],
    );
    let answer = chat_as(&gateway, Some("sk-team-a"), "fast", "hi");
    assert_eq!(status(&answer), "200", "{answer}");
    assert!(header(&answer, "x-gateway-model")
        .unwrap()
        .contains("claude-haiku-4-5"));
    let forbidden = chat_as(&gateway, Some("sk-team-a"), NOVA, "hi");
    assert_eq!(
        status(&forbidden),
        "403",
        "the key's models only: {forbidden}"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while collector.spans().is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(collector.spans()[0].1["gateway.key"], "team-a");
}
