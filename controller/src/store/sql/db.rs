//! The little that differs between SQLite and PostgreSQL, in one place: pools, transactions,
//! placeholders, rows and a few SQL fragments. Queries are written once with `?` placeholders
//! and bound arguments ([`Sql`]); PostgreSQL gets them renumbered `$1, $2, …`.
//!
//! Both schemas use the same column names and types as seen from Rust (text, 64-bit integers,
//! 0/1 flags), so every query of the store reads the same on both.

use sqlx::postgres::{PgPool, PgRow};
use sqlx::sqlite::{SqlitePool, SqliteRow};
use sqlx::{AssertSqlSafe, Postgres, Row as _, Sqlite, Transaction};

use crate::store::error::Result;

/// Which SQL database a store speaks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Dialect {
    /// SQLite (the embedded default).
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// A key of PostgreSQL's advisory locks: the one every write transaction holds (with the
/// schema's hash as its second key), so writes are serialized as SQLite's are, across every
/// process using the schema.
const WRITE_LOCK: i32 = 0x7472_6c77; // "trlw"

impl Dialect {
    /// `column` contains `?` (a bound text) as a substring, case-sensitively.
    pub(super) fn contains(self, column: &str) -> String {
        match self {
            Dialect::Sqlite => format!("instr({column}, ?) > 0"),
            Dialect::Postgres => format!("strpos({column}, ?) > 0"),
        }
    }

    /// `column` is made of decimal digits only (and not empty).
    pub(super) fn all_digits(self, column: &str) -> String {
        match self {
            Dialect::Sqlite => format!("({column} <> '' AND {column} NOT GLOB '*[^0-9]*')"),
            Dialect::Postgres => format!("{column} ~ '^[0-9]+$'"),
        }
    }

    /// The column giving step claims in the order they were taken.
    pub(super) fn claim_order(self) -> &'static str {
        match self {
            Dialect::Sqlite => "rowid",
            Dialect::Postgres => "id",
        }
    }
}

/// One bound argument.
#[derive(Debug, Clone)]
pub(super) enum Arg {
    /// Text, or NULL.
    Text(Option<String>),
    /// A 64-bit integer, or NULL.
    Int(Option<i64>),
}

impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(Some(v.to_owned()))
    }
}
impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Text(Some(v))
    }
}
impl From<&String> for Arg {
    fn from(v: &String) -> Self {
        Arg::Text(Some(v.clone()))
    }
}
impl From<Option<&str>> for Arg {
    fn from(v: Option<&str>) -> Self {
        Arg::Text(v.map(str::to_owned))
    }
}
impl From<&Option<String>> for Arg {
    fn from(v: &Option<String>) -> Self {
        Arg::Text(v.clone())
    }
}
impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Self {
        Arg::Int(v)
    }
}
impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::Int(Some(v))
    }
}
impl From<bool> for Arg {
    fn from(v: bool) -> Self {
        Arg::Int(Some(i64::from(v)))
    }
}

/// A statement with `?` placeholders and its arguments, in order.
#[derive(Debug, Clone, Default)]
pub(super) struct Sql {
    text: String,
    args: Vec<Arg>,
}

impl Sql {
    /// A statement (with `?` placeholders; no `?` may appear otherwise).
    pub(super) fn new(text: impl Into<String>) -> Self {
        Sql {
            text: text.into(),
            args: Vec::new(),
        }
    }

    /// The statement with one more argument bound.
    pub(super) fn arg(mut self, value: impl Into<Arg>) -> Self {
        self.args.push(value.into());
        self
    }

    /// Appends text (which may hold placeholders bound with [`Sql::bind`]).
    pub(super) fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder and binds it.
    pub(super) fn push_arg(&mut self, value: impl Into<Arg>) -> &mut Self {
        self.text.push('?');
        self.bind(value)
    }

    /// Binds the next placeholder already in the text.
    pub(super) fn bind(&mut self, value: impl Into<Arg>) -> &mut Self {
        self.args.push(value.into());
        self
    }

    /// Appends `(?, ?, …)` binding each value.
    pub(super) fn push_list<T: Into<Arg>>(&mut self, values: impl IntoIterator<Item = T>) {
        self.text.push('(');
        for (i, value) in values.into_iter().enumerate() {
            if i > 0 {
                self.text.push_str(", ");
            }
            self.push_arg(value);
        }
        self.text.push(')');
    }

    /// The text with PostgreSQL's numbered placeholders.
    fn numbered(&self) -> String {
        let mut out = String::with_capacity(self.text.len() + 2 * self.args.len());
        let mut n = 0;
        for c in self.text.chars() {
            if c == '?' {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            } else {
                out.push(c);
            }
        }
        out
    }
}

/// The statement for SQLite, its arguments bound. Its text is made of the store's own SQL
/// fragments only (every value is a bound argument), hence safe.
fn sqlite_query(sql: Sql) -> sqlx::query::Query<'static, Sqlite, sqlx::sqlite::SqliteArguments> {
    let mut q = sqlx::query(AssertSqlSafe(sql.text));
    for arg in sql.args {
        q = match arg {
            Arg::Text(v) => q.bind(v),
            Arg::Int(v) => q.bind(v),
        };
    }
    q
}

/// The statement for PostgreSQL, renumbered and its arguments bound (see [`sqlite_query`]).
fn pg_query(sql: Sql) -> sqlx::query::Query<'static, Postgres, sqlx::postgres::PgArguments> {
    let mut q = sqlx::query(AssertSqlSafe(sql.numbered()));
    for arg in sql.args {
        q = match arg {
            Arg::Text(v) => q.bind(v),
            Arg::Int(v) => q.bind(v),
        };
    }
    q
}

/// A result row.
pub(super) enum Row {
    /// From SQLite.
    Sqlite(SqliteRow),
    /// From PostgreSQL.
    Pg(PgRow),
}

impl Row {
    /// A text column.
    pub(super) fn text(&self, col: &str) -> Result<String> {
        Ok(match self {
            Row::Sqlite(r) => r.try_get(col)?,
            Row::Pg(r) => r.try_get(col)?,
        })
    }

    /// A nullable text column.
    pub(super) fn opt_text(&self, col: &str) -> Result<Option<String>> {
        Ok(match self {
            Row::Sqlite(r) => r.try_get(col)?,
            Row::Pg(r) => r.try_get(col)?,
        })
    }

    /// An integer column.
    pub(super) fn int(&self, col: &str) -> Result<i64> {
        Ok(match self {
            Row::Sqlite(r) => r.try_get(col)?,
            Row::Pg(r) => r.try_get(col)?,
        })
    }

    /// A nullable integer column.
    pub(super) fn opt_int(&self, col: &str) -> Result<Option<i64>> {
        Ok(match self {
            Row::Sqlite(r) => r.try_get(col)?,
            Row::Pg(r) => r.try_get(col)?,
        })
    }

    /// A 0/1 flag column.
    pub(super) fn flag(&self, col: &str) -> Result<bool> {
        Ok(self.int(col)? != 0)
    }

    /// The first column, as text.
    pub(super) fn first_text(&self) -> Result<String> {
        Ok(match self {
            Row::Sqlite(r) => r.try_get(0)?,
            Row::Pg(r) => r.try_get(0)?,
        })
    }

    /// The first column, as an integer.
    pub(super) fn first_int(&self) -> Result<i64> {
        Ok(match self {
            Row::Sqlite(r) => r.try_get(0)?,
            Row::Pg(r) => r.try_get(0)?,
        })
    }
}

/// A connection pool of either database.
#[derive(Debug, Clone)]
pub(super) enum Pool {
    /// SQLite.
    Sqlite(SqlitePool),
    /// PostgreSQL.
    Pg(PgPool),
}

impl Pool {
    /// Runs a query and returns every row.
    pub(super) async fn rows(&self, sql: Sql) -> Result<Vec<Row>> {
        Ok(match self {
            Pool::Sqlite(p) => sqlite_query(sql)
                .fetch_all(p)
                .await?
                .into_iter()
                .map(Row::Sqlite)
                .collect(),
            Pool::Pg(p) => pg_query(sql)
                .fetch_all(p)
                .await?
                .into_iter()
                .map(Row::Pg)
                .collect(),
        })
    }

    /// Runs a query and returns its first row, if any.
    pub(super) async fn row(&self, sql: Sql) -> Result<Option<Row>> {
        Ok(self.rows(sql).await?.into_iter().next())
    }

    /// Runs a statement; returns how many rows it changed.
    pub(super) async fn run(&self, sql: Sql) -> Result<u64> {
        Ok(self.run_raw(sql).await?)
    }

    /// [`Pool::run`] keeping sqlx's error, for callers that tell constraint violations apart.
    pub(super) async fn run_raw(&self, sql: Sql) -> Result<u64, sqlx::Error> {
        Ok(match self {
            Pool::Sqlite(p) => sqlite_query(sql).execute(p).await?.rows_affected(),
            Pool::Pg(p) => pg_query(sql).execute(p).await?.rows_affected(),
        })
    }

    /// A write transaction: it holds the database's write lock from its first statement, so
    /// writes never deadlock and see no concurrent writer (SQLite's `BEGIN IMMEDIATE`, a
    /// transaction-level advisory lock on PostgreSQL).
    pub(super) async fn begin_write(&self) -> Result<Tx> {
        Ok(match self {
            Pool::Sqlite(p) => Tx::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
            Pool::Pg(p) => {
                let mut tx = p.begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))")
                    .bind(WRITE_LOCK)
                    .execute(&mut *tx)
                    .await?;
                Tx::Pg(tx)
            }
        })
    }

    /// Waits for running operations and closes every connection.
    pub(super) async fn close(&self) {
        match self {
            Pool::Sqlite(p) => p.close().await,
            Pool::Pg(p) => p.close().await,
        }
    }
}

/// A transaction of either database; rolled back if dropped before [`Tx::commit`].
pub(super) enum Tx {
    /// SQLite.
    Sqlite(Transaction<'static, Sqlite>),
    /// PostgreSQL.
    Pg(Transaction<'static, Postgres>),
}

impl Tx {
    /// Runs a query and returns every row.
    pub(super) async fn rows(&mut self, sql: Sql) -> Result<Vec<Row>> {
        Ok(match self {
            Tx::Sqlite(tx) => sqlite_query(sql)
                .fetch_all(&mut **tx)
                .await?
                .into_iter()
                .map(Row::Sqlite)
                .collect(),
            Tx::Pg(tx) => pg_query(sql)
                .fetch_all(&mut **tx)
                .await?
                .into_iter()
                .map(Row::Pg)
                .collect(),
        })
    }

    /// Runs a query and returns its first row, if any.
    pub(super) async fn row(&mut self, sql: Sql) -> Result<Option<Row>> {
        Ok(self.rows(sql).await?.into_iter().next())
    }

    /// Runs a statement; returns how many rows it changed.
    pub(super) async fn run(&mut self, sql: Sql) -> Result<u64> {
        Ok(self.run_raw(sql).await?)
    }

    /// [`Tx::run`] keeping sqlx's error, for callers that tell constraint violations apart.
    pub(super) async fn run_raw(&mut self, sql: Sql) -> Result<u64, sqlx::Error> {
        Ok(match self {
            Tx::Sqlite(tx) => sqlite_query(sql).execute(&mut **tx).await?.rows_affected(),
            Tx::Pg(tx) => pg_query(sql).execute(&mut **tx).await?.rows_affected(),
        })
    }

    /// Commits.
    pub(super) async fn commit(self) -> Result<()> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await?,
            Tx::Pg(tx) => tx.commit().await?,
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_for_postgres() {
        let mut sql = Sql::new("SELECT a FROM t WHERE b = ?").arg("x");
        sql.push(" AND c IN ").push_list([1_i64, 2]);
        assert_eq!(sql.text, "SELECT a FROM t WHERE b = ? AND c IN (?, ?)");
        assert_eq!(
            sql.numbered(),
            "SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)"
        );
        assert_eq!(sql.args.len(), 3);
    }
}
