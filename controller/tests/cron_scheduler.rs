//! The CronWorkflow scheduler on the local backend, with time given to each tick: runs start
//! when due and never twice, Forbid and Replace, suspend, the catch-up of a missed run after a
//! restart within `startingDeadlineSeconds`, counters, and the history limits.

use std::time::Duration;

use chrono::{DateTime, Utc};
use controller::cron::CronScheduler;
use controller::local::{LocalBackend, LocalConfig};
use controller::store::{LabelSelector, Store, TemplateKind, WorkflowQuery};
use serde_json::{Value, json};

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().to_utc()
}

async fn backend(dir: &tempfile::TempDir) -> LocalBackend {
    LocalBackend::open(LocalConfig {
        data_dir: dir.path().to_path_buf(),
        database: None,
        exec_binary: "/nonexistent/trellis".into(),
        sandbox: false,
    })
    .await
    .unwrap()
}

/// A CronWorkflow whose runs wait at a suspend step (`wait: true`) or finish at once.
fn cron(spec: Value, wait: bool) -> Value {
    let suspend = if wait {
        json!({})
    } else {
        json!({"duration": "0s"})
    };
    let mut spec = spec;
    spec["workflowSpec"] =
        json!({"entrypoint": "main", "templates": [{"name": "main", "suspend": suspend}]});
    json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "CronWorkflow",
           "metadata": {"name": "tick", "namespace": "ops"}, "spec": spec})
}

async fn put(b: &LocalBackend, body: &Value) {
    b.store()
        .put_template(TemplateKind::CronWorkflow, Some("ops"), "tick", body)
        .await
        .unwrap();
}

async fn status(b: &LocalBackend) -> Value {
    let t = b
        .store()
        .get_template(TemplateKind::CronWorkflow, Some("ops"), "tick")
        .await
        .unwrap();
    t.body["status"].clone()
}

async fn runs(b: &LocalBackend) -> Vec<String> {
    let page = b
        .store()
        .list_workflows(&WorkflowQuery {
            namespace: Some("ops".into()),
            labels: LabelSelector::parse("workflows.argoproj.io/cron-workflow=tick").unwrap(),
            ..Default::default()
        })
        .await
        .unwrap();
    let mut names: Vec<String> = page
        .items
        .iter()
        .map(|w| w.metadata.as_ref().unwrap().name.clone().unwrap())
        .collect();
    names.sort();
    names
}

fn run(t: &str) -> String {
    format!("tick-{}", at(t).timestamp())
}

async fn settle() {
    tokio::time::sleep(Duration::from_millis(300)).await;
}

#[tokio::test]
async fn due_runs_start_once_and_forbid_and_replace_hold() {
    let dir = tempfile::tempdir().unwrap();
    let b = backend(&dir).await;
    put(
        &b,
        &cron(
            json!({"schedule": "*/5 * * * *", "concurrencyPolicy": "Forbid"}),
            true,
        ),
    )
    .await;
    let mut s = CronScheduler::new(b.clone());
    s.tick(at("2026-01-01T10:00:30Z")).await;
    assert!(
        runs(&b).await.is_empty(),
        "the first look at a new cron starts nothing"
    );
    s.tick(at("2026-01-01T10:04:59Z")).await;
    assert!(runs(&b).await.is_empty());
    s.tick(at("2026-01-01T10:05:00Z")).await;
    assert_eq!(runs(&b).await, [run("2026-01-01T10:05:00Z")]);
    let st = status(&b).await;
    assert_eq!(st["lastScheduledTime"], "2026-01-01T10:05:00Z");
    assert_eq!(st["active"][0]["name"], run("2026-01-01T10:05:00Z"));
    assert_eq!(st["phase"], "Active");
    s.tick(at("2026-01-01T10:05:00.5Z")).await;
    assert_eq!(runs(&b).await.len(), 1, "never twice");

    s.tick(at("2026-01-01T10:10:00Z")).await;
    assert_eq!(runs(&b).await.len(), 1, "Forbid: the first run still waits");

    // The status the scheduler wrote stays (the API keeps it when a CronWorkflow is updated).
    let mut body = cron(
        json!({"schedule": "*/5 * * * *", "concurrencyPolicy": "Replace"}),
        true,
    );
    body["status"] = st.clone();
    put(&b, &body).await;
    s.tick(at("2026-01-01T10:15:00Z")).await;
    settle().await;
    assert_eq!(
        runs(&b).await,
        [run("2026-01-01T10:05:00Z"), run("2026-01-01T10:15:00Z")]
    );
    let first = b
        .store()
        .get_workflow("ops", &run("2026-01-01T10:05:00Z"))
        .await
        .unwrap();
    let phase = first
        .status
        .and_then(|s| s.phase)
        .map(|p| p.as_str().to_string());
    assert_eq!(
        phase.as_deref(),
        Some("Failed"),
        "Replace terminated the older run"
    );
    s.tick(at("2026-01-01T10:15:01Z")).await;
    assert_eq!(
        status(&b).await["failed"],
        1,
        "the terminated run counts as failed"
    );

    let mut suspended = cron(json!({"schedule": "*/5 * * * *", "suspend": true}), true);
    suspended["status"] = status(&b).await;
    put(&b, &suspended).await;
    s.tick(at("2026-01-01T10:20:00Z")).await;
    assert_eq!(runs(&b).await.len(), 2, "suspended: nothing new");
}

#[tokio::test]
async fn a_restart_catches_up_the_latest_missed_run_within_the_deadline_only_once() {
    let dir = tempfile::tempdir().unwrap();
    let b = backend(&dir).await;
    let mut body = cron(
        json!({"schedule": "*/5 * * * *", "startingDeadlineSeconds": 300}),
        false,
    );
    body["status"] = json!({"lastScheduledTime": "2026-01-01T10:00:00Z"});
    put(&b, &body).await;
    // Down from 10:00 to 10:17: 10:05, 10:10 and 10:15 were missed; 10:15 is within 300 s.
    CronScheduler::new(b.clone())
        .tick(at("2026-01-01T10:17:00Z"))
        .await;
    assert_eq!(runs(&b).await, [run("2026-01-01T10:15:00Z")]);
    // Another restart at the same moment does not start it again.
    CronScheduler::new(b.clone())
        .tick(at("2026-01-01T10:17:00Z"))
        .await;
    assert_eq!(runs(&b).await.len(), 1);

    let mut late = cron(
        json!({"schedule": "*/5 * * * *", "startingDeadlineSeconds": 60}),
        false,
    );
    late["status"] = json!({"lastScheduledTime": "2026-01-01T10:15:00Z"});
    put(&b, &late).await;
    CronScheduler::new(b.clone())
        .tick(at("2026-01-01T10:27:00Z"))
        .await;
    assert_eq!(runs(&b).await.len(), 1, "10:25 is more than 60 s ago");
}

#[tokio::test]
async fn finished_runs_are_counted_and_trimmed_to_the_history_limit() {
    let dir = tempfile::tempdir().unwrap();
    let b = backend(&dir).await;
    put(
        &b,
        &cron(
            json!({"schedule": "* * * * *", "successfulJobsHistoryLimit": 2}),
            false,
        ),
    )
    .await;
    let mut s = CronScheduler::new(b.clone());
    s.tick(at("2026-01-01T10:00:30Z")).await;
    for minute in 1..=4 {
        s.tick(at(&format!("2026-01-01T10:0{minute}:00Z"))).await;
        settle().await;
    }
    s.tick(at("2026-01-01T10:04:30Z")).await;
    let st = status(&b).await;
    assert_eq!(st["succeeded"], 4, "{st}");
    assert!(st.get("active").is_none(), "{st}");
    assert_eq!(
        runs(&b).await,
        [run("2026-01-01T10:03:00Z"), run("2026-01-01T10:04:00Z")]
    );
}

#[tokio::test]
async fn every_schedules_count_from_the_first_look_and_from_each_run() {
    let dir = tempfile::tempdir().unwrap();
    let b = backend(&dir).await;
    put(&b, &cron(json!({"schedule": "@every 90s"}), false)).await;
    let mut s = CronScheduler::new(b.clone());
    s.tick(at("2026-01-01T10:00:00Z")).await;
    s.tick(at("2026-01-01T10:01:00Z")).await;
    assert!(runs(&b).await.is_empty());
    s.tick(at("2026-01-01T10:01:30Z")).await;
    assert_eq!(runs(&b).await, [run("2026-01-01T10:01:30Z")]);
    s.tick(at("2026-01-01T10:02:30Z")).await;
    assert_eq!(runs(&b).await.len(), 1);
    s.tick(at("2026-01-01T10:03:00Z")).await;
    assert_eq!(
        runs(&b).await,
        [run("2026-01-01T10:01:30Z"), run("2026-01-01T10:03:00Z")]
    );

    // A new schedule starts afresh from when it is seen.
    let mut hourly = cron(json!({"schedule": "@every 1h"}), false);
    hourly["status"] = status(&b).await;
    put(&b, &hourly).await;
    s.tick(at("2026-01-01T10:04:30Z")).await;
    s.tick(at("2026-01-01T11:00:00Z")).await;
    assert_eq!(runs(&b).await.len(), 2, "not yet an hour since it was seen");
    s.tick(at("2026-01-01T11:04:30Z")).await;
    assert_eq!(runs(&b).await.len(), 3);
}
