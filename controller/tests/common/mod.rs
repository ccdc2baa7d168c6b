//! One test, every database: [`on_every_database!`] turns `async fn name(db: &TestDb)` into the
//! tests `name::sqlite` (a file in a temporary directory) and `name::postgres` (a scratch schema
//! on the PostgreSQL server of `TRELLIS_TEST_POSTGRES_URL`, by default the local one).

#![allow(dead_code)]

use controller::store::scratch::{ScratchSchema, test_postgres_url};
use controller::store::{Database, SqlStore};
use engine::model::Workflow;
use serde_json::json;
use sqlx::AssertSqlSafe;

/// A workflow named `name` in `namespace` with these labels, one container step.
pub fn workflow(namespace: &str, name: &str, labels: &[(&str, &str)]) -> Workflow {
    let labels: serde_json::Map<_, _> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    serde_json::from_value(json!({
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {"entrypoint": "main", "templates": [{"name": "main", "container": {"image": "alpine"}}]}
    }))
    .unwrap()
}

/// A database a test owns: reopenable (the same file or schema) and gone when it ends.
pub struct TestDb {
    database: Database,
    _dir: tempfile::TempDir,
    schema: Option<ScratchSchema>,
}

impl TestDb {
    /// A SQLite file in a temporary directory.
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        TestDb {
            database: Database::Sqlite(dir.path().join("trellis.db")),
            _dir: dir,
            schema: None,
        }
    }

    /// A scratch schema on the test PostgreSQL server.
    pub async fn postgres() -> Self {
        let schema = ScratchSchema::create(&test_postgres_url())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        TestDb {
            database: Database::Postgres(schema.url().to_owned()),
            _dir: tempfile::tempdir().unwrap(),
            schema: Some(schema),
        }
    }

    /// Which database this is.
    pub fn database(&self) -> &Database {
        &self.database
    }

    /// A store on this database (another one each call: like another process).
    pub async fn open(&self) -> SqlStore {
        SqlStore::open(&self.database).await.unwrap()
    }

    /// Runs raw SQL on the database, bypassing the store.
    pub async fn raw(&self, sql: &str) -> Result<u64, sqlx::Error> {
        let sql = AssertSqlSafe(sql.to_owned());
        match &self.database {
            Database::Sqlite(path) => {
                let pool =
                    sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display())).await?;
                Ok(sqlx::query(sql).execute(&pool).await?.rows_affected())
            }
            Database::Postgres(url) => {
                let pool = sqlx::PgPool::connect(url).await?;
                Ok(sqlx::query(sql).execute(&pool).await?.rows_affected())
            }
        }
    }

    /// Drops what the test made.
    pub async fn finish(self) {
        if let Some(schema) = self.schema {
            schema.drop_schema().await.unwrap();
        }
    }
}

/// Runs each `async fn test(db: &TestDb)` as `test::sqlite` and `test::postgres`.
#[macro_export]
macro_rules! on_every_database {
    ($($test:ident),* $(,)?) => {
        $(
            mod $test {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let db = $crate::common::TestDb::sqlite().await;
                    super::$test(&db).await;
                    db.finish().await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    let db = $crate::common::TestDb::postgres().await;
                    super::$test(&db).await;
                    db.finish().await;
                }
            }
        )*
    };
}
