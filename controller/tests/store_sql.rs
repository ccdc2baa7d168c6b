//! The SQL store against real migrations, each test on a fresh SQLite file and a fresh
//! PostgreSQL schema: workflow life cycle, run numbers, step claims (also under concurrency),
//! memoization, events, and reopening the database.

mod common;

use std::sync::Arc;

use common::{TestDb, workflow};

use controller::store::{
    Database, LABEL_CRON_WORKFLOW, LABEL_RUN_NUMBER, LABEL_WORKFLOW_TEMPLATE, SqlStore, Store,
    StoreError, TemplateKind, WorkflowQuery, template_key,
};
use engine::model::{Workflow, WorkflowPhase, WorkflowStatus};
use serde_json::json;

/// Labels as written in a test table.
type Labels<'a> = &'a [(&'a str, &'a str)];

fn label<'a>(wf: &'a Workflow, key: &str) -> Option<&'a str> {
    wf.metadata
        .as_ref()?
        .labels
        .as_ref()?
        .get(key)
        .map(String::as_str)
}

fn resource_version(wf: &Workflow) -> String {
    wf.metadata
        .as_ref()
        .and_then(|m| m.resource_version.clone())
        .unwrap()
}

async fn create_fills_in_identity_and_reads_back(db: &TestDb) {
    let store = db.open().await;
    let created = store
        .create_workflow(&workflow("ci", "hello", &[("team", "a")]))
        .await
        .unwrap();
    let meta = created.workflow.metadata.clone().unwrap();
    assert_eq!(meta.uid.as_deref(), Some(created.uid.as_str()));
    assert_eq!(created.uid.len(), 36, "a uuid: {}", created.uid);
    assert!(meta.creation_timestamp.is_some());
    assert_eq!(
        meta.resource_version.as_deref(),
        Some(created.resource_version.as_str())
    );
    assert_eq!(label(&created.workflow, LABEL_RUN_NUMBER), Some("1"));
    assert_eq!(label(&created.workflow, "team"), Some("a"));

    let got = store.get_workflow("ci", "hello").await.unwrap();
    assert_eq!(got, created.workflow);
    assert_eq!(store.get_workflow_by_uid(&created.uid).await.unwrap(), got);
}

async fn updates_are_optimistic_and_deletes_are_final(db: &TestDb) {
    let store = db.open().await;
    let created = store
        .create_workflow(&workflow("ci", "hello", &[]))
        .await
        .unwrap();
    let meta = created.workflow.metadata.clone().unwrap();
    let got = store.get_workflow("ci", "hello").await.unwrap();

    // Persist a status: the version moves on, identity is kept even if the caller drops it.
    let mut running = got.clone();
    running.status = Some(WorkflowStatus {
        phase: Some(WorkflowPhase::Running),
        started_at: Some("2024-01-01T00:00:00Z".into()),
        ..Default::default()
    });
    running.metadata.as_mut().unwrap().creation_timestamp = None;
    let updated = store
        .update_workflow(&running, &created.resource_version)
        .await
        .unwrap();
    let new_version = resource_version(&updated);
    assert!(new_version.parse::<i64>().unwrap() > created.resource_version.parse::<i64>().unwrap());
    assert_eq!(
        updated.metadata.as_ref().unwrap().creation_timestamp,
        meta.creation_timestamp
    );
    assert_eq!(store.get_workflow("ci", "hello").await.unwrap(), updated);
    let running_now = WorkflowQuery {
        phases: vec![WorkflowPhase::Running],
        ..Default::default()
    };
    let listed = store.list_workflows(&running_now).await.unwrap().items;
    assert_eq!(
        listed,
        std::slice::from_ref(&updated),
        "the phase column follows the status"
    );

    // A writer holding the old version loses.
    let err = store
        .update_workflow(&running, &created.resource_version)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict { expected, actual, .. }
        if *expected == created.resource_version && *actual == new_version),
        "{err}"
    );
    assert!(err.to_string().contains("changed by someone else"), "{err}");

    store.delete_workflow("ci", "hello").await.unwrap();
    for err in [
        store.get_workflow("ci", "hello").await.unwrap_err(),
        store.get_workflow_by_uid(&created.uid).await.unwrap_err(),
        store.delete_workflow("ci", "hello").await.unwrap_err(),
        store
            .update_workflow(&updated, &new_version)
            .await
            .unwrap_err(),
    ] {
        assert!(matches!(err, StoreError::NotFound { .. }), "{err}");
    }
}

async fn names_are_unique_per_namespace_and_generated_on_request(db: &TestDb) {
    let store = db.open().await;
    store
        .create_workflow(&workflow("ci", "a", &[]))
        .await
        .unwrap();
    let err = store
        .create_workflow(&workflow("ci", "a", &[]))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::AlreadyExists { .. }), "{err}");
    assert_eq!(err.to_string(), "workflow \"ci/a\" already exists");
    store
        .create_workflow(&workflow("prod", "a", &[]))
        .await
        .unwrap();

    // A failed batch creates nothing.
    let batch = [workflow("ci", "b", &[]), workflow("ci", "a", &[])];
    assert!(store.create_workflows(&batch).await.is_err());
    assert!(store.get_workflow("ci", "b").await.is_err());

    let generated: Workflow =
        serde_json::from_value(json!({"metadata": {"generateName": "build-"}})).unwrap();
    let one = store.create_workflow(&generated).await.unwrap();
    let two = store.create_workflow(&generated).await.unwrap();
    let name =
        |s: &controller::store::StoredWorkflow| s.workflow.metadata.clone().unwrap().name.unwrap();
    assert!(name(&one).starts_with("build-") && name(&one).len() == "build-".len() + 5);
    assert_ne!(name(&one), name(&two));
    let ns = one.workflow.metadata.clone().unwrap().namespace;
    assert_eq!(ns.as_deref(), Some("default"));

    let nameless = store
        .create_workflow(&Workflow::default())
        .await
        .unwrap_err();
    assert!(matches!(nameless, StoreError::Invalid { .. }), "{nameless}");
}

async fn run_numbers_count_per_template_and_survive_reopening(db: &TestDb) {
    let build = [(LABEL_WORKFLOW_TEMPLATE, "build")];
    let nightly = [(LABEL_CRON_WORKFLOW, "nightly")];
    let cases: [(&str, Labels, i64); 7] = [
        ("b1", &build, 1),
        ("b2", &build, 2),
        ("n1", &nightly, 1),
        ("adhoc1", &[], 1),
        ("b3", &build, 3),
        ("n2", &nightly, 2),
        ("adhoc2", &[], 2),
    ];
    let store = db.open().await;
    for (name, labels, want) in &cases {
        let created = store
            .create_workflow(&workflow("ci", name, labels))
            .await
            .unwrap();
        assert_eq!(created.run_number, *want, "{name}");
        assert_eq!(
            label(&created.workflow, LABEL_RUN_NUMBER),
            Some(want.to_string().as_str())
        );
    }
    // Deleting the newest run does not hand its number out again.
    store.delete_workflow("ci", "b3").await.unwrap();
    store.close().await;

    let store = db.open().await;
    let next = store
        .create_workflow(&workflow("ci", "b4", &build))
        .await
        .unwrap();
    assert_eq!(next.run_number, 4);
    assert_eq!(
        next.template_key,
        Some(template_key(TemplateKind::WorkflowTemplate, "ci", "build"))
    );
    // Same template name in another namespace: another history.
    let other = store
        .create_workflow(&workflow("prod", "b1", &build))
        .await
        .unwrap();
    assert_eq!(other.run_number, 1);
    assert_eq!(
        store
            .create_workflow(&workflow("ci", "n3", &nightly))
            .await
            .unwrap()
            .run_number,
        3
    );
}

async fn a_step_attempt_is_claimed_once(db: &TestDb) {
    let store = db.open().await;
    let uid = store
        .create_workflow(&workflow("ci", "w", &[]))
        .await
        .unwrap()
        .uid;
    assert!(store.claim_step(&uid, "w-123", "0").await.unwrap());
    assert!(!store.claim_step(&uid, "w-123", "0").await.unwrap());
    assert!(
        store.claim_step(&uid, "w-123", "1").await.unwrap(),
        "a retry is another attempt"
    );
    assert!(store.claim_step(&uid, "w-456", "0").await.unwrap());

    store
        .record_step_pid(&uid, "w-123", "0", 4242)
        .await
        .unwrap();
    let claims = store.step_claims(&uid).await.unwrap();
    let seen: Vec<_> = claims
        .iter()
        .map(|c| (c.node_id.as_str(), c.attempt_key.as_str(), c.pid))
        .collect();
    assert_eq!(
        seen,
        [
            ("w-123", "0", Some(4242)),
            ("w-123", "1", None),
            ("w-456", "0", None)
        ]
    );

    let err = store
        .record_step_pid(&uid, "w-789", "0", 1)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err}");
    let err = store.claim_step("no-such-uid", "n", "0").await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err}");

    // A retry releases a node's claims (every attempt); other nodes keep theirs.
    let released = store
        .release_steps(&uid, &["w-123".to_string(), "w-000".to_string()])
        .await
        .unwrap();
    assert_eq!(released, 2);
    assert!(store.claim_step(&uid, "w-123", "0").await.unwrap());
    assert!(!store.claim_step(&uid, "w-456", "0").await.unwrap());

    // Claims go with their workflow.
    store.delete_workflow("ci", "w").await.unwrap();
    assert!(store.step_claims(&uid).await.unwrap().is_empty());
}

async fn concurrent_claims_have_exactly_one_winner(db: &TestDb) {
    // Two stores on one database stand for two processes sharing it.
    let first = Arc::new(db.open().await);
    let second = Arc::new(db.open().await);
    let uid = first
        .create_workflow(&workflow("ci", "w", &[]))
        .await
        .unwrap()
        .uid;
    for attempt in ["0", "1", "2"] {
        let mut tasks = Vec::new();
        for i in 0..20 {
            let store = if i % 2 == 0 {
                first.clone()
            } else {
                second.clone()
            };
            let uid = uid.clone();
            tasks.push(tokio::spawn(async move {
                store.claim_step(&uid, "w-1", attempt).await.unwrap()
            }));
        }
        let mut winners = 0;
        for task in tasks {
            winners += usize::from(task.await.unwrap());
        }
        assert_eq!(winners, 1, "attempt {attempt}");
    }
    assert_eq!(second.step_claims(&uid).await.unwrap().len(), 3);
}

async fn memo_entries_are_upserted(db: &TestDb) {
    let store = db.open().await;
    assert_eq!(store.memo_get("ci", "cache", "k").await.unwrap(), None);
    let first = json!({"parameters": [{"name": "out", "value": "1"}]});
    let put = store
        .memo_put("ci", "cache", "k", "w-1", &first)
        .await
        .unwrap();
    let got = store.memo_get("ci", "cache", "k").await.unwrap().unwrap();
    assert_eq!(got, put);
    assert_eq!((got.node_id.as_str(), &got.outputs), ("w-1", &first));

    let second = json!({"result": "2"});
    store
        .memo_put("ci", "cache", "k", "w-2", &second)
        .await
        .unwrap();
    let got = store.memo_get("ci", "cache", "k").await.unwrap().unwrap();
    assert_eq!((got.node_id.as_str(), &got.outputs), ("w-2", &second));
    // Keys are scoped by namespace and cache.
    for (ns, cache) in [("prod", "cache"), ("ci", "other")] {
        assert_eq!(store.memo_get(ns, cache, "k").await.unwrap(), None);
    }
}

async fn events_are_append_only_and_outlive_their_workflow(db: &TestDb) {
    let store = db.open().await;
    let uid = store
        .create_workflow(&workflow("ci", "w", &[]))
        .await
        .unwrap()
        .uid;
    let a = store
        .append_event(&uid, "created", &json!({"by": "alice"}))
        .await
        .unwrap();
    let b = store
        .append_event(&uid, "phase", &json!({"phase": "Running"}))
        .await
        .unwrap();
    assert!(b > a);
    store.delete_workflow("ci", "w").await.unwrap();
    let events = store.events(&uid).await.unwrap();
    let seen: Vec<_> = events
        .iter()
        .map(|e| (e.id, e.kind.as_str(), e.body.clone()))
        .collect();
    assert_eq!(
        seen,
        [
            (a, "created", json!({"by": "alice"})),
            (b, "phase", json!({"phase": "Running"}))
        ]
    );
    assert!(store.events("other").await.unwrap().is_empty());

    // The schema itself refuses to rewrite history.
    let mut rewrites = vec![
        "UPDATE workflow_events SET kind = 'x'",
        "DELETE FROM workflow_events",
    ];
    if matches!(db.database(), Database::Postgres(_)) {
        rewrites.push("TRUNCATE workflow_events");
    }
    for sql in rewrites {
        let err = db.raw(sql).await.unwrap_err();
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    assert_eq!(store.events(&uid).await.unwrap().len(), 2);
}

async fn reopening_keeps_everything(db: &TestDb) {
    let store = db.open().await;
    let created = store
        .create_workflow(&workflow(
            "ci",
            "keep",
            &[(LABEL_WORKFLOW_TEMPLATE, "build")],
        ))
        .await
        .unwrap();
    store.claim_step(&created.uid, "keep-1", "0").await.unwrap();
    store
        .record_step_pid(&created.uid, "keep-1", "0", 99)
        .await
        .unwrap();
    store
        .memo_put("ci", "c", "k", "keep-1", &json!({"result": "x"}))
        .await
        .unwrap();
    store
        .append_event(&created.uid, "created", &json!({}))
        .await
        .unwrap();
    let template = store
        .create_template(
            TemplateKind::WorkflowTemplate,
            Some("ci"),
            "build",
            &json!({"spec": {}}),
        )
        .await
        .unwrap();
    store.close().await;
    drop(store);

    let store = db.open().await;
    assert_eq!(
        store.get_workflow("ci", "keep").await.unwrap(),
        created.workflow
    );
    let claims = store.step_claims(&created.uid).await.unwrap();
    assert_eq!(claims.len(), 1);
    assert_eq!(claims[0].pid, Some(99));
    assert!(
        !store.claim_step(&created.uid, "keep-1", "0").await.unwrap(),
        "still claimed"
    );
    assert!(store.memo_get("ci", "c", "k").await.unwrap().is_some());
    assert_eq!(store.events(&created.uid).await.unwrap().len(), 1);
    let got = store
        .get_template(TemplateKind::WorkflowTemplate, Some("ci"), "build")
        .await
        .unwrap();
    assert_eq!(got, template);
    let active = store.list_active_workflows().await.unwrap();
    assert_eq!(active, [created.workflow]);
}

/// A workflow as the Kubernetes API holds it: its own uid, resourceVersion and creation time.
fn cluster_workflow(
    name: &str,
    uid: &str,
    version: &str,
    phase: Option<WorkflowPhase>,
) -> Workflow {
    let mut wf = workflow("ci", name, &[(LABEL_WORKFLOW_TEMPLATE, "build")]);
    let meta = wf.metadata.as_mut().unwrap();
    meta.uid = Some(uid.into());
    meta.resource_version = Some(version.into());
    meta.creation_timestamp = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
        k8s_openapi::jiff::Timestamp::from_second(1_700_000_000).unwrap(),
    ));
    wf.status = phase.map(|p| WorkflowStatus {
        phase: Some(p),
        ..Default::default()
    });
    wf
}

async fn mirrored_workflows_keep_their_identity_and_number(db: &TestDb) {
    let store = db.open().await;
    let first = store
        .mirror_workflow(&cluster_workflow("a", "uid-a", "17", None))
        .await
        .unwrap();
    assert_eq!(first.uid, "uid-a");
    assert_eq!(first.run_number, 1);
    let meta = first.workflow.metadata.as_ref().unwrap();
    assert_eq!(
        meta.resource_version.as_deref(),
        Some("17"),
        "the cluster's version"
    );
    assert_eq!(label(&first.workflow, LABEL_RUN_NUMBER), Some("1"));
    // Seen again (a status change): same number, the new document.
    let again = store
        .mirror_workflow(&cluster_workflow(
            "a",
            "uid-a",
            "18",
            Some(WorkflowPhase::Running),
        ))
        .await
        .unwrap();
    assert_eq!(again.run_number, 1);
    let got = store.get_workflow_by_uid("uid-a").await.unwrap();
    assert_eq!(got.status.unwrap().phase, Some(WorkflowPhase::Running));
    assert_eq!(
        resource_version(&store.get_workflow("ci", "a").await.unwrap()),
        "18"
    );
    let second = store
        .mirror_workflow(&cluster_workflow("b", "uid-b", "19", None))
        .await
        .unwrap();
    assert_eq!(second.run_number, 2);
    let mut live = store.live_workflow_uids(i64::MAX).await.unwrap();
    live.sort();
    assert_eq!(live, ["uid-a", "uid-b"]);
    // Only those written before a moment: a listing begun then does not forget later ones.
    let before_b = store.version_now().await.unwrap();
    store
        .mirror_workflow(&cluster_workflow(
            "b",
            "uid-b",
            "19",
            Some(WorkflowPhase::Running),
        ))
        .await
        .unwrap();
    assert_eq!(
        store.live_workflow_uids(before_b + 1).await.unwrap(),
        ["uid-a"]
    );
    // Deleted and made again under its name while unseen: the old one is forgotten.
    let remade = store
        .mirror_workflow(&cluster_workflow("a", "uid-a2", "20", None))
        .await
        .unwrap();
    assert_eq!(remade.run_number, 3);
    assert!(store.get_workflow_by_uid("uid-a").await.is_err());
    assert_eq!(
        store
            .get_workflow("ci", "a")
            .await
            .unwrap()
            .metadata
            .unwrap()
            .uid
            .as_deref(),
        Some("uid-a2")
    );
    store.forget_workflow("uid-b").await.unwrap();
    store.forget_workflow("unknown").await.unwrap();
    assert!(matches!(
        store.get_workflow("ci", "b").await.unwrap_err(),
        StoreError::NotFound { .. }
    ));
}

async fn mirrored_templates_keep_the_cluster_s_metadata(db: &TestDb) {
    let store = db.open().await;
    let body = json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "WorkflowTemplate",
        "metadata": {"name": "build", "namespace": "ci", "uid": "t-1",
            "resourceVersion": "42", "creationTimestamp": "2026-01-02T03:04:05Z"},
        "spec": {"entrypoint": "main"}
    });
    let kind = TemplateKind::WorkflowTemplate;
    let stored = store
        .mirror_template(kind, Some("ci"), "build", &body)
        .await
        .unwrap();
    assert_eq!(stored.uid, "t-1");
    assert_eq!(stored.body, body, "kept as the cluster holds it");
    let mut changed = body.clone();
    changed["metadata"]["resourceVersion"] = "43".into();
    store
        .mirror_template(kind, Some("ci"), "build", &changed)
        .await
        .unwrap();
    let got = store.get_template(kind, Some("ci"), "build").await.unwrap();
    assert_eq!(got.body["metadata"]["resourceVersion"], "43");
    assert_eq!(got.created_at.to_rfc3339(), "2026-01-02T03:04:05+00:00");
}

async fn offloaded_nodes_are_kept_by_version_and_go_with_their_workflow(db: &TestDb) {
    let store = db.open().await;
    store
        .mirror_workflow(&cluster_workflow("big", "uid-big", "1", None))
        .await
        .unwrap();
    store
        .offload_nodes("uid-big", "fnv:1", r#"{"a": {}}"#, None)
        .await
        .unwrap();
    store
        .offload_nodes("uid-big", "fnv:2", r#"{"a": {}, "b": {}}"#, Some("fnv:1"))
        .await
        .unwrap();
    // Written again: no error, the same content.
    store
        .offload_nodes("uid-big", "fnv:2", r#"{"a": {}, "b": {}}"#, Some("fnv:1"))
        .await
        .unwrap();
    let one = store.offloaded_nodes("uid-big", "fnv:1").await.unwrap();
    assert_eq!(
        one.as_deref(),
        Some(r#"{"a": {}}"#),
        "a recent older version stays"
    );
    let two = store.offloaded_nodes("uid-big", "fnv:2").await.unwrap();
    assert_eq!(two.as_deref(), Some(r#"{"a": {}, "b": {}}"#));
    assert_eq!(
        store.offloaded_nodes("uid-big", "fnv:3").await.unwrap(),
        None
    );
    store.forget_workflow("uid-big").await.unwrap();
    assert_eq!(
        store.offloaded_nodes("uid-big", "fnv:2").await.unwrap(),
        None
    );
}

#[tokio::test]
async fn a_memory_store_is_a_fresh_database_of_its_own() {
    let one = SqlStore::open_in_memory().await.unwrap();
    let two = SqlStore::open_in_memory().await.unwrap();
    one.create_workflow(&workflow("ci", "w", &[]))
        .await
        .unwrap();
    assert!(
        one.clone().get_workflow("ci", "w").await.is_ok(),
        "clones share it"
    );
    let err = two.get_workflow("ci", "w").await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err}");
}

on_every_database!(
    create_fills_in_identity_and_reads_back,
    updates_are_optimistic_and_deletes_are_final,
    names_are_unique_per_namespace_and_generated_on_request,
    run_numbers_count_per_template_and_survive_reopening,
    a_step_attempt_is_claimed_once,
    concurrent_claims_have_exactly_one_winner,
    memo_entries_are_upserted,
    events_are_append_only_and_outlive_their_workflow,
    reopening_keeps_everything,
    mirrored_workflows_keep_their_identity_and_number,
    mirrored_templates_keep_the_cluster_s_metadata,
    offloaded_nodes_are_kept_by_version_and_go_with_their_workflow,
);
