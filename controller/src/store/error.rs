//! The store's error type: what can go wrong reading or writing persisted workflows.

use thiserror::Error;

use super::selector::SelectorError;

/// Result of a store operation.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Why a store operation failed.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The object asked for does not exist (or no longer does).
    #[error("{kind} {} not found", qualified(namespace, name))]
    NotFound {
        /// What was looked for: `workflow`, `WorkflowTemplate`, `step claim`…
        kind: String,
        /// Its namespace; empty for cluster-scoped objects and look-ups by uid.
        namespace: String,
        /// Its name (or uid, for look-ups by uid).
        name: String,
    },
    /// An object with the same identity already exists.
    #[error("{kind} {} already exists", qualified(namespace, name))]
    AlreadyExists {
        /// What was created: `workflow`, `WorkflowTemplate`…
        kind: String,
        /// Its namespace; empty for cluster-scoped objects.
        namespace: String,
        /// Its name.
        name: String,
    },
    /// Someone else changed the object since it was read (optimistic concurrency).
    #[error(
        "{kind} {} was changed by someone else (expected resourceVersion {expected}, \
         found {actual}): read it again and retry",
        qualified(namespace, name)
    )]
    Conflict {
        /// What was updated.
        kind: String,
        /// Its namespace; empty for cluster-scoped objects.
        namespace: String,
        /// Its name.
        name: String,
        /// The resourceVersion the caller read.
        expected: String,
        /// The resourceVersion now stored.
        actual: String,
    },
    /// The object or query given to the store is not acceptable (missing name, bad selector…).
    #[error("invalid {what}: {reason}")]
    Invalid {
        /// What was rejected: `workflow`, `label selector`, `continue token`…
        what: &'static str,
        /// Why, in words.
        reason: String,
    },
    /// A label selector does not parse.
    #[error(transparent)]
    Selector(#[from] SelectorError),
    /// The database failed (I/O, locking, constraint, migration).
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Migrating the database schema failed.
    #[error("cannot migrate the database schema: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored JSON document cannot be read back or an object cannot be written as JSON.
    #[error("stored JSON is corrupt or unserializable: {0}")]
    Corrupt(#[from] serde_json::Error),
    /// A stored timestamp cannot be read back.
    #[error("stored timestamp {value:?} is corrupt: {source}")]
    CorruptTimestamp {
        /// The stored text.
        value: String,
        /// The parser's complaint.
        source: chrono::ParseError,
    },
}

/// `namespace/name` in quotes, or just `name` when there is no namespace.
fn qualified(namespace: &str, name: &str) -> String {
    if namespace.is_empty() {
        format!("{name:?}")
    } else {
        format!("\"{namespace}/{name}\"")
    }
}

impl StoreError {
    /// A `NotFound` for the given kind and identity.
    pub fn not_found(kind: &str, namespace: &str, name: &str) -> Self {
        StoreError::NotFound {
            kind: kind.to_owned(),
            namespace: namespace.to_owned(),
            name: name.to_owned(),
        }
    }

    /// An `AlreadyExists` for the given kind and identity.
    pub fn already_exists(kind: &str, namespace: &str, name: &str) -> Self {
        StoreError::AlreadyExists {
            kind: kind.to_owned(),
            namespace: namespace.to_owned(),
            name: name.to_owned(),
        }
    }

    /// An `Invalid` with its reason.
    pub fn invalid(what: &'static str, reason: impl Into<String>) -> Self {
        StoreError::Invalid {
            what,
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_object() {
        let cases = [
            (
                StoreError::not_found("workflow", "argo", "hello"),
                "workflow \"argo/hello\" not found",
            ),
            (
                StoreError::already_exists("ClusterWorkflowTemplate", "", "lib"),
                "ClusterWorkflowTemplate \"lib\" already exists",
            ),
            (
                StoreError::Conflict {
                    kind: "workflow".into(),
                    namespace: "ns".into(),
                    name: "w".into(),
                    expected: "3".into(),
                    actual: "5".into(),
                },
                "workflow \"ns/w\" was changed by someone else (expected resourceVersion 3, \
                 found 5): read it again and retry",
            ),
            (
                StoreError::invalid("label selector", "unexpected `)`"),
                "invalid label selector: unexpected `)`",
            ),
        ];
        for (err, want) in cases {
            assert_eq!(err.to_string(), want);
        }
    }
}
