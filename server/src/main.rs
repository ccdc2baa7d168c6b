//! `trellis`: lint Argo manifests, run workflows, serve the web UI and API, print the CRDs.

mod api;
mod approvals;
mod auth;
mod backend;
mod catalog;
mod cli;
mod client;
mod controller_cmd;
mod identity;
mod lint_cmd;
mod manifests;
mod origin;
mod run_cmd;
mod term;
mod tls;
mod ui;
mod web;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    cli::run(cli)
}
