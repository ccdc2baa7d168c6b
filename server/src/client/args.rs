//! The flags and subcommands of the client commands (clap), every one documented for `--help`.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

/// Where the server is.
#[derive(Debug, Clone, Args)]
pub struct Conn {
    /// The server's address.
    #[arg(long, env = "TRELLIS_SERVER", default_value = "http://127.0.0.1:2746")]
    pub server: String,
    /// The namespace.
    #[arg(short, long, env = "TRELLIS_NAMESPACE", default_value = "default")]
    pub namespace: String,
    /// An API token (`trellis token create`) for a server that asks for one
    /// (`--auth-mode client`); sent as `Authorization: Bearer`.
    #[arg(long, env = "TRELLIS_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
}

/// How to print objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// For people.
    Text,
    /// The server's JSON.
    Json,
    /// Names only, one a line.
    Name,
}

/// Flags of `trellis submit`.
#[derive(Debug, Args)]
pub struct SubmitArgs {
    #[command(flatten)]
    pub(super) conn: Conn,
    /// Workflow manifests to submit (linted here first). Not with --from.
    pub(super) files: Vec<PathBuf>,
    /// Run a template instead: `workflowtemplate/NAME`, `clusterworkflowtemplate/NAME` or
    /// `cronworkflow/NAME`.
    #[arg(long, value_name = "KIND/NAME")]
    pub(super) from: Option<String>,
    /// A workflow parameter, `name=value`. Repeatable.
    #[arg(short = 'p', long = "parameter", value_name = "NAME=VALUE")]
    pub(super) parameters: Vec<String>,
    /// Start from this template instead of the entrypoint.
    #[arg(long)]
    pub(super) entrypoint: Option<String>,
    /// Extra labels, `key=value,key=value`.
    #[arg(short = 'l', long)]
    pub(super) labels: Option<String>,
    /// Follow the run until it ends, showing its progress; exit 0 only if it Succeeded.
    #[arg(short, long)]
    pub(super) watch: bool,
    /// How to print the submitted workflow.
    #[arg(short, long, value_enum, default_value_t = Output::Text)]
    pub(super) output: Output,
}

/// Flags of `trellis list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub(super) conn: Conn,
    /// Every namespace.
    #[arg(short = 'A', long)]
    pub(super) all_namespaces: bool,
    /// A label selector, e.g. `workflows.argoproj.io/workflow-template=build`.
    #[arg(short = 'l', long)]
    pub(super) selector: Option<String>,
    /// Only workflows whose name starts with this.
    #[arg(long)]
    pub(super) prefix: Option<String>,
    /// At most this many (newest first).
    #[arg(long, default_value_t = 100)]
    pub(super) limit: u32,
    /// How to print them.
    #[arg(short, long, value_enum, default_value_t = Output::Text)]
    pub(super) output: Output,
}

/// Flags of commands on named workflows.
#[derive(Debug, Args)]
pub struct NamesArgs {
    #[command(flatten)]
    pub(super) conn: Conn,
    /// The workflows.
    #[arg(required = true)]
    pub(super) names: Vec<String>,
}

/// Flags of `trellis get`.
#[derive(Debug, Args)]
pub struct GetArgs {
    #[command(flatten)]
    pub(super) conn: Conn,
    /// The workflow.
    pub(super) name: String,
    /// How to print it.
    #[arg(short, long, value_enum, default_value_t = Output::Text)]
    pub(super) output: Output,
}

/// Flags of `trellis watch`.
#[derive(Debug, Args)]
pub struct WatchArgs {
    #[command(flatten)]
    pub(super) conn: Conn,
    /// The workflow.
    pub(super) name: String,
}

/// Flags of `trellis logs`.
#[derive(Debug, Args)]
pub struct LogsArgs {
    #[command(flatten)]
    pub(super) conn: Conn,
    /// The workflow.
    pub(super) name: String,
    /// Only this pod (or node id).
    pub(super) pod: Option<String>,
    /// Keep printing new lines until the workflow ends.
    #[arg(short, long)]
    pub(super) follow: bool,
    /// Only lines matching this regular expression.
    #[arg(long)]
    pub(super) grep: Option<String>,
    /// Only the last N lines of each step.
    #[arg(long, value_name = "N")]
    pub(super) tail: Option<u32>,
    /// Prefix each line with its time.
    #[arg(long)]
    pub(super) timestamps: bool,
    /// Print lines without the pod name in front.
    #[arg(long)]
    pub(super) no_prefix: bool,
}

/// Flags of `resume` and `stop`.
#[derive(Debug, Args)]
pub struct NodeOpArgs {
    #[command(flatten)]
    pub(super) conn: Conn,
    /// The workflows.
    #[arg(required = true)]
    pub(super) names: Vec<String>,
    /// Only the suspend nodes this selects (e.g. `displayName=approve`): resume approves them,
    /// stop rejects them.
    #[arg(long)]
    pub(super) node_field_selector: Option<String>,
    /// A message for the nodes (stop).
    #[arg(long)]
    pub(super) message: Option<String>,
}

/// Flags of `trellis retry`.
#[derive(Debug, Args)]
pub struct RetryArgs {
    #[command(flatten)]
    pub(super) conn: Conn,
    /// The workflows.
    #[arg(required = true)]
    pub(super) names: Vec<String>,
    /// Also run again the succeeded nodes --node-field-selector picks.
    #[arg(long)]
    pub(super) restart_successful: bool,
    /// Which succeeded nodes to run again (with --restart-successful).
    #[arg(long)]
    pub(super) node_field_selector: Option<String>,
    /// A parameter to change, `name=value`. Repeatable.
    #[arg(short = 'p', long = "parameter", value_name = "NAME=VALUE")]
    pub(super) parameters: Vec<String>,
}

/// Flags of `trellis resubmit`.
#[derive(Debug, Args)]
pub struct ResubmitArgs {
    #[command(flatten)]
    pub(super) conn: Conn,
    /// The workflows.
    #[arg(required = true)]
    pub(super) names: Vec<String>,
    /// A parameter to change, `name=value`. Repeatable.
    #[arg(short = 'p', long = "parameter", value_name = "NAME=VALUE")]
    pub(super) parameters: Vec<String>,
}

/// `trellis node …`.
#[derive(Debug, Subcommand)]
pub enum NodeCmd {
    /// Set the supplied output parameters, phase or message of the suspend nodes a selector
    /// picks (then `trellis resume --node-field-selector …` approves them).
    Set {
        #[command(flatten)]
        conn: Conn,
        /// The workflow.
        name: String,
        /// Which suspend nodes, e.g. `displayName=approve`.
        #[arg(long, required = true)]
        node_field_selector: String,
        /// A `valueFrom.supplied` output parameter, `name=value`. Repeatable.
        #[arg(long = "output-parameter", value_name = "NAME=VALUE")]
        output_parameters: Vec<String>,
        /// A new phase (`Succeeded` resumes, `Failed` rejects).
        #[arg(long)]
        phase: Option<String>,
        /// A message for the nodes.
        #[arg(long)]
        message: Option<String>,
    },
}

/// `trellis template …` and `trellis cron …`.
#[derive(Debug, Subcommand)]
pub enum StoredCmd {
    /// Create from manifest files (linted here first).
    Create {
        #[command(flatten)]
        conn: Conn,
        /// The manifests.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// List them.
    List {
        #[command(flatten)]
        conn: Conn,
        /// How to print them.
        #[arg(short, long, value_enum, default_value_t = Output::Text)]
        output: Output,
    },
    /// Print one as JSON.
    Get {
        #[command(flatten)]
        conn: Conn,
        /// Its name.
        name: String,
    },
    /// Delete them.
    Delete {
        #[command(flatten)]
        conn: Conn,
        /// Their names.
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Stop scheduling (cron only).
    Suspend {
        #[command(flatten)]
        conn: Conn,
        /// Their names.
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Schedule again (cron only).
    Resume {
        #[command(flatten)]
        conn: Conn,
        /// Their names.
        #[arg(required = true)]
        names: Vec<String>,
    },
}

/// Which stored kind a `StoredCmd` is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// WorkflowTemplates and ClusterWorkflowTemplates.
    Template,
    /// CronWorkflows.
    Cron,
}

/// The client commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Submit workflow files, or run a template (`--from workflowtemplate/NAME`), on a server.
    Submit(SubmitArgs),
    /// List a server's workflows, newest first.
    List(ListArgs),
    /// Show a workflow's progress tree (or its JSON).
    Get(GetArgs),
    /// Follow a workflow until it ends; exits 0 only if it Succeeded.
    Watch(WatchArgs),
    /// Print a workflow's step logs (`-f` to follow them).
    Logs(LogsArgs),
    /// Delete workflows (running ones are stopped first).
    Delete(NamesArgs),
    /// Suspend workflows: nothing new starts until they are resumed.
    Suspend(NamesArgs),
    /// Resume workflows, or approve the suspend steps `--node-field-selector` picks.
    Resume(NodeOpArgs),
    /// Stop workflows (exit handlers run), or reject the suspend steps `--node-field-selector`
    /// picks.
    Stop(NodeOpArgs),
    /// Terminate workflows (no exit handlers).
    Terminate(NamesArgs),
    /// Run finished workflows again from their failed steps.
    Retry(RetryArgs),
    /// Run workflows again from the start, as new runs.
    Resubmit(ResubmitArgs),
    /// Change a workflow's suspend nodes (Argo's `argo node set`).
    Node {
        /// What to do.
        #[command(subcommand)]
        cmd: NodeCmd,
    },
    /// Manage a server's WorkflowTemplates and ClusterWorkflowTemplates.
    Template {
        /// What to do.
        #[command(subcommand)]
        cmd: StoredCmd,
    },
    /// Manage a server's CronWorkflows.
    Cron {
        /// What to do.
        #[command(subcommand)]
        cmd: StoredCmd,
    },
}
