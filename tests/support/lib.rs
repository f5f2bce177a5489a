//! # e2e-tests: the plugin as a host really uses it
//!
//! Support code for the end-to-end tests in `tests/*.rs`. The tests never link the Bedrock
//! plugin as a Rust crate: they load the **built** `libbedrock_plugin.so` through
//! [`host_sdk::Plugin::load`], exactly as a host application does, and talk to it only through
//! the stable-ABI contract. Every test starts its own [`emulator`] (an in-process, loopback
//! Bedrock endpoint on an ephemeral port) and points the provider at it with the host's JSON5
//! configuration document, so tests are independent and run in parallel.
//!
//! What this library does for them:
//!
//! - [`init`]: sets the process environment once (the plugin reads the AWS credential chain
//!   from it) to the emulator's default identity, and removes every variable that would make
//!   the plugin pick another credential source, region or endpoint;
//! - [`plugin`], [`artifact`]: find the built cdylibs next to the test executable (or under
//!   `CARGO_TARGET_DIR`) and panic with the command to build them when they are missing: a
//!   missing plugin is a failure, never a skip;
//! - [`start_emulator`], [`provider_for`], [`provider_with`], [`config_for`], [`config_with`],
//!   [`provider_from`]: one emulator and one configured provider per test;
//! - [`scenario`], [`scripted_request`]: ask the emulated model for an exact answer (see the
//!   emulator crate's documentation of `EMULATOR_SCENARIO`);
//! - [`run`], [`run_with`], [`Outcome`]: a stream run to its end with every event the host
//!   saw; [`recorded`], [`stream_bodies`], [`only_body`]: what the emulator received;
//! - [`expected_ids`], [`ids`]: the model ids discovery must list, from the emulator's
//!   catalogue.
//!
//! Build everything the tests load with `scripts/test`, which then runs them.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Once, OnceLock};

use emulator::catalogue::{self, Geo};
use emulator::{Emulator, EmulatorConfig, RecordedRequest, RunningEmulator};
use host_sdk::{ContentBlock, ConverseRequest, Message, ModelInfo, Plugin, Provider, Role};

mod converse;
mod tcp_faults;

pub use converse::{
    b64, extensions, only_body, run, run_with, stream_bodies, text_deltas, text_of, Outcome,
};
pub use tcp_faults::{TcpFault, TcpFaultServer};

/// The command that builds every cdylib the tests load.
pub const BUILD_HINT: &str = "run scripts/test (or `cargo build -p bedrock-plugin \
     -p incompatible-plugin -p incompatible-layout-plugin -p not-a-plugin \
     -p contract-1-0-plugin -p contract-1-4-plugin -p contract-1-4-host \
     && cargo build -p host-sdk --examples`) first";

/// An on-demand text model of the emulator's catalogue: invocable by its base id.
pub const MODEL: &str = "amazon.nova-micro-v1:0";

/// Library file names (without the platform prefix and suffix) of the built artifacts.
pub const PLUGIN_LIB: &str = "bedrock_plugin";
pub const INCOMPATIBLE_VERSION_LIB: &str = "incompatible_plugin";
pub const INCOMPATIBLE_LAYOUT_LIB: &str = "incompatible_layout_plugin";
pub const NOT_A_PLUGIN_LIB: &str = "not_a_plugin";
/// A plugin built against the contract as it was at 1.0.0 (tests/fixtures/contract-1-0-plugin).
pub const CONTRACT_1_0_LIB: &str = "contract_1_0_plugin";
/// A plugin built against the contract as it was at 1.4.0 (tests/fixtures/contract-1-4-plugin).
pub const CONTRACT_1_4_LIB: &str = "contract_1_4_plugin";
/// A host built against host-sdk as it was at 1.4.0 (tests/fixtures/contract-1-4-host).
pub const CONTRACT_1_4_HOST: &str = "contract-1-4-host";

/// Prepares the process environment for the plugin. Call it first in every test.
///
/// The plugin resolves credentials from the environment of the process that loaded it, so
/// the tests set the emulator's default identity there. This happens once, before any
/// provider exists; afterwards the environment is only read, so parallel tests are safe.
pub fn init() {
    static ENV: Once = Once::new();
    ENV.call_once(|| {
        emulator::process_env::use_emulator_identity(&emulator::EmulatorConfig::default());
        quiet_deliberate_panics();
    });
}

/// Marker for panics a test provokes on purpose (in a host callback or log sink, to prove
/// the guards): put it in the panic message.
pub const DELIBERATE_PANIC: &str = "(deliberate test panic)";

/// Panics carrying [`DELIBERATE_PANIC`] print nothing; every other panic goes to the default
/// hook as before. Those panics happen on the plugin's runtime threads, where the test
/// harness does not capture output, so with `RUST_BACKTRACE=1` a green run would otherwise
/// show full backtraces that read as breakage.
fn quiet_deliberate_panics() {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = host_sdk::host::panic_message(info.payload());
        if !message.contains(DELIBERATE_PANIC) {
            default_hook(info);
        }
    }));
}

/// The directory holding the build's final artifacts (`target/<profile>`), derived from the
/// test executable's own path (`target/<profile>/deps/<test>-<hash>`).
pub fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable knows its path");
    let dir = exe.parent().expect("the test executable is in a directory");
    if dir.file_name().is_some_and(|n| n == "deps") {
        dir.parent().expect("deps/ has a parent").to_path_buf()
    } else {
        dir.to_path_buf()
    }
}

/// The file name of a cdylib on this platform (`libfoo.so`, `libfoo.dylib`, `foo.dll`).
pub fn library_file_name(lib: &str) -> String {
    format!(
        "{}{lib}{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    )
}

/// The path of a built cdylib. Panics with the build command when it does not exist: the
/// tests must prove the real artifact works, so a missing one is never silently skipped.
pub fn artifact(lib: &str) -> PathBuf {
    let file = library_file_name(lib);
    let profile = profile_dir();
    let mut candidates = vec![profile.join(&file)];
    if let (Some(target), Some(name)) = (
        std::env::var_os("CARGO_TARGET_DIR"),
        profile.file_name().map(ToOwned::to_owned),
    ) {
        candidates.push(Path::new(&target).join(name).join(&file));
    }
    candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .unwrap_or_else(|| {
            let looked: Vec<String> = candidates.iter().map(|p| p.display().to_string()).collect();
            panic!(
                "{file} was not found (looked at {}): {BUILD_HINT}",
                looked.join(", ")
            )
        })
}

/// The real Bedrock plugin, loaded once per test process (a host loads a plugin once and
/// makes any number of providers from it).
pub fn plugin() -> &'static Plugin {
    static PLUGIN: OnceLock<Plugin> = OnceLock::new();
    PLUGIN.get_or_init(|| {
        let path = artifact(PLUGIN_LIB);
        Plugin::load(&path)
            .unwrap_or_else(|e| panic!("the built plugin {} must load: {e}", path.display()))
    })
}

/// A fresh emulator with the default identity on an ephemeral loopback port.
pub fn start_emulator() -> RunningEmulator {
    start_emulator_with(EmulatorConfig::default())
}

/// A fresh emulator with a custom configuration (e.g. another secret key).
pub fn start_emulator_with(config: EmulatorConfig) -> RunningEmulator {
    Emulator::start_background(config).expect("the emulator starts on an ephemeral port")
}

/// Fast retries so retry tests take milliseconds (provider keys for [`provider_with`]).
pub const FAST_RETRIES: &str = "retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20 },";

/// The host's configuration document (JSON5, the gateway's shape) pointing the provider at
/// an endpoint. The control plane is derived from the same URL.
pub fn config_for(url: &str) -> String {
    config_with(url, "")
}

/// [`config_for`] with `provider_keys` (JSON5 members, each followed by a comma) added to
/// `models.providers."amazon-bedrock"`.
pub fn config_with(url: &str, provider_keys: &str) -> String {
    format!(
        r#"{{
  models: {{
    providers: {{
      "amazon-bedrock": {{
        baseUrl: "{url}",
        {provider_keys}
      }},
    }},
  }},
}}"#
    )
}

/// A provider of the real plugin for a whole configuration document, which must be accepted.
pub fn provider_from(config: &str) -> Provider {
    init();
    plugin()
        .new_provider(config)
        .unwrap_or_else(|e| panic!("the provider must accept the configuration: {e}\n{config}"))
}

/// A provider of the real plugin talking to `emu`.
pub fn provider_for(emu: &RunningEmulator) -> Provider {
    provider_with(emu, "")
}

/// A provider of the real plugin talking to `emu`, with extra provider keys (see
/// [`config_with`]).
pub fn provider_with(emu: &RunningEmulator, provider_keys: &str) -> Provider {
    provider_from(&config_with(&emu.url(), provider_keys))
}

/// The user text block that scripts the emulated model's answer.
pub fn scenario(script: serde_json::Value) -> String {
    format!("{}{script}", emulator::scenario::SCENARIO_PREFIX)
}

/// A one-turn request to `model`: a user question followed by the scenario block.
pub fn scripted_request(model: &str, question: &str, script: serde_json::Value) -> ConverseRequest {
    ConverseRequest {
        model: model.into(),
        messages: vec![Message {
            role: Role::User,
            content: vec![
                ContentBlock::Text {
                    text: question.into(),
                },
                ContentBlock::Text {
                    text: scenario(script),
                },
            ],
        }],
        ..ConverseRequest::default()
    }
}

/// `text` cut into pieces of `size` characters: the deltas the emulator sends for it.
pub fn chunks(text: &str, size: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars.chunks(size).map(|c| c.iter().collect()).collect()
}

/// The requests `emu` recorded for one operation (`ConverseStream`, `ListFoundationModels`...).
pub fn recorded(emu: &RunningEmulator, operation: &str) -> Vec<RecordedRequest> {
    emu.requests()
        .into_iter()
        .filter(|r| r.operation == operation)
        .collect()
}

/// The ids a host whose region is in `geo` must see, from the emulator's catalogue (the same
/// data its ListFoundationModels and ListInferenceProfiles answer with): every streaming,
/// text-output, ACTIVE model, by its base id when it supports on-demand throughput, else by
/// the profile of the first of `geos` (a region's geographies, most specific first) that
/// has one, and the global one, where they exist; and the models only Mantle's Responses API
/// serves.
pub fn expected_ids(geos: &[Geo]) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for m in catalogue::MODELS {
        if !(m.streaming && m.output.contains(&"TEXT") && m.lifecycle == "ACTIVE") {
            continue;
        }
        if m.on_demand() {
            ids.insert(m.id.to_string());
            continue;
        }
        // The region's most specific geography with a profile, then global.
        if let Some(g) = geos.iter().find(|g| m.profiles.contains(g)) {
            ids.insert(format!("{}.{}", g.prefix(), m.id));
        }
        if m.profiles.contains(&Geo::Global) {
            ids.insert(format!("global.{}", m.id));
        }
    }
    // And the models only Mantle's Responses API serves (from its model list).
    ids.extend(emulator::openai::models::responses_only().map(|m| m.id.to_string()));
    ids
}

/// The ids of listed models.
pub fn ids(models: &[ModelInfo]) -> BTreeSet<String> {
    models.iter().map(|m| m.id.to_string()).collect()
}

/// A ConverseStream body of `events` (name and JSON payload each), encoded as Bedrock frames
/// for a raw emulator response.
pub fn raw_stream(events: &[(&'static str, serde_json::Value)]) -> emulator::RawResponse {
    let body: Vec<u8> = emulator::events::encode_events(events)
        .into_iter()
        .flat_map(|b| b.to_vec())
        .collect();
    emulator::RawResponse::event_stream(body)
}

/// A minimal, well-formed ConverseStream body (the text "ok" with usage), for models the
/// emulator's catalogue lacks.
pub fn tiny_stream() -> emulator::RawResponse {
    raw_stream(&[
        ("messageStart", serde_json::json!({"role": "assistant"})),
        (
            "contentBlockDelta",
            serde_json::json!({"contentBlockIndex": 0, "delta": {"text": "ok"}}),
        ),
        (
            "contentBlockStop",
            serde_json::json!({"contentBlockIndex": 0}),
        ),
        ("messageStop", serde_json::json!({"stopReason": "end_turn"})),
        (
            "metadata",
            serde_json::json!({"usage": {"inputTokens": 3, "outputTokens": 1, "totalTokens": 4}, "metrics": {"latencyMs": 5}}),
        ),
    ])
}

/// The length and FNV-1a 64 of a frozen snapshot's body (below its header, which ends at the
/// first blank line), to prove the snapshot unedited.
pub fn snapshot_digest(path: &std::path::Path) -> (usize, u64) {
    let text = std::fs::read(path).expect("the snapshot is readable");
    let at = text
        .windows(2)
        .position(|w| w == b"\n\n")
        .expect("the header ends with a blank line");
    let body = &text[at + 2..];
    let fnv = body.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    (body.len(), fnv)
}
