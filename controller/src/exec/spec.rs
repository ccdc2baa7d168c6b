//! The contract between a backend and `trellis exec`: what to run ([`ExecSpec`]) and what happened
//! ([`ExecResult`]), both JSON files in the step's work directory.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::artifacts::{ArchiveMode, ArtifactDestination, ArtifactSource};

/// Everything `trellis exec` needs to run one step: written by the backend as `<work_dir>/spec.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecSpec {
    /// The node's ID (Argo's `<workflow>-<fnv32a(name)>`), for logs.
    pub node_id: String,
    /// The pod name Argo would give this step, for logs.
    pub pod_name: String,
    /// The image the template names; not pulled, only shown in messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Command then args, already substituted. Empty is an error: the image's entrypoint is not known.
    #[serde(default)]
    pub argv: Vec<String>,
    /// `script.source`: written to `<work_dir>/script` (mode 0755) and that path appended to `argv`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script: Option<String>,
    /// The step's environment, applied over a minimal base (`PATH` with `/usr/games`, `HOME`, `LANG`).
    #[serde(default)]
    pub env: Vec<EnvVar>,
    /// The container's `workingDir` (created when missing); the work directory when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    /// The step's own directory (it exists): `main.log`, `result.json`, the script and `home/` live here.
    pub work_dir: PathBuf,
    /// Artifacts to place before the command starts.
    #[serde(default)]
    pub input_artifacts: Vec<InputArtifact>,
    /// Output parameters read from files (`valueFrom.path`) after the command ends.
    #[serde(default)]
    pub output_parameters: Vec<OutputParameter>,
    /// Output artifacts stored after the command ends.
    #[serde(default)]
    pub output_artifacts: Vec<OutputArtifact>,
    /// Whether stdout becomes `outputs.result` (script and container templates).
    #[serde(default)]
    pub capture_result: bool,
    /// Set when exec already runs inside the bubblewrap sandbox the backend built for this step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sandbox: Option<Sandbox>,
    /// Set when exec runs as a Pod's container (the Kubernetes backend): the command inherits
    /// the container's environment (which Kubernetes built from the pod spec, secrets included)
    /// and, without `working_dir`, its working directory, instead of the minimal local base.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub in_pod: bool,
    /// Seconds between SIGTERM and SIGKILL when the step is stopped (the pod's
    /// `terminationGracePeriodSeconds`); 30 when absent, like Kubernetes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub termination_grace_seconds: Option<u64>,
}

/// One environment variable of the step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvVar {
    /// The variable's name.
    pub name: String,
    /// Its value, already resolved.
    pub value: String,
}

/// An input artifact to place at `path` before the command starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InputArtifact {
    /// The artifact's name in the template.
    pub name: String,
    /// Where the command expects it.
    pub path: String,
    /// Where to read it from.
    pub source: ArtifactSource,
    /// Permission bits to set on `path` (Argo's `mode`), e.g. `0o755`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<u32>,
    /// Skip it silently when it does not exist.
    #[serde(default)]
    pub optional: bool,
}

/// An output parameter read from a file (`valueFrom.path`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputParameter {
    /// The parameter's name.
    pub name: String,
    /// The file to read; a single trailing newline is trimmed, like Argo.
    pub path: String,
    /// `valueFrom.default`: used when the file cannot be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
}

/// An output artifact to store after the command ends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutputArtifact {
    /// The artifact's name in the template.
    pub name: String,
    /// The file or directory to store.
    pub path: String,
    /// Where to store it (the full key, resolved by the backend).
    pub destination: ArtifactDestination,
    /// How to pack it; tar+gzip when absent, like Argo.
    #[serde(default)]
    pub archive: ArchiveMode,
    /// Skip it silently when `path` does not exist.
    #[serde(default)]
    pub optional: bool,
}

/// The bubblewrap sandbox a step runs in: its extra mounts (volumes).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Sandbox {
    /// Host directories bound into the sandbox.
    #[serde(default)]
    pub mounts: Vec<Mount>,
}

/// A host directory bound at a path inside the sandbox (a volume mount).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Mount {
    /// The directory on the host.
    pub host: PathBuf,
    /// Where the step sees it.
    pub path: String,
    /// Bind it read-only.
    #[serde(default)]
    pub read_only: bool,
}

/// How the step ended, in Argo's node phase words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExecPhase {
    /// The command exited 0 and every output was collected.
    Succeeded,
    /// The command exited non-zero, was killed by a signal, or was stopped.
    Failed,
    /// The step could not run or its outputs could not be collected.
    Error,
}

/// What happened: written by exec as `<work_dir>/result.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecResult {
    /// The node's phase.
    pub phase: ExecPhase,
    /// The command's exit code (128 + signal when killed by one, as Kubernetes reports it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// A message for humans when it did not succeed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// `outputs.result`: stdout without its trailing newline, the last 256 kB at most.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// The output parameters read from files.
    #[serde(default)]
    pub output_parameters: Vec<OutputParameterValue>,
    /// The output artifacts stored, with where they now live (credentials removed).
    #[serde(default)]
    pub output_artifacts: Vec<OutputArtifactLocation>,
    /// When exec started (RFC 3339).
    pub started_at: String,
    /// When exec finished (RFC 3339).
    pub finished_at: String,
}

impl ExecResult {
    /// A result of phase Error with this message (none yet), started at `started_at` and
    /// finished now: what a step that could not run reports.
    pub fn error(message: Option<String>, started_at: String) -> Self {
        Self {
            phase: ExecPhase::Error,
            exit_code: None,
            message,
            result: None,
            output_parameters: Vec::new(),
            output_artifacts: Vec::new(),
            started_at,
            finished_at: super::run::now(),
        }
    }
}

/// One collected output parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputParameterValue {
    /// The parameter's name.
    pub name: String,
    /// Its value.
    pub value: String,
}

/// One stored output artifact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputArtifactLocation {
    /// The artifact's name.
    pub name: String,
    /// Where it was stored.
    pub location: ArtifactSource,
}
