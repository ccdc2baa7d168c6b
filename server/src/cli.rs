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
    Serve(ServeArgs),
    /// Print the CustomResourceDefinitions Trellis needs on Kubernetes (or write them to a directory).
    Crdgen(CrdgenArgs),
    /// Run a workflow to completion on this machine (no server, no Kubernetes), showing its progress
    /// like `argo watch`. Exits 0 when it Succeeded, 1 when it Failed or Errored, 2 on invalid input.
    Run(crate::run_cmd::RunArgs),
    /// Run one step (used by the backends; not meant to be called by hand).
    #[command(hide = true)]
    Exec(ExecArgs),
    #[command(flatten)]
    Client(crate::client::Command),
}

/// Flags of `trellis exec`.
#[derive(Debug, Args)]
pub struct ExecArgs {
    /// The step's spec, written by the backend.
    #[arg(long)]
    pub spec: PathBuf,
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
    /// Who every request acts as (until authentication is configured): the creator of the
    /// workflows it submits (label `workflows.argoproj.io/creator`) and the user approval rules
    /// (`trellis.dev/approvers`) check and the audit trail records. Default: the OS user
    /// (`$USER`), else `trellis`.
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
}

impl ServeArgs {
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
        Command::Exec(args) => exec(&args).map(|()| true),
        Command::Lint(args) => crate::lint_cmd::run(&args),
        Command::Serve(args) => serve(args).map(|()| true),
        Command::Crdgen(args) => crdgen(&args).map(|()| true),
        Command::Client(c) => return exit(crate::client::run(c)),
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

fn exec(args: &ExecArgs) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(controller::exec::run_exec(&args.spec))?;
    Ok(())
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
