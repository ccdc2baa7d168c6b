//! Where things are: the workspace root and the site directory.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// The name of the built script, wasm and stylesheet (`trellis.js`, `trellis_bg.wasm`,
/// `trellis.css`); the server expects it.
pub const OUTPUT_NAME: &str = "trellis";

/// The directory inside the site directory holding the built assets, served at `/pkg`.
pub const SITE_PKG_DIR: &str = "pkg";

/// The workspace root (the parent of this crate's directory).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives inside the workspace")
        .to_path_buf()
}

/// The site directory `build` fills: `$CARGO_TARGET_DIR/site` if set, else `target/site` in the
/// workspace.
pub fn site_dir() -> anyhow::Result<PathBuf> {
    let target_dir = std::env::var_os("CARGO_TARGET_DIR");
    Ok(resolve_site_dir(
        target_dir.as_deref(),
        &std::env::current_dir()?,
        &workspace_root(),
    ))
}

/// [`site_dir`] as a pure function. A relative `CARGO_TARGET_DIR` is relative to the current
/// directory, as cargo reads it.
pub fn resolve_site_dir(target_dir: Option<&OsStr>, cwd: &Path, root: &Path) -> PathBuf {
    match target_dir.filter(|dir| !dir.is_empty()) {
        Some(dir) => cwd.join(dir).join("site"),
        None => root.join("target").join("site"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_dir_defaults_to_the_workspace_target() {
        let site = resolve_site_dir(None, Path::new("/elsewhere"), Path::new("/ws"));
        assert_eq!(site, Path::new("/ws/target/site"));
        let site = resolve_site_dir(
            Some(OsStr::new("")),
            Path::new("/elsewhere"),
            Path::new("/ws"),
        );
        assert_eq!(site, Path::new("/ws/target/site"));
    }

    #[test]
    fn site_dir_follows_cargo_target_dir() {
        let absolute = resolve_site_dir(
            Some(OsStr::new("/tmp/t")),
            Path::new("/cwd"),
            Path::new("/ws"),
        );
        assert_eq!(absolute, Path::new("/tmp/t/site"));
        let relative =
            resolve_site_dir(Some(OsStr::new("out")), Path::new("/cwd"), Path::new("/ws"));
        assert_eq!(relative, Path::new("/cwd/out/site"));
    }

    #[test]
    fn workspace_root_holds_the_workspace_manifest() {
        assert!(workspace_root().join("Cargo.toml").is_file());
        assert!(workspace_root().join("app").is_dir());
    }
}
