//! Refuses state-changing requests a browser sends on behalf of another site (cross-site
//! request forgery): a request other than GET, HEAD or OPTIONS whose `Sec-Fetch-Site` says
//! `cross-site`, or whose `Origin` names another host than the one it was sent to, gets a 403.
//! Clients that are not browsers (the `argo` CLI, hera, curl) send neither header and pass.

use axum::extract::Request;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Whether a method changes things (everything but GET, HEAD and OPTIONS).
pub fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Whether an `Origin` header names `host` (a `Host` header's value); never for `null`.
pub fn names_host(origin: &str, host: &str) -> bool {
    origin != "null"
        && origin
            .split_once("://")
            .is_some_and(|(_, rest)| rest.trim_end_matches('/').eq_ignore_ascii_case(host))
}

/// Why a request is refused, if it is.
pub fn cross_site(method: &Method, headers: &HeaderMap) -> Option<&'static str> {
    if !changes_state(method) {
        return None;
    }
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if text("sec-fetch-site") == Some("cross-site") {
        return Some("a request from another site may not change anything here");
    }
    let origin = text(header::ORIGIN.as_str())?;
    let host = text(header::HOST.as_str()).unwrap_or_default();
    (!names_host(origin, host))
        .then_some("the request's Origin is not this server: a request from another site may not change anything here")
}

/// The middleware of [`cross_site`].
pub async fn same_origin(request: Request, next: Next) -> Response {
    match cross_site(request.method(), request.headers()) {
        Some(why) => {
            tracing::warn!(method = %request.method(), path = %request.uri().path(), "refused a cross-site request");
            (
                StatusCode::FORBIDDEN,
                axum::Json(serde_json::json!({"code": 7, "message": why, "details": []})),
            )
                .into_response()
        }
        None => next.run(request).await,
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
    fn only_cross_site_changes_are_refused() {
        let post = Method::POST;
        let local = [("host", "127.0.0.1:2746")];
        assert_eq!(
            cross_site(&post, &headers(&local)),
            None,
            "no Origin: not a browser"
        );
        let same = [
            ("host", "127.0.0.1:2746"),
            ("origin", "http://127.0.0.1:2746"),
        ];
        assert_eq!(cross_site(&post, &headers(&same)), None);
        let other = [
            ("host", "127.0.0.1:2746"),
            ("origin", "https://evil.example"),
        ];
        assert!(cross_site(&post, &headers(&other)).is_some());
        assert!(cross_site(&Method::PUT, &headers(&other)).is_some());
        assert_eq!(cross_site(&Method::GET, &headers(&other)), None);
        let fetch = [("host", "127.0.0.1:2746"), ("sec-fetch-site", "cross-site")];
        assert!(cross_site(&post, &headers(&fetch)).is_some());
        assert!(changes_state(&Method::POST) && !changes_state(&Method::GET));
        let opaque = [("host", "127.0.0.1:2746"), ("origin", "null")];
        assert!(cross_site(&post, &headers(&opaque)).is_some());
    }
}
