//! Artifact repository configuration (Go's `artifact_repository_types.go`), as found in
//! a workflow's status (`status.artifactRepositoryRef.artifactRepository`).

use serde::{Deserialize, Serialize};

use super::artifacts::ArtifactRepositoryRef;

/// The default location of a workflow's artifacts; exactly one repository is set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArtifactRepository {
    /// Archive the main containers' logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive_logs: Option<bool>,
    /// An S3 (compatible) repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3: Option<S3ArtifactRepository>,
    /// An Artifactory repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifactory: Option<ArtifactoryArtifactRepository>,
    /// An HDFS repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hdfs: Option<HDFSArtifactRepository>,
    /// An Alibaba OSS repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oss: Option<OSSArtifactRepository>,
    /// A Google Cloud Storage repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gcs: Option<GCSArtifactRepository>,
    /// An Azure blob storage repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azure: Option<AzureArtifactRepository>,
    /// An artifact driver plugin repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plugin: Option<PluginArtifactRepository>,
}

s3_bucket_struct! {
    /// An S3 repository (`S3Bucket` inline plus key formats).
    pub struct S3ArtifactRepository {
        /// Format of the keys of stored artifacts (may use workflow variables).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub key_format: Option<String>,
        /// Deprecated key prefix; use `keyFormat`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub key_prefix: Option<String>,
    }
}

oss_bucket_struct! {
    /// An OSS repository (`OSSBucket` inline plus `keyFormat`).
    pub struct OSSArtifactRepository {
        /// Format of the keys of stored artifacts.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub key_format: Option<String>,
    }
}

gcs_bucket_struct! {
    /// A GCS repository (`GCSBucket` inline plus `keyFormat`).
    pub struct GCSArtifactRepository {
        /// Format of the keys of stored artifacts.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub key_format: Option<String>,
    }
}

artifactory_auth_struct! {
    /// An Artifactory repository (`ArtifactoryAuth` inline plus URL and key format).
    pub struct ArtifactoryArtifactRepository {
        /// Repository URL.
        #[serde(rename = "repoURL", default, skip_serializing_if = "Option::is_none")]
        pub repo_url: Option<String>,
        /// Format of the keys of stored artifacts.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub key_format: Option<String>,
    }
}

azure_container_struct! {
    /// An Azure repository (`AzureBlobContainer` inline plus `blobNameFormat`).
    pub struct AzureArtifactRepository {
        /// Format of the blob names of stored artifacts.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub blob_name_format: Option<String>,
    }
}

hdfs_config_struct! {
    /// An HDFS repository (`HDFSConfig` inline plus path format and `force`).
    pub struct HDFSArtifactRepository {
        /// Format of the paths of stored artifacts.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub path_format: Option<String>,
        /// Overwrite existing files.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub force: Option<bool>,
    }
}

/// An artifact driver plugin repository.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PluginArtifactRepository {
    /// Plugin name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Format of the keys of stored artifacts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_format: Option<String>,
    /// Plugin configuration (text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration: Option<String>,
}

/// The artifact repository a workflow resolved (Go's `ArtifactRepositoryRefStatus`:
/// `ArtifactRepositoryRef` inline plus where it came from).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArtifactRepositoryRefStatus {
    /// Config map name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map: Option<String>,
    /// Key in the config map.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Namespace of the config map.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Whether this is the controller's default repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<bool>,
    /// The repository itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_repository: Option<ArtifactRepository>,
}

impl ArtifactRepositoryRefStatus {
    /// The reference part alone.
    pub fn reference(&self) -> ArtifactRepositoryRef {
        ArtifactRepositoryRef {
            config_map: self.config_map.clone(),
            key: self.key.clone(),
        }
    }
}
