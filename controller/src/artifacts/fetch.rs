//! Fetching an input artifact into a path, and reading a stored artifact as a byte stream.

use std::path::Path;

use bytes::Bytes;
use futures::stream::{self, BoxStream};
use futures::{StreamExt, TryStreamExt};
use object_store::ObjectStoreExt;

use super::ArtifactError;
use super::archive::{is_tar_gz, unpack_tar_gz, with_suffix};
use super::location::ArtifactSource;
use super::store::{download_object, download_prefix, open_source};

/// A stored artifact's bytes, as the server streams them to a browser.
pub type ArtifactStream = BoxStream<'static, Result<Bytes, ArtifactError>>;

const GIT_UNSUPPORTED: &str = "git artifacts need the Kubernetes backend";

/// Places the artifact at `dest`, as Argo's executor does: a key naming a directory (a prefix with
/// objects below it) becomes a directory tree, a tar+gzip archive is unpacked (a single packed file
/// or directory lands exactly at `dest`), anything else is written as a file. Parents are created.
pub async fn fetch_artifact(source: &ArtifactSource, dest: &Path) -> Result<(), ArtifactError> {
    if let Some(parent) = dest.parent() {
        tokio::fs::create_dir_all(parent)
            .await
            .map_err(|e| ArtifactError::io("mkdir", parent, e))?;
    }
    let target = match source {
        ArtifactSource::Raw { data } => {
            return tokio::fs::write(dest, data)
                .await
                .map_err(|e| ArtifactError::io("write", dest, e));
        }
        ArtifactSource::Git { .. } => return Err(ArtifactError::Unsupported(GIT_UNSUPPORTED)),
        other => match open_source(other)? {
            Some(target) => target,
            None => {
                return Err(ArtifactError::Unsupported(
                    "this artifact kind cannot be fetched",
                ));
            }
        },
    };
    let tmp = with_suffix(dest, ".tmp");
    remove_any(&tmp).await?;
    let found = download_object(target.store.as_ref(), &target.path, &tmp, &target.display).await?;
    if !found {
        let is_local_or_s3 = !matches!(source, ArtifactSource::Http { .. });
        let count = if is_local_or_s3 {
            download_prefix(&target, &tmp).await?
        } else {
            0
        };
        if count == 0 {
            remove_any(&tmp).await?;
            return Err(ArtifactError::NotFound(target.display));
        }
    }
    place(tmp, dest.to_path_buf()).await
}

/// Moves the downloaded `tmp` to `dest`, unpacking it first when it is a tar+gzip archive.
async fn place(tmp: std::path::PathBuf, dest: std::path::PathBuf) -> Result<(), ArtifactError> {
    tokio::task::spawn_blocking(move || {
        if tmp.is_file() && is_tar_gz(&tmp) {
            let unpacked = unpack_tar_gz(&tmp, &dest);
            let _ = std::fs::remove_file(&tmp);
            unpacked
        } else {
            std::fs::rename(&tmp, &dest).map_err(|e| ArtifactError::io("rename", &dest, e))
        }
    })
    .await
    .map_err(|e| ArtifactError::Worker(e.to_string()))?
}

async fn remove_any(path: &Path) -> Result<(), ArtifactError> {
    let Ok(meta) = tokio::fs::symlink_metadata(path).await else {
        return Ok(());
    };
    let removed = if meta.is_dir() {
        tokio::fs::remove_dir_all(path).await
    } else {
        tokio::fs::remove_file(path).await
    };
    removed.map_err(|e| ArtifactError::io("remove", path, e))
}

/// Opens a stored artifact as it is stored (a `.tgz` stays packed), for downloads.
pub async fn read_artifact(source: &ArtifactSource) -> Result<ArtifactStream, ArtifactError> {
    match source {
        ArtifactSource::Raw { data } => {
            let bytes = Bytes::from(data.clone().into_bytes());
            Ok(stream::once(async move { Ok(bytes) }).boxed())
        }
        ArtifactSource::Git { .. } => Err(ArtifactError::Unsupported(GIT_UNSUPPORTED)),
        other => {
            let Some(target) = open_source(other)? else {
                return Err(ArtifactError::Unsupported(
                    "this artifact kind cannot be read",
                ));
            };
            let display = target.display.clone();
            let result = target
                .store
                .get(&target.path)
                .await
                .map_err(|source| match source {
                    object_store::Error::NotFound { .. } => {
                        ArtifactError::NotFound(display.clone())
                    }
                    source => ArtifactError::Store {
                        what: display.clone(),
                        source,
                    },
                })?;
            Ok(result
                .into_stream()
                .map_err(move |source| ArtifactError::Store {
                    what: display.clone(),
                    source,
                })
                .boxed())
        }
    }
}

/// The keys of the objects of an artifact: the object itself, or everything below a key that
/// names a directory, or the whole repository for an empty key (a data template's
/// `artifactPaths`).
pub async fn list_artifact_keys(source: &ArtifactSource) -> Result<Vec<String>, ArtifactError> {
    match super::store::open_prefix(source)? {
        Some(target) => super::store::list_keys(&target).await,
        None => Err(ArtifactError::Unsupported(
            "only repository artifacts (the default repository or S3) can be listed",
        )),
    }
}
