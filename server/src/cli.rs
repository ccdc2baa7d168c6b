//! Command-line interface: one typed struct per subcommand, every flag documented.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

/// Trellis: run Argo Workflows pipelines on one machine or on Kubernetes, with a web UI built for operators.
#[derive(Debug, Parser)]
#[command(
    name = "trellis",
    version,
    after_help = "Environment:\n  RUST_LOG   log filter for `serve` (default: info), e.g. `RUST_LOG=debug`\n  NO_COLOR   set to print diagnostics without colours"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check Argo manifests: unknown fields, broken references, DAG cycles, unresolvable variables,
    /// invalid names, durations and cron schedules. Exits 1 when there are errors.
    Lint(crate::lint_cmd::LintArgs),
    /// Start the web UI and API server.
    Serve(Box<ServeArgs>),
    /// Print the CustomResourceDefinitions Trellis needs on Kubernetes (or write them to a directory).
    Crdgen(CrdgenArgs),
    /// Run a workflow to completion on this machine (no server, no Kubernetes), showing its progress
    /// like `argo watch`. Exits 0 when it Succeeded, 1 when it Failed or Errored, 2 on invalid input.
    Run(crate::run_cmd::RunArgs),
    /// Manage API tokens (for `--auth-mode client`) in a server's database.
    Token {
        #[command(subcommand)]
        cmd: crate::auth::cli::TokenCommand,
    },
    /// Explain what an RBAC policy allows.
    Auth {
        #[command(subcommand)]
        cmd: crate::auth::cli::AuthCommand,
    },
    /// Run workflows on a Kubernetes cluster: a controller over Workflow objects that runs each
    /// step as a Pod (kubeconfig or in-cluster credentials, like kubectl).
    Controller(Box<ControllerArgs>),
    /// Run one step (used by the backends; not meant to be called by hand).
    #[command(hide = true)]
    Exec(ExecArgs),
    #[command(flatten)]
    Client(crate::client::Command),
}

/// Flags of `trellis exec`.
#[derive(Debug, Args)]
pub struct ExecArgs {
    /// The step's spec, written by the backend (the local backend).
    #[arg(long, conflicts_with_all = ["spec_env", "install"])]
    pub spec: Option<PathBuf>,
    /// Read the spec (JSON) from this environment variable (a step Pod's main container).
    #[arg(long, value_name = "VAR", conflicts_with_all = ["install", "resource_env"])]
    pub spec_env: Option<String>,
    /// Run an HTTP template's step: the template (JSON) is in this environment variable.
    #[arg(long, value_name = "VAR", conflicts_with_all = ["install", "resource_env", "spec_env"])]
    pub http_env: Option<String>,
    /// Run a resource template's step: the manifest and conditions (JSON) are in this
    /// environment variable (a resource step Pod's main container).
    #[arg(long, value_name = "VAR", conflicts_with = "install")]
    pub resource_env: Option<String>,
    /// With --spec-env or --resource-env: write the result to the WorkflowTaskResult that
    /// `$TRELLIS_REPORT` names, and exit with the command's exit code.
    #[arg(long)]
    pub report: bool,
    /// Copy this `trellis` binary to DEST and exit (a step Pod's init container).
    #[arg(long, value_name = "DEST")]
    pub install: Option<PathBuf>,
}

/// Flags of `trellis controller`.
#[derive(Debug, Args)]
pub struct ControllerArgs {
    /// Which workflows.
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// The image whose `/usr/local/bin/trellis` step Pods copy in to wrap their command.
    #[arg(long, env = "TRELLIS_EXECUTOR_IMAGE", value_name = "IMAGE")]
    pub executor_image: String,
    /// `imagePullPolicy` of the executor image (`Always`, `IfNotPresent`, `Never`).
    #[arg(
        long,
        env = "TRELLIS_EXECUTOR_IMAGE_PULL_POLICY",
        value_name = "POLICY"
    )]
    pub executor_image_pull_policy: Option<String>,
    /// The ServiceAccount of step Pods when the workflow names none (bound to the minimal
    /// executor Role by `manifests/workflow-rbac`).
    #[arg(long, env = "TRELLIS_WORKFLOW_SERVICE_ACCOUNT", value_name = "NAME", default_value = controller::k8s::pod::DEFAULT_SERVICE_ACCOUNT)]
    pub workflow_service_account: String,
    /// Run without leader election (only ever one replica).
    #[arg(long, env = "TRELLIS_NO_LEADER_ELECTION")]
    pub no_leader_election: bool,
    /// The Lease hot-standby replicas elect their leader on (in the controller's namespace).
    #[arg(
        long,
        env = "TRELLIS_LEASE_NAME",
        value_name = "NAME",
        default_value = "trellis-controller"
    )]
    pub lease_name: String,
    /// The namespace of the Lease (default: the controller's own).
    #[arg(long, env = "TRELLIS_LEASE_NAMESPACE", value_name = "NS")]
    pub lease_namespace: Option<String>,
    /// Workflow objects larger than this (bytes) have their node status compressed
    /// (`status.compressedNodes`), as Argo does.
    #[arg(long, env = "TRELLIS_MAX_WORKFLOW_SIZE", value_name = "BYTES", default_value_t = controller::k8s::compress::MAX_WORKFLOW_SIZE)]
    pub max_workflow_size: usize,
    /// Offload the node status of workflows too large even compressed to this database
    /// (`postgres://…`, or `sqlite://PATH`), as Argo does; give `trellis serve --backend
    /// kubernetes` the same one so it shows them. Without it, such a workflow ends in Error.
    #[arg(
        long,
        env = "TRELLIS_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,
}

/// Which objects of a cluster a controller runs or a server shows (`trellis controller`,
/// `trellis serve --backend kubernetes`).
#[derive(Debug, Clone, Args)]
pub struct ScopeArgs {
    /// Only the workflows of one namespace (--managed-namespace, else the namespace of the
    /// kubeconfig context or of the Pod), needing only a Role there instead of a ClusterRole.
    #[arg(long, env = "TRELLIS_NAMESPACED")]
    pub namespaced: bool,
    /// With --namespaced: the namespace.
    #[arg(
        long,
        env = "TRELLIS_MANAGED_NAMESPACE",
        value_name = "NS",
        requires = "namespaced"
    )]
    pub managed_namespace: Option<String>,
    /// Only the workflows labelled `workflows.argoproj.io/controller-instanceid=ID` (and label
    /// their Pods, and the workflows submitted, so); without it, only unlabelled workflows.
    /// For several installations in one cluster.
    #[arg(long, env = "TRELLIS_INSTANCE_ID", value_name = "ID")]
    pub instance_id: Option<String>,
}

/// Where `trellis serve` runs workflows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BackendKind {
    /// On this machine: steps as local processes, state in the database.
    Local,
    /// On a Kubernetes cluster: workflows are objects there, run by `trellis controller`.
    Kubernetes,
}

/// Flags of `trellis crdgen`.
#[derive(Debug, Args)]
pub struct CrdgenArgs {
    /// Write one file per CRD, plus a kustomization.yaml, into this directory instead of printing them.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

/// Flags of `trellis serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Where workflows run: `local` (this machine; the default) or `kubernetes` (a cluster, by
    /// `trellis controller`: the server mirrors its Workflows, WorkflowTemplates,
    /// ClusterWorkflowTemplates and CronWorkflows from watches into its database, writes them
    /// through the Kubernetes API and reads step logs from the Pods; kubeconfig or in-cluster
    /// credentials, like kubectl).
    #[arg(long, env = "TRELLIS_BACKEND", value_enum, default_value = "local")]
    pub backend: BackendKind,
    /// With --backend kubernetes: which objects.
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Address to listen on.
    #[arg(long, env = "TRELLIS_HOST", default_value = "127.0.0.1")]
    pub host: String,
    /// Port to listen on (Argo Server's default).
    #[arg(long, env = "TRELLIS_PORT", default_value_t = 2746)]
    pub port: u16,
    /// Directory where Trellis keeps its state: the SQLite database of workflows and templates
    /// (unless --database-url names another), step directories with logs, and the default
    /// artifact repository. Workflows that were
    /// running when Trellis stopped resume when it starts again.
    #[arg(long, env = "TRELLIS_DATA_DIR", default_value = "./.trellis")]
    pub data_dir: PathBuf,
    /// Keep workflows, templates, crons and the archive in this database instead of
    /// `<data-dir>/trellis.db`: `postgres://user:password@host:5432/database` for PostgreSQL
    /// (its tables are created or migrated on start), or `sqlite://PATH`. Step logs and artifacts stay
    /// under --data-dir. One server per database: a second one refuses to start.
    #[arg(
        long,
        env = "TRELLIS_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,
    /// Directory holding the built web assets (`pkg/` with the wasm, script and stylesheet), as made by
    /// `cargo xtask build`.
    #[arg(long, env = "TRELLIS_SITE_DIR", default_value = "target/site")]
    pub site_dir: PathBuf,
    /// Manifest files or directories to load at start-up (WorkflowTemplates, ClusterWorkflowTemplates,
    /// CronWorkflows). They are linted first; any error stops the server from starting. Repeatable.
    #[arg(long = "load", env = "TRELLIS_LOAD", value_delimiter = ',')]
    pub load: Vec<PathBuf>,
    /// Run steps without the bubblewrap sandbox even when it is available.
    #[arg(long, env = "TRELLIS_NO_SANDBOX")]
    pub no_sandbox: bool,
    /// Who requests act as in `--auth-mode server` (no sign-in): the creator of the workflows
    /// they submit (label `workflows.argoproj.io/creator`), the user the approval rules
    /// (`trellis.dev/approvers`) and the policy check, and the actor the audit trail records.
    /// Default: the OS user (`$USER`), else `trellis`.
    #[arg(long = "user", env = "TRELLIS_USER", value_name = "NAME")]
    pub user: Option<String>,
    /// A group of --user, for approval rules naming `group:GROUP`. Repeatable; the variable
    /// takes a comma-separated list.
    #[arg(
        long = "user-group",
        env = "TRELLIS_USER_GROUPS",
        value_name = "GROUP",
        value_delimiter = ','
    )]
    pub user_groups: Vec<String>,
    /// How requests authenticate: `server` (no sign-in; every request acts as --user),
    /// `client` (API tokens from `trellis token create`, sent as `Authorization: Bearer`),
    /// `sso` (OpenID Connect sign-in, then a session cookie). Repeatable; the variable takes a
    /// comma-separated list. `server` is allowed only on a loopback --host (see
    /// --insecure-no-auth).
    #[arg(
        long = "auth-mode",
        env = "TRELLIS_AUTH_MODE",
        value_enum,
        value_delimiter = ',',
        default_value = "server"
    )]
    pub auth_modes: Vec<crate::auth::AuthMode>,
    /// The RBAC policy: who (users, groups, tokens) holds which role (viewer, runner, approver,
    /// admin) over which namespaces, folders and templates; see docs/policy.md. Required with
    /// `sso`. Without it, `server` mode allows everything and tokens hold only their own role.
    #[arg(long, env = "TRELLIS_POLICY", value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Allow `--auth-mode server` (no sign-in) on an address other people can reach. Anyone who
    /// can connect can then do everything: only behind something that authenticates them.
    #[arg(long, env = "TRELLIS_INSECURE_NO_AUTH")]
    pub insecure_no_auth: bool,
    /// The OpenID provider's issuer URL, for `sso` (e.g. `https://accounts.google.com`,
    /// `https://keycloak.example.com/realms/team`, `https://dex.example.com`).
    #[arg(long, env = "TRELLIS_SSO_ISSUER", value_name = "URL")]
    pub sso_issuer: Option<String>,
    /// This server's client id at the provider.
    #[arg(long, env = "TRELLIS_SSO_CLIENT_ID", value_name = "ID")]
    pub sso_client_id: Option<String>,
    /// A file holding the client secret (its first line), so it is not on the command line.
    #[arg(long, env = "TRELLIS_SSO_CLIENT_SECRET_FILE", value_name = "FILE")]
    pub sso_client_secret_file: Option<PathBuf>,
    /// The callback URL registered at the provider: `https://HOST/auth/callback`. Default:
    /// `http://HOST:PORT/auth/callback` of --host and --port.
    #[arg(long, env = "TRELLIS_SSO_REDIRECT_URL", value_name = "URL")]
    pub sso_redirect_url: Option<String>,
    /// Scopes to ask for besides `openid`. Repeatable; comma-separated in the variable.
    #[arg(
        long = "sso-scope",
        env = "TRELLIS_SSO_SCOPES",
        value_delimiter = ',',
        default_values_t = ["profile".to_string(), "email".to_string(), "groups".to_string()]
    )]
    pub sso_scopes: Vec<String>,
    /// The ID token claim that lists the user's groups (Keycloak and Dex: `groups`; Entra ID:
    /// `groups` or `roles`).
    #[arg(long, env = "TRELLIS_SSO_GROUPS_CLAIM", default_value = "groups")]
    pub sso_groups_claim: String,
    /// A session ends after this long without a request (`30m`, `8h`).
    #[arg(long, env = "TRELLIS_SESSION_IDLE", default_value = "8h", value_parser = parse_positive)]
    pub session_idle: std::time::Duration,
    /// A session ends this long after sign-in, however active (`12h`, `7d`).
    #[arg(long, env = "TRELLIS_SESSION_MAX_AGE", default_value = "24h", value_parser = parse_positive)]
    pub session_max_age: std::time::Duration,
    /// Serve HTTPS with a self-signed certificate made at start (as Argo Server's `--secure`);
    /// session cookies are then `Secure`.
    #[arg(long, env = "TRELLIS_SECURE", conflicts_with_all = ["tls_cert", "tls_key"])]
    pub secure: bool,
    /// Serve HTTPS with this certificate chain (PEM); needs --tls-key.
    #[arg(
        long,
        env = "TRELLIS_TLS_CERT",
        value_name = "FILE",
        requires = "tls_key"
    )]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM).
    #[arg(
        long,
        env = "TRELLIS_TLS_KEY",
        value_name = "FILE",
        requires = "tls_cert"
    )]
    pub tls_key: Option<PathBuf>,
}

/// A positive duration such as `30m`, `8h` or `7d`.
fn parse_positive(text: &str) -> Result<std::time::Duration, String> {
    crate::auth::cli::parse_validity(text)?
        .to_std()
        .map_err(|e| e.to_string())
}

impl ServeArgs {
    /// The TLS certificate and key to serve with, if HTTPS is asked for.
    pub fn tls_identity(&self) -> anyhow::Result<Option<crate::tls::Identity>> {
        match (&self.tls_cert, &self.tls_key, self.secure) {
            (Some(cert), Some(key), _) => crate::tls::from_files(cert, key).map(Some),
            (_, _, true) => crate::tls::self_signed(&self.host).map(Some),
            _ => Ok(None),
        }
    }

    /// Whether the server speaks HTTPS.
    pub fn serves_tls(&self) -> bool {
        self.secure || self.tls_cert.is_some()
    }

    /// The identity requests act as: --user (else `$USER`, else `trellis`) and --user-group.
    pub fn identity(&self) -> crate::identity::Identity {
        let os_user = std::env::var("USER").ok();
        crate::identity::Identity::of_server(
            self.user.as_deref(),
            os_user.as_deref(),
            &self.user_groups,
        )
    }
}

/// Runs the parsed command line and returns the process exit code.
pub fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Run(args) => {
            return match crate::run_cmd::run(&args) {
                Ok(code) => ExitCode::from(code),
                Err(err) => {
                    eprintln!("error: {err:#}");
                    ExitCode::from(crate::run_cmd::EXIT_BAD_INPUT)
                }
            };
        }
        Command::Exec(args) => return exit(exec(&args)),
        Command::Controller(args) => crate::controller_cmd::run(*args).map(|()| true),
        Command::Lint(args) => crate::lint_cmd::run(&args),
        Command::Serve(args) => serve(*args).map(|()| true),
        Command::Crdgen(args) => crdgen(&args).map(|()| true),
        Command::Client(c) => return exit(crate::client::run(c)),
        Command::Token { cmd } => return exit(crate::auth::cli::token(cmd)),
        Command::Auth { cmd } => return exit(crate::auth::cli::auth(cmd)),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// The exit code of a command that chose its own, or 1 after printing its error.
fn exit(result: anyhow::Result<u8>) -> ExitCode {
    match result {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn crdgen(args: &CrdgenArgs) -> anyhow::Result<()> {
    let Some(dir) = &args.out_dir else {
        print!("{}", controller::crd::stream());
        return Ok(());
    };
    std::fs::create_dir_all(dir)
        .map_err(|e| anyhow::anyhow!("cannot create `{}`: {e}", dir.display()))?;
    for (name, text) in controller::crd::files() {
        let path = dir.join(name);
        std::fs::write(&path, text)
            .map_err(|e| anyhow::anyhow!("cannot write `{}`: {e}", path.display()))?;
    }
    Ok(())
}

fn exec(args: &ExecArgs) -> anyhow::Result<u8> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    if let Some(dest) = &args.install {
        controller::exec::install_self(dest)?;
        return Ok(0);
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let report = if args.report {
        let text = std::env::var(controller::k8s::pod::REPORT_ENV)
            .map_err(|_| anyhow::anyhow!("--report needs ${}", controller::k8s::pod::REPORT_ENV))?;
        Some(serde_json::from_str(&text).map_err(|e| {
            anyhow::anyhow!(
                "${} is not a report target: {e}",
                controller::k8s::pod::REPORT_ENV
            )
        })?)
    } else {
        None
    };
    if let Some(var) = &args.http_env {
        let text = std::env::var(var).map_err(|_| {
            anyhow::anyhow!("the environment variable {var} holds no HTTP template")
        })?;
        let result = runtime.block_on(controller::exec::run_http(&text))?;
        return Ok(report_in_pod(&runtime, &result, report.as_ref()));
    }
    if let Some(var) = &args.resource_env {
        let text = std::env::var(var).map_err(|_| {
            anyhow::anyhow!("the environment variable {var} holds no resource spec")
        })?;
        let spec: controller::k8s::resource::ResourceSpec = serde_json::from_str(&text)
            .map_err(|e| anyhow::anyhow!("${var} is not a resource spec: {e}"))?;
        let result = runtime.block_on(controller::k8s::resource::run(&spec));
        return Ok(report_in_pod(&runtime, &result, report.as_ref()));
    }
    if let Some(var) = &args.spec_env {
        let spec = std::env::var(var)
            .map_err(|_| anyhow::anyhow!("the environment variable {var} holds no step spec"))?;
        let set: Option<controller::k8s::pod::SetRole> =
            match std::env::var(controller::k8s::pod::SET_ENV) {
                Ok(text) => Some(serde_json::from_str(&text).map_err(|e| {
                    anyhow::anyhow!(
                        "${} is not a container set role: {e}",
                        controller::k8s::pod::SET_ENV
                    )
                })?),
                Err(_) => None,
            };
        let code = runtime.block_on(controller::exec::run_in_pod(
            &spec,
            report.as_ref(),
            set.as_ref(),
        ));
        return Ok(u8::try_from(code.clamp(0, 255)).unwrap_or(1));
    }
    let Some(spec) = &args.spec else {
        anyhow::bail!(
            "give --spec FILE, --spec-env VAR, --resource-env VAR, --http-env VAR or --install DEST"
        );
    };
    runtime.block_on(controller::exec::run_exec(spec))?;
    Ok(0)
}

/// Prints a Pod step's message, reports its result when asked, and gives the container's exit
/// code: 0 when it succeeded and was reported.
fn report_in_pod(
    runtime: &tokio::runtime::Runtime,
    result: &controller::exec::ExecResult,
    report: Option<&controller::k8s::pod::ReportTarget>,
) -> u8 {
    if let Some(message) = &result.message {
        eprintln!("{message}");
    }
    if let Some(target) = report
        && let Err(message) = runtime.block_on(controller::k8s::report::send(target, result))
    {
        eprintln!("error: {message}");
        return 1;
    }
    u8::from(result.phase != controller::exec::ExecPhase::Succeeded)
}

fn serve(args: ServeArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.data_dir).map_err(|e| {
        anyhow::anyhow!(
            "cannot create the data directory `{}`: {e}",
            args.data_dir.display()
        )
    })?;
    let (catalog, library) = crate::catalog::load(&args.load)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(crate::web::serve(args, catalog, library))
}
