//! `trellis run FILE`: run a workflow to completion on this machine, showing its progress.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use controller::local::{Control, LocalBackend, LocalConfig};
use engine::model::{Manifest, Workflow, WorkflowPhase};
use engine::submit::{self, SubmitOptions};

use crate::term::{Screen, render};
use crate::{lint_cmd, manifests};

/// Flags of `trellis run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The manifest to run (`-` reads standard input): a Workflow, or a WorkflowTemplate,
    /// ClusterWorkflowTemplate or CronWorkflow to run once. WorkflowTemplates in the same file
    /// are available to `templateRef`.
    pub file: PathBuf,
    /// A workflow parameter, `name=value`. Repeatable.
    #[arg(short = 'p', long = "parameter", value_name = "NAME=VALUE")]
    pub parameters: Vec<String>,
    /// Start from this template instead of the manifest's entrypoint.
    #[arg(long)]
    pub entrypoint: Option<String>,
    /// `text` shows live progress and the final tree; `json` prints the final Workflow.
    #[arg(short, long, value_enum, default_value_t = RunOutput::Text)]
    pub output: RunOutput,
    /// Manifest files or directories whose WorkflowTemplates, ClusterWorkflowTemplates and
    /// ConfigMaps are stored first, so the workflow can reference them. Repeatable.
    #[arg(long = "load", value_name = "PATH", value_delimiter = ',')]
    pub load: Vec<PathBuf>,
    /// Directory where Trellis keeps its state (the run is recorded there).
    #[arg(long, env = "TRELLIS_DATA_DIR", default_value = "./.trellis")]
    pub data_dir: PathBuf,
    /// Run steps without the bubblewrap sandbox even when it is available (steps then share
    /// this machine's `/tmp` and cannot mount volumes at their paths).
    #[arg(long)]
    pub no_sandbox: bool,
}

/// Output formats of `trellis run`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RunOutput {
    /// Progress tree.
    Text,
    /// The final Workflow as JSON.
    Json,
}

/// Exit code for input that cannot run (lint errors, bad parameters).
pub const EXIT_BAD_INPUT: u8 = 2;

/// Runs `trellis run`; returns the process exit code.
pub fn run(args: &RunArgs) -> anyhow::Result<u8> {
    let files = manifests::read(std::slice::from_ref(&args.file))?;
    let checked = manifests::lint(&files);
    let report = lint_cmd::report(&checked);
    if report.errors > 0 {
        eprint!(
            "{}",
            lint_cmd::text(&files, &checked, &report, std::io::stderr().is_terminal())
        );
        return Ok(EXIT_BAD_INPUT);
    }
    let docs: Vec<Manifest> = checked
        .iter()
        .flat_map(|f| f.documents.iter())
        .filter_map(|d| d.manifest.clone())
        .collect();
    let opts = SubmitOptions {
        parameters: args
            .parameters
            .iter()
            .map(|p| submit::parse_parameter(p))
            .collect::<Result<_, _>>()
            .map_err(anyhow::Error::msg)?,
        entrypoint: args.entrypoint.clone(),
    };
    let wf = match pick(&docs, &opts) {
        Ok(wf) => wf,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(EXIT_BAD_INPUT);
        }
    };
    let mut library = manifests::Library::default();
    if !args.load.is_empty() {
        let files = manifests::read(&manifests::collect(&args.load)?)?;
        let checked = manifests::lint(&files);
        let report = lint_cmd::report(&checked);
        if report.errors > 0 {
            eprint!("{}", lint_cmd::text(&files, &checked, &report, false));
            eprintln!("error: the manifests given with --load have errors");
            return Ok(EXIT_BAD_INPUT);
        }
        library = manifests::Library::of(&checked);
    }
    let own = manifests::Library::of(&checked);
    library.manifests.extend(own.manifests);
    library.config_maps.extend(own.config_maps);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run_async(args, library, wf))
}

/// Which manifest of the file runs: the first Workflow, else the first template or cron.
pub fn pick(docs: &[Manifest], opts: &SubmitOptions) -> Result<Workflow, String> {
    let now = engine::plan::format_time(chrono::Utc::now());
    if let Some(wf) = docs.iter().find_map(|d| match d {
        Manifest::Workflow(w) => Some(w.clone()),
        _ => None,
    }) {
        return submit::from_workflow(wf, opts);
    }
    for d in docs {
        match d {
            Manifest::WorkflowTemplate(t) => return submit::from_workflow_template(t, opts),
            Manifest::ClusterWorkflowTemplate(t) => {
                return submit::from_cluster_workflow_template(t, opts);
            }
            Manifest::CronWorkflow(c) => return submit::from_cron_workflow(c, &now, opts),
            _ => {}
        }
    }
    Err("the file holds nothing to run: it needs a Workflow, WorkflowTemplate, ClusterWorkflowTemplate or CronWorkflow".into())
}

async fn run_async(
    args: &RunArgs,
    library: manifests::Library,
    wf: Workflow,
) -> anyhow::Result<u8> {
    let exec_binary = std::env::current_exe()?;
    let backend = LocalBackend::open(LocalConfig {
        data_dir: args.data_dir.clone(),
        database: None,
        exec_binary,
        sandbox: !args.no_sandbox,
    })
    .await?;
    library.install(&backend).await?;
    let mut updates = backend.subscribe();
    let stored = backend.submit(wf).await?;
    let uid = stored
        .metadata
        .as_ref()
        .and_then(|m| m.uid.clone())
        .unwrap_or_default();
    let live = args.output == RunOutput::Text && std::io::stdout().is_terminal();
    let color = live && std::env::var_os("NO_COLOR").is_none();
    let mut screen = Screen::default();
    let mut last = stored;
    let mut interrupted = false;
    loop {
        tokio::select! {
            u = updates.recv() => match u {
                Ok(w) if w.metadata.as_ref().and_then(|m| m.uid.as_deref()) == Some(&uid) => {
                    last = (*w).clone();
                    if live {
                        screen.draw(&render(&last, color))?;
                    }
                    if phase(&last).is_some_and(|p| p.completed()) {
                        break;
                    }
                }
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(_) => break,
            },
            _ = tokio::signal::ctrl_c(), if !interrupted => {
                interrupted = true;
                eprintln!("\ninterrupted: terminating the workflow (its running steps are stopped)");
                let _ = backend.control(&uid, Control::Terminate);
            }
        }
    }
    match args.output {
        RunOutput::Json => println!("{}", serde_json::to_string_pretty(&last)?),
        RunOutput::Text if live => screen.draw(&render(&last, color))?,
        RunOutput::Text => print!("{}", render(&last, false)),
    }
    Ok(if phase(&last) == Some(WorkflowPhase::Succeeded) {
        0
    } else {
        1
    })
}

fn phase(wf: &Workflow) -> Option<WorkflowPhase> {
    wf.status.as_ref().and_then(|s| s.phase)
}
