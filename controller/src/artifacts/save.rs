//! Storing an output path (a file or a directory) to a destination, packed or as it is.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use object_store::buffered::BufWriter;
use object_store::path::Path as ObjectPath;
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;

use super::ArtifactError;
use super::archive::{compression, sorted_entries, write_tar_gz};
use super::location::{ArchiveMode, ArtifactDestination, ArtifactSource};
use super::store::{Target, open_destination, upload_file};

/// How many bytes the packer hands to the uploader at a time.
const CHUNK: usize = 1 << 20;

/// Stores the file or directory at `path` to `dest` (tar+gzip by default, like Argo, or as it is with
/// [`ArchiveMode::None`]) and returns where it now lives. A missing `path` is
/// [`ArtifactError::NotFound`] naming it; whether that matters (optional artifacts) is the caller's call.
pub async fn store_artifact(
    path: &Path,
    dest: &ArtifactDestination,
    archive: &ArchiveMode,
) -> Result<ArtifactSource, ArtifactError> {
    let meta = match tokio::fs::metadata(path).await {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ArtifactError::NotFound(path.display().to_string()));
        }
        Err(e) => return Err(ArtifactError::io("stat", path, e)),
    };
    let target = open_destination(dest)?;
    match archive {
        ArchiveMode::Tar { compression_level } => {
            let level = compression(*compression_level)?;
            upload_tar_gz(path.to_path_buf(), level, &target).await?;
        }
        ArchiveMode::None {} if meta.is_dir() => upload_tree(path, &target).await?,
        ArchiveMode::None {} => {
            upload_file(&target.store, &target.path, path, &target.display).await?
        }
    }
    Ok(dest.to_source())
}

/// A `Write` that hands filled chunks to an async receiver, so packing streams without a temp file.
struct ChunkWriter {
    tx: mpsc::Sender<Vec<u8>>,
    buf: Vec<u8>,
}

impl ChunkWriter {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK));
        self.tx
            .blocking_send(chunk)
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "upload stopped"))
    }
}

impl Write for ChunkWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

async fn upload_tar_gz(
    path: PathBuf,
    level: flate2::Compression,
    target: &Target,
) -> Result<(), ArtifactError> {
    let (tx, mut rx) = mpsc::channel::<Vec<u8>>(4);
    let packer = tokio::task::spawn_blocking(move || {
        let writer = ChunkWriter {
            tx,
            buf: Vec::with_capacity(CHUNK),
        };
        write_tar_gz(&path, writer, level)
    });
    let mut upload = BufWriter::new(Arc::clone(&target.store), target.path.clone());
    let mut upload_error = None;
    while let Some(chunk) = rx.recv().await {
        if let Err(e) = upload.write_all(&chunk).await {
            upload_error = Some(e);
            break;
        }
    }
    drop(rx);
    let packed = packer
        .await
        .map_err(|e| ArtifactError::Worker(e.to_string()))?;
    let failure = match (upload_error, packed) {
        (Some(e), _) => Some(ArtifactError::Upload {
            what: target.display.clone(),
            source: e,
        }),
        (None, Err(e)) => Some(e),
        (None, Ok(())) => None,
    };
    if let Some(e) = failure {
        let _ = upload.abort().await;
        return Err(e);
    }
    upload.shutdown().await.map_err(|e| ArtifactError::Upload {
        what: target.display.clone(),
        source: e,
    })
}

/// Uploads every file below `dir` to `<key>/<relative path>`.
async fn upload_tree(dir: &Path, target: &Target) -> Result<(), ArtifactError> {
    let mut files = Vec::new();
    collect_files(dir, &target.path, &mut files)?;
    for (file, key) in files {
        let display = format!("{}/{}", target.display, relative_key(&target.path, &key));
        upload_file(&target.store, &key, &file, &display).await?;
    }
    Ok(())
}

fn relative_key(prefix: &ObjectPath, key: &ObjectPath) -> String {
    key.prefix_match(prefix)
        .map(|parts| {
            parts
                .map(|p| p.as_ref().to_string())
                .collect::<Vec<_>>()
                .join("/")
        })
        .unwrap_or_else(|| key.to_string())
}

fn collect_files(
    dir: &Path,
    key: &ObjectPath,
    out: &mut Vec<(PathBuf, ObjectPath)>,
) -> Result<(), ArtifactError> {
    for name in sorted_entries(dir)? {
        let path = dir.join(&name);
        let child = key.clone().join(name.to_string_lossy().as_ref());
        let meta =
            std::fs::symlink_metadata(&path).map_err(|e| ArtifactError::io("stat", &path, e))?;
        if meta.is_dir() {
            collect_files(&path, &child, out)?;
        } else if std::fs::metadata(&path).is_ok_and(|m| m.is_file()) {
            // A regular file, or a link to one; links to directories are skipped (no loops).
            out.push((path, child));
        }
    }
    Ok(())
}
