//! A response streamed as OpenAI's Responses API streams it: server-sent events, each with
//! its `type` and a `sequence_number`, in OpenAI's order (created, in progress; per item:
//! added, its parts and deltas, done; then completed or incomplete).

use axum::body::Body;
use axum::http::{HeaderValue, Response};
use bytes::Bytes;
use serde_json::{json, Value};

use super::response_object::{item_json, Answer, Item};
use crate::answer::split_chars;
use crate::scenario::Fault;

/// The SSE response for `answer`.
pub fn response(answer: &Answer) -> Response<Body> {
    use futures::StreamExt as _;
    let stall = match answer.fault {
        Some(Fault::Stall { after_events, ms }) => Some((after_events, ms)),
        _ => None,
    };
    let frames = futures::stream::iter(events(answer).into_iter().enumerate()).then(
        move |(n, frame)| async move {
            if let Some((_, ms)) = stall.filter(|(after, _)| *after == n) {
                tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
            }
            Ok::<_, std::convert::Infallible>(frame)
        },
    );
    let mut resp = Response::new(Body::from_stream(frames));
    let headers = resp.headers_mut();
    headers.insert(
        "content-type",
        HeaderValue::from_static("text/event-stream; charset=utf-8"),
    );
    headers.insert("cache-control", HeaderValue::from_static("no-cache"));
    resp
}

/// Events, numbered as they are written.
struct Events {
    frames: Vec<Bytes>,
}

impl Events {
    fn push(&mut self, kind: &str, mut data: Value) {
        data["type"] = json!(kind);
        data["sequence_number"] = json!(self.frames.len());
        self.frames
            .push(Bytes::from(format!("event: {kind}\ndata: {data}\n\n")));
    }
}

/// Every event of the answer's stream, as SSE frames.
fn events(answer: &Answer) -> Vec<Bytes> {
    let mut e = Events { frames: Vec::new() };
    e.push(
        "response.created",
        json!({"response": answer.object("in_progress", false)}),
    );
    e.push(
        "response.in_progress",
        json!({"response": answer.object("in_progress", false)}),
    );
    for (output_index, item) in answer.items.iter().enumerate() {
        item_events(&mut e, output_index, item);
    }
    let status = answer.final_status();
    let kind = if status == "completed" {
        "response.completed"
    } else {
        "response.incomplete"
    };
    e.push(kind, json!({"response": answer.object(status, true)}));
    if let Some(fault) = &answer.fault {
        inject(&mut e, fault);
    }
    e.frames
}

/// A scripted failure: an `error` event after some events, the connection cut in the middle
/// of one, or no final event.
fn inject(e: &mut Events, fault: &Fault) {
    match fault {
        Fault::Exception {
            after_events,
            exception,
            message,
            ..
        } => {
            e.frames.truncate(*after_events);
            let code = match exception.as_str() {
                "throttlingException" => "rate_limit_exceeded",
                "serviceUnavailableException" => "server_is_overloaded",
                _ => "server_error",
            };
            let message = message
                .clone()
                .unwrap_or_else(|| format!("Emulated {exception}."));
            e.push(
                "error",
                json!({"code": code, "message": message, "param": null}),
            );
        }
        Fault::Cut { after_events } => {
            e.frames.truncate(after_events + 1);
            if let Some(last) = e.frames.pop() {
                e.frames.push(last.slice(..last.len() / 2));
            }
        }
        Fault::NoMessageStop => {
            e.frames.pop();
        }
        // Delivered late by `response`.
        Fault::Stall { .. } => {}
    }
}

/// One item's events: added, its content as it grows, done.
fn item_events(e: &mut Events, output_index: usize, item: &Item) {
    let done = item_json(item);
    let at = json!({"item_id": done["id"], "output_index": output_index});
    match item {
        Item::Reasoning { summary, .. } => {
            let mut added = done.clone();
            added["summary"] = json!([]);
            if let Some(obj) = added.as_object_mut() {
                obj.remove("encrypted_content");
            }
            e.push(
                "response.output_item.added",
                json!({"output_index": output_index, "item": added}),
            );
            if let Some(text) = summary {
                summary_events(e, &with(&at, "summary_index", json!(0)), text);
            }
        }
        Item::Message {
            text, delta_size, ..
        } => {
            let mut added = done.clone();
            added["status"] = json!("in_progress");
            added["content"] = json!([]);
            e.push(
                "response.output_item.added",
                json!({"output_index": output_index, "item": added}),
            );
            text_events(e, &with(&at, "content_index", json!(0)), text, *delta_size);
        }
        Item::FunctionCall { arguments, .. } => {
            let mut added = done.clone();
            added["status"] = json!("in_progress");
            added["arguments"] = json!("");
            e.push(
                "response.output_item.added",
                json!({"output_index": output_index, "item": added}),
            );
            for piece in split_chars(arguments, 16) {
                e.push(
                    "response.function_call_arguments.delta",
                    with(&at, "delta", json!(piece)),
                );
            }
            e.push(
                "response.function_call_arguments.done",
                with(&at, "arguments", json!(arguments)),
            );
        }
    }
    e.push(
        "response.output_item.done",
        json!({"output_index": output_index, "item": done}),
    );
}

/// A reasoning summary's part: added, its text in pieces, done.
fn summary_events(e: &mut Events, at: &Value, text: &str) {
    let part = |text: &str| json!({"type": "summary_text", "text": text});
    e.push(
        "response.reasoning_summary_part.added",
        with(at, "part", part("")),
    );
    for piece in split_chars(text, 24) {
        e.push(
            "response.reasoning_summary_text.delta",
            with(at, "delta", json!(piece)),
        );
    }
    e.push(
        "response.reasoning_summary_text.done",
        with(at, "text", json!(text)),
    );
    e.push(
        "response.reasoning_summary_part.done",
        with(at, "part", part(text)),
    );
}

/// A message's text part: added, its text in pieces, done.
fn text_events(e: &mut Events, at: &Value, text: &str, delta_size: usize) {
    let part = |text: &str| json!({"type": "output_text", "text": text, "annotations": [], "logprobs": []});
    e.push("response.content_part.added", with(at, "part", part("")));
    for piece in split_chars(text, delta_size) {
        let mut delta = with(at, "delta", json!(piece));
        delta["logprobs"] = json!([]);
        e.push("response.output_text.delta", delta);
    }
    let mut text_done = with(at, "text", json!(text));
    text_done["logprobs"] = json!([]);
    e.push("response.output_text.done", text_done);
    e.push("response.content_part.done", with(at, "part", part(text)));
}

fn with(base: &Value, key: &str, value: Value) -> Value {
    let mut v = base.clone();
    v[key] = value;
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_is_numbered_in_order_and_ends_with_the_final_response() {
        let answer = Answer {
            id: "resp_1".into(),
            model: "openai.gpt-5.5".into(),
            items: vec![Item::Message {
                id: "msg_1".into(),
                text: "Hello there".into(),
                delta_size: 4,
            }],
            incomplete: None,
            usage: json!({"input_tokens": 1, "output_tokens": 3, "total_tokens": 4}),
            echo: Default::default(),
            fault: None,
        };
        let frames = events(&answer);
        let datas: Vec<Value> = frames
            .iter()
            .map(|f| {
                let text = std::str::from_utf8(f).unwrap();
                serde_json::from_str(text.split("data: ").nth(1).unwrap().trim()).unwrap()
            })
            .collect();
        for (n, d) in datas.iter().enumerate() {
            assert_eq!(d["sequence_number"], n);
        }
        let deltas: String = datas
            .iter()
            .filter(|d| d["type"] == "response.output_text.delta")
            .map(|d| d["delta"].as_str().unwrap())
            .collect();
        assert_eq!(deltas, "Hello there");
        assert_eq!(datas.last().unwrap()["type"], "response.completed");
        assert_eq!(
            datas.last().unwrap()["response"]["output"][0]["content"][0]["text"],
            "Hello there"
        );
    }
}
