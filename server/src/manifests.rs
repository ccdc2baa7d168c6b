//! Reading manifest files from disk for `trellis lint` and `trellis serve --load`.

use std::path::{Path, PathBuf};

use engine::lint::{CheckedFile, Source, check};

/// A manifest file read from disk.
#[derive(Debug, Clone)]
pub struct ManifestFile {
    /// The path as the user should see it.
    pub name: String,
    /// Its text.
    pub text: String,
}

/// The path that stands for standard input.
pub const STDIN: &str = "-";

/// Expands `paths` into the YAML files they name: files as given, directories searched recursively for
/// `*.yaml`, `*.yml` and `*.json` (hidden entries skipped), in a stable order. `-` stays as is: it
/// means standard input.
pub fn collect(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for path in paths {
        if path.as_os_str() == STDIN {
            out.push(path.clone());
            continue;
        }
        let meta = std::fs::metadata(path)
            .map_err(|e| anyhow::anyhow!("cannot read `{}`: {e}", path.display()))?;
        if meta.is_dir() {
            let mut found = Vec::new();
            walk(path, &mut found)?;
            found.sort();
            out.extend(found);
        } else {
            out.push(path.clone());
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| anyhow::anyhow!("cannot read `{}`: {e}", dir.display()))?;
    for entry in entries {
        let path = entry?.path();
        let hidden = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'));
        if hidden {
            continue;
        }
        if path.is_dir() {
            walk(&path, out)?;
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
        {
            out.push(path);
        }
    }
    Ok(())
}

/// Reads the files.
pub fn read(paths: &[PathBuf]) -> anyhow::Result<Vec<ManifestFile>> {
    paths
        .iter()
        .map(|p| {
            if p.as_os_str() == STDIN {
                let text = std::io::read_to_string(std::io::stdin())
                    .map_err(|e| anyhow::anyhow!("cannot read standard input: {e}"))?;
                return Ok(ManifestFile {
                    name: "<stdin>".into(),
                    text,
                });
            }
            let text = std::fs::read_to_string(p)
                .map_err(|e| anyhow::anyhow!("cannot read `{}`: {e}", p.display()))?;
            Ok(ManifestFile {
                name: p.display().to_string(),
                text,
            })
        })
        .collect()
}

/// Lints the files together.
pub fn lint(files: &[ManifestFile]) -> Vec<CheckedFile> {
    let sources: Vec<Source<'_>> = files
        .iter()
        .map(|f| Source {
            name: &f.name,
            text: &f.text,
        })
        .collect();
    check(&sources)
}
