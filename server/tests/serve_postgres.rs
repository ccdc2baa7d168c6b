//! `trellis serve --database-url postgres://…`: workflows, templates, run numbers and the archive
//! live in PostgreSQL and outlive the server and its data directory; one server per database;
//! a bad URL is a clear error that shows no password. (`scripts/test` also runs every API test
//! on PostgreSQL.)

#[path = "common/server.rs"]
mod server;

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use controller::store::RUNNER_LOCK;
use controller::store::scratch::{ScratchSchema, test_postgres_url};
use serde_json::json;
use server::{Server, drop_schema_now, name};

async fn schema() -> ScratchSchema {
    ScratchSchema::create(&test_postgres_url())
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Runs `trellis serve` with these arguments, expecting it to exit by itself within a minute.
fn serve_exits(args: &[&str]) -> Output {
    let data = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_trellis"))
        .args([
            "serve",
            "--port",
            "0",
            "--site-dir",
            "/nonexistent",
            "--data-dir",
        ])
        .arg(data.path())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("trellis serve {args:?} did not exit");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

fn template() -> serde_json::Value {
    json!({"template": {
        "metadata": {"name": "greet"},
        "spec": {"entrypoint": "main",
                 "arguments": {"parameters": [{"name": "who", "value": "world"}]},
                 "templates": [{"name": "main", "container": {
                     "image": "alpine", "command": ["echo", "hello {{workflow.parameters.who}}"]}}]}
    }})
}

async fn submit(s: &Server) -> serde_json::Value {
    let body = json!({"resourceKind": "WorkflowTemplate", "resourceName": "greet"});
    let (status, wf) = s
        .call("POST", "/api/v1/workflows/ci/submit", Some(body))
        .await;
    assert_eq!(status, 200, "{wf}");
    s.finished("ci", &name(&wf)).await
}

#[tokio::test]
async fn workflows_outlive_the_server_and_its_data_directory() {
    let db = schema().await;
    let first = {
        let s = Server::start_with("pg-first", &["--database-url", db.url()]).await;
        let (status, body) = s
            .call("POST", "/api/v1/workflow-templates/ci", Some(template()))
            .await;
        assert_eq!(status, 200, "{body}");
        let done = submit(&s).await;
        assert_eq!(done["status"]["phase"], "Succeeded", "{done}");
        assert_eq!(done["metadata"]["labels"]["trellis.dev/run-number"], "1");
        done
    };
    // Another server, another data directory, the same database.
    let s = Server::start_with("pg-second", &["--database-url", db.url()]).await;
    let again = s
        .get(&format!("/api/v1/workflows/ci/{}", name(&first)))
        .await;
    assert_eq!(again["status"]["phase"], "Succeeded", "{again}");
    assert_eq!(again["metadata"]["uid"], first["metadata"]["uid"]);
    let archived = s.get("/api/v1/archived-workflows?namespace=ci").await;
    let items = archived["items"].as_array().cloned().unwrap_or_default();
    assert!(
        items
            .iter()
            .any(|w| w["metadata"]["uid"] == first["metadata"]["uid"]),
        "{archived}"
    );
    let next = submit(&s).await;
    assert_eq!(next["status"]["phase"], "Succeeded", "{next}");
    assert_eq!(
        next["metadata"]["labels"]["trellis.dev/run-number"], "2",
        "run numbers live in the database"
    );
    drop(s);
    drop_schema_now(db);
}

#[tokio::test]
async fn a_second_server_on_the_same_database_refuses_to_start() {
    let db = schema().await;
    let running = Server::start_with("pg-owner", &["--database-url", db.url()]).await;
    let out = serve_exits(&["--database-url", db.url()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("another Trellis server already runs the workflows of this database"),
        "{stderr}"
    );
    // The first one is unharmed.
    let (status, _) = running.call("GET", "/api/v1/workflows/ci", None).await;
    assert_eq!(status, 200);
    drop(running);
    drop_schema_now(db);
}

#[tokio::test]
async fn a_server_that_loses_its_database_to_another_stops() {
    let db = schema().await;
    let mut s = Server::start_with("pg-lose", &["--database-url", db.url()]).await;
    let pool = sqlx::PgPool::connect(db.url()).await.unwrap();
    let lock = "l.locktype = 'advisory' AND l.granted AND l.classid::text::bigint = $1 \
                AND l.objid::text::bigint = (hashtext(current_schema())::bigint & 4294967295)";
    let holder: i32 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT l.pid FROM pg_locks l WHERE {lock}"
    )))
    .bind(i64::from(RUNNER_LOCK))
    .fetch_one(&pool)
    .await
    .unwrap();
    // Its session ends and, before it notices, someone else takes the lock.
    let mut other = pool.acquire().await.unwrap();
    let _: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1, 5000)")
        .bind(holder)
        .fetch_one(&mut *other)
        .await
        .unwrap();
    let taken: bool =
        sqlx::query_scalar("SELECT pg_try_advisory_lock($1, hashtext(current_schema()))")
            .bind(RUNNER_LOCK)
            .fetch_one(&mut *other)
            .await
            .unwrap();
    assert!(taken, "the lock was free once its session ended");
    assert!(
        s.wait_exit(Duration::from_secs(30)).is_some_and(|ok| !ok),
        "the server stops, with an error"
    );
    drop(other);
    pool.close().await;
    drop(s);
    drop_schema_now(db);
}

#[tokio::test]
async fn bad_database_urls_are_clear_errors_without_the_password() {
    let cases = [
        ("mysql://u:hunter2@127.0.0.1/x", "neither postgres://"),
        (
            "postgres://u:hunter2@127.0.0.1:1/x",
            "cannot connect to PostgreSQL at postgres://u:***@127.0.0.1:1/x",
        ),
    ];
    for (url, want) in cases {
        let out = serve_exits(&["--database-url", url]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{url}: {stderr}");
        assert!(stderr.contains(want), "{url}: {stderr}");
        assert!(!stderr.contains("hunter2"), "{url}: {stderr}");
    }
}
