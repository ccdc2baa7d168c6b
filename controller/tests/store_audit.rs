//! The audit trail against real migrations, on a fresh SQLite file and a fresh PostgreSQL
//! schema each: appended entries read back newest first, filtered and paged, outlive their
//! workflow, and the schema refuses to change or remove them.

mod common;

use std::collections::BTreeMap;

use common::{TestDb, workflow};
use controller::store::{AuditAction, AuditQuery, Database, NewAudit, Store, StoreError};

fn entry(actor: &str, action: AuditAction, ns: &str, uid: &str) -> NewAudit {
    NewAudit {
        actor: actor.into(),
        actor_groups: vec!["release".into(), "dev".into()],
        action,
        namespace: ns.into(),
        workflow_name: format!("wf-{uid}"),
        workflow_uid: uid.into(),
        template_key: None,
        node_id: None,
        node_display_name: None,
        values: BTreeMap::new(),
        comment: None,
    }
}

async fn entries_read_back_as_appended_newest_first(db: &TestDb) {
    let store = db.open().await;
    let uid = store
        .create_workflow(&workflow("ci", "deploy", &[]))
        .await
        .unwrap()
        .uid;
    let mut approve = entry("alice", AuditAction::Approve, "ci", &uid);
    approve.template_key = Some("WorkflowTemplate/ci/deploy".into());
    approve.node_id = Some("deploy-123".into());
    approve.node_display_name = Some("approve".into());
    approve.values = BTreeMap::from([("env".to_string(), "prod".to_string())]);
    approve.comment = Some("ship it ✓".into());
    let submitted = store
        .append_audit(&entry("bob", AuditAction::Submit, "ci", &uid))
        .await
        .unwrap();
    let approved = store.append_audit(&approve).await.unwrap();
    assert!(approved.id > submitted.id);
    assert_eq!(
        (
            approved.actor.as_str(),
            approved.action,
            approved.actor_groups.clone()
        ),
        (
            "alice",
            AuditAction::Approve,
            vec!["release".into(), "dev".into()]
        )
    );
    assert_eq!(approved.values["env"], "prod");
    assert_eq!(approved.comment.as_deref(), Some("ship it ✓"));
    assert_eq!(approved.node_display_name.as_deref(), Some("approve"));
    assert!(chrono::Utc::now() - approved.at < chrono::Duration::minutes(1));

    store.delete_workflow("ci", "deploy").await.unwrap();
    let all = store.audit(&AuditQuery::default()).await.unwrap();
    assert_eq!(
        all.items,
        [approved.clone(), submitted],
        "newest first, kept"
    );
    assert_eq!(all.continue_token, None);
    let json = serde_json::to_value(&approved).unwrap();
    for key in [
        "id",
        "at",
        "actor",
        "actorGroups",
        "action",
        "namespace",
        "workflowName",
        "workflowUid",
        "templateKey",
        "nodeId",
        "nodeDisplayName",
        "values",
        "comment",
    ] {
        assert!(json.get(key).is_some(), "{key} in {json}");
    }
    assert_eq!(json["action"], "approve");
}

async fn filters_and_pages(db: &TestDb) {
    let store = db.open().await;
    let rows = [
        ("alice", AuditAction::Submit, "ci", "u1"),
        ("alice", AuditAction::Approve, "ci", "u1"),
        ("bob", AuditAction::Reject, "prod", "u2"),
        ("bob", AuditAction::Approve, "prod", "u2"),
        ("carol", AuditAction::Approve, "ci", "u3"),
    ];
    let mut ids = Vec::new();
    for (actor, action, ns, uid) in rows {
        let e = store
            .append_audit(&entry(actor, action, ns, uid))
            .await
            .unwrap();
        ids.push(e.id);
    }
    let ids_of = |q: AuditQuery| {
        let store = &store;
        async move {
            let page = store.audit(&q).await.unwrap();
            page.items.iter().map(|e| e.id).collect::<Vec<_>>()
        }
    };
    let q = |f: fn(&mut AuditQuery)| {
        let mut q = AuditQuery::default();
        f(&mut q);
        q
    };
    assert_eq!(
        ids_of(q(|q| q.namespace = Some("ci".into()))).await,
        [ids[4], ids[1], ids[0]]
    );
    assert_eq!(
        ids_of(q(|q| q.actor = Some("bob".into()))).await,
        [ids[3], ids[2]]
    );
    assert_eq!(
        ids_of(q(|q| q.action = Some(AuditAction::Approve))).await,
        [ids[4], ids[3], ids[1]]
    );
    assert_eq!(
        ids_of(q(|q| q.workflow_uid = Some("u1".into()))).await,
        [ids[1], ids[0]]
    );
    assert_eq!(
        ids_of(q(|q| {
            q.namespace = Some("prod".into());
            q.action = Some(AuditAction::Approve);
        }))
        .await,
        [ids[3]]
    );
    assert!(
        ids_of(q(|q| q.actor = Some("nobody".into())))
            .await
            .is_empty()
    );

    // Pages of two, newest first, then the rest.
    let mut seen = Vec::new();
    let mut token = None;
    loop {
        let page = store
            .audit(&AuditQuery {
                limit: Some(2),
                continue_token: token.clone(),
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(page.items.len() <= 2);
        seen.extend(page.items.iter().map(|e| e.id));
        match page.continue_token {
            Some(t) => token = Some(t),
            None => break,
        }
    }
    let mut newest_first = ids.clone();
    newest_first.reverse();
    assert_eq!(seen, newest_first);
    let err = store
        .audit(&AuditQuery {
            continue_token: Some("nope".into()),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid { .. }), "{err}");
}

async fn the_schema_refuses_to_rewrite_the_trail(db: &TestDb) {
    let store = db.open().await;
    store
        .append_audit(&entry("alice", AuditAction::Approve, "ci", "u1"))
        .await
        .unwrap();
    let mut rewrites = vec!["UPDATE audit SET actor = 'mallory'", "DELETE FROM audit"];
    if matches!(db.database(), Database::Postgres(_)) {
        rewrites.push("TRUNCATE audit");
    }
    for sql in rewrites {
        let err = db.raw(sql).await.unwrap_err();
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    let all = store.audit(&AuditQuery::default()).await.unwrap().items;
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].actor, "alice");
}

on_every_database!(
    entries_read_back_as_appended_newest_first,
    filters_and_pages,
    the_schema_refuses_to_rewrite_the_trail,
);
