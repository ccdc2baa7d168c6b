//! `cargo xtask build`: stylesheet → wasm → wasm-bindgen → (wasm-opt) → site assets → server.

use std::ffi::OsStr;
use std::fs;
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context as _, bail};

use crate::css;
use crate::paths::{OUTPUT_NAME, SITE_PKG_DIR, site_dir, workspace_root};

/// The cargo package whose cdylib is the browser's wasm.
const FRONTEND_PACKAGE: &str = "frontend";

/// The cargo profile for the release wasm (size-optimised, see the workspace manifest).
const WASM_RELEASE_PROFILE: &str = "wasm-release";

/// Where `npm install` puts binaryen's `wasm-opt`, relative to the workspace root.
const WASM_OPT: &str = "node_modules/.bin/wasm-opt";

/// Runs every step, printing each with its duration.
pub fn run(release: bool) -> anyhow::Result<()> {
    let root = workspace_root();
    let site = site_dir()?;
    let pkg = site.join(SITE_PKG_DIR);
    let mode = if release { "release" } else { "debug" };
    println!("Building Trellis ({mode}) into {}", site.display());
    let started = Instant::now();
    let steps = if release { 6 } else { 5 };
    let mut step = Steps {
        number: 0,
        total: steps,
    };

    step.run_detail("stylesheet (encre-css)", || {
        let path = css::write()?;
        Ok(format!(
            "{}",
            path.strip_prefix(&root).unwrap_or(&path).display()
        ))
    })?;
    let wasm = step.run(
        "wasm (cargo build -p frontend --target wasm32-unknown-unknown)",
        || {
            let wasm = build_wasm(&root, release)?;
            Ok((
                wasm.clone(),
                format!("{} ({})", wasm.display(), size_of(&wasm)),
            ))
        },
    )?;
    let bindgen_wasm = step.run("wasm-bindgen (in-process, target web)", || {
        let out = run_wasm_bindgen(&wasm, &pkg)?;
        Ok((
            out.clone(),
            format!("{} ({})", out.display(), size_of(&out)),
        ))
    })?;
    if release {
        step.run_detail("wasm-opt -Oz (npm binaryen)", || {
            run_wasm_opt(&root, &bindgen_wasm)?;
            Ok(format!(
                "{} ({})",
                bindgen_wasm.display(),
                size_of(&bindgen_wasm)
            ))
        })?;
    }
    step.run_detail("site assets (stylesheet, public/)", || {
        copy_site_assets(&root, &site)?;
        Ok(format!("{}", site.display()))
    })?;
    step.run_detail("server (cargo build -p server)", || {
        cargo(&root, ["build", "-p", "server"], release)?;
        Ok(String::new())
    })?;

    println!("Done in {:.1?}. Run it with:", started.elapsed());
    let profile = if release { "release" } else { "debug" };
    let binary = site.parent().unwrap_or(&site).join(profile).join("trellis");
    println!(
        "  {} serve --site-dir {} --load manifests/examples",
        binary.display(),
        site.display()
    );
    Ok(())
}

/// Numbers and times the steps.
struct Steps {
    number: usize,
    total: usize,
}

impl Steps {
    /// Runs a step that returns a value and a line of detail to print.
    fn run<T>(
        &mut self,
        name: &str,
        step: impl FnOnce() -> anyhow::Result<(T, String)>,
    ) -> anyhow::Result<T> {
        self.number += 1;
        println!("==> [{}/{}] {name}", self.number, self.total);
        let started = Instant::now();
        let (value, detail) = step().with_context(|| format!("step {name:?} failed"))?;
        let detail = if detail.is_empty() {
            String::new()
        } else {
            format!(": {detail}")
        };
        println!("    done in {:.1?}{detail}", started.elapsed());
        Ok(value)
    }

    /// Runs a step whose only result is a line of detail.
    fn run_detail(
        &mut self,
        name: &str,
        step: impl FnOnce() -> anyhow::Result<String>,
    ) -> anyhow::Result<()> {
        self.run(name, || step().map(|detail| ((), detail)))
    }
}

/// Builds the frontend cdylib and returns the path of its `.wasm`.
fn build_wasm(root: &Path, release: bool) -> anyhow::Result<PathBuf> {
    let profile = if release { WASM_RELEASE_PROFILE } else { "dev" };
    let mut command = cargo_command(root);
    command.args([
        "build",
        "-p",
        FRONTEND_PACKAGE,
        "--lib",
        "--target",
        "wasm32-unknown-unknown",
        "--profile",
        profile,
        "--message-format=json-render-diagnostics",
    ]);
    command.stdout(Stdio::piped());
    let mut child = command.spawn().context("cannot run cargo")?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut wasm = None;
    for line in BufReader::new(stdout).lines() {
        if let Some(path) = wasm_artifact(&line?) {
            wasm = Some(path);
        }
    }
    let status = child.wait()?;
    if !status.success() {
        bail!(
            "cargo failed ({status}); if the target is missing: rustup target add wasm32-unknown-unknown"
        );
    }
    wasm.context("cargo built no .wasm for the frontend")
}

/// The `.wasm` file of the frontend in one line of cargo's JSON messages, if it names one.
pub fn wasm_artifact(line: &str) -> Option<PathBuf> {
    let message: serde_json::Value = serde_json::from_str(line).ok()?;
    if message["reason"] != "compiler-artifact" || message["target"]["name"] != FRONTEND_PACKAGE {
        return None;
    }
    message["filenames"]
        .as_array()?
        .iter()
        .filter_map(serde_json::Value::as_str)
        .find(|name| name.ends_with(".wasm"))
        .map(PathBuf::from)
}

/// Generates `pkg/trellis.js` and `pkg/trellis_bg.wasm`; returns the latter.
fn run_wasm_bindgen(wasm: &Path, pkg: &Path) -> anyhow::Result<PathBuf> {
    // Old snippets would otherwise linger next to the new ones.
    let snippets = pkg.join("snippets");
    if snippets.exists() {
        fs::remove_dir_all(&snippets)?;
    }
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(wasm)
        .out_name(OUTPUT_NAME)
        .web(true)?
        .typescript(false)
        .generate(pkg)
        .context("wasm-bindgen failed")?;
    Ok(pkg.join(format!("{OUTPUT_NAME}_bg.wasm")))
}

/// Optimises the wasm in place with npm's binaryen (Debian's older wasm-opt breaks it).
fn run_wasm_opt(root: &Path, wasm: &Path) -> anyhow::Result<()> {
    let wasm_opt = root.join(WASM_OPT);
    if !wasm_opt.is_file() {
        bail!(
            "{WASM_OPT} is missing: run `npm install` in {} (it installs binaryen@132; \
             do not use Debian's binaryen, whose wasm-opt silently breaks the wasm)",
            root.display()
        );
    }
    let optimised = wasm.with_extension("opt.wasm");
    let status = Command::new(&wasm_opt)
        .arg("-Oz")
        .arg(wasm)
        .arg("-o")
        .arg(&optimised)
        .status()
        .with_context(|| format!("cannot run {}", wasm_opt.display()))?;
    if !status.success() {
        bail!("wasm-opt failed ({status})");
    }
    fs::rename(&optimised, wasm)?;
    Ok(())
}

/// Copies the stylesheet to `pkg/trellis.css` and `public/` into the site directory.
fn copy_site_assets(root: &Path, site: &Path) -> anyhow::Result<()> {
    let pkg = site.join(SITE_PKG_DIR);
    fs::create_dir_all(&pkg)?;
    fs::copy(
        root.join(css::STYLESHEET),
        pkg.join(format!("{OUTPUT_NAME}.css")),
    )
    .context("cannot copy the stylesheet")?;
    let public = root.join("public");
    if public.is_dir() {
        copy_dir(&public, site)?;
    }
    Ok(())
}

/// Copies the files of `from` into `to`, recursively, overwriting.
fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            fs::copy(entry.path(), &target)
                .with_context(|| format!("cannot copy {}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// Runs `cargo ARGS [--release]` in the workspace.
fn cargo<I, S>(root: &Path, args: I, release: bool) -> anyhow::Result<()>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut command = cargo_command(root);
    command.args(args);
    if release {
        command.arg("--release");
    }
    let status = command.status().context("cannot run cargo")?;
    if !status.success() {
        bail!("cargo failed ({status})");
    }
    Ok(())
}

/// The cargo that runs this xtask (from `$CARGO`), in the workspace root. Parallelism comes from
/// `.cargo/config.toml` (`jobs = 2`).
fn cargo_command(root: &Path) -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.current_dir(root);
    command
}

/// A file's size for humans, or `?` when it cannot be read.
fn size_of(path: &Path) -> String {
    match fs::metadata(path) {
        Ok(meta) => human_size(meta.len()),
        Err(_) => "?".to_owned(),
    }
}

/// `1536` → `1.5 KiB`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_frontend_wasm_in_cargo_messages() {
        let line = r#"{"reason":"compiler-artifact","target":{"name":"frontend","kind":["cdylib","rlib"]},"filenames":["/t/wasm32-unknown-unknown/debug/libfrontend.rlib","/t/wasm32-unknown-unknown/debug/frontend.wasm"]}"#;
        assert_eq!(
            wasm_artifact(line),
            Some(PathBuf::from(
                "/t/wasm32-unknown-unknown/debug/frontend.wasm"
            ))
        );
    }

    #[test]
    fn ignores_other_messages() {
        let other = r#"{"reason":"compiler-artifact","target":{"name":"app"},"filenames":["/t/libapp.rlib"]}"#;
        assert_eq!(wasm_artifact(other), None);
        assert_eq!(
            wasm_artifact(r#"{"reason":"build-finished","success":true}"#),
            None
        );
        assert_eq!(wasm_artifact("not json"), None);
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(3 * 1024 * 1024), "3.0 MiB");
    }
}
