//! Issue #14: the benchmark program runs end to end (small numbers, a debug build): it
//! starts the emulator and the gateway, streams through a direct host and through the
//! gateway, holds concurrent streams, and reports every delta delivered. What it measures is
//! not asserted: figures come from release builds (README, "Performance").

use std::process::Command;

#[test]
fn the_benchmark_program_runs_and_accounts_for_every_delta() {
    let dir = std::path::Path::new(env!("CARGO_BIN_EXE_gateway-bench"))
        .parent()
        .unwrap();
    let emulator = dir.join("emulator");
    assert!(
        emulator.is_file(),
        "{} is missing: run scripts/test (it builds -p emulator)",
        emulator.display()
    );
    let out = Command::new(env!("CARGO_BIN_EXE_gateway-bench"))
        .args([
            "--deltas",
            "300",
            "--runs",
            "1",
            "--streams",
            "150",
            "--stream-deltas",
            "5",
            "--event-delay-ms",
            "20",
            "--json",
        ])
        .output()
        .expect("gateway-bench runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON document");
    for path in [
        "direct host",
        "gateway",
        "gateway (responses)",
        "gateway (messages)",
    ] {
        assert_eq!(report["overhead"][path]["runs"], 1, "{report}");
        assert!(
            report["overhead"][path]["cpu_per_1k_deltas_ms"].as_f64() > Some(0.0),
            "{report}"
        );
    }
    for ratio in [
        "gateway_cpu_ratio",
        "responses_cpu_ratio",
        "messages_cpu_ratio",
    ] {
        assert!(report[ratio].as_f64().is_some(), "{report}");
    }
    let load = &report["load"];
    assert_eq!(load["complete"], 150, "{report}");
    assert_eq!(load["failed"], 0, "{report}");
    assert_eq!(load["deltas"], load["expected_deltas"], "{report}");
    assert!(load["gateway_peak_rss_kib"].as_u64() > Some(0), "{report}");
    assert!(load["gateway_max_threads"].as_u64() > Some(0), "{report}");
}

/// Issue #25: the fixed-rate benchmark runs end to end (a low rate, a debug build): every
/// request of both paths, whole and streamed, in every dialect, is answered, and the report has the added
/// latency per percentile, the gateway's CPU per request and its memory.
#[test]
fn the_fixed_rate_benchmark_runs_and_answers_every_request() {
    let report = gateway_rate(&["--rates", "20,40", "--seconds", "1"]);
    let rows = report["rates"].as_array().unwrap();
    assert_eq!(
        rows.len(),
        12,
        "two rates, whole and streamed, in three dialects: {report}"
    );
    for dialect in ["chat", "responses", "messages"] {
        assert_eq!(
            rows.iter().filter(|r| r["dialect"] == dialect).count(),
            4,
            "{report}"
        );
    }
    for row in rows {
        assert_eq!(row["gateway_errors"], 0, "{row}");
        assert_eq!(row["direct_errors"], 0, "{row}");
        for p in ["p50", "p90", "p99"] {
            assert!(row["gateway_ms"][p].as_f64() > Some(0.0), "{row}");
            assert!(row["added_ms"][p].as_f64().is_some(), "{row}");
        }
        assert!(
            row["gateway_thread_runs_per_request"].as_f64() > Some(0.0),
            "{row}"
        );
        assert!(
            row["gateway_cpu_us_per_request"].as_f64() > Some(0.0),
            "{row}"
        );
    }
    assert!(
        report["gateway_peak_rss_kib"].as_u64() > Some(0),
        "{report}"
    );
}

/// Issue #22: with `--operations`, the fixed-rate benchmark also sends every request through
/// a gateway with a counted key in a real Redis and traces to a collector, and reports what
/// that adds; every such request is answered.
#[test]
fn the_fixed_rate_benchmark_measures_what_operations_add() {
    let report = chat_at_20_per_second(&["--kind=whole", "--operations"]);
    let row = &report["rates"][0];
    assert_eq!(row["operations"]["errors"], 0, "{report}");
    assert!(
        row["operations"]["added_over_gateway_ms"]["p50"]
            .as_f64()
            .is_some(),
        "{report}"
    );
}

/// The gateways the fixed-rate benchmark starts take the arguments it is given
/// (`--gateway-arg`), so a setting such as the number of runtime workers can be measured: with
/// 40 workers the gateway runs at least 43 threads (its main thread, the workers, the plugin's
/// at least two), more than it starts with by default on any machine of up to 64 CPUs.
#[test]
fn the_fixed_rate_benchmark_passes_its_gateway_arguments() {
    let report = chat_at_20_per_second(&["--kind=whole", "--gateway-arg=--worker-threads=40"]);
    assert_eq!(report["rates"][0]["gateway_errors"], 0, "{report}");
    assert!(report["gateway_threads"].as_u64() >= Some(43), "{report}");
}

/// `gateway-rate` for Chat Completions at 20 requests a second for a second, with `args`.
fn chat_at_20_per_second(args: &[&str]) -> serde_json::Value {
    let mut all = vec!["--rates", "20", "--seconds", "1", "--dialects", "chat"];
    all.extend_from_slice(args);
    gateway_rate(&all)
}

/// `gateway-rate` run with `args`, its report read as the JSON document it prints.
fn gateway_rate(args: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_gateway-rate"))
        .args(args)
        .arg("--json")
        .output()
        .expect("gateway-rate runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&stdout).expect("one JSON document")
}

/// With `--floor`, the same direct request also goes through a bare HTTP proxy, and the report
/// gives what that one hop adds, its CPU per request and the gateway's latency over it; the
/// proxy answers every request, whole and streamed.
#[test]
fn the_fixed_rate_benchmark_measures_the_floor_of_one_http_hop() {
    let report = chat_at_20_per_second(&["--floor"]);
    let rows = report["rates"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "whole and streamed: {report}");
    for row in rows {
        let hop = &row["pass_through"];
        assert_eq!(hop["errors"], 0, "{row}");
        assert!(hop["cpu_us_per_request"].as_f64() > Some(0.0), "{row}");
        assert!(
            hop["gateway_over_floor_ms"]["p50"].as_f64().is_some(),
            "{row}"
        );
        assert!(hop["added_ms"]["p99"].as_f64().is_some(), "{row}");
    }
}

/// With `--no-baseline`, requests go through the gateway alone (its capacity on a machine
/// serving only them): the report has the gateway's latency and no direct one to subtract,
/// and the rate held is the highest without errors.
#[test]
fn the_fixed_rate_benchmark_measures_the_gateway_alone() {
    let report = chat_at_20_per_second(&["--kind=whole", "--no-baseline"]);
    let row = &report["rates"][0];
    assert_eq!(row["gateway_errors"], 0, "{report}");
    assert!(row["gateway_ms"]["p50"].as_f64() > Some(0.0), "{report}");
    assert!(row["direct_ms"]["p50"].is_null(), "{report}");
    assert!(row["added_ms"]["p50"].is_null(), "{report}");
    assert_eq!(
        report["highest_rate_without_errors"]["chat"]["whole"], 20,
        "{report}"
    );
}
