//! `trellis`: lint Argo manifests, serve the web UI and API, print the CRDs.

mod catalog;
mod cli;
mod lint_cmd;
mod manifests;
mod web;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    cli::run(cli)
}
