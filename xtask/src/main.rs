//! Trellis' build driver, run as `cargo xtask …` (an alias in `.cargo/config.toml`). It does what
//! cargo-leptos would, with nothing to install but `npm install` (for `wasm-opt`):
//!
//! - `cargo xtask css [--check]` writes `style/trellis.css` from the Tailwind classes used in
//!   `app/src` (or checks that it is up to date);
//! - `cargo xtask build [--release]` builds the stylesheet, the wasm, its JavaScript glue, the site
//!   directory and the `trellis` binary;
//! - `cargo xtask site-dir` prints the site directory, for scripts.

mod build;
mod css;
mod paths;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Trellis' build driver.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask", about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Generate `style/trellis.css` from the Tailwind classes used in `app/src`.
    Css {
        /// Only check that the checked-in stylesheet is up to date; exit 1 if it is not.
        #[arg(long)]
        check: bool,
    },
    /// Build the stylesheet, the wasm (with its JavaScript), the site directory and the server.
    ///
    /// The site directory is `$CARGO_TARGET_DIR/site`, or `target/site` when that variable is
    /// unset; `trellis serve --site-dir` must point at it.
    Build {
        /// Optimised build: the `wasm-release` profile plus `wasm-opt -Oz` for the wasm (needs
        /// `npm install` first), and `--release` for the server.
        #[arg(long)]
        release: bool,
    },
    /// Print the site directory that `build` fills.
    SiteDir,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Css { check: false } => css::write().map(|_| ExitCode::SUCCESS),
        Command::Css { check: true } => css::check(),
        Command::Build { release } => build::run(release).map(|()| ExitCode::SUCCESS),
        Command::SiteDir => paths::site_dir().map(|dir| {
            println!("{}", dir.display());
            ExitCode::SUCCESS
        }),
    };
    result.unwrap_or_else(|err| {
        eprintln!("error: {err:#}");
        ExitCode::FAILURE
    })
}
