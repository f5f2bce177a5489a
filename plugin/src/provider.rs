//! The Bedrock provider behind the contract's `Provider` trait: owns the configuration, builds
//! the SDK clients on first use, and runs every call as a task on the plugin's runtime.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{RResult, RStr};
use abi_stable::std_types::{RString, RVec, Tuple2};
use aws_sdk_bedrockruntime::types::{ConverseTokensRequest, CountTokensInput};
use futures::FutureExt;
use host_sdk::contract::{
    AuthStatusReplyBox, DocumentReplyBox, EmbeddingVectors, EmbeddingsReplyBox, EventSinkBox,
    ModelsReplyBox, Provider, ProviderMetadata, StreamControlBox, StreamControl_TO,
    TokenCountReplyBox,
};
use host_sdk::plugin::panic_error;
use host_sdk::{
    AuthStatus, ConverseRequest, EmbeddingModel, EmbeddingRequest, ErrorKind, ModelInfo,
    ModelProvenance, ModelSource, ProviderError,
};
use tokio::sync::OnceCell;

use crate::clients::{Clients, Target};
use crate::config::{PluginConfig, StreamSettings};
use crate::credentials::{process_env, CredentialSource};
use crate::discovery::{self, DiscoveryCache};
use crate::embeddings;
use crate::errors::{error, from_sdk_error, invalid_request, CallContext};
use crate::model_facts::{Api, ModelTable};
use crate::runtime::RuntimeLease;
use crate::stream::{self, StreamJob};
use crate::translate;

pub struct BedrockProvider {
    inner: Arc<Inner>,
}

struct Inner {
    config: PluginConfig,
    settings: StreamSettings,
    target: Target,
    configured: Vec<ModelInfo>,
    /// The model knowledge: the embedded table, under the user's `modelTable` if any.
    facts: Arc<ModelTable>,
    clients: OnceCell<Arc<Clients>>,
    /// Non-fatal problems of recent calls, until the host takes them.
    notices: Mutex<Vec<String>>,
    /// The foundation model behind each application inference profile seen so far (from
    /// discovery or GetInferenceProfile), by ARN.
    bases: Mutex<HashMap<String, String>>,
    /// Keeps the plugin's runtime running while this provider, or a task of it, lives.
    runtime: RuntimeLease,
}

/// The marker of an application inference profile's ARN: its id says nothing of the model.
const APPLICATION_PROFILE: &str = ":application-inference-profile/";

impl BedrockProvider {
    /// Parses and checks the configuration; no I/O happens here.
    pub fn new(config_text: &str) -> Result<Self, ProviderError> {
        let config = PluginConfig::parse(config_text)?;
        let mut target = Target::resolve(&config);
        target.extra_ca_pem = crate::trust::extra_ca_pem(&config)?;
        let facts = crate::model_table_file::for_config(&config)?;
        tracing::debug!(
            source = %target.source.describe(),
            endpoint = ?target.runtime_endpoint,
            "Bedrock provider configured"
        );
        Ok(Self {
            inner: Arc::new(Inner {
                settings: StreamSettings::from_entry(&config.provider),
                configured: discovery::configured_models(&config, &facts),
                facts,
                target,
                config,
                clients: OnceCell::new(),
                notices: Mutex::default(),
                bases: Mutex::default(),
                runtime: RuntimeLease::acquire(),
            }),
        })
    }

    /// Checks and translates the request here, on the caller's thread (bad input never
    /// reaches the network), then runs the stream as a task.
    fn start_stream(
        &self,
        request_json: &str,
        sink: EventSinkBox,
    ) -> Result<StreamControlBox, ProviderError> {
        let request = parse_request(request_json)?;
        let (control, cancel) = stream::cancellation();
        let inner = self.inner.clone();
        let control = StreamControl_TO::from_value(control, TD_Opaque);
        let Some(base) = inner.known_base(&request.model) else {
            // An application profile nobody has described yet: GetInferenceProfile says which
            // model it runs, then the request is checked for that model (still before any
            // ConverseStream call).
            self.inner.runtime.spawn(async move {
                let call = match inner.resolve_base(&request.model).await {
                    Ok(base) => inner.prepare(&request, &base),
                    Err(e) => Err(e),
                };
                match call {
                    Ok(call) => inner.run_stream(call, sink, cancel).await,
                    Err(e) => stream::refuse(sink, e),
                }
            });
            return Ok(control);
        };
        let call = inner.prepare(&request, &base)?;
        self.inner
            .runtime
            .spawn(async move { inner.run_stream(call, sink, cancel).await });
        Ok(control)
    }
}

fn parse_request(request_json: &str) -> Result<ConverseRequest, ProviderError> {
    serde_json::from_str(request_json)
        .map_err(|e| invalid_request(format!("the request document is not valid: {e}")))
}

impl Inner {
    /// The request checked and translated for the API its model answers on (the notices of
    /// what could not be sent as asked go to the host).
    fn prepare(
        &self,
        request: &ConverseRequest,
        base: &str,
    ) -> Result<translate::Call, ProviderError> {
        let call = translate::prepare_call(
            request,
            base,
            &self.facts,
            self.api_for(&request.model, base),
        )?;
        for notice in call.notices() {
            self.notice(notice.clone());
        }
        Ok(call)
    }

    /// The API `model` is called through: its configured entry's `api`, else the model
    /// table's, else Converse.
    fn api_for(&self, model: &str, base: &str) -> Api {
        self.config
            .provider
            .models
            .iter()
            .find(|m| m.id == model)
            .and_then(|m| m.api.as_deref())
            .and_then(Api::from_config_name)
            .or_else(|| self.facts.lookup(base).map(|f| f.api))
            .unwrap_or(Api::Converse)
    }

    async fn run_stream(
        self: Arc<Self>,
        call: translate::Call,
        sink: EventSinkBox,
        cancel: stream::CancelSignal,
    ) {
        let job = StreamJob {
            clients: self.clients().await,
            cost: crate::pricing::Pricing::for_model(
                call.model_id(),
                call.base_model(),
                self.cost_of(call.model_id()),
                &self.facts,
            ),
            call,
            settings: self.settings,
            sink,
            cancel,
            resume: Default::default(),
        };
        stream::run(job).await;
    }

    /// The foundation model whose rules apply to `model`, when known without a call: a
    /// configured entry's `baseModel`, the id itself (a model or system profile id), or what
    /// discovery or an earlier lookup found for an application profile. `None` for an
    /// application profile not seen yet.
    fn known_base(&self, model: &str) -> Option<String> {
        if let Some(entry) = self
            .configured
            .iter()
            .find(|m| m.id.as_str() == model && !m.base_model_id.is_empty())
        {
            return Some(entry.base_model_id.to_string());
        }
        if !model.contains(APPLICATION_PROFILE) {
            return Some(crate::model_facts::base_model_id(model).to_string());
        }
        self.bases
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(model)
            .cloned()
    }

    /// The foundation model behind an application profile, asked of the service once.
    async fn resolve_base(&self, model: &str) -> Result<String, ProviderError> {
        if let Some(base) = self.known_base(model) {
            return Ok(base);
        }
        let clients = self.clients().await;
        if let Some(e) = clients.known_credential_error() {
            return Err(e);
        }
        let source = clients.target.source.describe();
        let ctx = CallContext {
            operation: "GetInferenceProfile",
            model_id: Some(model),
            credential_source: &source,
            region: &clients.target.region,
        };
        let profile = clients
            .control
            .get_inference_profile()
            .inference_profile_identifier(model)
            .send()
            .await
            .map_err(|e| from_sdk_error(&e, &ctx))?;
        let base = profile
            .models()
            .first()
            .and_then(|m| m.model_arn())
            .map(discovery::model_id_of_arn)
            .ok_or_else(|| {
                invalid_request(format!(
                    "the application inference profile `{model}` names no model: check it in the Bedrock console, or set `baseModel` on its entry in models.providers.\"amazon-bedrock\".models"
                ))
            })?
            .to_string();
        self.remember_base(model, &base);
        Ok(base)
    }

    fn remember_base(&self, model: &str, base: &str) {
        self.bases
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(model.to_string(), base.to_string());
    }

    /// CountTokens for a prepared request: the conversation, system and tools as the stream
    /// would send them, counted for the foundation model (a profile id counts as its model).
    async fn count_tokens(&self, prepared: translate::Prepared) -> Result<u64, ProviderError> {
        let clients = self.clients().await;
        if let Some(e) = clients.known_credential_error() {
            return Err(e);
        }
        let model_id = self.resolve_base(&prepared.model_id).await?;
        let input = CountTokensInput::Converse(
            ConverseTokensRequest::builder()
                .set_messages(Some(prepared.messages))
                .set_system((!prepared.system.is_empty()).then_some(prepared.system))
                .set_tool_config(prepared.tool_config)
                .set_additional_model_request_fields(prepared.additional_fields)
                .build(),
        );
        let source = clients.target.source.describe();
        let ctx = CallContext {
            operation: "CountTokens",
            model_id: Some(&model_id),
            credential_source: &source,
            region: &clients.target.region,
        };
        let out = clients
            .runtime
            .count_tokens()
            .model_id(&model_id)
            .input(input)
            .send()
            .await
            .map_err(|e| from_sdk_error(&e, &ctx))?;
        Ok(out.input_tokens().max(0) as u64)
    }

    async fn clients(&self) -> Arc<Clients> {
        self.clients
            .get_or_init(|| async { Arc::new(Clients::build(self.target.clone()).await) })
            .await
            .clone()
    }

    /// Where the facts of a listed model come from: the table row that describes its
    /// foundation model, and whether the configuration declares it.
    fn provenance(&self, m: &ModelInfo) -> ModelProvenance {
        let base = match m.base_model_id.as_str() {
            "" => m.id.as_str(),
            base => base,
        };
        let row = self.facts.lookup(base);
        ModelProvenance {
            id: m.id.to_string(),
            table: row.map(|r| r.origin.table.clone()),
            checked: row.map(|r| r.origin.checked.clone()),
            row: row.map(|r| r.id.clone()),
            configured: m.source == ModelSource::Configured,
            api: Some(self.api_for(&m.id, base).name().to_string()),
        }
    }

    async fn models(&self) -> Result<Vec<ModelInfo>, ProviderError> {
        let clients = self.clients().await;
        let d = &self.config.discovery;
        let enabled = match d.enabled {
            Some(enabled) => enabled,
            None => clients.credentials_present().await,
        };
        if !enabled {
            if d.enabled.is_none() && self.configured.is_empty() {
                return Err(error(
                    ErrorKind::NoCredentials,
                    format!(
                        "no AWS credentials were found ({}{}), so models cannot be discovered and none are configured: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE, or AWS_BEARER_TOKEN_BEDROCK), run with an instance or container role, or list models under models.providers.\"amazon-bedrock\".models",
                        clients.target.source.describe(),
                        clients
                            .chain_error
                            .as_deref()
                            .map(|e| format!(": {e}"))
                            .unwrap_or_default()
                    ),
                ));
            }
            return Ok(self.configured.clone());
        }
        let ttl = Duration::from_secs(d.refresh_interval);
        let key = discovery::cache_key(&clients, d, &self.facts);
        let discovered = DiscoveryCache::global()
            .get_or_fetch(key, ttl, || discovery::discover(&clients, d, &self.facts))
            .await?;
        if let Some(notice) = discovered.degraded {
            self.notice(notice);
        }
        for m in &discovered.models {
            if m.id.contains(APPLICATION_PROFILE) {
                self.remember_base(&m.id, &m.base_model_id);
            }
        }
        Ok(discovery::merge(self.configured.clone(), discovered.models))
    }

    /// The embedding models of the table; with discovery, only those the account's region
    /// lists as active (ListFoundationModels, `byOutputModality: EMBEDDING`).
    async fn embedding_models(&self) -> Result<Vec<EmbeddingModel>, ProviderError> {
        let known = embeddings::table::all().iter().map(|e| e.model.clone());
        let clients = self.clients().await;
        let enabled = match self.config.discovery.enabled {
            Some(enabled) => enabled,
            None => clients.credentials_present().await,
        };
        if !enabled {
            return Ok(known.collect());
        }
        if let Some(e) = clients.known_credential_error() {
            return Err(e);
        }
        let source = clients.target.source.describe();
        let ctx = CallContext {
            operation: "ListFoundationModels",
            model_id: None,
            credential_source: &source,
            region: &clients.target.discovery_region,
        };
        let listed = clients
            .control
            .list_foundation_models()
            .by_output_modality(aws_sdk_bedrock::types::ModelModality::Embedding)
            .send()
            .await
            .map_err(|e| from_sdk_error(&e, &ctx))?;
        let active: Vec<&str> = listed
            .model_summaries()
            .iter()
            .filter(|m| {
                m.model_lifecycle().is_some_and(|l| {
                    l.status() == &aws_sdk_bedrock::types::FoundationModelLifecycleStatus::Active
                })
            })
            .map(|m| m.model_id())
            .collect();
        Ok(known.filter(|m| active.contains(&m.id.as_str())).collect())
    }

    async fn embed(&self, planned: embeddings::Planned) -> Result<EmbeddingVectors, ProviderError> {
        let clients = self.clients().await;
        let embedded = embeddings::run(&clients, &self.settings, &planned).await?;
        Ok(EmbeddingVectors {
            values: embedded.values.into(),
            dimensions: embedded.dimensions,
            details_json: serde_json::to_string(&embedded.details)
                .unwrap_or_default()
                .into(),
        })
    }

    fn notice(&self, notice: String) {
        let mut notices = self.notices.lock().unwrap_or_else(|p| p.into_inner());
        // Bounded: a host that never asks must not make the plugin grow.
        if notices.len() < 32 && !notices.contains(&notice) {
            notices.push(notice);
        }
    }

    async fn auth_status(&self) -> Result<AuthStatus, ProviderError> {
        let clients = self.clients().await;
        let t = &clients.target;
        let mut details = credential_details(&clients).await;
        for w in &self.config.warnings {
            details.push(("config warning".into(), w.clone()));
        }
        let check = check_credentials(&clients).await;
        Ok(AuthStatus {
            source: t.source.label().into(),
            region: t.region.as_str().into(),
            endpoint: t
                .runtime_endpoint
                .clone()
                .unwrap_or_else(|| format!("https://bedrock-runtime.{}.amazonaws.com", t.region))
                .into(),
            details: details
                .into_iter()
                .map(|(k, v)| Tuple2(RString::from(k), RString::from(v)))
                .collect::<RVec<_>>(),
            check: check.map(RString::from).into(),
        })
    }

    fn cost_of(&self, model_id: &str) -> Option<host_sdk::ModelCost> {
        self.configured
            .iter()
            .find(|m| m.id.as_str() == model_id)
            .map(|m| m.cost)
    }
}

/// What `auth status` shows of the credentials: where they come from, the regions and
/// endpoints, what they shadow, and what is known of the keys (never a secret).
async fn credential_details(clients: &Clients) -> Vec<(String, String)> {
    let t = &clients.target;
    let mut details: Vec<(String, String)> = vec![
        ("credentials".into(), t.source.describe()),
        ("runtime region".into(), t.region.clone()),
        ("discovery region".into(), t.discovery_region.clone()),
        (
            "control endpoint".into(),
            t.control_endpoint
                .clone()
                .unwrap_or_else(|| format!("https://bedrock.{}.amazonaws.com", t.discovery_region)),
        ),
    ];
    for ignored in t.source.shadowed(process_env) {
        details.push((
            "ignored".into(),
            format!(
                "{ignored} is also set, but {} comes first",
                t.source.label()
            ),
        ));
    }
    match &t.source {
        CredentialSource::BearerToken => details.push((
            "bearer token".into(),
            "set (not shown); Bedrock API keys are valid only in the region that issued them"
                .into(),
        )),
        CredentialSource::DefaultChain => {}
        _ => match clients.credential_facts().await {
            Ok(facts) => {
                details.push(("access key id".into(), facts.masked_access_key_id));
                let temporary = if facts.session_token {
                    "yes (session token)"
                } else {
                    "no"
                };
                details.push(("temporary".into(), temporary.into()));
                if let Some(expiry) = facts.expiry {
                    details.push(("expires".into(), describe_expiry(expiry)));
                }
            }
            Err(why) => details.push(("credentials error".into(), why)),
        },
    }
    if let Some(why) = &clients.chain_error {
        let label = match t.source {
            CredentialSource::Profile(_) => "profile",
            _ => "default chain",
        };
        details.push((label.into(), why.clone()));
    }
    details
}

/// Whether the credentials work: a known failure, none found, or one ListFoundationModels
/// call in the discovery region.
async fn check_credentials(clients: &Clients) -> Result<String, ProviderError> {
    let t = &clients.target;
    if let Some(e) = clients.known_credential_error() {
        return Err(e);
    }
    if t.source == CredentialSource::DefaultChain {
        return Err(error(
            ErrorKind::NoCredentials,
            format!(
                "no AWS credentials were found: {}{}",
                t.source.describe(),
                clients
                    .chain_error
                    .as_deref()
                    .map(|e| format!(" ({e})"))
                    .unwrap_or_default()
            ),
        ));
    }
    let source = t.source.describe();
    let ctx = CallContext {
        operation: "ListFoundationModels",
        model_id: None,
        credential_source: &source,
        region: &t.discovery_region,
    };
    match clients.control.list_foundation_models().send().await {
        Ok(out) => Ok(format!(
            "ListFoundationModels succeeded in {} ({} foundation models visible)",
            t.discovery_region,
            out.model_summaries().len()
        )),
        Err(e) => Err(from_sdk_error(&e, &ctx)),
    }
}

impl Provider for BedrockProvider {
    fn metadata(&self) -> ProviderMetadata {
        crate::metadata()
    }

    fn list_models(&self, reply: ModelsReplyBox) {
        let inner = self.inner.clone();
        self.inner.runtime.spawn(async move {
            let result = AssertUnwindSafe(inner.models())
                .catch_unwind()
                .await
                .unwrap_or_else(|p| Err(panic_error("list_models", p.as_ref())));
            reply.reply(result.map(Into::into).into());
        });
    }

    fn auth_status(&self, reply: AuthStatusReplyBox) {
        let inner = self.inner.clone();
        self.inner.runtime.spawn(async move {
            let result = AssertUnwindSafe(inner.auth_status())
                .catch_unwind()
                .await
                .unwrap_or_else(|p| Err(panic_error("auth_status", p.as_ref())));
            reply.reply(result.into());
        });
    }

    fn config_warnings(&self) -> RVec<RString> {
        self.inner
            .config
            .warnings
            .iter()
            .map(|w| RString::from(w.as_str()))
            .collect()
    }

    fn take_notices(&self) -> RVec<RString> {
        let mut notices = self.inner.notices.lock().unwrap_or_else(|p| p.into_inner());
        notices.drain(..).map(RString::from).collect()
    }

    fn converse_stream(
        &self,
        request_json: RStr<'_>,
        sink: EventSinkBox,
    ) -> RResult<StreamControlBox, ProviderError> {
        self.start_stream(request_json.as_str(), sink).into()
    }

    fn count_tokens(&self, request_json: RStr<'_>, reply: TokenCountReplyBox) {
        // Checked on the caller's thread, like a stream: bad input never reaches the network.
        let request = match parse_request(request_json.as_str()) {
            Ok(request) => request,
            Err(e) => return reply.reply(RResult::RErr(e)),
        };
        let inner = self.inner.clone();
        if let Some(base) = inner.known_base(&request.model) {
            if let Err(e) = translate::prepare(&request, &base, &inner.facts) {
                return reply.reply(RResult::RErr(e));
            }
        }
        self.inner.runtime.spawn(async move {
            let counted = async {
                let base = inner.resolve_base(&request.model).await?;
                inner
                    .count_tokens(translate::prepare(&request, &base, &inner.facts)?)
                    .await
            };
            let result = AssertUnwindSafe(counted)
                .catch_unwind()
                .await
                .unwrap_or_else(|p| Err(panic_error("count_tokens", p.as_ref())));
            reply.reply(result.into());
        });
    }

    fn embed(&self, request_json: RStr<'_>, reply: EmbeddingsReplyBox) {
        self.start_embed(request_json.as_str(), reply);
    }

    fn model_provenance(&self, reply: DocumentReplyBox) {
        let inner = self.inner.clone();
        self.inner.runtime.spawn(async move {
            let result = AssertUnwindSafe(inner.models())
                .catch_unwind()
                .await
                .unwrap_or_else(|p| Err(panic_error("model_provenance", p.as_ref())))
                .map(|models| {
                    let origins: Vec<_> = models.iter().map(|m| inner.provenance(m)).collect();
                    RString::from(serde_json::to_string(&origins).unwrap_or_default())
                });
            reply.reply(result.into());
        });
    }

    fn list_embedding_models(&self, reply: DocumentReplyBox) {
        let inner = self.inner.clone();
        self.inner.runtime.spawn(async move {
            let result = AssertUnwindSafe(inner.embedding_models())
                .catch_unwind()
                .await
                .unwrap_or_else(|p| Err(panic_error("list_embedding_models", p.as_ref())))
                .map(|models| RString::from(serde_json::to_string(&models).unwrap_or_default()));
            reply.reply(result.into());
        });
    }
}

impl BedrockProvider {
    fn start_embed(&self, request_json: &str, reply: EmbeddingsReplyBox) {
        // Checked on the caller's thread: bad input never reaches the network.
        let planned = serde_json::from_str::<EmbeddingRequest>(request_json)
            .map_err(|e| invalid_request(format!("the embedding request is not valid: {e}")))
            .and_then(embeddings::plan);
        let planned = match planned {
            Ok(planned) => planned,
            Err(e) => return reply.reply(RResult::RErr(e)),
        };
        let inner = self.inner.clone();
        self.inner.runtime.spawn(async move {
            let result = AssertUnwindSafe(inner.embed(planned))
                .catch_unwind()
                .await
                .unwrap_or_else(|p| Err(panic_error("embed", p.as_ref())));
            reply.reply(result.into());
        });
    }
}

/// `2026-11-25T10:00:00Z (in 42 min)` or `... (expired 3 min ago)`.
fn describe_expiry(expiry: std::time::SystemTime) -> String {
    let at = aws_smithy_types::DateTime::from(expiry)
        .fmt(aws_smithy_types::date_time::Format::DateTime)
        .unwrap_or_else(|_| "?".into());
    match expiry.duration_since(std::time::SystemTime::now()) {
        Ok(left) => format!("{at} (in {} min)", left.as_secs() / 60),
        Err(e) => format!("{at} (expired {} min ago)", e.duration().as_secs() / 60),
    }
}
