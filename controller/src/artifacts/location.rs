//! Where an artifact comes from and where one goes: the serde types the backends hand to `trellis exec`.
//!
//! The backend resolves Argo's artifact repository configuration (the default repository, `s3:` with
//! secrets, `key`-only artifacts) into one of these with the full key; nothing here reads a
//! Kubernetes secret or a config map.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// A credential value that never shows up in `Debug` output or logs.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// An S3-compatible bucket and one key in it (AWS, MinIO, SeaweedFS, …).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct S3Location {
    /// `host:port` as in Argo's `s3.endpoint`, or a full `http(s)://` URL; empty for AWS itself.
    #[serde(default)]
    pub endpoint: String,
    /// The bucket name.
    pub bucket: String,
    /// The object key (or the prefix of a directory stored without archiving).
    pub key: String,
    /// The region; empty means `us-east-1`.
    #[serde(default)]
    pub region: String,
    /// Use plain HTTP for an endpoint given without a scheme (Argo's `insecure`).
    #[serde(default)]
    pub insecure: bool,
    /// The access key id, already read from its secret; `None` means anonymous requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key: Option<Secret>,
    /// The secret access key, already read from its secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_key: Option<Secret>,
    /// Instead of `access_key`: the environment variable of `trellis exec` that holds it (a
    /// step Pod's, set from a Kubernetes Secret, so no one but the Pod reads the secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key_env: Option<String>,
    /// Instead of `secret_key`: the environment variable that holds it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_key_env: Option<String>,
    /// Address buckets as `endpoint/bucket/key` (MinIO, SeaweedFS) instead of `bucket.endpoint/key`.
    #[serde(default)]
    pub path_style: bool,
}

/// One HTTP header sent when fetching an `http` artifact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpHeader {
    /// The header name.
    pub name: String,
    /// The header value.
    pub value: String,
}

/// Where an input artifact is read from (also where a stored output artifact now lives).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum ArtifactSource {
    /// The default repository: a directory on this machine (under the data directory) and a key in it.
    Local {
        /// The repository's root directory.
        root: PathBuf,
        /// The key below `root`, `/`-separated.
        key: String,
    },
    /// An object (or a prefix) in an S3-compatible bucket.
    S3(S3Location),
    /// Literal content (Argo's `raw.data`), written to the artifact's path as it is.
    Raw {
        /// The file's content.
        data: String,
    },
    /// A file downloaded with an HTTP GET (Argo's `http`).
    Http {
        /// The URL to download.
        url: String,
        /// Extra request headers.
        #[serde(default)]
        headers: Vec<HttpHeader>,
    },
    /// A Git repository (Argo's `git`); cloning needs the Kubernetes backend.
    Git {
        /// The repository URL.
        repo: String,
        /// The revision to check out.
        #[serde(default)]
        revision: Option<String>,
    },
}

/// Where an output artifact is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum ArtifactDestination {
    /// The default repository: a directory on this machine and a key in it.
    Local {
        /// The repository's root directory (created when missing).
        root: PathBuf,
        /// The key below `root`, `/`-separated.
        key: String,
    },
    /// An object (or a prefix, for a directory stored without archiving) in an S3-compatible bucket.
    S3(S3Location),
}

impl ArtifactDestination {
    /// The source that reads back what was stored here.
    pub fn to_source(&self) -> ArtifactSource {
        match self {
            ArtifactDestination::Local { root, key } => ArtifactSource::Local {
                root: root.clone(),
                key: key.clone(),
            },
            ArtifactDestination::S3(s3) => ArtifactSource::S3(s3.clone()),
        }
    }
}

impl ArtifactSource {
    /// The same location with credentials removed, fit to be recorded in a node's status.
    pub fn without_credentials(&self) -> ArtifactSource {
        match self {
            ArtifactSource::S3(s3) => ArtifactSource::S3(S3Location {
                access_key: None,
                secret_key: None,
                access_key_env: None,
                secret_key_env: None,
                ..s3.clone()
            }),
            other => other.clone(),
        }
    }
}

/// How an output artifact is packed before it is stored (Argo's `archive`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ArchiveMode {
    /// A gzip-compressed tarball, Argo's default.
    Tar {
        /// gzip level: -1 (or absent) for the default, 0 (none) to 9 (best).
        #[serde(
            default,
            rename = "compressionLevel",
            skip_serializing_if = "Option::is_none"
        )]
        compression_level: Option<i32>,
    },
    /// Stored as it is: a file as one object, a directory as one object per file below the key.
    None {},
}

impl Default for ArchiveMode {
    fn default() -> Self {
        ArchiveMode::Tar {
            compression_level: None,
        }
    }
}
