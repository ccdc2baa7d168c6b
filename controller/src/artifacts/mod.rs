//! Artifacts: fetching inputs into paths, storing output paths, and reading stored artifacts back.
//!
//! Locations are the default local repository (a directory under the data directory), S3-compatible
//! buckets, raw content, HTTP downloads and Git (which needs the Kubernetes backend). Packing follows
//! Argo's executor so artifacts stored by Argo and by Trellis are interchangeable.

pub mod archive;
mod fetch;
pub mod location;
mod save;
mod store;

use std::path::{Path, PathBuf};

pub use fetch::{ArtifactStream, fetch_artifact, list_artifact_keys, read_artifact};
pub use location::{
    ArchiveMode, ArtifactDestination, ArtifactSource, HttpHeader, S3Location, Secret,
};
pub use save::store_artifact;

/// Why an artifact could not be fetched, stored or read.
#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    /// The artifact, or the path to store, does not exist.
    #[error("{0}: no such file or directory")]
    NotFound(String),
    /// This kind of artifact cannot be handled on this machine.
    #[error("{0}")]
    Unsupported(&'static str),
    /// The key is not a valid object key (empty, `..`, …).
    #[error("invalid artifact key {key:?}: {reason}")]
    InvalidKey {
        /// The key as given.
        key: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The location cannot be turned into a client (bad URL, endpoint or header).
    #[error("invalid artifact location: {0}")]
    Config(String),
    /// The repository answered with an error.
    #[error("{what}: {source}")]
    Store {
        /// The artifact, as `s3://bucket/key`, a local path or a URL.
        what: String,
        /// The repository's error.
        #[source]
        source: object_store::Error,
    },
    /// Uploading failed part way.
    #[error("upload to {what}: {source}")]
    Upload {
        /// The artifact being written.
        what: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A local file operation failed.
    #[error("{op} {}: {source}", path.display())]
    Io {
        /// The operation (`open`, `write`, `rename`, …).
        op: &'static str,
        /// The file it was applied to.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// An archive is damaged or tries to write outside its destination.
    #[error("archive {}: {reason}", path.display())]
    Archive {
        /// The archive file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// `compressionLevel` is outside gzip's range.
    #[error("invalid gzip compression level {0} (use -1 for the default, or 0 to 9)")]
    CompressionLevel(i32),
    /// A background packing or unpacking task stopped unexpectedly.
    #[error("artifact worker stopped: {0}")]
    Worker(String),
}

impl ArtifactError {
    /// An [`ArtifactError::Io`] for `op` on `path`.
    pub(crate) fn io(op: &'static str, path: &Path, source: std::io::Error) -> Self {
        ArtifactError::Io {
            op,
            path: path.to_path_buf(),
            source,
        }
    }

    /// Whether the artifact simply does not exist (so an optional artifact may be skipped).
    pub fn is_not_found(&self) -> bool {
        match self {
            ArtifactError::NotFound(_) => true,
            ArtifactError::Store { source, .. } => {
                matches!(source, object_store::Error::NotFound { .. })
            }
            _ => false,
        }
    }
}
