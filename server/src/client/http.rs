//! A small JSON client of a Trellis (or Argo) server's REST API.

use serde_json::Value;

/// Why a call to the server failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server could not be reached.
    #[error(
        "cannot reach Trellis at {url}: {reason} (is `trellis serve` running? set --server or TRELLIS_SERVER)"
    )]
    Unreachable {
        /// The server's address.
        url: String,
        /// What the connection said.
        reason: String,
    },
    /// The server answered with an error.
    #[error("{message}")]
    Server {
        /// The HTTP status.
        status: u16,
        /// The server's message.
        message: String,
    },
}

impl ClientError {
    /// Whether the server refused the request as bad input (HTTP 400).
    pub fn is_bad_input(&self) -> bool {
        matches!(self, ClientError::Server { status: 400, .. })
    }
}

/// A server's address and an HTTP client.
#[derive(Debug, Clone)]
pub struct Api {
    base: String,
    http: reqwest::Client,
}

impl Api {
    /// A client of the server at `base` (`http://127.0.0.1:2746`), sending `token` (from
    /// `trellis token create`) as `Authorization: Bearer` when given.
    pub fn new(base: &str, token: Option<&str>) -> Self {
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some(Ok(mut value)) = token
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| reqwest::header::HeaderValue::from_str(&format!("Bearer {t}")))
        {
            value.set_sensitive(true);
            headers.insert(reqwest::header::AUTHORIZATION, value);
        }
        Self {
            base: base.trim_end_matches('/').to_string(),
            http: reqwest::Client::builder()
                .default_headers(headers)
                .build()
                .unwrap_or_default(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn unreachable(&self, e: &reqwest::Error) -> ClientError {
        let mut reason = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            reason = s.to_string();
            source = s.source();
        }
        ClientError::Unreachable {
            url: self.base.clone(),
            reason,
        }
    }

    /// Sends a request; returns the JSON answer of a 2xx, else the server's error.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, ClientError> {
        let mut req = self.http.request(method, self.url(path));
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        let resp = req.send().await.map_err(|e| self.unreachable(&e))?;
        let status = resp.status().as_u16();
        let text = resp.text().await.map_err(|e| self.unreachable(&e))?;
        let json: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        if (200..300).contains(&status) {
            return Ok(json);
        }
        let message = json["message"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| format!("the server answered {status}: {json}"));
        Err(ClientError::Server { status, message })
    }

    /// GET.
    pub async fn get(&self, path: &str) -> Result<Value, ClientError> {
        self.call(reqwest::Method::GET, path, None).await
    }

    /// POST with a JSON body.
    pub async fn post(&self, path: &str, body: &Value) -> Result<Value, ClientError> {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    /// PUT with a JSON body.
    pub async fn put(&self, path: &str, body: &Value) -> Result<Value, ClientError> {
        self.call(reqwest::Method::PUT, path, Some(body)).await
    }

    /// DELETE.
    pub async fn delete(&self, path: &str) -> Result<Value, ClientError> {
        self.call(reqwest::Method::DELETE, path, None).await
    }

    /// Opens a stream (newline-delimited JSON) and calls `each` with every message's `result`
    /// until the stream ends or `each` returns false.
    pub async fn stream(
        &self,
        path: &str,
        mut each: impl FnMut(&Value) -> bool,
    ) -> Result<(), ClientError> {
        let mut resp = self
            .http
            .get(self.url(path))
            .send()
            .await
            .map_err(|e| self.unreachable(&e))?;
        let status = resp.status().as_u16();
        if !(200..300).contains(&status) {
            let text = resp.text().await.unwrap_or_default();
            let json: Value = serde_json::from_str(&text).unwrap_or_default();
            let message = json["message"].as_str().unwrap_or(&text).to_string();
            return Err(ClientError::Server { status, message });
        }
        let mut buf = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.unreachable(&e))? {
            buf.extend_from_slice(&chunk);
            while let Some(i) = buf.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = buf.drain(..=i).collect();
                let Ok(msg) = serde_json::from_slice::<Value>(&line) else {
                    continue;
                };
                if !each(&msg["result"]) {
                    return Ok(());
                }
            }
        }
        Ok(())
    }
}

/// Percent-encodes a query value.
pub fn query_value(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(query_value("app=web,tier!=db"), "app%3Dweb%2Ctier%21%3Ddb");
        assert_eq!(query_value("metadata.name=x-1"), "metadata.name%3Dx-1");
    }
}
