//! Placing input artifacts before the command runs, and collecting output parameters and artifacts
//! after it ends, with Argo's rules for defaults, optional artifacts and trimming.

use std::path::{Path, PathBuf};

use crate::artifacts::{fetch_artifact, store_artifact};

use super::message::go_style_io;
use super::spec::{
    InputArtifact, OutputArtifact, OutputArtifactLocation, OutputParameter, OutputParameterValue,
};

/// `path` as the command sees it: absolute as given, relative to the command's directory otherwise.
pub(crate) fn resolve(cwd: &Path, path: &str) -> PathBuf {
    let path = Path::new(path);
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        cwd.join(path)
    }
}

/// Places every input artifact; the error names the artifact that could not be placed.
pub(crate) async fn place_inputs(inputs: &[InputArtifact], cwd: &Path) -> Result<(), String> {
    for input in inputs {
        let dest = resolve(cwd, &input.path);
        match fetch_artifact(&input.source, &dest).await {
            Ok(()) => {}
            Err(e) if input.optional && e.is_not_found() => {
                tracing::info!(artifact = %input.name, "optional input artifact not found, skipped");
                continue;
            }
            Err(e) => return Err(format!("input artifact \"{}\": {e}", input.name)),
        }
        if let Some(mode) = input.mode {
            set_mode(&dest, mode)
                .await
                .map_err(|e| format!("input artifact \"{}\": {e}", input.name))?;
        }
    }
    Ok(())
}

async fn set_mode(path: &Path, mode: u32) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    tokio::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .await
        .map_err(|e| go_style_io("chmod", &path.display().to_string(), &e))
}

/// Reads the output parameters; the first one that has neither a file nor a default is an error.
///
/// Like Argo, a single trailing newline is trimmed from the value (the default's too).
pub(crate) async fn read_parameters(
    params: &[OutputParameter],
    cwd: &Path,
) -> Result<Vec<OutputParameterValue>, String> {
    let mut values = Vec::with_capacity(params.len());
    for param in params {
        let path = resolve(cwd, &param.path);
        let raw = match (tokio::fs::read(&path).await, &param.default) {
            (Ok(bytes), _) => String::from_utf8_lossy(&bytes).into_owned(),
            (Err(_), Some(default)) => default.clone(),
            (Err(e), None) => {
                return Err(format!(
                    "output parameter \"{}\": {}",
                    param.name,
                    go_style_io("open", &param.path, &e)
                ));
            }
        };
        let value = raw.strip_suffix('\n').unwrap_or(&raw).to_string();
        values.push(OutputParameterValue {
            name: param.name.clone(),
            value,
        });
    }
    Ok(values)
}

/// Stores the output artifacts; a missing optional one is skipped, a missing required one is an
/// error naming its path. Returned locations carry no credentials.
pub(crate) async fn store_outputs(
    artifacts: &[OutputArtifact],
    cwd: &Path,
) -> Result<Vec<OutputArtifactLocation>, String> {
    let mut stored = Vec::with_capacity(artifacts.len());
    for artifact in artifacts {
        let path = resolve(cwd, &artifact.path);
        match store_artifact(&path, &artifact.destination, &artifact.archive).await {
            Ok(location) => stored.push(OutputArtifactLocation {
                name: artifact.name.clone(),
                location: location.without_credentials(),
            }),
            Err(e) if e.is_not_found() && artifact.optional => {
                tracing::info!(artifact = %artifact.name, "optional output artifact not found, skipped");
            }
            Err(e) => return Err(format!("output artifact \"{}\": {e}", artifact.name)),
        }
    }
    Ok(stored)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_are_taken_from_the_command_directory() {
        let cwd = Path::new("/work/step");
        assert_eq!(resolve(cwd, "/tmp/out"), PathBuf::from("/tmp/out"));
        assert_eq!(resolve(cwd, "out/x"), PathBuf::from("/work/step/out/x"));
    }
}
