//! Streamed responses framed as Argo Server frames them: every message is `{"result": …}`,
//! sent as a Server-Sent Event (`data: …` and a blank line) when the client accepts
//! `text/event-stream`, else as newline-delimited JSON (grpc-gateway's stream format).

use std::convert::Infallible;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::sync::mpsc;

/// How the messages of a stream are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// `data: {"result": …}\n\n`.
    Sse,
    /// `{"result": …}\n`.
    Ndjson,
}

impl Framing {
    /// SSE when the request accepts `text/event-stream`.
    pub fn of(headers: &HeaderMap) -> Self {
        let sse = headers
            .get_all(header::ACCEPT)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.contains("text/event-stream"));
        if sse { Framing::Sse } else { Framing::Ndjson }
    }

    /// One message, framed.
    pub fn frame(self, result: &Value) -> Bytes {
        let text = json!({ "result": result }).to_string();
        match self {
            Framing::Sse => Bytes::from(format!("data: {text}\n\n")),
            Framing::Ndjson => Bytes::from(format!("{text}\n")),
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Framing::Sse => "text/event-stream",
            Framing::Ndjson => "application/json",
        }
    }
}

/// A sender of stream messages; sending fails once the client has gone.
pub type Messages = mpsc::Sender<Value>;

/// A streamed response fed by the messages sent on the returned channel; the stream ends when
/// every sender is dropped.
pub fn channel(framing: Framing) -> (Messages, Response) {
    let (tx, rx) = mpsc::channel::<Value>(64);
    let body = futures::stream::unfold(rx, move |mut rx| async move {
        let v = rx.recv().await?;
        Some((Ok::<_, Infallible>(framing.frame(&v)), rx))
    });
    let mut resp = Body::from_stream(body).into_response();
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(framing.content_type()),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    (tx, resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_follow_argo_server() {
        let v = json!({"content": "hi"});
        assert_eq!(
            Framing::Sse.frame(&v),
            Bytes::from("data: {\"result\":{\"content\":\"hi\"}}\n\n")
        );
        assert_eq!(
            Framing::Ndjson.frame(&v),
            Bytes::from("{\"result\":{\"content\":\"hi\"}}\n")
        );
        let mut h = HeaderMap::new();
        assert_eq!(Framing::of(&h), Framing::Ndjson);
        h.insert(
            header::ACCEPT,
            HeaderValue::from_static("text/event-stream"),
        );
        assert_eq!(Framing::of(&h), Framing::Sse);
    }
}
