//! Listing workflows from the SQL store (SQLite and PostgreSQL): label selectors in SQL agree with the in-memory rule,
//! filters, keyset pagination over a long history, and the active workflows to resume.

mod common;

use common::{TestDb, workflow};
use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use controller::store::{
    LABEL_WORKFLOW_TEMPLATE, LabelSelector, Order, SqlStore, Store, StoreError, TemplateKind,
    WorkflowQuery, template_key,
};
use engine::model::{Workflow, WorkflowPhase, WorkflowStatus};
use serde_json::json;

fn name(wf: &Workflow) -> String {
    wf.metadata.as_ref().and_then(|m| m.name.clone()).unwrap()
}

fn labels(wf: &Workflow) -> BTreeMap<String, String> {
    wf.metadata
        .as_ref()
        .and_then(|m| m.labels.clone())
        .unwrap_or_default()
}

/// Names listed for a query, in order.
async fn names(store: &SqlStore, query: &WorkflowQuery) -> Vec<String> {
    let page = store.list_workflows(query).await.unwrap();
    page.items.iter().map(name).collect()
}

async fn label_selectors_filter_in_sql_as_kubernetes_matches(db: &TestDb) {
    let store = db.open().await;
    let docs = [
        workflow(
            "ci",
            "a",
            &[("env", "prod"), ("tier", "web"), ("size", "10")],
        ),
        workflow("ci", "b", &[("env", "dev"), ("tier", "web"), ("size", "3")]),
        workflow("ci", "c", &[("env", "prod"), ("size", "x")]),
        workflow("ci", "d", &[("tier", "db"), ("example.com/owner", "ops")]),
        workflow("ci", "e", &[]),
    ];
    let mut all = Vec::new();
    for doc in &docs {
        all.push(store.create_workflow(doc).await.unwrap().workflow);
    }
    // Expected names, newest first.
    let cases = [
        ("", "e,d,c,b,a"),
        ("env=prod", "c,a"),
        ("env==prod,tier=web", "a"),
        ("env!=prod", "e,d,b"),
        ("env in (dev, prod)", "c,b,a"),
        ("env notin (dev)", "e,d,c,a"),
        ("tier", "d,b,a"),
        ("!tier", "e,c"),
        ("!env,!tier", "e"),
        ("size>3", "a"),
        ("size<10", "b"),
        ("size>0,size<100", "b,a"),
        ("example.com/owner=ops", "d"),
        ("env=staging", ""),
        ("trellis.dev/run-number=3", "c"),
    ];
    for (text, want) in cases {
        let selector = LabelSelector::parse(text).unwrap();
        let query = WorkflowQuery {
            labels: selector.clone(),
            ..Default::default()
        };
        let got = names(&store, &query).await;
        assert_eq!(got.join(","), want, "{text}");
        let by_rule: Vec<String> = all
            .iter()
            .rev()
            .filter(|wf| selector.matches(&labels(wf)))
            .map(name)
            .collect();
        assert_eq!(
            got, by_rule,
            "SQL and the in-memory rule disagree on {text}"
        );
    }
}

/// Four workflows (`ci/build-1` finished, the others not started); returns the creation time
/// of the newest, `ci/build-2`.
async fn seed(store: &SqlStore) -> DateTime<Utc> {
    let build = [(LABEL_WORKFLOW_TEMPLATE, "build")];
    for (ns, n, l) in [
        ("ci", "build-1", &build[..]),
        ("ci", "deploy-1", &[][..]),
        ("prod", "build-1", &build[..]),
        ("ci", "build-2", &build[..]),
    ] {
        store.create_workflow(&workflow(ns, n, l)).await.unwrap();
    }
    let mut done = store.get_workflow("ci", "build-1").await.unwrap();
    let version = done
        .metadata
        .as_ref()
        .and_then(|m| m.resource_version.clone());
    done.status = Some(WorkflowStatus {
        phase: Some(WorkflowPhase::Succeeded),
        finished_at: Some("2024-01-01T00:00:00Z".into()),
        ..Default::default()
    });
    store
        .update_workflow(&done, &version.unwrap())
        .await
        .unwrap();
    let newest = store.get_workflow("ci", "build-2").await.unwrap();
    let created = newest.metadata.and_then(|m| m.creation_timestamp).unwrap();
    DateTime::from_timestamp(created.0.as_second(), 0).unwrap()
}

/// A query with one change from the default.
fn query(edit: impl FnOnce(&mut WorkflowQuery)) -> WorkflowQuery {
    let mut q = WorkflowQuery::default();
    edit(&mut q);
    q
}

async fn filters_combine(db: &TestDb) {
    let store = db.open().await;
    let created = seed(&store).await;
    let build = template_key(TemplateKind::WorkflowTemplate, "ci", "build");
    let cases = [
        (
            query(|q| q.namespace = Some("ci".into())),
            "build-2,deploy-1,build-1",
        ),
        (query(|q| q.namespace = Some("none".into())), ""),
        (
            query(|q| q.name_contains = Some("ld-".into())),
            "build-2,build-1,build-1",
        ),
        (
            query(|q| q.phases = vec![WorkflowPhase::Succeeded]),
            "build-1",
        ),
        (
            query(|q| q.phases = vec![WorkflowPhase::Unknown, WorkflowPhase::Running]),
            "build-2,build-1,deploy-1",
        ),
        (query(|q| q.template_key = Some(build)), "build-2,build-1"),
        (
            query(|q| q.created_after = Some(created + Duration::seconds(1))),
            "",
        ),
        (
            query(|q| q.created_before = Some(created + Duration::milliseconds(1))),
            "build-2,build-1,deploy-1,build-1",
        ),
        (
            query(|q| q.created_before = Some(Utc::now() - Duration::hours(1))),
            "",
        ),
        (
            query(|q| q.name = Some("build-1".into())),
            "build-1,build-1",
        ),
        (query(|q| q.name = Some("build".into())), ""),
        (query(|q| q.name_prefix = Some("dep".into())), "deploy-1"),
        (query(|q| q.name_prefix = Some("ploy".into())), ""),
        (
            query(|q| q.finished_before = Some("2024-01-01T00:00:01Z".parse().unwrap())),
            "build-1",
        ),
        (
            query(|q| q.finished_before = Some("2024-01-01T00:00:00Z".parse().unwrap())),
            "",
        ),
        (
            query(|q| {
                q.namespace = Some("ci".into());
                q.name_contains = Some("build".into());
                q.phases = vec![WorkflowPhase::Unknown];
            }),
            "build-2",
        ),
    ];
    for (query, want) in cases {
        assert_eq!(names(&store, &query).await.join(","), want, "{query:?}");
    }
}

async fn time_bounds_are_exact_at_whole_seconds(db: &TestDb) {
    let store = db.open().await;
    let created = seed(&store).await;
    let newest = |q: WorkflowQuery| {
        let store = &store;
        async move { names(store, &q).await.first().cloned() }
    };
    let build_2 = Some("build-2".to_owned());
    // `created_after` includes its bound, `created_before` excludes it.
    assert_eq!(
        newest(query(|q| q.created_after = Some(created))).await,
        build_2
    );
    assert_ne!(
        newest(query(|q| q.created_before = Some(created))).await,
        build_2
    );
}

async fn active_workflows_are_the_unfinished_oldest_first(db: &TestDb) {
    let store = db.open().await;
    seed(&store).await;
    let active = store.list_active_workflows().await.unwrap();
    let active: Vec<_> = active.iter().map(name).collect();
    assert_eq!(active, ["deploy-1", "build-1", "build-2"]);
}

/// Names over every page of a query, following continue tokens.
async fn every_page(store: &SqlStore, mut query: WorkflowQuery) -> Vec<String> {
    let limit = query.limit.unwrap_or(u32::MAX) as usize;
    let mut seen = Vec::new();
    loop {
        let page = store.list_workflows(&query).await.unwrap();
        assert!(page.items.len() <= limit);
        seen.extend(page.items.iter().map(name));
        match page.continue_token {
            Some(token) => query.continue_token = Some(token),
            None => return seen,
        }
    }
}

async fn pagination_returns_every_workflow_once_newest_first(db: &TestDb) {
    let store = db.open().await;
    let batch: Vec<Workflow> = (0..1000)
        .map(|i| {
            let template = if i % 2 == 0 { "even" } else { "odd" };
            let digit = (i % 10).to_string();
            workflow(
                "ci",
                &format!("w{i:04}"),
                &[(LABEL_WORKFLOW_TEMPLATE, template), ("digit", &digit)],
            )
        })
        .collect();
    for chunk in batch.chunks(250) {
        store.create_workflows(chunk).await.unwrap();
    }
    let all: Vec<String> = (0..1000).rev().map(|i| format!("w{i:04}")).collect();
    let even = template_key(TemplateKind::WorkflowTemplate, "ci", "even");
    let evens: Vec<String> = all
        .iter()
        .filter(|n| n.ends_with(['0', '2', '4', '6', '8']))
        .cloned()
        .collect();
    for (limit, key, want) in [
        (1, None, &all),
        (7, None, &all),
        (100, None, &all),
        (999, None, &all),
        (33, Some(even.clone()), &evens),
    ] {
        let query = WorkflowQuery {
            limit: Some(limit),
            template_key: key.clone(),
            ..Default::default()
        };
        let seen = every_page(&store, query).await;
        assert_eq!(&seen, want, "limit {limit}, template {key:?}");
    }
    // Listings by a label walk that label's rows: every match once, newest first, also after
    // an update rewrote the labels.
    for n in ["w0998", "w0500", "w0002"] {
        let mut wf = store.get_workflow("ci", n).await.unwrap();
        let version = wf
            .metadata
            .as_ref()
            .unwrap()
            .resource_version
            .clone()
            .unwrap();
        let meta = wf.metadata.as_mut().unwrap();
        meta.labels
            .as_mut()
            .unwrap()
            .insert("tens".into(), "yes".into());
        store.update_workflow(&wf, &version).await.unwrap();
    }
    let tens: Vec<String> = all.iter().filter(|n| n.ends_with('0')).cloned().collect();
    let ten_evens = |names: &[String]| -> Vec<String> {
        names
            .iter()
            .filter(|n| evens.contains(n))
            .cloned()
            .collect()
    };
    let other = template_key(TemplateKind::WorkflowTemplate, "ci", "odd");
    let cases: [(&str, Option<String>, Vec<String>); 5] = [
        ("digit=0", None, tens.clone()),
        ("digit in (0)", Some(even.clone()), ten_evens(&tens)),
        ("digit=0", Some(other), vec![]),
        (
            "tens=yes",
            None,
            vec!["w0998".into(), "w0500".into(), "w0002".into()],
        ),
        ("digit=0,tens=yes", None, vec!["w0500".into()]),
    ];
    for (selector, key, want) in cases {
        for limit in [1, 7, 1000] {
            let query = WorkflowQuery {
                limit: Some(limit),
                template_key: key.clone(),
                labels: LabelSelector::parse(selector).unwrap(),
                ..Default::default()
            };
            let seen = every_page(&store, query).await;
            assert_eq!(seen, want, "{selector}, template {key:?}, limit {limit}");
        }
    }
    // Without a limit, one page holds everything.
    let page = store
        .list_workflows(&WorkflowQuery::default())
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1000);
    assert_eq!(page.continue_token, None);
}

async fn an_exact_last_page_has_no_continue_token(db: &TestDb) {
    let store = db.open().await;
    for i in 0..4 {
        store
            .create_workflow(&workflow("ci", &format!("w{i}"), &[]))
            .await
            .unwrap();
    }
    let query = WorkflowQuery {
        limit: Some(2),
        ..Default::default()
    };
    let first = store.list_workflows(&query).await.unwrap();
    assert!(first.continue_token.is_some());
    let second = store
        .list_workflows(&WorkflowQuery {
            continue_token: first.continue_token,
            ..query
        })
        .await
        .unwrap();
    assert_eq!(
        second.items.iter().map(name).collect::<Vec<_>>(),
        ["w1", "w0"]
    );
    assert_eq!(second.continue_token, None);

    let bad = WorkflowQuery {
        continue_token: Some("not-a-token".into()),
        ..Default::default()
    };
    let err = store.list_workflows(&bad).await.unwrap_err();
    assert!(matches!(err, StoreError::Invalid { .. }), "{err}");
}

/// Sets a workflow's start and (when given) finish time.
async fn ran(store: &SqlStore, ns: &str, n: &str, started: &str, finished: Option<&str>) {
    let mut wf = store.get_workflow(ns, n).await.unwrap();
    let version = wf
        .metadata
        .as_ref()
        .and_then(|m| m.resource_version.clone())
        .unwrap();
    wf.status = Some(WorkflowStatus {
        phase: Some(if finished.is_some() {
            WorkflowPhase::Succeeded
        } else {
            WorkflowPhase::Running
        }),
        started_at: Some(started.into()),
        finished_at: finished.map(str::to_string),
        ..Default::default()
    });
    store.update_workflow(&wf, &version).await.unwrap();
}

async fn sorted_listings_page_by_name_and_longest_first(db: &TestDb) {
    let store = db.open().await;
    // Created in this order; durations in seconds (None: still running).
    let runs = [
        ("ci", "delta", Some(30)),
        ("ci", "alpha", Some(5)),
        ("ci", "charlie", None),
        ("prod", "alpha", Some(30)),
        ("ci", "bravo", Some(90)),
        ("ci", "echo", None),
    ];
    for (ns, n, secs) in runs {
        store.create_workflow(&workflow(ns, n, &[])).await.unwrap();
        let finished = secs.map(|s| format!("2024-01-01T00:{:02}:{:02}Z", s / 60, s % 60));
        ran(&store, ns, n, "2024-01-01T00:00:00Z", finished.as_deref()).await;
    }
    let full = |wf: &Workflow| {
        let m = wf.metadata.as_ref().unwrap();
        format!(
            "{}/{}",
            m.namespace.clone().unwrap(),
            m.name.clone().unwrap()
        )
    };
    for (order, want) in [
        (
            Order::Name,
            "prod/alpha ci/alpha ci/bravo ci/charlie ci/delta ci/echo",
        ),
        (
            Order::Longest,
            "ci/bravo prod/alpha ci/delta ci/alpha ci/echo ci/charlie",
        ),
    ] {
        for limit in [1, 2, 4, 100] {
            let mut q = WorkflowQuery {
                order,
                limit: Some(limit),
                ..Default::default()
            };
            let mut seen = Vec::new();
            loop {
                let page = store.list_workflows(&q).await.unwrap();
                assert!(page.items.len() <= limit as usize);
                seen.extend(page.items.iter().map(full));
                match page.continue_token {
                    Some(t) => q.continue_token = Some(t),
                    None => break,
                }
            }
            assert_eq!(seen.join(" "), want, "{order:?}, pages of {limit}");
        }
    }
    // Filters apply to sorted listings too.
    let q = WorkflowQuery {
        order: Order::Longest,
        namespace: Some("ci".into()),
        phases: vec![WorkflowPhase::Running],
        ..Default::default()
    };
    assert_eq!(names(&store, &q).await, ["echo", "charlie"]);
    // A token of one order is refused by another.
    let page = store
        .list_workflows(&WorkflowQuery {
            order: Order::Name,
            limit: Some(1),
            ..Default::default()
        })
        .await
        .unwrap();
    for order in [Order::Longest, Order::Newest] {
        let err = store
            .list_workflows(&WorkflowQuery {
                order,
                continue_token: page.continue_token.clone(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::Invalid { .. }),
            "{order:?}: {err}"
        );
    }
}

on_every_database!(
    sorted_listings_page_by_name_and_longest_first,
    label_selectors_filter_in_sql_as_kubernetes_matches,
    filters_combine,
    time_bounds_are_exact_at_whole_seconds,
    active_workflows_are_the_unfinished_oldest_first,
    pagination_returns_every_workflow_once_newest_first,
    an_exact_last_page_has_no_continue_token,
);

/// A database made before labels carried their workflow's order (migration 0003) lists by label
/// correctly once migrated.
#[tokio::test]
async fn labels_of_older_databases_are_given_their_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    let mut old = sqlx::migrate!("migrations/sqlite");
    old.migrations = std::borrow::Cow::Owned(old.migrations[..2].to_vec());
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=rwc", path.display()))
        .await
        .unwrap();
    old.run(&pool).await.unwrap();
    for (seq, name, key) in [(1, "a", "t1"), (2, "b", "t2"), (3, "c", "t1")] {
        let uid = format!("uid-{name}");
        let body = json!({"metadata": {"name": name, "namespace": "ci", "uid": uid,
                          "labels": {"team": "web"}}});
        sqlx::query(
            "INSERT INTO workflows (uid, namespace, name, created_at, template_key, run_number, \
             seq, resource_version, body) VALUES (?, 'ci', ?, '2024-01-01T00:00:00Z', ?, 1, ?, ?, ?)",
        )
        .bind(&uid)
        .bind(name)
        .bind(key)
        .bind(seq)
        .bind(seq)
        .bind(body.to_string())
        .execute(&pool)
        .await
        .unwrap();
        sqlx::query("INSERT INTO workflow_labels (uid, key, value) VALUES (?, 'team', 'web')")
            .bind(&uid)
            .execute(&pool)
            .await
            .unwrap();
    }
    pool.close().await;

    let store = SqlStore::open_sqlite(&path).await.unwrap();
    let team = LabelSelector::parse("team=web").unwrap();
    let all = WorkflowQuery {
        labels: team.clone(),
        ..Default::default()
    };
    assert_eq!(names(&store, &all).await, ["c", "b", "a"]);
    let t1 = WorkflowQuery {
        labels: team,
        template_key: Some("t1".into()),
        limit: Some(1),
        ..Default::default()
    };
    assert_eq!(every_page(&store, t1).await, ["c", "a"]);
}
