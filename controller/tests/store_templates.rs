//! Templates in the SQL store (SQLite and PostgreSQL): create vs put vs optimistic update, scope rules, listing by
//! kind, namespace and labels, and deletion.

mod common;

use common::TestDb;
use controller::store::{LabelSelector, Store, StoreError, TemplateKind};
use serde_json::json;

const WT: TemplateKind = TemplateKind::WorkflowTemplate;
const CWT: TemplateKind = TemplateKind::ClusterWorkflowTemplate;
const CRON: TemplateKind = TemplateKind::CronWorkflow;

async fn create_then_update_optimistically(db: &TestDb) {
    let store = db.open().await;
    let doc = json!({"metadata": {"labels": {"team": "a"}}, "spec": {"entrypoint": "main"}});
    let created = store
        .create_template(WT, Some("ci"), "build", &doc)
        .await
        .unwrap();
    assert_eq!(created.namespace.as_deref(), Some("ci"));
    assert_eq!(created.body["kind"], "WorkflowTemplate");
    assert_eq!(created.body["metadata"]["name"], "build");
    assert_eq!(created.body["metadata"]["uid"], created.uid.as_str());
    assert_eq!(created.body["spec"]["entrypoint"], "main");

    let err = store
        .create_template(WT, Some("ci"), "build", &doc)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::AlreadyExists { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        "WorkflowTemplate \"ci/build\" already exists"
    );

    let changed = json!({"spec": {"entrypoint": "other"}});
    let updated = store
        .update_template(WT, Some("ci"), "build", &changed, &created.resource_version)
        .await
        .unwrap();
    assert_eq!(
        (updated.uid.as_str(), updated.created_at),
        (created.uid.as_str(), created.created_at)
    );
    assert_ne!(updated.resource_version, created.resource_version);
    assert_eq!(updated.body["spec"]["entrypoint"], "other");

    let stale = store
        .update_template(WT, Some("ci"), "build", &doc, &created.resource_version)
        .await
        .unwrap_err();
    assert!(matches!(stale, StoreError::Conflict { .. }), "{stale}");
    let missing = store
        .update_template(WT, Some("ci"), "nope", &doc, "1")
        .await
        .unwrap_err();
    assert!(matches!(missing, StoreError::NotFound { .. }), "{missing}");
}

async fn put_replaces_or_creates_and_delete_removes(db: &TestDb) {
    let store = db.open().await;
    let doc = json!({"spec": {"entrypoint": "main"}});
    let created = store
        .create_template(WT, Some("ci"), "build", &doc)
        .await
        .unwrap();

    // Put replaces whatever is there, and creates what is not.
    let put = store
        .put_template(WT, Some("ci"), "build", &doc)
        .await
        .unwrap();
    assert_eq!(put.uid, created.uid);
    assert_eq!(
        store.get_template(WT, Some("ci"), "build").await.unwrap(),
        put
    );
    let fresh = store
        .put_template(CRON, Some("ci"), "nightly", &json!({}))
        .await
        .unwrap();
    assert_ne!(fresh.uid, created.uid);

    store
        .delete_template(WT, Some("ci"), "build")
        .await
        .unwrap();
    for err in [
        store
            .get_template(WT, Some("ci"), "build")
            .await
            .unwrap_err(),
        store
            .delete_template(WT, Some("ci"), "build")
            .await
            .unwrap_err(),
    ] {
        assert!(matches!(err, StoreError::NotFound { .. }), "{err}");
    }
    // Kinds are separate name spaces.
    assert!(
        store
            .get_template(CRON, Some("ci"), "nightly")
            .await
            .is_ok()
    );
}

async fn documents_and_scopes_are_checked(db: &TestDb) {
    let store = db.open().await;
    let cases = [
        (WT, None, "a", json!({})),
        (CWT, Some("ci"), "a", json!({})),
        (WT, Some("ci"), "a", json!({"metadata": {"name": "b"}})),
        (WT, Some("ci"), "a", json!({"kind": "CronWorkflow"})),
        (WT, Some("ci"), "a", json!("text")),
    ];
    for (kind, ns, name, doc) in cases {
        let err = store.put_template(kind, ns, name, &doc).await.unwrap_err();
        assert!(
            matches!(err, StoreError::Invalid { .. }),
            "{kind:?} {ns:?} {doc}: {err}"
        );
    }
    let lib = store
        .create_template(CWT, None, "lib", &json!({}))
        .await
        .unwrap();
    assert_eq!(lib.namespace, None);
    assert!(lib.body["metadata"].get("namespace").is_none());
}

async fn list_by_kind_namespace_and_labels(db: &TestDb) {
    let store = db.open().await;
    let docs = [
        (
            WT,
            Some("prod"),
            "deploy",
            json!({"metadata": {"labels": {"team": "ops"}}}),
        ),
        (
            WT,
            Some("ci"),
            "build",
            json!({"metadata": {"labels": {"team": "dev"}}}),
        ),
        (WT, Some("ci"), "audit", json!({})),
        (
            CRON,
            Some("ci"),
            "nightly",
            json!({"metadata": {"labels": {"team": "dev"}}}),
        ),
        (
            CWT,
            None,
            "lib",
            json!({"metadata": {"labels": {"team": "dev"}}}),
        ),
    ];
    for (kind, ns, name, doc) in &docs {
        store.create_template(*kind, *ns, name, doc).await.unwrap();
    }
    let cases = [
        (WT, None, "", "ci/audit,ci/build,prod/deploy"),
        (WT, Some("ci"), "", "ci/audit,ci/build"),
        (WT, None, "team=dev", "ci/build"),
        (WT, None, "!team", "ci/audit"),
        (WT, None, "team in (dev,ops)", "ci/build,prod/deploy"),
        (CRON, None, "", "ci/nightly"),
        (CWT, None, "team", "/lib"),
        (WT, Some("none"), "", ""),
    ];
    for (kind, ns, selector, want) in cases {
        let selector = LabelSelector::parse(selector).unwrap();
        let got: Vec<String> = store
            .list_templates(kind, ns, &selector)
            .await
            .unwrap()
            .iter()
            .map(|t| format!("{}/{}", t.namespace.as_deref().unwrap_or(""), t.name))
            .collect();
        assert_eq!(got.join(","), want, "{kind:?} {ns:?} {selector}");
    }
    let err = store
        .list_templates(CWT, Some("ci"), &LabelSelector::default())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid { .. }), "{err}");
}

on_every_database!(
    create_then_update_optimistically,
    put_replaces_or_creates_and_delete_removes,
    documents_and_scopes_are_checked,
    list_by_kind_namespace_and_labels,
);
