//! A local Amazon Bedrock-compatible endpoint for tests and demos.
//!
//! One loopback HTTP server speaks both Bedrock APIs (routing by path): the control plane
//! (`GET /foundation-models`, `GET /foundation-models/{id}`, `GET /inference-profiles`,
//! `GET /inference-profiles/{id}`) and the runtime (`POST /model/{modelId}/converse`,
//! `POST /model/{modelId}/converse-stream`, `POST /model/{modelId}/count-tokens`),
//! faithfully enough that botocore and the AWS Rust SDK work against it unmodified:
//! restJson1 bodies, `application/vnd.amazon.eventstream` frames (written with
//! `aws-smithy-eventstream`, with the `p` padding field the service adds), errors with
//! `x-amzn-ErrorType`/`x-amzn-RequestId`, and SigV4 verified for real with `aws-sigv4`
//! (signing name `bedrock`) or a Bedrock API key as `Authorization: Bearer`.
//!
//! It speaks HTTP/1.1 and HTTP/2 (prior knowledge), and with [`EmulatorConfig::tls`]
//! (`emulator --tls --ca-cert-out ca.pem`) HTTPS with ALPN `h2` and `http/1.1`, on a
//! certificate for `127.0.0.1` and `localhost` signed by a CA made at start
//! ([`RunningEmulator::ca_pem`]): clients trust that CA as they would a corporate one.
//!
//! Streamed answers arrive as Bedrock's do: after a short pause, paced, and written cut at
//! random byte boundaries, from a seeded RNG (`--seed`, [`pacing::Delivery::Paced`]) so that
//! a failure replays; `--fast` ([`pacing::Delivery::Fast`]) sends them at once, for
//! benchmarks.
//!
//! ```no_run
//! # async fn demo() -> Result<(), emulator::StartError> {
//! let emu = emulator::Emulator::start(emulator::EmulatorConfig::default()).await?;
//! println!("endpoint_url = {}", emu.url());
//! # Ok(()) }
//! ```
//!
//! Prompt caching is counted as Bedrock counts it ([`prompt_cache`]): the prefix up to the
//! last `cachePoint` is written the first time (`cacheWriteInputTokens`, `cacheDetails` by
//! TTL) and read while it lives; prefixes under 1,024 tokens are not cached; scripted usage
//! wins.
//!
//! Citations: a document with `citations: {enabled: true}` (on a model that takes them) is
//! quoted and cited when nothing scripts the text: `citation` deltas after the text in a
//! stream, a `citationsContent` block from Converse.
//!
//! Guardrails: a test defines one with [`RunningEmulator::create_guardrail`] (blocked words
//! and the message shown instead); a request naming it in `guardrailConfig` is assessed as
//! Bedrock does ([`guardrails`]: `guardContent` blocks only when there are some; input, then
//! answer), intervening with `guardrail_intervened` and, with `trace` enabled,
//! `trace.guardrail` in the metadata event.
//!
//! `serviceTier` and `performanceConfig` are checked and echoed back as Bedrock does (in the
//! Converse response and the stream's `metadata` event); request ids are random UUIDs.
//!
//! Bedrock's OpenAI-compatible Responses API ([`openai`]): `POST /openai/v1/responses` and
//! `/v1/responses` as Mantle serves them (SigV4 for `bedrock-mantle`, or the API key;
//! streamed as OpenAI's server-sent events) and as bedrock-runtime serves the first
//! (SigV4 for `bedrock`, whole responses only), for the models [`openai::models`] lists on
//! each route; Converse does not know the Responses-only ones (GPT-5.4, GPT-5.5). Scenarios
//! script these answers too (text, tool calls, usage, `throttleFirst`, `error`, and the
//! `exception`, `cut`, `noMessageStop` and `stall` faults as the stream's `error` event, a
//! cut connection, a missing final event, a pause).
//!
//! InvokeModel and InvokeModelWithResponseStream take Anthropic's own Messages body for its
//! models (checked as Bedrock checks it; streamed as `chunk` events of Anthropic's events),
//! Nova's own body (Converse's shape without documents, its settings in either guide's
//! spelling; `nova_native.rs`), the prompt bodies of Titan Text, Llama and Mistral, and the embedding models' bodies; ApplyGuardrail assesses content with a guardrail a test
//! defined, on its own.
//!
//! StartAsyncInvoke, GetAsyncInvoke and ListAsyncInvokes run video generation jobs for Nova
//! Reel (its input checked as Bedrock checks it; a job completes after
//! `async_jobs::RUN_TIME`, one second, and writes nothing to S3). InvokeGuardrailChecks
//! assesses messages with inline checks, deterministically (`guardrail_checks.rs` says which
//! words, phrases and entity types it finds).
//!
//! InvokeModelWithBidirectionalStream (Nova Sonic's speech sessions over HTTP/2) is not
//! served: it answers `UnknownOperationException`.
//!
//! Chat Completions too (`/openai/v1/chat/completions` on both hosts, `/v1/chat/completions`
//! on Mantle), for gpt-oss, whole or as `chat.completion.chunk` events.
//!
//! Not implemented yet (they answer `UnknownOperationException`): CreateInferenceProfile
//! (tests create
//! application inference profiles with [`RunningEmulator::create_application_profile`];
//! they are listed, described and invocable through their ARN).
//!
//! # Reasoning
//!
//! A request that asks for reasoning the model takes gets it without any script, in the
//! model's style and Bedrock's order: Anthropic's `thinking` (enabled or adaptive) a signed
//! reasoning block before the answer (redacted blocks when the prompt holds
//! [`answer::REDACTED_THINKING_TRIGGER`], as with Anthropic's own trigger string), Nova 2's
//! `reasoningConfig` an unsigned one, gpt-oss an empty text block then reasoning (as Bedrock
//! sends it), and the models that always reason (DeepSeek-R1, Kimi K2 Thinking, ...) theirs.
//! A configuration the model does not take is refused ([`model_rules`], [`validate`]).
//!
//! # Scripting the model
//!
//! Without a script the model is a polite echo: it answers
//! `You said: <last user text>. (This is the local Bedrock emulator; no AWS account was used.)`
//! in small deltas. To get exactly the response a test needs, give a **scenario**: a JSON
//! object (camelCase keys, unknown keys rejected) found, first match wins, in
//!
//! 1. the last user message: a text block whose text begins with `EMULATOR_SCENARIO `
//!    followed by the JSON object (text after the object is ignored, and the block is never
//!    echoed);
//! 2. `requestMetadata["emulator-scenario"]`: the JSON object as a string (the one value
//!    exempt from Bedrock's `requestMetadata` pattern, which the emulator otherwise enforces);
//! 3. [`RunningEmulator::set_scenario`]`(model_id, Scenario)`: registered for the model id
//!    as sent in the path (percent-decoded) or for the base model id behind it.
//!
//! All fields are optional:
//!
//! | field | meaning |
//! |---|---|
//! | `text` | exact answer text |
//! | `textLength` | deterministic filler text of that many characters (if no `text`) |
//! | `deltaSize` | characters per text delta, default 6; never splits a UTF-8 character |
//! | `reasoning` | `{text, signature?, deltaSize?}`: reasoning block 0 (text deltas, then one signature delta) |
//! | `redactedReasoning` | `["base64", ...]`: one redacted reasoning block each |
//! | `serverToolCalls` | `[{name, input, result, id?}]`: tools the service runs itself (`nova_code_interpreter`, `nova_grounding`; the request must declare each as a `systemTool`, on Nova 2): a `toolUse` block of type `server_tool_use`, then a `toolResult` block (type `<name>_result`) whose delta carries `[{json: result}]`; client tool blocks then carry `type: tool_use` and usage `serverToolUsage`, as Bedrock sends them |
//! | `toolCalls` | `[{name, input, id?, fragmentSize?}]`: toolUse blocks after the text; the input JSON is sent in one fragment, or (with `fragmentSize`) as `""` followed by fragments of that many characters split mid-token, as Claude does; the default id is `tooluse_emulator...` |
//! | `stopReason` | default `end_turn`, or `tool_use` with tool calls; any string passes through |
//! | `usage` | `{inputTokens, outputTokens, cacheReadInputTokens, cacheWriteInputTokens}`; missing counts are derived from the request/answer sizes; cache counts are only reported when given, with the service's `...TokenCount` twins; `totalTokens` = input + output + cache read + cache write, as the service computes it |
//! | `latencyMs` | `metrics.latencyMs` (default 120 + the scripted delays) |
//! | `firstByteDelayMs` | delay before the response starts |
//! | `eventDelayMs` | delay between stream events |
//! | `fault` | `{kind:"exception", afterEvents, exception, message?, originalStatusCode?, originalMessage?}`: an exception frame (`throttlingException`, `validationException`, `modelStreamErrorException` (with what the model itself answered), `internalServerException`, `serviceUnavailableException`) after N events; `{kind:"cut", afterEvents}`: connection closed in the middle of frame N; `{kind:"noMessageStop"}`: clean end without `messageStop`/`metadata`; `{kind:"stall", afterEvents, ms}`: pause before event N. On Converse an exception becomes the matching HTTP error, a cut truncates the JSON body |
//! | `throttleFirst` | the first N requests carrying this same scenario (keyed by its canonical JSON) get HTTP 429 `ThrottlingException`, later ones succeed |
//! | `error` | `{type, status?, message?}`: this error response instead of an answer |
//! | `image` | `{format, data?, error?}`: an image the model makes, after the text: `contentBlockStart.image` then its bytes (base64 `data`) in `contentBlockDelta.image` pieces of 16 KiB, or an `ErrorBlock` with `error`; in Converse's answer an `image` block |
//! | `servedTier` | string: the service tier Bedrock reports having served the request at (`serviceTier.type`), when it is not the one asked for (a `flex` request served at `default`); otherwise the asked tier is echoed |
//!
//! Example user text:
//! `EMULATOR_SCENARIO {"text":"Hi!","deltaSize":2,"fault":{"kind":"exception","afterEvents":3,"exception":"throttlingException"}}`
//!
//! # Credential endpoints
//!
//! [`credential_endpoints`] serves, on a second loopback server, look-alikes of the places
//! the AWS SDK default chain gets temporary credentials from: an IMDSv2 instance metadata
//! service, a container credentials endpoint and STS `AssumeRoleWithWebIdentity`, so instance
//! roles, container roles and web identity can be tested end to end. A Bedrock emulator built
//! with [`EmulatorConfig::with_credentials`] then accepts exactly the calls signed with the
//! credentials they hand out.
//!
//! Real recordings can be replayed byte for byte with [`RunningEmulator::set_raw_response`],
//! and every request is recorded ([`RunningEmulator::requests`]) so tests can assert what a
//! client actually sent.

pub mod answer;
mod anthropic_native;
mod async_invoke;
mod async_jobs;
pub mod auth;
mod body_schema;
pub mod catalogue;
pub mod config;
mod control;
pub mod credential_endpoints;
mod embeddings;
pub mod error;
pub mod events;
pub mod frames;
mod guardrail_checks;
pub mod guardrails;
mod json_http;
pub mod model_rules;
mod nova_native;
pub mod openai;
pub mod pacing;
pub mod process_env;
pub mod prompt_cache;
mod prompt_native;
pub mod recorder;
pub mod routes;
mod runtime;
pub mod scenario;
mod server;
mod state;
pub mod stream_ends;
mod temporary_credentials;
mod tls;
pub mod validate;
mod video_generation;

pub use auth::AuthKind;
pub use config::{
    EmulatorConfig, DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCOUNT_ID, DEFAULT_API_KEY, DEFAULT_HOST,
    DEFAULT_PORT, DEFAULT_REGION, DEFAULT_SECRET_ACCESS_KEY,
};
pub use credential_endpoints::{
    CredentialEndpoints, CredentialEndpointsConfig, CredentialRequest, EndpointKind, ImdsMode,
    RunningCredentialEndpoints, TemporaryCredentials,
};
pub use error::{ApiError, StartError};
pub use recorder::{RawResponse, RecordedRequest};
pub use scenario::{ErrorSpec, Fault, ReasoningSpec, Scenario, ToolCallSpec, UsageSpec};
pub use server::{Emulator, RunningEmulator};
