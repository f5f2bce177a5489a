//! Each embedding family's InvokeModel request body, and what its response body holds.

use base64::Engine as _;
use host_sdk::{EmbeddingEncoding, EmbeddingInput, EmbeddingPurpose, Truncation};
use serde::Deserialize;
use serde_json::{json, Value};

use super::table::Family;

/// One InvokeModel call's share of a batch, with the options every call shares.
pub struct Call<'a> {
    pub family: Family,
    pub inputs: &'a [EmbeddingInput],
    pub dimensions: u32,
    pub normalize: Option<bool>,
    pub encoding: EmbeddingEncoding,
    pub purpose: Option<EmbeddingPurpose>,
    pub truncate: Option<Truncation>,
}

impl Call<'_> {
    /// The request body.
    pub fn body(&self) -> Value {
        match self.family {
            Family::TitanTextV1 => json!({ "inputText": self.text() }),
            Family::TitanTextV2 => {
                let mut body = json!({
                    "inputText": self.text(),
                    "dimensions": self.dimensions,
                    "normalize": self.normalize.unwrap_or(true),
                });
                if self.encoding != EmbeddingEncoding::Float {
                    body["embeddingTypes"] = json!([self.encoding.as_str()]);
                }
                body
            }
            Family::TitanMultimodal => {
                let mut body = json!({
                    "embeddingConfig": { "outputEmbeddingLength": self.dimensions }
                });
                match &self.inputs[0] {
                    EmbeddingInput::Image { data, .. } => {
                        body["inputImage"] = json!(base64(data));
                    }
                    input => body["inputText"] = json!(text_of(input)),
                }
                body
            }
            Family::CohereV3 | Family::CohereV4 => self.cohere_body(),
            Family::NovaMultimodal => self.nova_body(),
        }
    }

    fn text(&self) -> &str {
        text_of(&self.inputs[0])
    }

    fn cohere_body(&self) -> Value {
        let mut body = match &self.inputs[0] {
            // An image is a call of its own: `input_type` says the call embeds images.
            EmbeddingInput::Image { format, data } => json!({
                "images": [format!("data:image/{format};base64,{}", base64(data))],
                "input_type": "image",
            }),
            _ => json!({
                "texts": self.inputs.iter().map(text_of).collect::<Vec<_>>(),
                "input_type": match self.purpose.unwrap_or(EmbeddingPurpose::Document) {
                    EmbeddingPurpose::Query => "search_query",
                    EmbeddingPurpose::Classification => "classification",
                    EmbeddingPurpose::Clustering => "clustering",
                    _ => "search_document",
                },
            }),
        };
        body["embedding_types"] = json!([self.encoding.as_str()]);
        if let Some(truncate) = self.truncate {
            body["truncate"] = json!(match truncate {
                Truncation::None => "NONE",
                Truncation::Start => "START",
                _ => "END",
            });
        }
        if self.family == Family::CohereV4 {
            body["output_dimension"] = json!(self.dimensions);
        }
        body
    }

    fn nova_body(&self) -> Value {
        let purpose = match self.purpose.unwrap_or(EmbeddingPurpose::Document) {
            EmbeddingPurpose::Query => "GENERIC_RETRIEVAL",
            EmbeddingPurpose::Classification => "CLASSIFICATION",
            EmbeddingPurpose::Clustering => "CLUSTERING",
            _ => "GENERIC_INDEX",
        };
        let mut params = json!({
            "embeddingPurpose": purpose,
            "embeddingDimension": self.dimensions,
        });
        match &self.inputs[0] {
            EmbeddingInput::Image { format, data } => {
                params["image"] = json!({
                    "format": format,
                    "source": { "bytes": base64(data) },
                });
            }
            input => {
                params["text"] = json!({
                    "truncationMode": match self.truncate.unwrap_or(Truncation::End) {
                        Truncation::None => "NONE",
                        Truncation::Start => "START",
                        _ => "END",
                    },
                    "value": text_of(input),
                });
            }
        }
        json!({
            "schemaVersion": "nova-multimodal-embed-v1",
            "taskType": "SINGLE_EMBEDDING",
            "singleEmbeddingParams": params,
        })
    }

    /// The vectors of a response body, in the call's order, appended to `out`; the input
    /// tokens the body counts, when it counts them.
    pub fn read(&self, body: &[u8], out: &mut Vec<f32>) -> Result<Option<u64>, String> {
        match self.family {
            Family::TitanTextV1 | Family::TitanTextV2 | Family::TitanMultimodal => {
                let answer: TitanAnswer = parse(body)?;
                let vector = match (self.encoding, answer.embeddings_by_type) {
                    (EmbeddingEncoding::Float, _) => answer.embedding,
                    (_, Some(by_type)) => Some(by_type.binary.map(pack_bits).ok_or(
                        "the response has no `embeddingsByType.binary` vector".to_string(),
                    )?),
                    (_, None) => {
                        return Err("the response has no `embeddingsByType`".to_string());
                    }
                };
                out.extend(vector.ok_or("the response has no `embedding`")?);
                Ok(answer.input_text_token_count)
            }
            Family::CohereV3 | Family::CohereV4 => {
                let answer: CohereAnswer = parse(body)?;
                let vectors = match answer.embeddings {
                    CohereVectors::Floats(vectors) => vectors,
                    CohereVectors::ByType(mut by_type) => {
                        by_type.remove(self.encoding.as_str()).ok_or(format!(
                            "the response has no `{}` vectors",
                            self.encoding.as_str()
                        ))?
                    }
                };
                if vectors.len() != self.inputs.len() {
                    return Err(format!(
                        "the response has {} vectors for {} inputs",
                        vectors.len(),
                        self.inputs.len()
                    ));
                }
                out.extend(vectors.into_iter().flatten());
                Ok(None)
            }
            Family::NovaMultimodal => {
                let answer: NovaAnswer = parse(body)?;
                let first = answer
                    .embeddings
                    .into_iter()
                    .next()
                    .ok_or("the response has no embedding")?;
                out.extend(first.embedding);
                Ok(None)
            }
        }
    }
}

fn text_of(input: &EmbeddingInput) -> &str {
    match input {
        EmbeddingInput::Text(text) => text,
        _ => "",
    }
}

fn base64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

fn parse<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|e| format!("the response body is not as expected: {e}"))
}

/// Titan answers a binary vector one 0/1 value per dimension; the contract's binary packs
/// eight dimensions into one signed byte, as Cohere does, so both compare alike.
fn pack_bits(bits: Vec<f32>) -> Vec<f32> {
    bits.chunks(8)
        .map(|byte| {
            let packed = byte
                .iter()
                .enumerate()
                .fold(0u8, |acc, (i, bit)| acc | (u8::from(*bit > 0.5) << (7 - i)));
            f32::from(packed as i8)
        })
        .collect()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TitanAnswer {
    embedding: Option<Vec<f32>>,
    input_text_token_count: Option<u64>,
    embeddings_by_type: Option<TitanByType>,
}

#[derive(Deserialize)]
struct TitanByType {
    binary: Option<Vec<f32>>,
}

#[derive(Deserialize)]
struct CohereAnswer {
    embeddings: CohereVectors,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum CohereVectors {
    Floats(Vec<Vec<f32>>),
    ByType(std::collections::HashMap<String, Vec<Vec<f32>>>),
}

#[derive(Deserialize)]
struct NovaAnswer {
    embeddings: Vec<NovaVector>,
}

#[derive(Deserialize)]
struct NovaVector {
    embedding: Vec<f32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(family: Family, inputs: &[EmbeddingInput]) -> Call<'_> {
        Call {
            family,
            inputs,
            dimensions: 256,
            normalize: None,
            encoding: EmbeddingEncoding::Float,
            purpose: Some(EmbeddingPurpose::Query),
            truncate: None,
        }
    }

    #[test]
    fn each_family_says_the_options_in_its_own_words() {
        let texts = [EmbeddingInput::text("a"), EmbeddingInput::text("b")];
        assert_eq!(
            call(Family::TitanTextV2, &texts[..1]).body(),
            json!({"inputText": "a", "dimensions": 256, "normalize": true})
        );
        assert_eq!(
            call(Family::CohereV4, &texts).body(),
            json!({"texts": ["a", "b"], "input_type": "search_query", "embedding_types": ["float"], "output_dimension": 256})
        );
        let nova = call(Family::NovaMultimodal, &texts[..1]).body();
        assert_eq!(
            nova["singleEmbeddingParams"]["embeddingPurpose"],
            "GENERIC_RETRIEVAL"
        );
        assert_eq!(nova["singleEmbeddingParams"]["text"]["value"], "a");
    }

    #[test]
    fn titan_bits_pack_eight_to_a_signed_byte() {
        let bits = vec![1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 1.0];
        assert_eq!(pack_bits(bits), vec![-127.0, 64.0]);
    }
}
