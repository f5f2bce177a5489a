//! What each embedding model offers, from the data table the crate embeds
//! (`data/embedding-models.tsv`, dated, with its sources in its header).

use std::sync::OnceLock;

use host_sdk::{EmbeddingEncoding, EmbeddingModel};

use crate::model_facts::base_model_id;

const TABLE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/data/embedding-models.tsv"
));

/// Which request and response bodies a model speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    TitanTextV1,
    TitanTextV2,
    TitanMultimodal,
    CohereV3,
    CohereV4,
    NovaMultimodal,
}

/// One row of the table.
#[derive(Debug, Clone, PartialEq)]
pub struct Embedder {
    pub id: String,
    pub family: Family,
    /// The row in the contract's shape (its `id` is the table's).
    pub model: EmbeddingModel,
}

impl Embedder {
    pub fn takes_images(&self) -> bool {
        self.model.input.iter().any(|i| i == "image")
    }
}

/// Every row, parsed once.
pub fn all() -> &'static [Embedder] {
    static ROWS: OnceLock<Vec<Embedder>> = OnceLock::new();
    ROWS.get_or_init(|| parse(TABLE).unwrap_or_else(|e| panic!("data/embedding-models.tsv: {e}")))
}

/// The row of a model or profile id (an ARN included), if it embeds.
pub fn lookup(id: &str) -> Option<&'static Embedder> {
    let base = base_model_id(id);
    all().iter().find(|e| base.starts_with(e.id.as_str()))
}

fn parse(text: &str) -> Result<Vec<Embedder>, String> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.starts_with('#') && !l.trim().is_empty());
    let (_, header) = lines.next().ok_or("no header line")?;
    let want = "id\tname\tvendor\tfamily\tdimensions\tdefault\tinput\tencodings\tpurposes\tper_call\tmax_chars\tin";
    if header != want {
        return Err(format!("the header must be {want:?}, not {header:?}"));
    }
    lines
        .map(|(n, line)| row(line).map_err(|e| format!("line {}: {e}", n + 1)))
        .collect()
}

fn row(line: &str) -> Result<Embedder, String> {
    let cells: Vec<&str> = line.split('\t').collect();
    let [id, name, vendor, family, dimensions, default, input, encodings, purposes, per_call, max_chars, price] =
        cells.as_slice()
    else {
        return Err(format!(
            "12 tab-separated cells expected, found {}",
            cells.len()
        ));
    };
    let number = |what: &str, v: &str| {
        v.parse::<u64>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or(format!("{what} {v:?} is not a positive whole number"))
    };
    let family = match *family {
        "titan-text-v1" => Family::TitanTextV1,
        "titan-text-v2" => Family::TitanTextV2,
        "titan-multimodal" => Family::TitanMultimodal,
        "cohere-v3" => Family::CohereV3,
        "cohere-v4" => Family::CohereV4,
        "nova-multimodal" => Family::NovaMultimodal,
        other => return Err(format!("unknown family {other:?}")),
    };
    let dimensions = dimensions
        .split(',')
        .map(|d| number("a dimension", d).map(|d| d as u32))
        .collect::<Result<Vec<u32>, String>>()?;
    let default_dimensions = number("default", default)? as u32;
    if !dimensions.contains(&default_dimensions) {
        return Err(format!(
            "default {default_dimensions} is not one of {dimensions:?}"
        ));
    }
    let encodings = encodings
        .split(',')
        .map(|e| {
            serde_json::from_value::<EmbeddingEncoding>(serde_json::Value::from(e))
                .map_err(|_| format!("unknown encoding {e:?}"))
        })
        .collect::<Result<Vec<_>, String>>()?;
    let purposes = match *purposes {
        "yes" => true,
        "no" => false,
        other => return Err(format!("purposes is yes or no, not {other:?}")),
    };
    let usd = price
        .parse::<f64>()
        .map_err(|_| format!("price {price:?} is not a number"))?;
    let model = EmbeddingModel {
        id: id.to_string(),
        name: name.to_string(),
        vendor: vendor.to_string(),
        dimensions,
        default_dimensions,
        input: input.split(',').map(str::to_string).collect(),
        encodings,
        purposes,
        max_inputs_per_call: number("per_call", per_call)? as u32,
        max_input_chars: number("max_chars", max_chars)?,
        usd_per_million_tokens: usd,
    };
    Ok(Embedder {
        id: id.to_string(),
        family,
        model,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_parses_and_every_emulated_embedding_model_has_a_row() {
        assert!(all().len() >= 7);
        for m in emulator::catalogue::MODELS
            .iter()
            .filter(|m| m.output.contains(&"EMBEDDING"))
        {
            assert!(lookup(m.id).is_some(), "{} has no row", m.id);
        }
        let v2 = lookup("amazon.titan-embed-text-v2:0").unwrap();
        assert_eq!(v2.family, Family::TitanTextV2);
        assert_eq!(v2.model.default_dimensions, 1024);
        assert_eq!(
            lookup("us.cohere.embed-v4:0").unwrap().family,
            Family::CohereV4
        );
        assert!(lookup("anthropic.claude-sonnet-4-6").is_none());
    }

    #[test]
    fn a_bad_row_names_its_line_and_what_is_wrong() {
        let header = TABLE.lines().find(|l| l.starts_with("id\t")).unwrap();
        let bad = format!(
            "{header}\nx\tX\tAmazon\ttitan-text-v2\t256\t512\ttext\tfloat\tno\t1\t10\t0.1\n"
        );
        let e = parse(&bad).unwrap_err();
        assert!(e.contains("line 2") && e.contains("default 512"), "{e}");
    }
}
