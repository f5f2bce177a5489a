//! Issue #21: embeddings, the contract's first new call since 1.0, end to end: the real
//! plugin loaded at run time, InvokeModel signed and sent to the strict emulator, each
//! family's body as Bedrock takes it, and the vectors back in order. (A plugin built before
//! 1.7 answering `unsupported` is in tests/contract_evolution.rs.)

use e2e_tests::{provider_for, provider_with, recorded, start_emulator, FAST_RETRIES};
use emulator::scenario::{ErrorSpec, Scenario};
use host_sdk::{EmbeddingEncoding, EmbeddingInput, EmbeddingPurpose, EmbeddingRequest, ErrorKind};
use serde_json::json;

const TITAN_V2: &str = "amazon.titan-embed-text-v2:0";
const COHERE_V3: &str = "cohere.embed-english-v3";
const COHERE_V4: &str = "cohere.embed-v4:0";
const NOVA_MME: &str = "amazon.nova-2-multimodal-embeddings-v1:0";
const TITAN_MM: &str = "amazon.titan-embed-image-v1";

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (norm(a) * norm(b))
}

fn length(v: &[f32]) -> f32 {
    v.iter().map(|x| x * x).sum::<f32>().sqrt()
}

#[test]
fn titan_v2_embeds_each_text_in_order_with_the_dimensions_asked_for() {
    let emu = start_emulator();
    let p = provider_for(&emu);
    let texts = [
        "the cat sat on the mat",
        "a cat on a mat",
        "quarterly revenue grew",
    ];
    let request = EmbeddingRequest {
        dimensions: Some(256),
        ..EmbeddingRequest::texts(TITAN_V2, texts)
    };
    let out = p.embed(&request).expect("embeds");
    assert_eq!(out.dimensions, 256);
    assert_eq!(out.len(), 3);
    let v: Vec<&[f32]> = out.vectors().collect();
    assert!(v
        .iter()
        .all(|v| v.len() == 256 && (length(v) - 1.0).abs() < 1e-3));
    // In order: the two sentences about a cat are the closest pair.
    assert!(cosine(v[0], v[1]) > cosine(v[0], v[2]));
    // The same input gives the same vector.
    let again = p
        .embed(&EmbeddingRequest::texts(TITAN_V2, [texts[2]]))
        .unwrap();
    let again_256 = p
        .embed(&EmbeddingRequest {
            dimensions: Some(256),
            ..EmbeddingRequest::texts(TITAN_V2, [texts[2]])
        })
        .unwrap();
    assert_eq!(again.dimensions, 1024, "the model's default");
    assert_eq!(again_256.values, v[2]);
    // One call a text, each body as Titan takes it; tokens counted, and the price known.
    let calls = recorded(&emu, "InvokeModel");
    assert_eq!(calls.len(), 3 + 2);
    let body = calls[0].body.as_ref().unwrap();
    assert_eq!(body["dimensions"], 256);
    assert_eq!(body["normalize"], true);
    assert!(out.details.input_tokens >= 3, "{:?}", out.details);
    assert!(out.details.cost_usd.unwrap() > 0.0);
    assert_eq!(out.details.calls, 3);
}

#[test]
fn cohere_splits_a_large_batch_into_calls_of_96_and_says_the_purpose() {
    let emu = start_emulator();
    let p = provider_for(&emu);
    let texts: Vec<String> = (0..200).map(|i| format!("document number {i}")).collect();
    let request = EmbeddingRequest {
        purpose: Some(EmbeddingPurpose::Query),
        ..EmbeddingRequest::texts(COHERE_V3, texts.clone())
    };
    let out = p.embed(&request).expect("embeds");
    assert_eq!(out.len(), 200);
    let calls = recorded(&emu, "InvokeModel");
    // The calls run concurrently: they arrive in any order.
    let mut sizes: Vec<usize> = calls
        .iter()
        .map(|c| c.body.as_ref().unwrap()["texts"].as_array().unwrap().len())
        .collect();
    sizes.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(sizes, vec![96, 96, 8]);
    assert_eq!(
        calls[0].body.as_ref().unwrap()["input_type"],
        "search_query"
    );
    // The vector of the 150th text is the one that text gets alone.
    let alone = p
        .embed(&EmbeddingRequest {
            purpose: Some(EmbeddingPurpose::Query),
            ..EmbeddingRequest::texts(COHERE_V3, [texts[150].clone()])
        })
        .unwrap();
    assert_eq!(out.vectors().nth(150).unwrap(), alone.values.as_slice());
    assert_eq!(out.details.input_tokens, {
        // The emulator counts a token per four characters, from the header Bedrock sends.
        texts
            .iter()
            .map(|t| (t.len() as u64).div_ceil(4))
            .sum::<u64>()
    });
}

#[test]
fn cohere_v4_answers_in_int8_and_binary_encodings_with_its_own_dimensions() {
    let emu = start_emulator();
    let p = provider_for(&emu);
    let ask = |encoding| {
        p.embed(&EmbeddingRequest {
            dimensions: Some(512),
            encoding: Some(encoding),
            ..EmbeddingRequest::texts(COHERE_V4, ["vectors as bytes", "and as bits"])
        })
        .expect("embeds")
    };
    let int8 = ask(EmbeddingEncoding::Int8);
    assert_eq!(int8.width(), 512);
    assert!(int8
        .values
        .iter()
        .all(|v| v.fract() == 0.0 && (-128.0..=127.0).contains(v)));
    let binary = ask(EmbeddingEncoding::Binary);
    assert_eq!(
        (binary.dimensions, binary.width(), binary.len()),
        (512, 64, 2)
    );
    assert_eq!(binary.details.encoding, Some(EmbeddingEncoding::Binary));
    let body = recorded(&emu, "InvokeModel")[1].body.clone().unwrap();
    assert_eq!(body["embedding_types"], json!(["binary"]));
    assert_eq!(body["output_dimension"], 512);
}

#[test]
fn nova_and_titan_multimodal_embed_images_as_well_as_text() {
    let emu = start_emulator();
    let p = provider_for(&emu);
    let png = b"\x89PNG\r\n\x1a\n pretend pixels".to_vec();
    for model in [NOVA_MME, TITAN_MM] {
        let mut request = EmbeddingRequest::texts(model, ["a red bicycle"]);
        request.inputs.push(EmbeddingInput::Image {
            format: "png".into(),
            data: png.clone(),
        });
        request.dimensions = Some(1024);
        let out = p.embed(&request).unwrap_or_else(|e| panic!("{model}: {e}"));
        assert_eq!((out.len(), out.dimensions), (2, 1024), "{model}");
    }
    // Each input is its own call and they run side by side, so find the image's by its body.
    let image_formats: Vec<_> = recorded(&emu, "InvokeModel")
        .iter()
        .filter_map(|r| r.body.as_ref())
        .filter_map(|b| {
            b["singleEmbeddingParams"]["image"]["format"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(
        image_formats,
        ["png"],
        "Nova was sent the image with its format"
    );
    // A text-only model is told so before any call.
    emu.clear_requests();
    let mut request = EmbeddingRequest::texts(TITAN_V2, ["x"]);
    request.inputs[0] = EmbeddingInput::Image {
        format: "png".into(),
        data: png,
    };
    let e = p.embed(&request).unwrap_err();
    assert!(e.message.contains("embeds text only"), "{e}");
    assert!(recorded(&emu, "InvokeModel").is_empty());
}

#[test]
fn what_a_model_does_not_offer_is_refused_before_any_call_and_names_the_fix() {
    let emu = start_emulator();
    let p = provider_for(&emu);
    let cases = [
        (
            EmbeddingRequest {
                dimensions: Some(300),
                ..EmbeddingRequest::texts(TITAN_V2, ["x"])
            },
            "ask for one of [256, 512, 1024]",
        ),
        (
            EmbeddingRequest {
                encoding: Some(EmbeddingEncoding::Int8),
                ..EmbeddingRequest::texts(TITAN_V2, ["x"])
            },
            "use one of float, binary",
        ),
        (
            EmbeddingRequest::texts(COHERE_V3, ["x".repeat(2049)]),
            "takes at most 2048",
        ),
        (EmbeddingRequest::texts(COHERE_V3, [""]), "input 0 is empty"),
        (
            EmbeddingRequest::texts("amazon.nova-micro-v1:0", ["x"]),
            "not an embedding model",
        ),
        (
            EmbeddingRequest::texts(TITAN_V2, Vec::<String>::new()),
            "no inputs",
        ),
    ];
    for (request, says) in cases {
        let e = p.embed(&request).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidRequest, "{e}");
        assert!(e.message.contains(says), "{says:?} not in {e}");
    }
    assert!(recorded(&emu, "InvokeModel").is_empty());
}

#[test]
fn throttling_is_retried_and_a_service_error_reaches_the_host_typed() {
    let emu = start_emulator();
    let p = provider_with(&emu, FAST_RETRIES);
    emu.set_scenario(
        TITAN_V2,
        Scenario {
            throttle_first: Some(1),
            ..Scenario::default()
        },
    );
    let out = p
        .embed(&EmbeddingRequest::texts(TITAN_V2, ["after a retry"]))
        .expect("the retry succeeds");
    assert_eq!(out.len(), 1);
    assert_eq!(recorded(&emu, "InvokeModel").len(), 2);
    emu.set_scenario(
        COHERE_V3,
        Scenario {
            error: Some(ErrorSpec {
                error_type: "AccessDeniedException".into(),
                message: Some(
                    "You don't have access to the model with the specified model ID.".into(),
                ),
                status: None,
            }),
            ..Scenario::default()
        },
    );
    let e = p
        .embed(&EmbeddingRequest::texts(COHERE_V3, ["denied"]))
        .unwrap_err();
    // Bedrock's words for a model the account has no access to: the fix is model access.
    assert_eq!(e.kind, ErrorKind::ModelNotFound, "{e}");
    assert!(
        e.message.contains(COHERE_V3) && e.message.contains("Model access"),
        "{e}"
    );
}

#[test]
fn discovery_lists_the_embedding_models_with_what_they_offer() {
    let emu = start_emulator();
    let p = provider_for(&emu);
    let models = p.list_embedding_models().expect("lists");
    let ids: Vec<&str> = models.iter().map(|m| m.id.as_str()).collect();
    for id in [TITAN_V2, COHERE_V3, COHERE_V4, NOVA_MME, TITAN_MM] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
    let v4 = models.iter().find(|m| m.id == COHERE_V4).unwrap();
    assert_eq!(v4.dimensions, vec![256, 512, 1024, 1536]);
    assert_eq!(v4.max_inputs_per_call, 96);
    assert!(v4.purposes && v4.usd_per_million_tokens > 0.0);
    let listed = recorded(&emu, "ListFoundationModels");
    assert_eq!(
        listed[0].query.as_deref(),
        Some("byOutputModality=EMBEDDING")
    );
    // The chat list is unchanged: embedding models are not chat models.
    let chat = p.list_models().unwrap();
    assert!(chat.iter().all(|m| !m.id.contains("embed")));
}
