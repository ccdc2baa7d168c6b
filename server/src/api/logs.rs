//! `GET /api/v1/workflows/{namespace}/{name}/log` (and the older `…/{podName}/log`): the logs of
//! a workflow's steps as Argo streams them, one `{"content": line, "podName": pod}` per line.
//! With `logOptions.follow=true` the stream stays open while the workflow runs and sends lines
//! as the steps write them; it ends when the workflow has finished and every line was sent.

use std::collections::BTreeMap;
use std::io::SeekFrom;
use std::path::PathBuf;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use chrono::{DateTime, Utc};
use controller::exec::{LogLine, parse_log_line};
use controller::store::Store;
use engine::model::{NodeType, Workflow};
use regex::Regex;
use serde::Deserialize;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::ApiState;
use super::error::{ApiError, ApiResult};
use super::stream::{Framing, Messages, channel};

/// How often a followed log is read again.
const POLL: Duration = Duration::from_millis(200);

pub(super) fn routes() -> Router<ApiState> {
    Router::new()
        .route(
            "/api/v1/workflows/{namespace}/{name}/log",
            get(workflow_logs),
        )
        .route(
            "/api/v1/workflows/{namespace}/{name}/{pod}/log",
            get(pod_logs),
        )
}

/// Query of a log request (Argo's `WorkflowLogRequest` with Kubernetes' `PodLogOptions`).
#[derive(Debug, Default, Deserialize)]
struct LogQuery {
    #[serde(rename = "podName", default)]
    pod_name: String,
    #[serde(rename = "logOptions.container", default)]
    container: String,
    #[serde(rename = "logOptions.follow", default)]
    follow: Option<String>,
    #[serde(rename = "logOptions.timestamps", default)]
    timestamps: Option<String>,
    #[serde(rename = "logOptions.tailLines", default)]
    tail_lines: Option<String>,
    #[serde(rename = "logOptions.sinceSeconds", default)]
    since_seconds: Option<String>,
    #[serde(rename = "logOptions.sinceTime", default)]
    since_time: Option<String>,
    #[serde(default)]
    grep: String,
}

/// What to send, parsed and checked.
#[derive(Debug, Clone)]
struct Filter {
    pod: Option<String>,
    follow: bool,
    timestamps: bool,
    tail: Option<usize>,
    since: Option<DateTime<Utc>>,
    grep: Option<Regex>,
    /// Only `main` has logs on the local backend; other containers stream nothing.
    main: bool,
}

async fn workflow_logs(
    State(state): State<ApiState>,
    caller: crate::auth::Caller,
    Path((namespace, name)): Path<(String, String)>,
    Query(q): Query<LogQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    logs(state, &caller, namespace, name, q, headers).await
}

async fn pod_logs(
    State(state): State<ApiState>,
    caller: crate::auth::Caller,
    Path((namespace, name, pod)): Path<(String, String, String)>,
    Query(mut q): Query<LogQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    q.pod_name = pod;
    logs(state, &caller, namespace, name, q, headers).await
}

async fn logs(
    state: ApiState,
    caller: &crate::auth::Caller,
    namespace: String,
    name: String,
    q: LogQuery,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let filter = filter(&q, Utc::now())?;
    // 404 or 403 before the stream starts.
    let wf = state
        .backend
        .store()
        .get_workflow(&namespace, &name)
        .await?;
    crate::auth::guard::check_workflow(&state, caller, engine::access::Action::Read, &wf).await?;
    let (tx, resp) = channel(Framing::of(&headers));
    let stopping = state.stopping();
    tokio::spawn(async move {
        tokio::select! {
            r = stream_logs(&state, &namespace, &name, &filter, &tx) => {
                if let Err(e) = r {
                    tracing::warn!(workflow.name = %name, error = %e, "a log stream ended early");
                }
            }
            () = stopping => {}
        }
    });
    Ok(resp)
}

/// A boolean query value as Go's `strconv.ParseBool` reads it (`true`, `True`, `1`, `t`…).
fn flag(v: &Option<String>) -> bool {
    v.as_deref()
        .is_some_and(|v| matches!(v, "1" | "t" | "T" | "true" | "True" | "TRUE"))
}

fn filter(q: &LogQuery, now: DateTime<Utc>) -> ApiResult<Filter> {
    let number = |field: &str, v: &Option<String>| -> ApiResult<Option<i64>> {
        match v.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(t) => t.parse::<i64>().map(Some).map_err(|_| {
                ApiError::bad(format!(
                    "logOptions.{field} must be a whole number, not {t:?}"
                ))
            }),
        }
    };
    let tail =
        number("tailLines", &q.tail_lines)?.map(|n| usize::try_from(n.max(0)).unwrap_or_default());
    let mut since = match number("sinceSeconds", &q.since_seconds)? {
        None => None,
        Some(secs) => Some(
            chrono::Duration::try_seconds(secs)
                .and_then(|d| now.checked_sub_signed(d))
                .ok_or_else(|| {
                    ApiError::bad(format!("logOptions.sinceSeconds {secs} is out of range"))
                })?,
        ),
    };
    if let Some(t) = q.since_time.as_deref().filter(|t| !t.is_empty()) {
        since = Some(
            DateTime::parse_from_rfc3339(t)
                .map_err(|e| ApiError::bad(format!("logOptions.sinceTime must be RFC 3339: {e}")))?
                .to_utc(),
        );
    }
    let grep =
        if q.grep.is_empty() {
            None
        } else {
            Some(Regex::new(&q.grep).map_err(|e| {
                ApiError::bad(format!("grep is not a valid regular expression: {e}"))
            })?)
        };
    Ok(Filter {
        pod: Some(q.pod_name.clone()).filter(|p| !p.is_empty()),
        follow: flag(&q.follow),
        timestamps: flag(&q.timestamps),
        tail,
        since,
        grep,
        main: q.container.is_empty() || q.container == "main",
    })
}

/// Where one step's log is read from, and how far it was read.
struct Tail {
    pod: String,
    path: PathBuf,
    offset: u64,
    partial: Vec<u8>,
    first: bool,
}

async fn stream_logs(
    state: &ApiState,
    namespace: &str,
    name: &str,
    f: &Filter,
    tx: &Messages,
) -> Result<(), String> {
    let store = state.backend.store();
    let mut tails: BTreeMap<String, Tail> = BTreeMap::new();
    loop {
        let Ok(wf) = store.get_workflow(namespace, name).await else {
            return Ok(()); // deleted
        };
        let done = wf
            .status
            .as_ref()
            .and_then(|s| s.phase)
            .is_some_and(|p| p.completed());
        if f.main {
            for (id, pod) in pods(&wf, f.pod.as_deref()) {
                if tails.contains_key(&id) {
                    continue;
                }
                let tail = Tail {
                    pod,
                    path: state.backend.log_path(&wf, &id).await,
                    offset: 0,
                    partial: Vec::new(),
                    first: true,
                };
                tails.insert(id, tail);
            }
        }
        if done {
            // The last copy of each log kept elsewhere (a Pod's) is in place before the read.
            for id in tails.keys() {
                state.backend.log_path(&wf, id).await;
            }
        }
        let secrets = engine::secrets::secret_values(&wf);
        for t in tails.values_mut() {
            for line in read_new(t, f, &secrets).await? {
                if tx.send(line).await.is_err() {
                    return Ok(()); // the client went away
                }
            }
        }
        if !f.follow || done {
            return Ok(());
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The Pod nodes of a workflow (optionally only one pod), by start time: (node id, pod name).
fn pods(wf: &Workflow, only: Option<&str>) -> Vec<(String, String)> {
    let name = wf
        .metadata
        .as_ref()
        .and_then(|m| m.name.clone())
        .unwrap_or_default();
    let mut out: Vec<(String, String, String)> = wf
        .status
        .iter()
        .flat_map(|s| s.nodes.iter().flatten())
        .filter(|(_, n)| n.r#type == Some(NodeType::Pod))
        .filter_map(|(id, n)| {
            let pod = engine::plan::node_pod_name(&name, n)?;
            let started = n.started_at.clone().unwrap_or_default();
            Some((started, id.clone(), pod))
        })
        .filter(|(_, id, pod)| only.is_none_or(|p| p == pod || p == id))
        .collect();
    out.sort();
    out.into_iter().map(|(_, id, pod)| (id, pod)).collect()
}

/// The messages for the lines written to a step's log since the last read, the run's secret
/// values masked.
async fn read_new(
    t: &mut Tail,
    f: &Filter,
    secrets: &[String],
) -> Result<Vec<serde_json::Value>, String> {
    let mut file = match tokio::fs::File::open(&t.path).await {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("{}: {e}", t.path.display())),
    };
    file.seek(SeekFrom::Start(t.offset))
        .await
        .map_err(|e| e.to_string())?;
    let mut buf = Vec::new();
    file.read_to_end(&mut buf)
        .await
        .map_err(|e| e.to_string())?;
    t.offset += buf.len() as u64;
    t.partial.extend_from_slice(&buf);
    let end = t
        .partial
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    let complete: Vec<u8> = t.partial.drain(..end).collect();
    let lines: Vec<LogLine> = String::from_utf8_lossy(&complete)
        .lines()
        .filter_map(|l| parse_log_line(l).ok())
        .collect();
    let mut out: Vec<serde_json::Value> = lines
        .into_iter()
        .filter(|l| keep(l, f))
        .map(|l| {
            let line = engine::secrets::redact(&l.l, secrets);
            let content = if f.timestamps {
                format!("{} {}", l.t, line)
            } else {
                line
            };
            json!({"content": content, "podName": t.pod})
        })
        .collect();
    if t.first {
        t.first = false;
        if let Some(n) = f.tail {
            let skip = out.len().saturating_sub(n);
            out.drain(..skip);
        }
    }
    Ok(out)
}

fn keep(l: &LogLine, f: &Filter) -> bool {
    let recent = f
        .since
        .is_none_or(|since| DateTime::parse_from_rfc3339(&l.t).is_ok_and(|t| t.to_utc() >= since));
    recent && f.grep.as_ref().is_none_or(|g| g.is_match(&l.l))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_parsed_and_bad_ones_refused() {
        let now = Utc::now();
        let q = LogQuery {
            follow: Some("true".into()),
            tail_lines: Some("5".into()),
            since_seconds: Some("60".into()),
            grep: "err.r".into(),
            container: "main".into(),
            ..Default::default()
        };
        let f = filter(&q, now).unwrap();
        assert!(f.follow && f.main);
        assert!(flag(&Some("True".into())) && !flag(&Some("false".into())) && !flag(&None));
        assert_eq!(f.tail, Some(5));
        assert_eq!(f.since, Some(now - chrono::Duration::seconds(60)));
        let line = |t: &str, l: &str| LogLine {
            t: t.into(),
            s: controller::exec::LogStream::Stdout,
            l: l.into(),
        };
        let fresh = engine::plan::format_time(now);
        assert!(keep(&line(&fresh, "an error"), &f));
        assert!(!keep(&line(&fresh, "fine"), &f));
        assert!(!keep(&line("2020-01-01T00:00:00Z", "an error"), &f));
        for bad in [
            LogQuery {
                tail_lines: Some("x".into()),
                ..Default::default()
            },
            LogQuery {
                since_time: Some("yesterday".into()),
                ..Default::default()
            },
            LogQuery {
                grep: "(".into(),
                ..Default::default()
            },
            LogQuery {
                since_seconds: Some(i64::MAX.to_string()),
                ..Default::default()
            },
        ] {
            assert!(filter(&bad, now).is_err(), "{bad:?}");
        }
        let wait = LogQuery {
            container: "wait".into(),
            ..Default::default()
        };
        assert!(!filter(&wait, now).unwrap().main);
    }
}
