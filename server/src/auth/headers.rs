//! Security headers on every response, and the rule that keeps a session cookie from being
//! used by another site (cross-site request forgery).
//!
//! Pages get their own Content Security Policy with a per-response nonce (see `app::shell`);
//! every other response gets a policy that allows nothing to run. A request that changes
//! something and is authenticated by the session cookie must show the browser sent it from
//! this server's own pages: `Sec-Fetch-Site: same-origin`, or an `Origin` that is this host.
//! Browsers add those headers themselves and no page of another site can forge them, so they
//! are the request's proof of origin (a CSRF token that needs no storage); a request without
//! either is refused. API tokens are not sent by browsers on their own, so requests that carry
//! one are not subject to this rule.

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

/// The policy of responses that are not pages (JSON, streams, files): nothing runs.
const API_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";

/// Adds the security headers a response lacks.
pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let fixed = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::CONTENT_SECURITY_POLICY, API_POLICY),
    ];
    for (name, value) in fixed {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    response
}

/// Whether a request proves it comes from this server's own pages (see the module docs).
pub fn from_own_pages(headers: &HeaderMap) -> bool {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if text("sec-fetch-site") == Some("same-origin") {
        return true;
    }
    match (text(header::ORIGIN.as_str()), text(header::HOST.as_str())) {
        (Some(origin), Some(host)) => crate::origin::names_host(origin, host),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn only_the_browsers_own_headers_prove_the_origin() {
        assert!(from_own_pages(&headers(&[(
            "sec-fetch-site",
            "same-origin"
        )])));
        assert!(from_own_pages(&headers(&[
            ("host", "127.0.0.1:2746"),
            ("origin", "http://127.0.0.1:2746")
        ])));
        assert!(!from_own_pages(&headers(&[("host", "127.0.0.1:2746")])));
        assert!(!from_own_pages(&headers(&[
            ("host", "127.0.0.1:2746"),
            ("origin", "http://evil.example")
        ])));
        assert!(!from_own_pages(&headers(&[(
            "sec-fetch-site",
            "same-site"
        )])));
    }
}
