//! Embeddings through InvokeModel: a request is checked against the model's row of the
//! table ([`table`]) before any network call, split into as many calls as the model needs
//! (one input a call for Titan and Nova, up to 96 texts for Cohere), and the calls run
//! concurrently, each retried and timed like a stream's first attempt. The vectors come back
//! in the request's order, in one allocation.

mod families;
pub mod table;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use aws_sdk_bedrockruntime::primitives::Blob;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeDeserializationInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use futures::{StreamExt, TryStreamExt};
use host_sdk::{
    EmbeddingDetails, EmbeddingEncoding, EmbeddingInput, EmbeddingRequest, ErrorKind, ProviderError,
};

use crate::clients::Clients;
use crate::config::StreamSettings;
use crate::errors::{error, from_sdk_error, invalid_request, CallContext};
use families::Call;
use table::Embedder;

/// How many InvokeModel calls of one batch run at once: enough to hide the round trip,
/// few enough that one large batch does not take every connection (or the account's
/// request quota) for itself.
const CALLS_AT_ONCE: usize = 16;

/// Image formats every multimodal embedding model takes.
const IMAGE_FORMATS: &[&str] = &["png", "jpeg", "gif", "webp"];

/// A request checked against its model: the calls it takes, ready to run.
#[derive(Debug)]
pub struct Planned {
    request: EmbeddingRequest,
    embedder: &'static Embedder,
    dimensions: u32,
    encoding: EmbeddingEncoding,
}

/// Checks `request` against what its model offers; every refusal names what to change.
pub fn plan(request: EmbeddingRequest) -> Result<Planned, ProviderError> {
    let Some(embedder) = table::lookup(&request.model) else {
        let known: Vec<&str> = table::all().iter().map(|e| e.id.as_str()).collect();
        return Err(invalid_request(format!(
            "`{}` is not an embedding model this plugin knows: use one of {}",
            request.model,
            known.join(", ")
        )));
    };
    let model = &embedder.model;
    if request.inputs.is_empty() {
        return Err(invalid_request(
            "the request has no inputs: give at least one text",
        ));
    }
    let dimensions = request.dimensions.unwrap_or(model.default_dimensions);
    if !model.dimensions.contains(&dimensions) {
        return Err(invalid_request(format!(
            "{} does not make {dimensions}-dimension vectors: ask for one of {:?}",
            embedder.id, model.dimensions
        )));
    }
    let encoding = request.encoding.unwrap_or(EmbeddingEncoding::Float);
    if !model.encodings.contains(&encoding) {
        let offered: Vec<&str> = model.encodings.iter().map(|e| e.as_str()).collect();
        return Err(invalid_request(format!(
            "{} does not answer in the `{}` encoding: use one of {}",
            embedder.id,
            encoding.as_str(),
            offered.join(", ")
        )));
    }
    if request.normalize == Some(true) && encoding != EmbeddingEncoding::Float {
        return Err(invalid_request(
            "only float vectors can be normalised: drop `normalize` or ask for the float encoding",
        ));
    }
    for (i, input) in request.inputs.iter().enumerate() {
        match input {
            EmbeddingInput::Text(text) if text.is_empty() => {
                return Err(invalid_request(format!(
                    "input {i} is empty: every text must have at least one character"
                )));
            }
            EmbeddingInput::Text(text) if text.chars().count() as u64 > model.max_input_chars => {
                return Err(invalid_request(format!(
                    "input {i} has {} characters; {} takes at most {}: split it",
                    text.chars().count(),
                    embedder.id,
                    model.max_input_chars
                )));
            }
            EmbeddingInput::Image { .. } if !embedder.takes_images() => {
                return Err(invalid_request(format!(
                    "input {i} is an image, and {} embeds text only: use a multimodal embedding model",
                    embedder.id
                )));
            }
            EmbeddingInput::Image { format, .. } if !IMAGE_FORMATS.contains(&format.as_str()) => {
                return Err(invalid_request(format!(
                    "input {i} is a `{format}` image: use one of {}",
                    IMAGE_FORMATS.join(", ")
                )));
            }
            _ => {}
        }
    }
    Ok(Planned {
        request,
        embedder,
        dimensions,
        encoding,
    })
}

impl Planned {
    /// The batch's calls: runs of texts up to the model's per-call limit; an image alone.
    fn calls(&self) -> Vec<Call<'_>> {
        let per_call = self.embedder.model.max_inputs_per_call.max(1) as usize;
        let inputs = &self.request.inputs;
        let mut calls = Vec::new();
        let mut start = 0;
        while start < inputs.len() {
            let end = if matches!(inputs[start], EmbeddingInput::Image { .. }) {
                start + 1
            } else {
                inputs[start..]
                    .iter()
                    .take(per_call)
                    .take_while(|i| matches!(i, EmbeddingInput::Text(_)))
                    .count()
                    + start
            };
            calls.push(Call {
                family: self.embedder.family,
                inputs: &inputs[start..end],
                dimensions: self.dimensions,
                normalize: self.request.normalize,
                encoding: self.encoding,
                purpose: self.request.purpose,
                truncate: self.request.truncate,
            });
            start = end;
        }
        calls
    }
}

/// The batch's vectors, end to end, and its details.
pub struct Embedded {
    pub values: Vec<f32>,
    pub dimensions: u32,
    pub details: EmbeddingDetails,
}

/// Runs a planned batch.
pub async fn run(
    clients: &Clients,
    settings: &StreamSettings,
    planned: &Planned,
) -> Result<Embedded, ProviderError> {
    if let Some(e) = clients.known_credential_error() {
        return Err(e);
    }
    let calls = planned.calls();
    let width = planned.encoding.values_per_vector(planned.dimensions) as usize;
    let model = planned.request.model.as_str();
    let pending: Vec<_> = calls
        .iter()
        .map(|call| invoke_with_retries(clients, settings, model, call))
        .collect();
    let answers: Vec<(Vec<f32>, u64)> = futures::stream::iter(pending)
        .buffered(CALLS_AT_ONCE)
        .try_collect()
        .await?;
    let mut values = Vec::with_capacity(width * planned.request.inputs.len());
    let mut tokens = 0;
    for (vectors, counted) in answers {
        values.extend(vectors);
        tokens += counted;
    }
    if values.len() != width * planned.request.inputs.len() {
        return Err(error(
            ErrorKind::Internal,
            format!(
                "{} answered {} values for {} inputs of {width} values each",
                planned.request.model,
                values.len(),
                planned.request.inputs.len()
            ),
        ));
    }
    let family = planned.embedder.family;
    let model_normalizes = matches!(family, table::Family::TitanTextV2);
    if planned.request.normalize == Some(true) && !model_normalizes {
        for vector in values.chunks_exact_mut(width.max(1)) {
            normalize(vector);
        }
    }
    let price = planned.embedder.model.usd_per_million_tokens;
    let details = EmbeddingDetails {
        model: planned.request.model.clone(),
        encoding: (planned.encoding != EmbeddingEncoding::Float).then_some(planned.encoding),
        input_tokens: tokens,
        cost_usd: (price > 0.0).then(|| tokens as f64 * price / 1e6),
        calls: calls.len() as u32,
    };
    Ok(Embedded {
        values,
        dimensions: planned.dimensions,
        details,
    })
}

/// Scales a vector to length 1.
fn normalize(vector: &mut [f32]) {
    let length = vector.iter().map(|v| v * v).sum::<f32>().sqrt();
    if length > 0.0 {
        vector.iter_mut().for_each(|v| *v /= length);
    }
}

/// One call, retried on retryable failures as a stream's first attempt is.
async fn invoke_with_retries(
    clients: &Clients,
    settings: &StreamSettings,
    model: &str,
    call: &Call<'_>,
) -> Result<(Vec<f32>, u64), ProviderError> {
    let body = serde_json::to_vec(&call.body())
        .map_err(|e| error(ErrorKind::Internal, format!("the request body: {e}")))?;
    let mut attempt = 1;
    loop {
        match invoke(clients, settings, model, call, &body).await {
            Err(e) if e.retryable && attempt < settings.max_attempts => {
                tracing::debug!(attempt, error = %e.message, "embedding call failed; retrying");
                tokio::time::sleep(settings.backoff(attempt)).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

async fn invoke(
    clients: &Clients,
    settings: &StreamSettings,
    model: &str,
    call: &Call<'_>,
    body: &[u8],
) -> Result<(Vec<f32>, u64), ProviderError> {
    let source = clients.target.source.describe();
    let ctx = CallContext {
        operation: "InvokeModel",
        model_id: Some(model),
        credential_source: &source,
        region: &clients.target.region,
    };
    let counted = Arc::new(AtomicU64::new(u64::MAX));
    let sent = clients
        .runtime
        .invoke_model()
        .model_id(model)
        .content_type("application/json")
        .accept("application/json")
        .body(Blob::new(body))
        .customize()
        .interceptor(TokenCountHeader(counted.clone()))
        .send();
    // The whole answer is one body: waiting for it is waiting for the first byte.
    let out = tokio::time::timeout(settings.first_byte_timeout, sent)
        .await
        .map_err(|_| {
            let mut e = error(
                ErrorKind::Timeout,
                format!(
                    "{model} did not answer an InvokeModel call within {} ms (timeouts.firstByteMs)",
                    settings.first_byte_timeout.as_millis()
                ),
            );
            e.retryable = true;
            e
        })?
        .map_err(|e| from_sdk_error(&e, &ctx))?;
    let mut vectors = Vec::new();
    let in_body = call
        .read(out.body().as_ref(), &mut vectors)
        .map_err(|why| {
            error(
                ErrorKind::Internal,
                format!("{model} answered InvokeModel with a body this plugin cannot read: {why}"),
            )
        })?;
    let header = counted.load(Ordering::Relaxed);
    let tokens = in_body.unwrap_or(if header == u64::MAX { 0 } else { header });
    Ok((vectors, tokens))
}

/// Reads the input tokens Bedrock counts for an InvokeModel call, which it says in a
/// response header (the SDK's output has no field for it).
#[derive(Debug)]
struct TokenCountHeader(Arc<AtomicU64>);

impl Intercept for TokenCountHeader {
    fn name(&self) -> &'static str {
        "TokenCountHeader"
    }

    fn read_before_deserialization(
        &self,
        context: &BeforeDeserializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(count) = context
            .response()
            .headers()
            .get("x-amzn-bedrock-input-token-count")
            .and_then(|v| v.parse().ok())
        {
            self.0.store(count, Ordering::Relaxed);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(model: &str, texts: usize) -> EmbeddingRequest {
        EmbeddingRequest::texts(model, (0..texts).map(|i| format!("text {i}")))
    }

    #[test]
    fn cohere_batches_split_at_96_texts_and_titan_takes_one_a_call() {
        let planned = plan(request("cohere.embed-english-v3", 200)).unwrap();
        let sizes: Vec<usize> = planned.calls().iter().map(|c| c.inputs.len()).collect();
        assert_eq!(sizes, vec![96, 96, 8]);
        let planned = plan(request("amazon.titan-embed-text-v2:0", 3)).unwrap();
        assert_eq!(planned.calls().len(), 3);
    }

    #[test]
    fn what_a_model_does_not_offer_is_refused_before_any_call() {
        let mut r = request("amazon.titan-embed-text-v2:0", 1);
        r.dimensions = Some(300);
        let e = plan(r).unwrap_err();
        assert!(e.message.contains("[256, 512, 1024]"), "{}", e.message);
        let mut r = request("amazon.titan-embed-text-v2:0", 1);
        r.encoding = Some(EmbeddingEncoding::Int8);
        assert!(plan(r).unwrap_err().message.contains("float, binary"));
        let e = plan(request("anthropic.claude-sonnet-4-6", 1)).unwrap_err();
        assert!(
            e.message.contains("not an embedding model"),
            "{}",
            e.message
        );
        let mut r = request("cohere.embed-english-v3", 1);
        r.inputs = vec![EmbeddingInput::text("x".repeat(2049))];
        assert!(plan(r).unwrap_err().message.contains("2049 characters"));
    }
}
