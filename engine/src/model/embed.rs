//! Macros spelling out Go's inline embeddings (`S3Bucket` in `S3Artifact`,
//! `ArtifactLocation` in `Artifact`, …) without serde's `flatten`: each shared field set
//! is written once here and spliced into every struct that embeds it.

/// Declares a model struct (the usual derives and `camelCase` names) whose fields are the
/// `common` ones followed by the struct's own.
macro_rules! struct_with_fields {
    (
        { $($common:tt)* }
        $(#[$meta:meta])*
        pub struct $name:ident { $($own:tt)* }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, ::serde::Serialize, ::serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        pub struct $name {
            $($common)*
            $($own)*
        }
    };
}

/// Declares a struct embedding Go's `S3Bucket`.
macro_rules! s3_bucket_struct {
    ($($def:tt)*) => {
        struct_with_fields! {
            {
                /// S3 endpoint (host and port).
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub endpoint: Option<String>,
                /// Bucket name.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub bucket: Option<String>,
                /// Bucket region.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub region: Option<String>,
                /// Use plain HTTP instead of HTTPS.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub insecure: Option<bool>,
                /// Secret holding the access key.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub access_key_secret: Option<::k8s_openapi::api::core::v1::SecretKeySelector>,
                /// Secret holding the secret key.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub secret_key_secret: Option<::k8s_openapi::api::core::v1::SecretKeySelector>,
                /// Secret holding a session token.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub session_token_secret: Option<::k8s_openapi::api::core::v1::SecretKeySelector>,
                /// IAM role to assume.
                #[serde(rename = "roleARN", default, skip_serializing_if = "Option::is_none")]
                pub role_arn: Option<String>,
                /// Use the AWS SDK's default credentials.
                #[serde(rename = "useSDKCreds", default, skip_serializing_if = "Option::is_none")]
                pub use_sdk_creds: Option<bool>,
                /// Create the bucket when it does not exist.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub create_bucket_if_not_present: Option<$crate::model::CreateS3BucketOptions>,
                /// Server-side encryption options.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub encryption_options: Option<$crate::model::S3EncryptionOptions>,
                /// Secret holding a CA certificate.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub ca_secret: Option<::k8s_openapi::api::core::v1::SecretKeySelector>,
                /// `path` or `virtual` addressing.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub addressing_style: Option<String>,
            }
            $($def)*
        }
    };
}

/// Declares a struct embedding Go's `ArtifactoryAuth`.
macro_rules! artifactory_auth_struct {
    ($($def:tt)*) => {
        struct_with_fields! {
            {
                /// Secret holding the user name.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub username_secret: Option<::k8s_openapi::api::core::v1::SecretKeySelector>,
                /// Secret holding the password.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub password_secret: Option<::k8s_openapi::api::core::v1::SecretKeySelector>,
            }
            $($def)*
        }
    };
}

/// Declares a struct embedding Go's `AzureBlobContainer`.
macro_rules! azure_container_struct {
    ($($def:tt)*) => {
        struct_with_fields! {
            {
                /// Storage account endpoint.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub endpoint: Option<String>,
                /// Blob container name.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub container: Option<String>,
                /// Secret holding the account key.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub account_key_secret: Option<::k8s_openapi::api::core::v1::SecretKeySelector>,
                /// Use the Azure SDK's default credentials.
                #[serde(rename = "useSDKCreds", default, skip_serializing_if = "Option::is_none")]
                pub use_sdk_creds: Option<bool>,
            }
            $($def)*
        }
    };
}

/// Declares a struct embedding Go's `HDFSConfig` (which itself embeds `HDFSKrbConfig`).
macro_rules! hdfs_config_struct {
    ($($def:tt)*) => {
        struct_with_fields! {
            {
                /// Secret holding a Kerberos credential cache.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub krb_c_cache_secret: Option<::k8s_openapi::api::core::v1::SecretKeySelector>,
                /// Secret holding a Kerberos keytab.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub krb_keytab_secret: Option<::k8s_openapi::api::core::v1::SecretKeySelector>,
                /// Kerberos user name.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub krb_username: Option<String>,
                /// Kerberos realm.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub krb_realm: Option<String>,
                /// Config map holding `krb5.conf`.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub krb_config_config_map: Option<::k8s_openapi::api::core::v1::ConfigMapKeySelector>,
                /// Kerberos service principal name.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub krb_service_principal_name: Option<String>,
                /// Name node addresses.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub addresses: Option<Vec<String>>,
                /// HDFS user.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub hdfs_user: Option<String>,
                /// Data transfer protection level.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub data_transfer_protection: Option<String>,
            }
            $($def)*
        }
    };
}

/// Declares a struct embedding Go's `GCSBucket`.
macro_rules! gcs_bucket_struct {
    ($($def:tt)*) => {
        struct_with_fields! {
            {
                /// Bucket name.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub bucket: Option<String>,
                /// Secret holding a service account key.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub service_account_key_secret: Option<::k8s_openapi::api::core::v1::SecretKeySelector>,
            }
            $($def)*
        }
    };
}

/// Declares a struct embedding Go's `OSSBucket`.
macro_rules! oss_bucket_struct {
    ($($def:tt)*) => {
        struct_with_fields! {
            {
                /// OSS endpoint.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub endpoint: Option<String>,
                /// Bucket name.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub bucket: Option<String>,
                /// Secret holding the access key.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub access_key_secret: Option<::k8s_openapi::api::core::v1::SecretKeySelector>,
                /// Secret holding the secret key.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub secret_key_secret: Option<::k8s_openapi::api::core::v1::SecretKeySelector>,
                /// Create the bucket when it does not exist.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub create_bucket_if_not_present: Option<bool>,
                /// STS security token.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub security_token: Option<String>,
                /// Lifecycle rule of the bucket.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub lifecycle_rule: Option<$crate::model::OSSLifecycleRule>,
                /// Use the SDK's default credentials.
                #[serde(rename = "useSDKCreds", default, skip_serializing_if = "Option::is_none")]
                pub use_sdk_creds: Option<bool>,
            }
            $($def)*
        }
    };
}

/// Declares a struct embedding Go's `ArtifactLocation`, with a `location()` method that
/// returns just those fields.
macro_rules! artifact_location_struct {
    (
        $(#[$meta:meta])*
        pub struct $name:ident { $($own:tt)* }
    ) => {
        struct_with_fields! {
            {
                /// Archive the main container's logs here.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub archive_logs: Option<bool>,
                /// An S3 (compatible) location.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub s3: Option<$crate::model::S3Artifact>,
                /// A git repository.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub git: Option<$crate::model::GitArtifact>,
                /// An HTTP URL.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub http: Option<$crate::model::HTTPArtifact>,
                /// An Artifactory URL.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub artifactory: Option<$crate::model::ArtifactoryArtifact>,
                /// An HDFS path.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub hdfs: Option<$crate::model::HDFSArtifact>,
                /// Inline content.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub raw: Option<$crate::model::RawArtifact>,
                /// An Alibaba OSS location.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub oss: Option<$crate::model::OSSArtifact>,
                /// A Google Cloud Storage location.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub gcs: Option<$crate::model::GCSArtifact>,
                /// An Azure blob.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub azure: Option<$crate::model::AzureArtifact>,
                /// An artifact driver plugin location.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub plugin: Option<$crate::model::PluginArtifact>,
            }
            $(#[$meta])*
            pub struct $name { $($own)* }
        }

        impl $name {
            /// The location fields alone.
            pub fn location(&self) -> $crate::model::ArtifactLocation {
                $crate::model::ArtifactLocation {
                    archive_logs: self.archive_logs,
                    s3: self.s3.clone(),
                    git: self.git.clone(),
                    http: self.http.clone(),
                    artifactory: self.artifactory.clone(),
                    hdfs: self.hdfs.clone(),
                    raw: self.raw.clone(),
                    oss: self.oss.clone(),
                    gcs: self.gcs.clone(),
                    azure: self.azure.clone(),
                    plugin: self.plugin.clone(),
                }
            }

            /// Whether any location (other than `archiveLogs`) is set.
            pub fn has_location(&self) -> bool {
                self.s3.is_some()
                    || self.git.is_some()
                    || self.http.is_some()
                    || self.artifactory.is_some()
                    || self.hdfs.is_some()
                    || self.raw.is_some()
                    || self.oss.is_some()
                    || self.gcs.is_some()
                    || self.azure.is_some()
                    || self.plugin.is_some()
            }
        }
    };
}
