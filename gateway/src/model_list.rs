//! `GET /v1/models` and `GET /v1/models/{name}`: the models the providers list and the
//! aliases the configuration gives (`gateway.aliases`), in the shape of the client's dialect:
//! Anthropic's when the request carries `anthropic-version` (as Anthropic's SDKs and Claude
//! Code send), OpenAI's otherwise, which also lists the embedding models (`"kind":
//! "embedding"`). A key limited to some models sees those.

use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use host_sdk::ModelInfo;
use serde_json::{json, Value};

use crate::dialects::messages;
use crate::errors::ApiError;
use crate::front_door::authorize;
use crate::state::Gateway;

/// One entry of the list: a model by its `provider/model` name, or an alias of one.
struct Listed<'a> {
    /// What clients send as `model`.
    id: &'a str,
    /// The `provider/model` it calls.
    target: &'a str,
    info: &'a ModelInfo,
}

/// The dialect a models request speaks.
#[derive(Clone, Copy, PartialEq)]
enum Shape {
    OpenAi,
    Anthropic,
}

impl Shape {
    fn of(headers: &HeaderMap) -> Self {
        if headers.contains_key("anthropic-version") {
            Self::Anthropic
        } else {
            Self::OpenAi
        }
    }

    fn entry(self, listed: &Listed<'_>) -> Value {
        match self {
            Self::OpenAi => {
                let mut entry = json!({
                    "id": listed.id,
                    "object": "model",
                    "created": 0,
                    "owned_by": listed.target.split('/').next().unwrap_or(""),
                    "name": listed.info.name.as_str(),
                    "context_window": listed.info.context_window,
                });
                if listed.id != listed.target {
                    entry["alias_of"] = json!(listed.target);
                }
                entry
            }
            // The providers say nothing of when a model was released: the epoch stands for
            // "unknown" in a field Anthropic's clients require.
            Self::Anthropic => json!({
                "type": "model",
                "id": listed.id,
                "display_name": listed.info.name.as_str(),
                "created_at": "1970-01-01T00:00:00Z",
            }),
        }
    }

    fn refuse(self, error: ApiError) -> Response {
        match self {
            Self::OpenAi => error.into_response(),
            Self::Anthropic => messages::error_response(error),
        }
    }
}

/// `GET /v1/models`.
pub async fn list(State(gateway): State<Arc<Gateway>>, headers: HeaderMap) -> Response {
    let shape = Shape::of(&headers);
    if let Err(e) = authorize(&gateway.keys, &headers, None) {
        return shape.refuse(e);
    }
    let registry = gateway.registry();
    let models = registry.models().map(|(name, info)| Listed {
        id: name,
        target: name,
        info,
    });
    let targets: Vec<(&String, String)> = registry.aliases().collect();
    let aliases = targets.iter().filter_map(|(alias, target)| {
        Some(Listed {
            id: alias,
            target,
            info: registry.model(target)?,
        })
    });
    let mut data: Vec<Value> = models
        .chain(aliases)
        .filter(|listed| authorize(&gateway.keys, &headers, Some(listed.target)).is_ok())
        .map(|listed| shape.entry(&listed))
        .collect();
    // Embedding models are OpenAI's to list: Anthropic's clients pick chat models only.
    if shape == Shape::OpenAi {
        data.extend(
            registry
                .embedders()
                .filter(|(name, _)| authorize(&gateway.keys, &headers, Some(name)).is_ok())
                .map(|(name, info)| {
                    json!({
                        "id": name,
                        "object": "model",
                        "created": 0,
                        "owned_by": name.split('/').next().unwrap_or(""),
                        "name": info.name,
                        "kind": "embedding",
                        "dimensions": info.dimensions,
                        "default_dimensions": info.default_dimensions,
                    })
                }),
        );
    }
    Json(match shape {
        Shape::OpenAi => json!({"object": "list", "data": data}),
        Shape::Anthropic => json!({
            "data": data,
            "has_more": false,
            "first_id": data.first().map(|m| m["id"].clone()),
            "last_id": data.last().map(|m| m["id"].clone()),
        }),
    })
    .into_response()
}

/// `GET /v1/models/{name}`: a `provider/model`, a bare unambiguous model id, or an alias.
pub async fn one(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
    axum::extract::Path(name): axum::extract::Path<String>,
) -> Response {
    let shape = Shape::of(&headers);
    let found = || {
        authorize(&gateway.keys, &headers, None)?;
        let registry = gateway.registry();
        let (_, _, target) = registry.resolve(&name).map_err(ApiError::unknown_model)?;
        let info = registry.model(&target).ok_or_else(|| {
            ApiError::unknown_model(format!(
                "no provider lists the model `{name}`: GET /v1/models lists them"
            ))
        })?;
        authorize(&gateway.keys, &headers, Some(&target))?;
        // An alias is listed by its own name; a bare id by its full one.
        let id = if registry.is_alias(&name) {
            &name
        } else {
            &target
        };
        Ok::<_, ApiError>(shape.entry(&Listed {
            id,
            target: &target,
            info,
        }))
    };
    match found() {
        Ok(model) => Json(model).into_response(),
        Err(e) => shape.refuse(e),
    }
}
