//! `embed`: vectors for texts (arguments, files, or the lines of stdin), with a preview of
//! each, the whole vectors as JSON, or, with `--query`, the texts ranked by how close each
//! is to the query (cosine similarity).

use std::io::{self, IsTerminal, Write};

use host_sdk::{EmbeddingPurpose, EmbeddingRequest, Embeddings};

use crate::cli::EmbedArgs;
use crate::error::{CliError, CliResult};
use crate::session::Session;

/// How many values of each vector the preview shows.
const PREVIEW_VALUES: usize = 4;

pub fn run(session: &Session, args: &EmbedArgs) -> CliResult {
    let texts = inputs(args)?;
    let model = args.model.as_str();
    let embed = |texts: Vec<String>, purpose| {
        let request = EmbeddingRequest {
            dimensions: args.dimensions,
            purpose: Some(purpose),
            ..EmbeddingRequest::texts(model, texts)
        };
        session.provider.embed(&request).map_err(|e| {
            CliError::new(format!(
                "cannot embed with {}/{model}: {e}",
                session.provider_id()
            ))
        })
    };
    let embeddings = embed(texts.clone(), purpose(args))?;
    let mut out = io::stdout().lock();
    if let Some(query) = &args.query {
        let asked = embed(vec![query.clone()], EmbeddingPurpose::Query)?;
        let query_vector = asked.vectors().next().unwrap_or_default();
        let mut ranked: Vec<(f32, &String)> = embeddings
            .vectors()
            .map(|v| cosine(query_vector, v))
            .zip(&texts)
            .collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
        if args.json {
            let ranked: Vec<_> = ranked
                .iter()
                .map(|(score, text)| serde_json::json!({ "similarity": score, "text": text }))
                .collect();
            writeln!(
                out,
                "{}",
                serde_json::json!({ "query": query, "ranked": ranked })
            )?;
        } else {
            for (score, text) in ranked {
                writeln!(out, "{score:7.4}  {}", one_line(text))?;
            }
        }
        return Ok(());
    }
    if args.json {
        let vectors: Vec<&[f32]> = embeddings.vectors().collect();
        writeln!(
            out,
            "{}",
            serde_json::json!({
                "model": model,
                "dimensions": embeddings.dimensions,
                "inputTokens": embeddings.details.input_tokens,
                "costUsd": embeddings.details.cost_usd,
                "vectors": vectors,
            })
        )?;
        return Ok(());
    }
    writeln!(out, "{}", summary(session, model, &embeddings))?;
    for (i, (vector, text)) in embeddings.vectors().zip(&texts).enumerate() {
        let shown: Vec<String> = vector
            .iter()
            .take(PREVIEW_VALUES)
            .map(|v| format!("{v:+.4}"))
            .collect();
        writeln!(
            out,
            "{:3}  [{}, …]  {}",
            i + 1,
            shown.join(", "),
            one_line(text)
        )?;
    }
    Ok(())
}

/// `3 vectors of 1024 dimensions (amazon-bedrock/…, 12 input tokens, $0.00000024)`.
fn summary(session: &Session, model: &str, embeddings: &Embeddings) -> String {
    let count = embeddings.len();
    let cost = embeddings
        .details
        .cost_usd
        .map(|c| format!(", ${c:.8}"))
        .unwrap_or_default();
    format!(
        "{count} vector{} of {} dimensions ({}/{model}, {} input tokens{cost})",
        if count == 1 { "" } else { "s" },
        embeddings.dimensions,
        session.provider_id(),
        embeddings.details.input_tokens,
    )
}

/// The texts to embed: the arguments, then each file's text, else each line of stdin.
fn inputs(args: &EmbedArgs) -> CliResult<Vec<String>> {
    let mut texts = args.texts.clone();
    for path in &args.files {
        texts.push(
            std::fs::read_to_string(path)
                .map_err(|e| CliError::new(format!("cannot read {}: {e}", path.display())))?,
        );
    }
    if texts.is_empty() && !io::stdin().is_terminal() {
        texts = io::stdin()
            .lines()
            .collect::<io::Result<Vec<String>>>()
            .map_err(|e| CliError::new(format!("cannot read standard input: {e}")))?
            .into_iter()
            .filter(|line| !line.trim().is_empty())
            .collect();
    }
    if texts.is_empty() {
        return Err(CliError::new(
            "nothing to embed: give texts, --file PATH, or pipe lines to stdin",
        ));
    }
    Ok(texts)
}

fn purpose(args: &EmbedArgs) -> EmbeddingPurpose {
    match args.purpose.as_deref() {
        Some("query") => EmbeddingPurpose::Query,
        Some("classification") => EmbeddingPurpose::Classification,
        Some("clustering") => EmbeddingPurpose::Clustering,
        _ => EmbeddingPurpose::Document,
    }
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    let norms = norm(a) * norm(b);
    if norms == 0.0 {
        0.0
    } else {
        dot / norms
    }
}

/// A text on one line, cut to fit a terminal.
fn one_line(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > 60 {
        format!("{}…", flat.chars().take(59).collect::<String>())
    } else {
        flat
    }
}
