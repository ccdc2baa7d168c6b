//! Argo's container-shaped types: Kubernetes' `Container` plus a few extra fields.
//!
//! Go embeds `corev1.Container` inline in several types. Serde's `flatten` would hide the
//! field list from the strict deserializer, so [`container_struct!`] declares every
//! `Container` field directly (all optional, `name` included) next to the extra fields.

use k8s_openapi::api::core::v1::{Container, VolumeMount};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::{Deserialize, Serialize};

/// Declares a struct holding every field of `k8s_openapi::api::core::v1::Container`
/// (same names, same types, all optional) followed by the given extra fields, and a
/// `to_container` method returning the Kubernetes part.
macro_rules! container_struct {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(
                $(#[$fmeta:meta])*
                pub $field:ident : $ty:ty,
            )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
        #[serde(rename_all = "camelCase")]
        pub struct $name {
            /// Arguments to the entrypoint.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub args: Option<Vec<String>>,
            /// Entrypoint array.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub command: Option<Vec<String>>,
            /// Environment variables.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub env: Option<Vec<::k8s_openapi::api::core::v1::EnvVar>>,
            /// Sources of environment variables.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub env_from: Option<Vec<::k8s_openapi::api::core::v1::EnvFromSource>>,
            /// Container image.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub image: Option<String>,
            /// Image pull policy: `Always`, `Never` or `IfNotPresent`.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub image_pull_policy: Option<String>,
            /// Lifecycle hooks of the container.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub lifecycle: Option<::k8s_openapi::api::core::v1::Lifecycle>,
            /// Liveness probe.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub liveness_probe: Option<::k8s_openapi::api::core::v1::Probe>,
            /// Container name (optional in Argo's main containers).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub name: Option<String>,
            /// Ports to expose.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub ports: Option<Vec<::k8s_openapi::api::core::v1::ContainerPort>>,
            /// Readiness probe.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub readiness_probe: Option<::k8s_openapi::api::core::v1::Probe>,
            /// Resize policy per resource.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub resize_policy: Option<Vec<::k8s_openapi::api::core::v1::ContainerResizePolicy>>,
            /// Compute resources.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub resources: Option<::k8s_openapi::api::core::v1::ResourceRequirements>,
            /// Restart policy of this container.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub restart_policy: Option<String>,
            /// Restart rules of this container.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub restart_policy_rules: Option<Vec<::k8s_openapi::api::core::v1::ContainerRestartRule>>,
            /// Security options of the container.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub security_context: Option<::k8s_openapi::api::core::v1::SecurityContext>,
            /// Startup probe.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub startup_probe: Option<::k8s_openapi::api::core::v1::Probe>,
            /// Whether to allocate a stdin buffer.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub stdin: Option<bool>,
            /// Whether stdin closes after the first attach.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub stdin_once: Option<bool>,
            /// Path of the termination message file.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub termination_message_path: Option<String>,
            /// How the termination message is filled.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub termination_message_policy: Option<String>,
            /// Whether to allocate a TTY.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub tty: Option<bool>,
            /// Block devices to use.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub volume_devices: Option<Vec<::k8s_openapi::api::core::v1::VolumeDevice>>,
            /// Volumes to mount.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub volume_mounts: Option<Vec<::k8s_openapi::api::core::v1::VolumeMount>>,
            /// Working directory.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub working_dir: Option<String>,
            $(
                $(#[$fmeta])*
                pub $field: $ty,
            )*
        }

        impl $name {
            /// The Kubernetes container part (a missing name becomes the empty string).
            pub fn to_container(&self) -> ::k8s_openapi::api::core::v1::Container {
                ::k8s_openapi::api::core::v1::Container {
                    args: self.args.clone(),
                    command: self.command.clone(),
                    env: self.env.clone(),
                    env_from: self.env_from.clone(),
                    image: self.image.clone(),
                    image_pull_policy: self.image_pull_policy.clone(),
                    lifecycle: self.lifecycle.clone(),
                    liveness_probe: self.liveness_probe.clone(),
                    name: self.name.clone().unwrap_or_default(),
                    ports: self.ports.clone(),
                    readiness_probe: self.readiness_probe.clone(),
                    resize_policy: self.resize_policy.clone(),
                    resources: self.resources.clone(),
                    restart_policy: self.restart_policy.clone(),
                    restart_policy_rules: self.restart_policy_rules.clone(),
                    security_context: self.security_context.clone(),
                    startup_probe: self.startup_probe.clone(),
                    stdin: self.stdin,
                    stdin_once: self.stdin_once,
                    termination_message_path: self.termination_message_path.clone(),
                    termination_message_policy: self.termination_message_policy.clone(),
                    tty: self.tty,
                    volume_devices: self.volume_devices.clone(),
                    volume_mounts: self.volume_mounts.clone(),
                    working_dir: self.working_dir.clone(),
                }
            }
        }
    };
}

container_struct! {
    /// A template's main container (`template.container`, Kubernetes' `Container`).
    ///
    /// Kubernetes requires `name` and k8s-openapi always writes it back; Argo leaves it out
    /// of main containers, so this copy keeps it optional to round-trip exactly.
    pub struct TemplateContainer {}
}

container_struct! {
    /// A script template: a container plus the script's source (Go's `ScriptTemplate`).
    pub struct ScriptTemplate {
        /// The script to run.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub source: Option<String>,
    }
}

container_struct! {
    /// A sidecar or init container (Go's `UserContainer`).
    pub struct UserContainer {
        /// Mount the main container's volume mounts into this container too.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub mirror_volume_mounts: Option<bool>,
    }
}

container_struct! {
    /// One container of a container set, with the containers it waits for.
    pub struct ContainerNode {
        /// Names of the containers of the set that must finish first.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub dependencies: Option<Vec<String>>,
    }
}

impl From<&Container> for TemplateContainer {
    fn from(c: &Container) -> Self {
        TemplateContainer {
            args: c.args.clone(),
            command: c.command.clone(),
            env: c.env.clone(),
            env_from: c.env_from.clone(),
            image: c.image.clone(),
            image_pull_policy: c.image_pull_policy.clone(),
            lifecycle: c.lifecycle.clone(),
            liveness_probe: c.liveness_probe.clone(),
            name: Some(c.name.clone()).filter(|n| !n.is_empty()),
            ports: c.ports.clone(),
            readiness_probe: c.readiness_probe.clone(),
            resize_policy: c.resize_policy.clone(),
            resources: c.resources.clone(),
            restart_policy: c.restart_policy.clone(),
            restart_policy_rules: c.restart_policy_rules.clone(),
            security_context: c.security_context.clone(),
            startup_probe: c.startup_probe.clone(),
            stdin: c.stdin,
            stdin_once: c.stdin_once,
            termination_message_path: c.termination_message_path.clone(),
            termination_message_policy: c.termination_message_policy.clone(),
            tty: c.tty,
            volume_devices: c.volume_devices.clone(),
            volume_mounts: c.volume_mounts.clone(),
            working_dir: c.working_dir.clone(),
        }
    }
}

/// A template made of several containers in one pod (Go's `ContainerSetTemplate`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerSetTemplate {
    /// The containers of the set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub containers: Option<Vec<ContainerNode>>,
    /// Volume mounts shared by every container of the set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_mounts: Option<Vec<VolumeMount>>,
    /// How to retry the containers of the set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_strategy: Option<ContainerSetRetryStrategy>,
}

/// Retries of a container set's containers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerSetRetryStrategy {
    /// Time to wait between retries (a Go duration string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
    /// How many times to retry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<IntOrString>,
}

/// The executor plugin sidecar of `spec.executorPlugins`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutorPluginSidecar {
    /// Mount the service account token in the sidecar.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub automount_service_account_token: Option<bool>,
    /// The sidecar container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<TemplateContainer>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_template_has_container_fields_and_source() {
        let s: ScriptTemplate = serde_json::from_str(
            r#"{"image":"python:3","command":["python"],"source":"print(1)"}"#,
        )
        .unwrap();
        assert_eq!(s.source.as_deref(), Some("print(1)"));
        let c = s.to_container();
        assert_eq!(c.image.as_deref(), Some("python:3"));
        assert_eq!(c.name, "");
        let back = serde_json::to_value(&s).unwrap();
        assert!(back.get("name").is_none());
    }
}
