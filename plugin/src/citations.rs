//! Citations between the SDK's types and the JSON documents the contract carries (Bedrock's
//! own field names: `title`, `source`, `sourceContent`, `location`), both ways: a streamed
//! citation goes to the host as JSON, a kept one is replayed in a `citationsContent` block.

use aws_sdk_bedrockruntime::types::{
    Citation, CitationLocation, CitationSourceContent, CitationsDelta, DocumentCharLocation,
    DocumentChunkLocation, DocumentPageLocation, SearchResultLocation, WebLocation,
};
use serde_json::{json, Map, Value};

/// A streamed citation as JSON.
pub fn delta_to_json(c: &CitationsDelta) -> Value {
    let mut out = Map::new();
    if let Some(title) = c.title() {
        out.insert("title".into(), json!(title));
    }
    if let Some(source) = c.source() {
        out.insert("source".into(), json!(source));
    }
    let quoted: Vec<Value> = c
        .source_content()
        .iter()
        .filter_map(|s| s.text())
        .map(|t| json!({ "text": t }))
        .collect();
    if !quoted.is_empty() {
        out.insert("sourceContent".into(), Value::Array(quoted));
    }
    if let Some(location) = c.location().and_then(location_to_json) {
        out.insert("location".into(), location);
    }
    Value::Object(out)
}

/// A citation's location in Bedrock's JSON (`None` for a kind newer than the SDK's types).
fn location_to_json(l: &CitationLocation) -> Option<Value> {
    Some(match l {
        CitationLocation::DocumentChar(d) => json!({ "documentChar": {
            "documentIndex": d.document_index(), "start": d.start(), "end": d.end() } }),
        CitationLocation::DocumentPage(d) => json!({ "documentPage": {
            "documentIndex": d.document_index(), "start": d.start(), "end": d.end() } }),
        CitationLocation::DocumentChunk(d) => json!({ "documentChunk": {
            "documentIndex": d.document_index(), "start": d.start(), "end": d.end() } }),
        CitationLocation::SearchResultLocation(s) => json!({ "searchResultLocation": {
            "searchResultIndex": s.search_result_index(), "start": s.start(), "end": s.end() } }),
        CitationLocation::Web(w) => json!({ "web": { "url": w.url(), "domain": w.domain() } }),
        _ => return None,
    })
}

/// A citation as JSON, as Bedrock reads it in a `citationsContent` block; `None` when it holds
/// a kind newer than the SDK's types.
pub fn to_json(c: &Citation) -> Option<Value> {
    let mut out = Map::new();
    if let Some(title) = c.title() {
        out.insert("title".into(), json!(title));
    }
    if let Some(source) = c.source() {
        out.insert("source".into(), json!(source));
    }
    if !c.source_content().is_empty() {
        let quoted = c
            .source_content()
            .iter()
            .map(|s| s.as_text().ok().map(|t| json!({ "text": t })))
            .collect::<Option<Vec<_>>>()?;
        out.insert("sourceContent".into(), Value::Array(quoted));
    }
    if let Some(location) = c.location() {
        out.insert("location".into(), location_to_json(location)?);
    }
    Some(Value::Object(out))
}

/// A kept citation (JSON, as [`delta_to_json`] writes it) back to the SDK's type, or why not.
pub fn from_json(v: &Value) -> Result<Citation, String> {
    let object = v.as_object().ok_or("a citation is a JSON object")?;
    let text = |k: &str| object.get(k).and_then(Value::as_str).map(str::to_string);
    let quoted = object
        .get("sourceContent")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| s.get("text").and_then(Value::as_str))
        .map(|t| CitationSourceContent::Text(t.to_string()))
        .collect::<Vec<_>>();
    let location = object.get("location").map(location_from_json).transpose()?;
    Ok(Citation::builder()
        .set_title(text("title"))
        .set_source(text("source"))
        .set_source_content((!quoted.is_empty()).then_some(quoted))
        .set_location(location)
        .build())
}

/// A citation's location from Bedrock's JSON, or why not.
pub fn location_from_json(v: &Value) -> Result<CitationLocation, String> {
    let n = |o: &Value, k: &str| o.get(k).and_then(Value::as_i64).map(|n| n as i32);
    let s = |o: &Value, k: &str| o.get(k).and_then(Value::as_str).map(str::to_string);
    if let Some(d) = v.get("documentChar") {
        return Ok(CitationLocation::DocumentChar(
            DocumentCharLocation::builder()
                .set_document_index(n(d, "documentIndex"))
                .set_start(n(d, "start"))
                .set_end(n(d, "end"))
                .build(),
        ));
    }
    if let Some(d) = v.get("documentPage") {
        return Ok(CitationLocation::DocumentPage(
            DocumentPageLocation::builder()
                .set_document_index(n(d, "documentIndex"))
                .set_start(n(d, "start"))
                .set_end(n(d, "end"))
                .build(),
        ));
    }
    if let Some(d) = v.get("documentChunk") {
        return Ok(CitationLocation::DocumentChunk(
            DocumentChunkLocation::builder()
                .set_document_index(n(d, "documentIndex"))
                .set_start(n(d, "start"))
                .set_end(n(d, "end"))
                .build(),
        ));
    }
    if let Some(r) = v.get("searchResultLocation") {
        return Ok(CitationLocation::SearchResultLocation(
            SearchResultLocation::builder()
                .set_search_result_index(n(r, "searchResultIndex"))
                .set_start(n(r, "start"))
                .set_end(n(r, "end"))
                .build(),
        ));
    }
    if let Some(w) = v.get("web") {
        return Ok(CitationLocation::Web(
            WebLocation::builder()
                .set_url(s(w, "url"))
                .set_domain(s(w, "domain"))
                .build(),
        ));
    }
    Err(format!(
        "a citation location is documentChar, documentPage, documentChunk, searchResultLocation or web, not {v}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_citation_survives_the_round_trip() {
        for location in [
            json!({"documentChar": {"documentIndex": 0, "start": 3, "end": 40}}),
            json!({"documentPage": {"documentIndex": 1, "start": 2, "end": 2}}),
            json!({"searchResultLocation": {"searchResultIndex": 0, "start": 0, "end": 1}}),
            json!({"web": {"url": "https://example.com/a", "domain": "example.com"}}),
        ] {
            let c = json!({"title": "Doc", "source": "s3://b/k", "sourceContent": [{"text": "quoted"}], "location": location});
            let sdk = from_json(&c).unwrap();
            assert_eq!(to_json(&sdk), Some(c.clone()), "written back as it came");
            let delta = CitationsDelta::builder()
                .set_title(sdk.title().map(str::to_string))
                .set_source(sdk.source().map(str::to_string))
                .set_source_content(Some(
                    sdk.source_content()
                        .iter()
                        .filter_map(|s| s.as_text().ok())
                        .map(|t| {
                            aws_sdk_bedrockruntime::types::CitationSourceContentDelta::builder()
                                .text(t)
                                .build()
                        })
                        .collect(),
                ))
                .set_location(sdk.location().cloned())
                .build();
            assert_eq!(delta_to_json(&delta), c);
        }
        assert!(from_json(&json!({"location": {"elsewhere": {}}})).is_err());
    }
}
