//! Since 1.7: embeddings. What a host asks for ([`EmbeddingRequest`]), what it gets back
//! ([`Embeddings`]: the vectors, typed, and an [`EmbeddingDetails`] document), and what a
//! provider says of the models that embed ([`EmbeddingModel`]).

use serde::{Deserialize, Serialize};

use super::base64_bytes;

/// A batch of inputs to embed with one model. The provider splits the batch into as many
/// service calls as the model needs (one input per call, or a bounded batch per call) and
/// answers with one vector per input, in order.
///
/// ```
/// use host_sdk::{EmbeddingInput, EmbeddingPurpose, EmbeddingRequest};
///
/// let request = EmbeddingRequest {
///     purpose: Some(EmbeddingPurpose::Query),
///     dimensions: Some(256),
///     ..EmbeddingRequest::texts("amazon.titan-embed-text-v2:0", ["where is my parcel?"])
/// };
/// assert_eq!(request.inputs, vec![EmbeddingInput::text("where is my parcel?")]);
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmbeddingRequest {
    /// The model (or inference profile) id.
    pub model: String,
    /// What to embed, at least one.
    pub inputs: Vec<EmbeddingInput>,
    /// What the vectors are for, on models that distinguish it (Cohere's `input_type`,
    /// Nova's `embeddingPurpose`); ignored by models that do not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<EmbeddingPurpose>,
    /// The length of each vector, one of the model's (see [`EmbeddingModel::dimensions`]);
    /// the model's default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dimensions: Option<u32>,
    /// Whether vectors are scaled to length 1, on models that offer the choice (Titan Text
    /// Embeddings v2; its default is `true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normalize: Option<bool>,
    /// How the vectors' values are encoded; float when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<EmbeddingEncoding>,
    /// What to do with an input longer than the model takes, on models that offer the
    /// choice; the model's default (Cohere: `end`) when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncate: Option<Truncation>,
}

impl EmbeddingRequest {
    /// A request to embed `texts` with `model`, every option at the model's default.
    pub fn texts<S: Into<String>>(
        model: impl Into<String>,
        texts: impl IntoIterator<Item = S>,
    ) -> Self {
        Self {
            model: model.into(),
            inputs: texts.into_iter().map(EmbeddingInput::text).collect(),
            ..Self::default()
        }
    }
}

/// One input to embed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum EmbeddingInput {
    /// A text.
    Text(String),
    /// An image, on models that take images.
    Image {
        /// `png`, `jpeg`, `gif` or `webp`.
        format: String,
        /// The bytes.
        #[serde(with = "base64_bytes")]
        data: Vec<u8>,
    },
}

impl EmbeddingInput {
    /// A text input.
    pub fn text(text: impl Into<String>) -> Self {
        Self::Text(text.into())
    }
}

/// What vectors are for, on models that tune them to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum EmbeddingPurpose {
    /// Documents to be searched (stored in an index).
    Document,
    /// A search query, compared against documents.
    Query,
    /// Inputs to classify.
    Classification,
    /// Inputs to cluster.
    Clustering,
}

/// How the values of a vector are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum EmbeddingEncoding {
    /// 32-bit floats.
    Float,
    /// Signed 8-bit integers (each value in -128..=127).
    Int8,
    /// Unsigned 8-bit integers (each value in 0..=255).
    Uint8,
    /// One bit per dimension, packed eight to a value as signed bytes.
    Binary,
    /// One bit per dimension, packed eight to a value as unsigned bytes.
    Ubinary,
}

impl EmbeddingEncoding {
    /// The name the services use (`float`, `int8`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Float => "float",
            Self::Int8 => "int8",
            Self::Uint8 => "uint8",
            Self::Binary => "binary",
            Self::Ubinary => "ubinary",
        }
    }

    /// How many values a vector of `dimensions` has in this encoding (binary packs eight
    /// dimensions into one value).
    pub fn values_per_vector(self, dimensions: u32) -> u32 {
        match self {
            Self::Binary | Self::Ubinary => dimensions.div_ceil(8),
            _ => dimensions,
        }
    }
}

/// What to do with an input longer than the model takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum Truncation {
    /// Refuse it.
    None,
    /// Drop its start.
    Start,
    /// Drop its end.
    End,
}

/// The vectors of a batch: `values` holds one vector per input, in the request's order,
/// each [`Embeddings::width`] values long, end to end (one allocation for the whole batch).
#[derive(Debug, Clone, PartialEq)]
pub struct Embeddings {
    /// Every vector's values, end to end.
    pub values: Vec<f32>,
    /// The length of each vector in dimensions.
    pub dimensions: u32,
    /// What else the provider said of the batch.
    pub details: EmbeddingDetails,
}

impl Embeddings {
    /// How many values one vector has (its dimensions, or an eighth of them when binary).
    pub fn width(&self) -> usize {
        self.details
            .encoding
            .unwrap_or(EmbeddingEncoding::Float)
            .values_per_vector(self.dimensions) as usize
    }

    /// The vectors, in the request's order.
    pub fn vectors(&self) -> impl ExactSizeIterator<Item = &[f32]> + '_ {
        self.values.chunks_exact(self.width().max(1))
    }

    /// How many vectors there are.
    pub fn len(&self) -> usize {
        self.vectors().len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

/// The facts of an embedding batch besides its vectors; crosses as JSON, so a minor may add
/// optional fields.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmbeddingDetails {
    /// The model that embedded.
    pub model: String,
    /// How the values are encoded (float when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<EmbeddingEncoding>,
    /// The input tokens the service counted for the whole batch.
    #[serde(default)]
    pub input_tokens: u64,
    /// The cost in US dollars, when the model's price is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
    /// How many service calls the batch took.
    #[serde(default)]
    pub calls: u32,
}

/// A model that embeds, as a provider lists it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmbeddingModel {
    /// The id to put in a request.
    pub id: String,
    /// A display name.
    pub name: String,
    /// The vendor (`Amazon`, `Cohere`, ...).
    pub vendor: String,
    /// The vector lengths a request may ask for.
    pub dimensions: Vec<u32>,
    /// The length when a request names none.
    pub default_dimensions: u32,
    /// What it embeds: `text`, `image`.
    pub input: Vec<String>,
    /// The encodings it offers (`float` first).
    pub encodings: Vec<EmbeddingEncoding>,
    /// Whether it tunes vectors to a [`EmbeddingPurpose`].
    pub purposes: bool,
    /// The most inputs one service call takes (the provider splits larger batches).
    pub max_inputs_per_call: u32,
    /// The longest text it takes, in characters.
    pub max_input_chars: u64,
    /// US dollars per million input tokens; 0 when unknown.
    pub usd_per_million_tokens: f64,
}
