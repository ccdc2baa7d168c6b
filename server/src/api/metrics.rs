//! `GET /metrics` in Prometheus' text format: live workflows by phase (not-started ones count as
//! `Pending`: the queue), workflows being run, step durations by phase, and the API's request
//! latencies by method, route and status, measured by [`track`].

use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use controller::metrics::{Histogram, LATENCY_BUCKETS, STEP_DURATION, render_gauge};
use controller::store::Store;

use super::ApiState;
use super::error::ApiResult;

/// API request latencies.
static REQUESTS: Histogram = Histogram::new(
    "trellis_api_request_duration_seconds",
    "Latency of API requests, by method, route and status.",
    &["method", "route", "code"],
    LATENCY_BUCKETS,
);

pub(super) fn routes() -> Router<ApiState> {
    Router::new().route("/metrics", get(metrics))
}

/// Measures a request (a route layer, so the matched route is known).
pub(super) async fn track(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let resp = next.run(req).await;
    let code = resp.status().as_u16().to_string();
    REQUESTS.observe(&[&method, &route, &code], start.elapsed().as_secs_f64());
    resp
}

async fn metrics(State(s): State<ApiState>) -> ApiResult<Response> {
    let counts = s.backend.store().count_workflows_by_phase().await?;
    let mut by_phase: Vec<(Vec<String>, f64)> = Vec::new();
    for phase in ["Pending", "Running", "Succeeded", "Failed", "Error"] {
        let n: i64 = counts
            .iter()
            .filter(|(p, _)| p == phase || (phase == "Pending" && p.is_empty()))
            .map(|(_, n)| n)
            .sum();
        by_phase.push((vec![phase.to_string()], n as f64));
    }
    let mut out = String::new();
    render_gauge(
        &mut out,
        "trellis_workflows",
        "Live workflows by phase.",
        &["phase"],
        &by_phase,
    );
    render_gauge(
        &mut out,
        "trellis_workflows_running",
        "Workflows the backend is running now.",
        &[],
        &[(vec![], s.backend.active_count() as f64)],
    );
    STEP_DURATION.render(&mut out);
    REQUESTS.render(&mut out);
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
        .into_response())
}
