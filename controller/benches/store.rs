//! Benchmark of the store's history queries: inserts many runs of one template (`build`)
//! interleaved with runs of 100 other templates (1,000 each), in batches, then times the first
//! page of `build`'s history, a page deep in it (through a continue token), and the all-runs
//! list filtered by phase and by label.
//!
//! `cargo bench -p controller --bench store [-- [--postgres] <runs of build>]` (default
//! 1,000,000, the target of the store: each first page ≤ 20 ms). SQLite by default (a file in a
//! temporary directory); `--postgres` uses a scratch schema on the server of
//! `TRELLIS_TEST_POSTGRES_URL` (by default postgres://postgres@127.0.0.1:5432/postgres).

use std::error::Error;
use std::time::{Duration, Instant};

use controller::store::scratch::{ScratchSchema, test_postgres_url};
use controller::store::{
    Database, LABEL_WORKFLOW_TEMPLATE, LabelSelector, SqlStore, Store, TemplateKind, WorkflowQuery,
    template_key,
};
use engine::model::{Workflow, WorkflowPhase};
use serde_json::json;

/// Workflows created per transaction.
const BATCH: usize = 1_000;
/// Rows per page, as the UI asks.
const PAGE: u32 = 50;
/// Repetitions of each timed query.
const RUNS: usize = 21;
/// Other templates, and runs of each.
const OTHER_TEMPLATES: usize = 100;
const OTHER_RUNS: usize = 1_000;

/// Run `i` of the `build` template, or of one of the other templates when `other` is given;
/// finished, with a small node map like a real one.
fn run(i: usize, other: Option<usize>) -> Result<Workflow, serde_json::Error> {
    let template = other.map_or_else(|| "build".to_string(), |t| format!("other-{t}"));
    let phase = if i.is_multiple_of(10) {
        "Failed"
    } else {
        "Succeeded"
    };
    let folder = if i.is_multiple_of(100) {
        "release"
    } else {
        "ci"
    };
    serde_json::from_value(json!({
        "metadata": {
            "generateName": format!("{template}-"),
            "namespace": "ci",
            "labels": {LABEL_WORKFLOW_TEMPLATE: template, "trellis.dev/folder": folder},
        },
        "spec": {
            "workflowTemplateRef": {"name": template},
            "arguments": {"parameters": [{"name": "revision", "value": format!("{i:x}")}]},
        },
        "status": {
            "phase": phase,
            "startedAt": "2024-01-01T00:00:00Z",
            "finishedAt": "2024-01-01T00:01:00Z",
            "nodes": {
                "build-x": {"id": "build-x", "name": "build-x", "type": "Steps", "phase": phase},
                "build-x-1": {"id": "build-x-1", "name": "build-x[0].compile", "type": "Pod",
                              "phase": phase, "templateName": "compile"},
            },
        },
    }))
}

/// Fastest and median duration of `RUNS` runs of a query, and the rows of its page.
async fn time(
    store: &SqlStore,
    query: &WorkflowQuery,
) -> Result<(Duration, Duration, usize), Box<dyn Error>> {
    let mut times = Vec::with_capacity(RUNS);
    let mut rows = 0;
    for _ in 0..RUNS {
        let start = Instant::now();
        rows = store.list_workflows(query).await?.items.len();
        times.push(start.elapsed());
    }
    times.sort();
    Ok((times[0], times[RUNS / 2], rows))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1_000.0
}

/// The continue token `depth` rows into the listing of `query`.
async fn token_at(
    store: &SqlStore,
    query: &WorkflowQuery,
    depth: u32,
) -> Result<Option<String>, Box<dyn Error>> {
    let skip = WorkflowQuery {
        limit: Some(depth),
        ..query.clone()
    };
    Ok(store.list_workflows(&skip).await?.continue_token)
}

/// Creates `total` runs of `build` and the other templates' runs, spread evenly among them, in
/// transactions of `BATCH`; prints the rate.
async fn insert_all(store: &SqlStore, total: usize) -> Result<(), Box<dyn Error>> {
    let others = OTHER_TEMPLATES * OTHER_RUNS;
    let all = total + others;
    // Every `every`-th workflow belongs to another template.
    let every = (all / others.max(1)).max(1);
    let start = Instant::now();
    let (mut built, mut other) = (0, 0);
    for first in (0..all).step_by(BATCH) {
        let mut batch = Vec::with_capacity(BATCH);
        for n in first..all.min(first + BATCH) {
            if (n % every == every - 1 && other < others) || built == total {
                batch.push(run(other, Some(other % OTHER_TEMPLATES))?);
                other += 1;
            } else {
                batch.push(run(built, None)?);
                built += 1;
            }
        }
        store.create_workflows(&batch).await?;
    }
    let insert = start.elapsed();
    println!(
        "inserted {built} runs of build and {other} of {OTHER_TEMPLATES} other templates in batches of {BATCH}: \
         {:.1} s ({:.0} workflows/s)",
        insert.as_secs_f64(),
        all as f64 / insert.as_secs_f64()
    );
    Ok(())
}

/// The queries timed, by label; the deep page starts `depth` rows into the history.
async fn queries(
    store: &SqlStore,
    depth: u32,
) -> Result<Vec<(&'static str, WorkflowQuery)>, Box<dyn Error>> {
    let history = WorkflowQuery {
        template_key: Some(template_key(TemplateKind::WorkflowTemplate, "ci", "build")),
        limit: Some(PAGE),
        ..Default::default()
    };
    let with = |edit: &dyn Fn(&mut WorkflowQuery)| {
        let mut q = history.clone();
        edit(&mut q);
        q
    };
    let deep = token_at(store, &history, depth).await?;
    let release = LabelSelector::parse("trellis.dev/folder=release")?;
    Ok(vec![
        ("template history, page 1", history.clone()),
        (
            "template history, deep page",
            with(&|q| q.continue_token = deep.clone()),
        ),
        ("all workflows, page 1", with(&|q| q.template_key = None)),
        (
            "template history, namespace, phase Failed",
            with(&|q| {
                q.namespace = Some("ci".into());
                q.phases = vec![WorkflowPhase::Failed];
            }),
        ),
        (
            "template history, folder=release (1%)",
            with(&|q| q.labels = release.clone()),
        ),
        (
            "all workflows, phase Failed",
            with(&|q| {
                q.template_key = None;
                q.phases = vec![WorkflowPhase::Failed];
            }),
        ),
        (
            "all workflows, phase Failed, folder=release",
            with(&|q| {
                q.template_key = None;
                q.phases = vec![WorkflowPhase::Failed];
                q.labels = release.clone();
            }),
        ),
    ])
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let total: usize = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(1_000_000);
    let postgres = std::env::args().any(|a| a == "--postgres");
    let dir = tempfile::tempdir()?;
    let schema = match postgres {
        true => Some(ScratchSchema::create(&test_postgres_url()).await?),
        false => None,
    };
    let database = match &schema {
        Some(schema) => Database::Postgres(schema.url().to_owned()),
        None => Database::Sqlite(dir.path().join("bench.db")),
    };
    println!(
        "database: {}",
        if postgres { "PostgreSQL" } else { "SQLite" }
    );
    let store = SqlStore::open(&database).await?;
    insert_all(&store, total).await?;
    if let Some(schema) = &schema {
        // Fresh planner statistics, as autovacuum keeps them on a live database.
        let pool = sqlx::PgPool::connect(schema.url()).await?;
        sqlx::query("ANALYZE").execute(&pool).await?;
        pool.close().await;
    }

    let depth = u32::try_from(total * 9 / 10)?;
    println!(
        "{:<48} {:>10} {:>10} {:>6}",
        "query (page of 50, newest first)", "min ms", "median ms", "rows"
    );
    for (label, query) in queries(&store, depth).await? {
        let (min, median, rows) = time(&store, &query).await?;
        println!(
            "{label:<48} {:>10.3} {:>10.3} {rows:>6}",
            ms(min),
            ms(median)
        );
    }
    println!("(deep page: after {depth} rows, through a continue token)");
    store.close().await;
    if let Some(schema) = schema {
        schema.drop_schema().await?;
    }
    Ok(())
}
