//! Artifacts and where they live (Go's `Artifact`, `ArtifactLocation` and the location types).
//!
//! Go embeds several structs inline (`ArtifactLocation` in `Artifact`, `S3Bucket` in
//! `S3Artifact`, …); the macros of `embed.rs` declare those shared fields.

use k8s_openapi::api::core::v1::SecretKeySelector;
use serde::{Deserialize, Serialize};

use super::workflow::Metadata;

artifact_location_struct! {
    /// Where an artifact is stored (Go's `ArtifactLocation`), e.g. `archiveLocation`.
    pub struct ArtifactLocation {}
}

artifact_location_struct! {
    /// An input or output artifact: its own fields plus an inline location.
    pub struct Artifact {
        /// Artifact name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub name: Option<String>,
        /// Path in the container where the artifact is placed or collected.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub path: Option<String>,
        /// File mode of the placed artifact.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub mode: Option<i32>,
        /// Where to take the artifact from (an expression such as `{{steps.x.outputs.artifacts.y}}`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub from: Option<String>,
        /// Name under which the artifact is exported as a global output.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub global_name: Option<String>,
        /// How the artifact is archived.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub archive: Option<ArchiveStrategy>,
        /// A missing artifact is not an error.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub optional: Option<bool>,
        /// Path inside the artifact to use.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub sub_path: Option<String>,
        /// Also copy directories recursively.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub recurse_mode: Option<bool>,
        /// An expression selecting the artifact.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub from_expression: Option<String>,
        /// Garbage collection of this artifact.
        #[serde(rename = "artifactGC", default, skip_serializing_if = "Option::is_none")]
        pub artifact_gc: Option<ArtifactGC>,
        /// Set once the artifact has been garbage collected.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub deleted: Option<bool>,
    }
}

/// Artifact source of a `data` template (Go's `ArtifactPaths`, an inline `Artifact`).
pub type ArtifactPaths = Artifact;

s3_bucket_struct! {
    /// An S3 location (Go's `S3Artifact`: `S3Bucket` inline plus `key`).
    pub struct S3Artifact {
        /// Object key.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub key: Option<String>,
    }
}

/// Options for creating a missing S3 bucket.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateS3BucketOptions {
    /// Enable object locking on the new bucket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_locking: Option<bool>,
}

/// S3 server-side encryption options.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct S3EncryptionOptions {
    /// KMS key id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
    /// KMS encryption context (JSON).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_encryption_context: Option<String>,
    /// Enable encryption.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_encryption: Option<bool>,
    /// Secret holding a customer-provided key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_side_customer_key_secret: Option<SecretKeySelector>,
}

/// A git repository as an artifact.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GitArtifact {
    /// Repository URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    /// Revision to check out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// Shallow clone depth.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depth: Option<u64>,
    /// Extra refspecs to fetch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fetch: Option<Vec<String>>,
    /// Secret holding the user name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username_secret: Option<SecretKeySelector>,
    /// Secret holding the password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_secret: Option<SecretKeySelector>,
    /// Secret holding an SSH private key.
    #[serde(
        rename = "sshPrivateKeySecret",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ssh_private_key_secret: Option<SecretKeySelector>,
    /// Skip SSH host key checking.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insecure_ignore_host_key: Option<bool>,
    /// Do not check out submodules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_submodules: Option<bool>,
    /// Clone only one branch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub single_branch: Option<bool>,
    /// Branch to check out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// Skip TLS verification.
    #[serde(
        rename = "insecureSkipTLS",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub insecure_skip_tls: Option<bool>,
}

artifactory_auth_struct! {
    /// An Artifactory URL (Go's `ArtifactoryArtifact`: `url` plus `ArtifactoryAuth` inline).
    pub struct ArtifactoryArtifact {
        /// Artifact URL.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub url: Option<String>,
    }
}

azure_container_struct! {
    /// An Azure blob (Go's `AzureArtifact`: `AzureBlobContainer` inline plus `blob`).
    pub struct AzureArtifact {
        /// Blob name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub blob: Option<String>,
    }
}

hdfs_config_struct! {
    /// An HDFS path (Go's `HDFSArtifact`: `HDFSConfig` inline plus `path` and `force`).
    pub struct HDFSArtifact {
        /// File path.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub path: Option<String>,
        /// Overwrite an existing file.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub force: Option<bool>,
    }
}

/// Inline artifact content.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawArtifact {
    /// The content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
}

/// An HTTP header of an HTTP artifact.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Header {
    /// Header name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Header value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// Basic authentication of an HTTP artifact.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BasicAuth {
    /// Secret holding the user name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username_secret: Option<SecretKeySelector>,
    /// Secret holding the password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_secret: Option<SecretKeySelector>,
}

/// TLS client certificate authentication of an HTTP artifact.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientCertAuth {
    /// Secret holding the client certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_cert_secret: Option<SecretKeySelector>,
    /// Secret holding the client key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_key_secret: Option<SecretKeySelector>,
}

/// OAuth2 client-credentials authentication of an HTTP artifact.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OAuth2Auth {
    /// Secret holding the client id.
    #[serde(
        rename = "clientIDSecret",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub client_id_secret: Option<SecretKeySelector>,
    /// Secret holding the client secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret_secret: Option<SecretKeySelector>,
    /// Secret holding the token URL.
    #[serde(
        rename = "tokenURLSecret",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub token_url_secret: Option<SecretKeySelector>,
    /// Scopes to request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    /// Extra parameters for the token endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_params: Option<Vec<OAuth2EndpointParam>>,
}

/// One extra parameter of an OAuth2 token request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OAuth2EndpointParam {
    /// Parameter name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Parameter value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// Authentication of an HTTP artifact.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HTTPAuth {
    /// TLS client certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_cert: Option<ClientCertAuth>,
    /// OAuth2 client credentials.
    #[serde(rename = "oauth2", default, skip_serializing_if = "Option::is_none")]
    pub oauth2: Option<OAuth2Auth>,
    /// Basic authentication.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basic_auth: Option<BasicAuth>,
}

/// An artifact fetched from (or sent to) an HTTP URL.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HTTPArtifact {
    /// The URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Headers to send.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<Vec<Header>>,
    /// Authentication.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<HTTPAuth>,
    /// Stream through a temporary file when saving.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub save_stream_via_file: Option<bool>,
}

gcs_bucket_struct! {
    /// A Google Cloud Storage object (Go's `GCSArtifact`: `GCSBucket` inline plus `key`).
    pub struct GCSArtifact {
        /// Object key.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub key: Option<String>,
    }
}

oss_bucket_struct! {
    /// An Alibaba OSS object (Go's `OSSArtifact`: `OSSBucket` inline plus `key`).
    pub struct OSSArtifact {
        /// Object key.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub key: Option<String>,
    }
}

/// Lifecycle rule of an OSS bucket.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OSSLifecycleRule {
    /// Days before objects move to infrequent access.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mark_infrequent_access_after_days: Option<i32>,
    /// Days before objects are deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mark_deletion_after_days: Option<i32>,
}

/// A location handled by an artifact driver plugin.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PluginArtifact {
    /// Plugin name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Plugin configuration (text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration: Option<String>,
    /// Connection timeout in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_timeout_seconds: Option<i32>,
    /// Object key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// How an output artifact is packed (`tar` by default).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArchiveStrategy {
    /// Gzipped tarball.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tar: Option<TarStrategy>,
    /// No archiving.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub none: Option<NoneStrategy>,
    /// Zip file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zip: Option<ZipStrategy>,
}

/// Tar archiving options.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TarStrategy {
    /// Gzip level (0 to 9).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compression_level: Option<i32>,
}

/// Zip archiving (no options).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ZipStrategy {}

/// No archiving (no options).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NoneStrategy {}

/// Garbage collection of artifacts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArtifactGC {
    /// `OnWorkflowCompletion`, `OnWorkflowDeletion` or `Never`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<String>,
    /// Metadata of the garbage collection pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_metadata: Option<Metadata>,
    /// Service account of the garbage collection pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,
}

/// Workflow-level artifact garbage collection (Go's `WorkflowLevelArtifactGC`:
/// `ArtifactGC` inline plus two fields).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkflowLevelArtifactGC {
    /// `OnWorkflowCompletion`, `OnWorkflowDeletion` or `Never`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<String>,
    /// Metadata of the garbage collection pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_metadata: Option<Metadata>,
    /// Service account of the garbage collection pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,
    /// Remove the finalizer even if garbage collection failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub force_finalizer_removal: Option<bool>,
    /// Patch applied to the garbage collection pod's spec.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_spec_patch: Option<String>,
}

/// Reference to an artifact repository in a config map.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArtifactRepositoryRef {
    /// Config map name (default `artifact-repositories`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map: Option<String>,
    /// Key in the config map.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artifact_location_is_inline() {
        let a: Artifact = serde_json::from_str(
            r#"{"name":"a","path":"/tmp/a","s3":{"bucket":"b","key":"k","roleARN":"r"}}"#,
        )
        .unwrap();
        let s3 = a.s3.as_ref().unwrap();
        assert_eq!(s3.bucket.as_deref(), Some("b"));
        assert_eq!(s3.role_arn.as_deref(), Some("r"));
        assert!(a.has_location());
        assert_eq!(a.location().s3, a.s3);
    }
}
