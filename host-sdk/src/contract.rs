//! The raw, stable-ABI contract between a host and a provider plugin.
//!
//! Everything here is `#[repr(C)]` + `StableAbi`, so `abi_stable` can check at load time that
//! host and plugin agree on every layout. Hosts normally use the safe wrappers in
//! [`crate::host`]; plugin authors implement [`Provider`] and export a [`ProviderModule`].
//!
//! Evolution rules (what a future minor version may do without breaking loaded plugins):
//! - append fields to [`ProviderModule`] after the `#[sabi(last_prefix_field)]` one;
//! - append methods with a default body to the `Provider`, `EventSink` and `StreamControl`
//!   traits after their `#[sabi(last_prefix_field)]` method;
//! - add optional fields to the JSON documents (configuration, request, completion);
//! - add a variant to a JSON document's enums (content blocks, tool result content, stop
//!   reasons): a host or plugin from 1.5 on keeps a variant it does not know as raw JSON
//!   (`ContentBlock::Unknown`, `StopReason::Other`), so a success stays a success;
//! - add a new kind of stream event: register its name and its JSON data in
//!   [`extension_kinds`] and send it through [`EventSink::on_extension`]. A 1.5 host that does
//!   not know the kind gets it as `Event::Extension` with the raw data; a host built before
//!   1.5 never sees it (the method's default body skips it). Whatever the host must keep
//!   (a trace, a citation) also goes into the completion document, so no host loses data it
//!   asked for.
//!
//! What a minor may never do, because the loader accepts an older-minor plugin only when the
//! one difference `abi_stable` finds is "the host's prefix types have more fields"
//! (`loader::init_older_minor`, checked against abi_stable 0.11.3, pinned exactly): change,
//! remove or reorder an existing field, method or variant; add a field to a plain
//! (non-prefix) `repr(C)` type; add a variant to `StreamEvent` or any other exhaustive enum;
//! add a supertrait or an interface extra check to a `#[sabi_trait]`; insert anything before a
//! `last_prefix_field`. Each of these makes the loader refuse older plugins with
//! `IncompatibleLayout`, so it needs a new major version.
//!
//! What each minor added: 1.1 `Provider::auth_status`; 1.2 `Provider::config_warnings`; 1.3
//! `Provider::take_notices`; 1.4 the log bridge: the root-module field
//! [`ProviderModule::set_log_sink`] (`#[sabi(missing_field(option))]`: `None` in a plugin built
//! before 1.4) and the [`LogSink`] trait it takes; 1.5 the extension events
//! ([`EventSink::on_extension`], [`extension_kinds`]), [`Provider::count_tokens`] with the
//! [`TokenCountReply`] trait it takes, and unknown JSON variants kept as data; 1.6
//! backpressure: [`EventSink::set_waker`] and [`EventSink::ready`], with the [`StreamWaker`]
//! trait the first takes; 1.7 embeddings, the first new call since 1.0:
//! [`Provider::embed`] (with the [`EmbeddingsReply`] trait and the [`EmbeddingVectors`] it
//! delivers) and [`Provider::list_embedding_models`] (with the [`DocumentReply`] trait); 1.8
//! [`Provider::model_provenance`] (where the facts of each listed model come from) and the
//! extension kind [`extension_kinds::SERVED`] (what served a request); 1.9 optional JSON
//! fields only: the usage's `reasoningTokens`, a model's provenance `api` (which of the
//! provider's APIs it is called through), a document's `text`, `content` (chunks) and
//! `context`; the `audio`, `guardedImage`, `toolAddition` and `toolRemoval` blocks and the
//! `system` message role (read as unknown by older plugins, which refuse them); and the
//! extension kind [`extension_kinds::IMAGE`] (images a model made).
//!
//! Rich documents that grow over time (the configuration, the converse request and the
//! completed message) cross as JSON text (requests and completions in the schema of
//! [`crate::request`]): they cross once per
//! call, so their cost is noise next to a network round trip, and serde's defaults let either
//! side be a minor version behind. The hot path, one event per delta, crosses as borrowed,
//! typed [`StreamEvent`]s: no allocation and no copy inside the plugin boundary.

// The sabi_trait macro emits impls the non_local_definitions lint flags, and pointer casts
// newer clippy calls unnecessary; both are its own code, not ours.
#![allow(non_local_definitions)]
#![allow(clippy::unnecessary_cast)]

use serde::{Deserialize, Serialize};

use abi_stable::{
    declare_root_module_statics,
    library::RootModule,
    package_version_strings, sabi_trait,
    sabi_types::VersionStrings,
    std_types::{RBox, ROption, RResult, RSlice, RStr, RString, RVec, Tuple2},
    StableAbi,
};

/// The contract version: the host-sdk crate version. Same major = loadable.
pub const CONTRACT_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The root module every provider plugin exports with `#[export_root_module]`.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = ProviderModuleRef)))]
#[sabi(missing_field(panic))]
pub struct ProviderModule {
    /// What the plugin is. Callable before any configuration, never fails.
    pub metadata: extern "C" fn() -> ProviderMetadata,
    /// Builds a provider from the host's configuration document (JSON or JSON5 text, in the
    /// gateway's shape: `models.providers.<provider id>` plus any provider-specific keys, such
    /// as `models.bedrockDiscovery`). The plugin parses it itself so that its errors can name
    /// the key path, line and column. Configuration errors are returned here, before any
    /// network call. An empty document means "all defaults".
    #[sabi(last_prefix_field)]
    pub new_provider: extern "C" fn(config: RStr<'_>) -> RResult<ProviderBox, ProviderError>,
    /// Since 1.4: routes the plugin's own logs to the host. A plugin is a separate binary
    /// with its own copy of its logging library, so no host logger sees what it logs unless
    /// the host hands it a sink here. Process-wide (a plugin has one logger); a later call
    /// replaces the sink. Read through the accessor, which is `None` for a plugin built
    /// against an earlier minor.
    #[sabi(missing_field(option))]
    pub set_log_sink: extern "C" fn(sink: LogSinkBox),
}

impl RootModule for ProviderModuleRef {
    declare_root_module_statics! {ProviderModuleRef}
    const BASE_NAME: &'static str = "provider_plugin";
    const NAME: &'static str = "host-sdk provider plugin";
    const VERSION_STRINGS: VersionStrings = package_version_strings!();
}

/// Static facts about a plugin.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderMetadata {
    /// Stable provider id used in model references (`amazon-bedrock/<model id>`).
    pub provider_id: RString,
    /// Wire API spoken by the provider (`bedrock-converse-stream`).
    pub api: RString,
    /// How the provider authenticates (`aws-sdk`, `api-key`, ...).
    pub auth: RString,
    /// A human-readable name (`Amazon Bedrock`).
    pub display_name: RString,
    /// The plugin's own version.
    pub plugin_version: RString,
    /// The host-sdk version the plugin was built against.
    pub contract_version: RString,
    /// Feature names the provider supports (`streaming`, `tools`, `reasoning`, `images`, ...).
    pub capabilities: RVec<RString>,
}

/// Where a model entry came from.
#[repr(u8)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ModelSource {
    /// Declared in the configuration file.
    Configured,
    /// Found by the provider's model discovery.
    Discovered,
}

/// Prices in US dollars per million tokens.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelCost {
    /// Per million input tokens.
    pub input: f64,
    /// Per million output tokens.
    pub output: f64,
    /// Per million input tokens read from the prompt cache.
    pub cache_read: f64,
    /// Per million input tokens written to the prompt cache.
    pub cache_write: f64,
}

/// One invocable model, in the shape of the gateway's model entries.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelInfo {
    /// The id to put in a request: invocable as is (an inference profile id where needed).
    pub id: RString,
    /// A display name.
    pub name: RString,
    /// The vendor of the model (`Anthropic`, `Amazon`, ...); empty when unknown.
    pub vendor: RString,
    /// The foundation model behind `id` when `id` is an inference profile; empty otherwise.
    pub base_model_id: RString,
    /// Whether the model can reason before answering.
    pub reasoning: bool,
    /// Input modalities: `text`, `image`, `document`, ...
    pub input: RVec<RString>,
    /// Prices; all zero when unknown.
    pub cost: ModelCost,
    /// The context window, in tokens.
    pub context_window: u64,
    /// The most output tokens one answer may have.
    pub max_tokens: u64,
    /// Whether the entry was configured or discovered.
    pub source: ModelSource,
}

/// A typed error crossing the boundary. `code` is one of [`crate::ErrorKind`]'s codes; a
/// newer plugin may send codes an older host does not know, which the host keeps as data.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq)]
pub struct ProviderError {
    /// The error kind's code (see [`crate::ErrorKind::code`]).
    pub code: RString,
    /// Says what went wrong and what to fix (config key, model id, credential source).
    pub message: RString,
    /// Whether the same call may succeed if retried later.
    pub retryable: bool,
}

impl ProviderError {
    /// An error of the kind `code`.
    pub fn new(code: &str, message: impl Into<String>, retryable: bool) -> Self {
        Self {
            code: code.into(),
            message: RString::from(message.into()),
            retryable,
        }
    }
}

/// Token accounting for one response.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Default)]
pub struct Usage {
    /// Input tokens, cache reads and writes excluded.
    pub input_tokens: u64,
    /// Output tokens, reasoning included.
    pub output_tokens: u64,
    /// All tokens, as the service counts them.
    pub total_tokens: u64,
    /// Input tokens read from the prompt cache.
    pub cache_read_tokens: u64,
    /// Input tokens written to the prompt cache.
    pub cache_write_tokens: u64,
}

/// What the host's callback tells the plugin after each event.
#[repr(u8)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq)]
pub enum SinkFlow {
    /// Keep the stream going.
    Continue,
    /// End the stream now; it finishes with a `cancelled` error carrying the partial message.
    Stop,
}

/// One streaming event, borrowed from the plugin's receive buffer for the duration of the
/// callback. Block indices are the service's content block indices.
#[repr(C, u8)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq)]
pub enum StreamEvent<'a> {
    /// The assistant message begins.
    MessageStart,
    /// A fragment of answer text.
    TextDelta {
        /// The content block index.
        index: u32,
        /// The fragment.
        text: RStr<'a>,
    },
    /// A fragment of visible reasoning.
    ReasoningDelta {
        /// The content block index.
        index: u32,
        /// The fragment.
        text: RStr<'a>,
    },
    /// A fragment of the signature that lets reasoning be replayed.
    ReasoningSignature {
        /// The content block index.
        index: u32,
        /// The fragment.
        signature: RStr<'a>,
    },
    /// Reasoning the service returned encrypted.
    RedactedReasoning {
        /// The content block index.
        index: u32,
        /// The encrypted bytes.
        data: RSlice<'a, u8>,
    },
    /// The model starts calling a tool.
    ToolUseStart {
        /// The content block index.
        index: u32,
        /// The tool-use id, to answer with a tool result.
        id: RStr<'a>,
        /// The tool's name.
        name: RStr<'a>,
    },
    /// A fragment of a tool call's JSON input.
    ToolUseInputDelta {
        /// The content block index.
        index: u32,
        /// The fragment of JSON text.
        fragment: RStr<'a>,
    },
    /// A tool-use block is complete: `input_json` is its whole input, or `error` says why the
    /// streamed input is not valid JSON (then `input_json` holds the raw text received).
    ToolUse {
        /// The content block index.
        index: u32,
        /// The tool-use id, to answer with a tool result.
        id: RStr<'a>,
        /// The tool's name.
        name: RStr<'a>,
        /// The whole input as JSON text.
        input_json: RStr<'a>,
        /// Why the input is not valid JSON, when it is not.
        error: ROption<RStr<'a>>,
    },
    /// A content block is complete.
    BlockStop {
        /// The content block index.
        index: u32,
    },
    /// `reason` is the provider's stop reason in snake_case (`end_turn`, `tool_use`,
    /// `max_tokens`, ...); unknown reasons pass through unchanged.
    MessageStop {
        /// The stop reason.
        reason: RStr<'a>,
    },
    /// Usage as reported by the service, with the cost in US dollars when the model's prices
    /// are configured.
    Usage {
        /// The token counts.
        usage: Usage,
        /// The cost in US dollars, when the model's prices are known.
        cost_usd: ROption<f64>,
    },
    /// Service-side timing.
    Metrics {
        /// The service's own latency for the call, in milliseconds.
        latency_ms: u64,
    },
    /// The plugin is about to retry the request after a retryable failure. Sent only before
    /// any other event of the response reached the host.
    Retry {
        /// The attempt that failed (1 for the first).
        attempt: u32,
        /// How long the plugin waits before the next attempt, in milliseconds.
        delay_ms: u64,
        /// Why the attempt failed.
        error: &'a ProviderError,
    },
}

/// The kinds of extension event ([`EventSink::on_extension`]) this contract version defines,
/// each with the JSON document it carries. A host must skip kinds it does not know; a later
/// minor may add kinds here and optional fields to any document.
pub mod extension_kinds {
    /// A guardrail assessed the request or the answer: `{"intervened": bool, "trace": {..}}`,
    /// where `trace` is the provider's own assessment document (Bedrock: `trace.guardrail`).
    /// Sent once, with the service's metadata (after `MessageStop`), when the request asked
    /// for the trace (Bedrock: `guardrailConfig.trace`).
    pub const GUARDRAIL: &str = "guardrail";
    /// A router (Bedrock: a prompt router) chose the model that answered:
    /// `{"model": "<id of the model that ran>"}`.
    pub const MODEL_ROUTED: &str = "modelRouted";
    /// Fields of the model's own response the request asked for by path (Bedrock:
    /// `additionalModelResponseFieldPaths`, answered in `additionalModelResponseFields`):
    /// `{"fields": {..}}`. Sent when the model stops.
    pub const MODEL_RESPONSE_FIELDS: &str = "modelResponseFields";
    /// The provider ran one of its own tools (a request's `serverTools`):
    /// `{"index": n, "id": .., "name": .., "input": {..}}`, sent when the call's block is
    /// complete. It is not a call the host must run (those are `ToolUse` events).
    pub const SERVER_TOOL_USE: &str = "serverToolUse";
    /// The result of a server tool call: `{"index": n, "toolUseId": .., "type": ..,
    /// "status": "success" | "error", "content": [..]}` (content parts in the schema of
    /// `ToolResultContent`), sent when its block is complete.
    pub const SERVER_TOOL_RESULT: &str = "serverToolResult";
    /// A citation backing the text of block `index` (a request's document or search result):
    /// `{"index": n, "citation": {..}}`, the provider's citation document (Bedrock: `title`,
    /// `source`, `sourceContent`, `location`). The completion holds the block as `citedText`.
    pub const CITATION: &str = "citation";
    /// Since 1.8: how the provider served the request, when it says (Bedrock: the stream's
    /// metadata): `{"serviceTier": "priority" | "default" | "flex" | "reserved",
    /// "latency": "standard" | "optimized"}`, each present only when reported. What served
    /// may differ from what was asked (a tier with no capacity left). Sent with the usage.
    pub const SERVED: &str = "served";
    /// Since 1.9: an image the model made (Bedrock: an `image` block of the stream):
    /// `{"index": n, "format": "png" | "jpeg" | "gif" | "webp", "data": "<base64>"}`, or
    /// `{"index": n, "format": .., "error": "<why the image could not be made>"}`; sent when
    /// its block is complete.
    pub const IMAGE: &str = "image";
}

/// How a stream ended. `completion_json` is a [`crate::Completion`] document: the whole
/// message on success, whatever had arrived when `error` is set.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq)]
pub struct StreamEnd {
    /// Why the stream failed, or `RNone` on success.
    pub error: ROption<ProviderError>,
    /// The [`crate::Completion`] document.
    pub completion_json: RString,
}

/// How a provider authenticates, for diagnostics. Never holds a secret.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq)]
pub struct AuthStatus {
    /// Where the credentials come from (`AWS_PROFILE "dev"`, `instance role (IMDS)`, ...).
    pub source: RString,
    /// The region calls go to.
    pub region: RString,
    /// The endpoint calls go to.
    pub endpoint: RString,
    /// Further facts as ordered key/value pairs (e.g. a masked access key id).
    pub details: RVec<Tuple2<RString, RString>>,
    /// The outcome of a cheap authenticated call: what succeeded, or why it failed.
    pub check: RResult<RString, ProviderError>,
}

/// The severity of a log record, most severe first.
#[repr(u8)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    /// A failure.
    Error = 1,
    /// A problem that did not stop the call.
    Warn = 2,
    /// What happened.
    Info = 3,
    /// Detail for diagnosing.
    Debug = 4,
    /// Everything.
    Trace = 5,
}

impl LogLevel {
    /// The level's name, upper case (`ERROR`, `WARN`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Error => "ERROR",
            LogLevel::Warn => "WARN",
            LogLevel::Info => "INFO",
            LogLevel::Debug => "DEBUG",
            LogLevel::Trace => "TRACE",
        }
    }
}

impl std::fmt::Display for LogLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One log record from a plugin, borrowed for the duration of [`LogSink::log`].
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogRecord<'a> {
    /// How severe the record is.
    pub level: LogLevel,
    /// Where the record comes from, in the plugin's terms (a Rust plugin: the module path,
    /// such as `bedrock_plugin::stream`).
    pub target: RStr<'a>,
    /// The whole line: the message followed by its fields (`key=value`), already formatted.
    pub message: RStr<'a>,
}

/// Since 1.4: the host's side of the log bridge (see [`ProviderModule::set_log_sink`]).
/// Called from any plugin thread, concurrently, so it must be cheap and must not block for
/// long; it must not call back into the plugin.
#[sabi_trait]
pub trait LogSink: Send + Sync {
    /// The most verbose level the host may want, or `RNone` for nothing at all: records below
    /// it are dropped in the plugin before they are formatted.
    fn max_level(&self) -> ROption<LogLevel>;
    /// Whether the host wants records of `level` from `target`. The plugin may cache the
    /// answer per log statement for as long as this sink is installed, so it must not change
    /// (a host whose filter changes installs a new sink).
    fn enabled(&self, level: LogLevel, target: RStr<'_>) -> bool;
    #[sabi(last_prefix_field)]
    /// Takes one record.
    fn log(&self, record: &LogRecord<'_>);
}
/// A boxed [`LogSink`], as the contract passes it.
pub type LogSinkBox = LogSink_TO<'static, RBox<()>>;

/// Receives an auth status; called exactly once.
#[sabi_trait]
pub trait AuthStatusReply: Send {
    #[sabi(last_prefix_field)]
    /// Delivers the result.
    fn reply(self, result: RResult<AuthStatus, ProviderError>);
}
/// A boxed [`AuthStatusReply`], as the contract passes it.
pub type AuthStatusReplyBox = AuthStatusReply_TO<'static, RBox<()>>;

/// Receives model lists; called exactly once.
#[sabi_trait]
pub trait ModelsReply: Send {
    #[sabi(last_prefix_field)]
    /// Delivers the result.
    fn reply(self, result: RResult<RVec<ModelInfo>, ProviderError>);
}
/// A boxed [`ModelsReply`], as the contract passes it.
pub type ModelsReplyBox = ModelsReply_TO<'static, RBox<()>>;

/// Since 1.5: receives a token count; called exactly once.
#[sabi_trait]
pub trait TokenCountReply: Send {
    #[sabi(last_prefix_field)]
    /// Delivers the result.
    fn reply(self, result: RResult<u64, ProviderError>);
}
/// A boxed [`TokenCountReply`], as the contract passes it.
pub type TokenCountReplyBox = TokenCountReply_TO<'static, RBox<()>>;

/// Since 1.7: the vectors of an embedding batch, as [`Provider::embed`] delivers them.
/// A plain struct, so it never grows: what a later minor adds goes into `details_json`.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq)]
pub struct EmbeddingVectors {
    /// One vector per input, in the request's order, end to end: typed, so a batch of
    /// thousands of vectors crosses without being printed and parsed again.
    pub values: RVec<f32>,
    /// The length of each vector in dimensions (a binary encoding packs eight into a value).
    pub dimensions: u32,
    /// A [`crate::EmbeddingDetails`] document (model, encoding, tokens, cost).
    pub details_json: RString,
}

/// Since 1.7: receives an embedding batch; called exactly once.
#[sabi_trait]
pub trait EmbeddingsReply: Send {
    #[sabi(last_prefix_field)]
    /// Delivers the result.
    fn reply(self, result: RResult<EmbeddingVectors, ProviderError>);
}
/// A boxed [`EmbeddingsReply`], as the contract passes it.
pub type EmbeddingsReplyBox = EmbeddingsReply_TO<'static, RBox<()>>;

/// Since 1.7: receives a JSON document (its schema is the calling method's); called exactly
/// once.
#[sabi_trait]
pub trait DocumentReply: Send {
    #[sabi(last_prefix_field)]
    /// Delivers the result.
    fn reply(self, result: RResult<RString, ProviderError>);
}
/// A boxed [`DocumentReply`], as the contract passes it.
pub type DocumentReplyBox = DocumentReply_TO<'static, RBox<()>>;

/// The host's side of a stream. Called from the plugin's runtime threads, one call at a time
/// per stream, so it must not block for long.
#[sabi_trait]
pub trait EventSink: Send {
    /// Takes one event, in order; the answer says whether to go on.
    fn on_event(&mut self, event: &StreamEvent<'_>) -> SinkFlow;
    /// Called exactly once, after the last event.
    #[sabi(last_prefix_field)]
    fn on_end(&mut self, end: StreamEnd);

    /// Since 1.5: an event of a kind [`StreamEvent`] cannot carry, named by `kind` (one of
    /// [`extension_kinds`], or a kind a later minor registers), with its data as a JSON
    /// document. It is ordered with `on_event` calls and never comes after `on_end`. A host
    /// built before 1.5 has no such method: the plugin's call then runs this default body,
    /// so the event is skipped and the stream goes on.
    fn on_extension(&mut self, kind: RStr<'_>, data_json: RStr<'_>) -> SinkFlow {
        let _ = (kind, data_json);
        SinkFlow::Continue
    }

    /// Since 1.6: the plugin hands the sink, once, before the first event, the waker that
    /// resumes the stream after [`EventSink::ready`] said no. A host built before 1.6 has no
    /// such method: the default body drops the waker.
    fn set_waker(&mut self, waker: StreamWakerBox) {
        drop(waker);
    }

    /// Since 1.6: backpressure. The plugin asks after delivering events whether the host
    /// takes more now; on `false` it stops reading from the service (so the service's flow
    /// control slows it) until the host calls the waker from [`EventSink::set_waker`], then
    /// asks again. A host that queues events for another thread says `false` while its queue
    /// is long. A host built before 1.6 has no such method: the default body always takes
    /// more, as every stream did before.
    fn ready(&mut self) -> bool {
        true
    }
}

/// Since 1.6: resumes a stream the host paused (see [`EventSink::ready`]). Callable from any
/// thread, any number of times; a call while the stream is not paused is remembered for its
/// next pause.
#[sabi_trait]
pub trait StreamWaker: Send + Sync {
    /// The host takes events again.
    #[sabi(last_prefix_field)]
    fn wake(&self);
}
/// A boxed [`StreamWaker`], as the contract passes it.
pub type StreamWakerBox = StreamWaker_TO<'static, RBox<()>>;
/// A boxed [`EventSink`], as the contract passes it.
pub type EventSinkBox = EventSink_TO<'static, RBox<()>>;

/// The host's handle on a running stream.
#[sabi_trait]
pub trait StreamControl: Send + Sync {
    /// Ends the stream promptly from any thread; the sink then gets `on_end` with `cancelled`.
    #[sabi(last_prefix_field)]
    fn cancel(&self);
}
/// A boxed [`StreamControl`], as the contract passes it.
pub type StreamControlBox = StreamControl_TO<'static, RBox<()>>;

/// A configured provider. Calls never block the caller on the network: results arrive through
/// callbacks on the plugin's own runtime.
#[sabi_trait]
pub trait Provider: Send + Sync {
    /// What the plugin is (the same as the root module's `metadata`).
    fn metadata(&self) -> ProviderMetadata;

    /// Lists invocable models (configured and discovered).
    fn list_models(&self, reply: ModelsReplyBox);

    /// Starts a streaming conversation. `request_json` is a [`crate::ConverseRequest`]
    /// document; a bad request is rejected here, before any network call.
    #[sabi(last_prefix_field)]
    fn converse_stream(
        &self,
        request_json: RStr<'_>,
        sink: EventSinkBox,
    ) -> RResult<StreamControlBox, ProviderError>;

    /// Since 1.1: how the provider authenticates and whether an authenticated call succeeds.
    /// Plugins built against 1.0 answer with the default below.
    fn auth_status(&self, reply: AuthStatusReplyBox) {
        reply.reply(RResult::RErr(ProviderError::new(
            "unsupported",
            "this plugin was built against contract 1.0 and cannot report its authentication",
            false,
        )));
    }

    /// Since 1.2: non-fatal problems the provider found in the configuration document (unknown
    /// keys with the nearest known key, ...), one readable line each, naming the key path and
    /// position. Hosts should show them to the user once, after `new_provider`. Plugins built
    /// against 1.0 or 1.1 report none.
    fn config_warnings(&self) -> RVec<RString> {
        RVec::new()
    }

    /// Since 1.3: non-fatal problems met by recent calls, oldest first, each returned once
    /// (for example: discovery could not list inference profiles, so profile-only models are
    /// missing from the list). Hosts should show them after the call that caused them.
    /// Plugins built against earlier versions report none.
    fn take_notices(&self) -> RVec<RString> {
        RVec::new()
    }

    /// Since 1.5: how many input tokens `request_json` (a [`crate::ConverseRequest`]
    /// document) would cost the model it names, counted by the provider without running the
    /// model. A bad request is answered with an error before any network call. Plugins built
    /// before 1.5 answer `unsupported`.
    fn count_tokens(&self, request_json: RStr<'_>, reply: TokenCountReplyBox) {
        let _ = request_json;
        reply.reply(RResult::RErr(ProviderError::new(
            "unsupported",
            "this plugin was built before contract 1.5 and cannot count tokens",
            false,
        )));
    }

    /// Since 1.7: embeds the inputs of `request_json` (a [`crate::EmbeddingRequest`]
    /// document), one vector per input in order. A bad request (a model that does not embed,
    /// dimensions or an encoding the model does not offer, an input too long) is answered
    /// with an error before any network call. Plugins built before 1.7 answer `unsupported`.
    fn embed(&self, request_json: RStr<'_>, reply: EmbeddingsReplyBox) {
        let _ = request_json;
        reply.reply(RResult::RErr(ProviderError::new(
            "unsupported",
            "this plugin was built before contract 1.7 and cannot embed: upgrade the plugin",
            false,
        )));
    }

    /// Since 1.7: the models that embed, as a JSON array of [`crate::EmbeddingModel`]
    /// documents. Plugins built before 1.7 answer `unsupported`.
    fn list_embedding_models(&self, reply: DocumentReplyBox) {
        reply.reply(RResult::RErr(ProviderError::new(
            "unsupported",
            "this plugin was built before contract 1.7 and has no embedding models: upgrade the plugin",
            false,
        )));
    }

    /// Since 1.8: where the provider's knowledge of each model it lists comes from (which
    /// table, checked when, or the configuration), as a JSON array of
    /// [`crate::ModelProvenance`] documents in the model list's order. Plugins built before
    /// 1.8 answer `unsupported`.
    fn model_provenance(&self, reply: DocumentReplyBox) {
        reply.reply(RResult::RErr(ProviderError::new(
            "unsupported",
            "this plugin was built before contract 1.8 and does not say where its model facts come from: upgrade the plugin",
            false,
        )));
    }
}
/// A boxed [`Provider`], as the contract passes it.
pub type ProviderBox = Provider_TO<'static, RBox<()>>;
