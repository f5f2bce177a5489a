//! A response of the Responses API as the emulator's model made it: its output items, why it
//! ended early, its usage, and the response object OpenAI's API answers with (whole, or in
//! the events of a stream).

use serde_json::{json, Map, Value};

/// One output item of a response.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// The model's reasoning: its summary when asked for, its encrypted content when included.
    Reasoning {
        id: String,
        summary: Option<String>,
        encrypted: Option<String>,
    },
    /// The answer text.
    Message {
        id: String,
        text: String,
        delta_size: usize,
    },
    /// A call of one of the request's functions.
    FunctionCall {
        id: String,
        call_id: String,
        name: String,
        arguments: String,
    },
}

/// A whole answer: its items, why it ended early (if it did), its usage.
#[derive(Debug, Clone)]
pub struct Answer {
    pub id: String,
    pub model: String,
    pub items: Vec<Item>,
    pub incomplete: Option<&'static str>,
    pub usage: Value,
    /// The request's settings echoed in the response object.
    pub echo: Map<String, Value>,
    /// A failure the scenario injects into the stream.
    pub fault: Option<crate::scenario::Fault>,
}

impl Answer {
    /// The response object, `status` as given (`in_progress` before any output).
    pub fn object(&self, status: &str, with_output: bool) -> Value {
        let mut o = json!({
            "id": self.id,
            "object": "response",
            "created_at": now_secs(),
            "status": status,
            "model": self.model,
            "output": if with_output { self.items.iter().map(item_json).collect::<Vec<_>>() } else { Vec::new() },
            "error": null,
            "incomplete_details": self.incomplete.map(|r| json!({"reason": r})),
            "usage": if with_output { self.usage.clone() } else { Value::Null },
            "previous_response_id": null,
            "parallel_tool_calls": true,
            "tool_choice": "auto",
            "tools": [],
            "metadata": {},
        });
        if let Some(map) = o.as_object_mut() {
            map.extend(self.echo.clone());
        }
        o
    }

    /// The status a finished answer has.
    pub fn final_status(&self) -> &'static str {
        if self.incomplete.is_some() {
            "incomplete"
        } else {
            "completed"
        }
    }
}

/// An item as the response's `output` lists it (complete).
pub fn item_json(item: &Item) -> Value {
    match item {
        Item::Reasoning {
            id,
            summary,
            encrypted,
        } => {
            let mut v = json!({
                "id": id,
                "type": "reasoning",
                "summary": summary.iter().map(|t| json!({"type": "summary_text", "text": t})).collect::<Vec<_>>(),
            });
            if let Some(e) = encrypted {
                v["encrypted_content"] = json!(e);
            }
            v
        }
        Item::Message { id, text, .. } => json!({
            "id": id,
            "type": "message",
            "status": "completed",
            "role": "assistant",
            "content": [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}],
        }),
        Item::FunctionCall {
            id,
            call_id,
            name,
            arguments,
        } => json!({
            "id": id,
            "type": "function_call",
            "status": "completed",
            "call_id": call_id,
            "name": name,
            "arguments": arguments,
        }),
    }
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
