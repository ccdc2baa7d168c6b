//! Argo-compatible tar+gzip packing and unpacking of an artifact path.
//!
//! Packing follows Argo's executor: a file becomes one entry named after the file; a directory becomes
//! its own entry (its base name) followed by every path below it as `<base>/<relative path>`, walked in
//! lexical order, symbolic links stored as links. Unpacking follows Argo too: the archive is extracted
//! into `<dest>.tmpdir`; a single top-level entry is renamed to `dest`, several make `dest` a
//! directory. Entries escaping the destination (absolute paths, `..`, outside symlinks) are refused.

use std::fs::{self, File};
use std::io::{BufReader, Read, Write};
use std::path::{Component, Path, PathBuf};

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use tar::EntryType;

use super::ArtifactError;

/// The gzip level for Argo's `compressionLevel` (`None` or -1: the default level).
pub fn compression(level: Option<i32>) -> Result<Compression, ArtifactError> {
    match level {
        None | Some(-1) => Ok(Compression::default()),
        Some(l @ 0..=9) => Ok(Compression::new(l.unsigned_abs())),
        Some(other) => Err(ArtifactError::CompressionLevel(other)),
    }
}

/// Writes `src` (a file or a directory) as a tar+gzip stream to `out`, laid out as Argo's executor does.
pub fn write_tar_gz(src: &Path, out: impl Write, level: Compression) -> Result<(), ArtifactError> {
    let meta = fs::metadata(src).map_err(|e| ArtifactError::io("stat", src, e))?;
    let base = src
        .file_name()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("artifact"));
    let mut builder = tar::Builder::new(GzEncoder::new(out, level));
    builder.follow_symlinks(false);
    if meta.is_dir() {
        append_tree(&mut builder, src, &base)?;
    } else if meta.is_file() {
        append_one(&mut builder, src, &base)?;
    } else {
        return Err(ArtifactError::Archive {
            path: src.to_path_buf(),
            reason: "not a regular file or directory".into(),
        });
    }
    let encoder = builder
        .into_inner()
        .map_err(|e| ArtifactError::io("write", src, e))?;
    let mut out = encoder
        .finish()
        .map_err(|e| ArtifactError::io("write", src, e))?;
    out.flush().map_err(|e| ArtifactError::io("write", src, e))
}

fn append_one<W: Write>(
    builder: &mut tar::Builder<W>,
    path: &Path,
    name: &Path,
) -> Result<(), ArtifactError> {
    builder
        .append_path_with_name(path, name)
        .map_err(|e| ArtifactError::io("archive", path, e))
}

fn append_tree<W: Write>(
    builder: &mut tar::Builder<W>,
    dir: &Path,
    name: &Path,
) -> Result<(), ArtifactError> {
    append_one(builder, dir, name)?;
    for entry in sorted_entries(dir)? {
        let path = dir.join(&entry);
        let child_name = name.join(&entry);
        let meta = fs::symlink_metadata(&path).map_err(|e| ArtifactError::io("stat", &path, e))?;
        if meta.is_dir() {
            append_tree(builder, &path, &child_name)?;
        } else {
            append_one(builder, &path, &child_name)?;
        }
    }
    Ok(())
}

/// The names in `dir`, sorted so archives are reproducible.
pub(crate) fn sorted_entries(dir: &Path) -> Result<Vec<std::ffi::OsString>, ArtifactError> {
    let mut names = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| ArtifactError::io("open", dir, e))? {
        let entry = entry.map_err(|e| ArtifactError::io("read", dir, e))?;
        names.push(entry.file_name());
    }
    names.sort();
    Ok(names)
}

/// Whether the file at `path` is a gzip-compressed tarball (Argo's auto-detection of input artifacts).
pub fn is_tar_gz(path: &Path) -> bool {
    let Ok(file) = File::open(path) else {
        return false;
    };
    let mut archive = tar::Archive::new(GzDecoder::new(BufReader::new(file)));
    let Ok(mut entries) = archive.entries() else {
        return false;
    };
    matches!(entries.next(), Some(Ok(_)))
}

/// Unpacks the tar+gzip file `archive` to `dest` the way Argo's executor does (see the module docs).
pub fn unpack_tar_gz(archive: &Path, dest: &Path) -> Result<(), ArtifactError> {
    let tmp = with_suffix(dest, ".tmpdir");
    if tmp.exists() {
        fs::remove_dir_all(&tmp).map_err(|e| ArtifactError::io("remove", &tmp, e))?;
    }
    fs::create_dir_all(&tmp).map_err(|e| ArtifactError::io("mkdir", &tmp, e))?;
    let file = File::open(archive).map_err(|e| ArtifactError::io("open", archive, e))?;
    extract_into(GzDecoder::new(BufReader::new(file)), archive, &tmp)?;
    let top = sorted_entries(&tmp)?;
    if let [only] = top.as_slice() {
        let from = tmp.join(only);
        fs::rename(&from, dest).map_err(|e| ArtifactError::io("rename", dest, e))?;
        fs::remove_dir(&tmp).map_err(|e| ArtifactError::io("remove", &tmp, e))
    } else {
        fs::rename(&tmp, dest).map_err(|e| ArtifactError::io("rename", dest, e))
    }
}

/// `path` with `suffix` appended to its last component (`out` → `out.tmp`).
pub(crate) fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(suffix);
    PathBuf::from(s)
}

fn extract_into(reader: impl Read, archive: &Path, dest: &Path) -> Result<(), ArtifactError> {
    let bad = |reason: String| ArtifactError::Archive {
        path: archive.to_path_buf(),
        reason,
    };
    let mut tar = tar::Archive::new(reader);
    tar.set_preserve_mtime(true);
    let entries = tar.entries().map_err(|e| bad(e.to_string()))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| bad(e.to_string()))?;
        let name = entry.path().map_err(|e| bad(e.to_string()))?.into_owned();
        if !is_contained(Path::new(""), &name) {
            return Err(bad(format!("illegal file path: {}", name.display())));
        }
        let kind = entry.header().entry_type();
        if kind == EntryType::Symlink {
            let link = entry
                .link_name()
                .map_err(|e| bad(e.to_string()))?
                .unwrap_or_default()
                .into_owned();
            let parent = name.parent().unwrap_or(Path::new(""));
            if link.is_absolute() || !is_contained(parent, &link) {
                return Err(bad(format!(
                    "illegal symlink target: {} -> {}",
                    name.display(),
                    link.display()
                )));
            }
        } else if !matches!(kind, EntryType::Regular | EntryType::Directory) {
            continue;
        }
        let unpacked = entry.unpack_in(dest).map_err(|e| bad(e.to_string()))?;
        if !unpacked {
            return Err(bad(format!("illegal file path: {}", name.display())));
        }
    }
    Ok(())
}

/// Whether `rel` joined to `base` (both relative) stays inside the archive root, judged lexically.
fn is_contained(base: &Path, rel: &Path) -> bool {
    let mut depth: usize = 0;
    for component in base.components().chain(rel.components()) {
        match component {
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::ParentDir => match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => return false,
            },
            Component::RootDir | Component::Prefix(_) => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containment_is_judged_lexically() {
        let cases = [
            ("", "a", true),
            ("", "a/b/../c", true),
            ("", "./", true),
            ("", "../a", false),
            ("", "/etc/passwd", false),
            ("a", "b", true),
            ("a", "../b", true),
            ("a", "../../b", false),
            ("a/b", "../../..", false),
        ];
        for (base, rel, expected) in cases {
            assert_eq!(
                is_contained(Path::new(base), Path::new(rel)),
                expected,
                "{base} + {rel}"
            );
        }
    }

    #[test]
    fn compression_levels_follow_gzip() {
        assert_eq!(compression(None).ok(), Some(Compression::default()));
        assert_eq!(compression(Some(-1)).ok(), Some(Compression::default()));
        assert_eq!(compression(Some(0)).ok(), Some(Compression::none()));
        assert_eq!(compression(Some(9)).ok(), Some(Compression::best()));
        assert!(matches!(
            compression(Some(10)),
            Err(ArtifactError::CompressionLevel(10))
        ));
    }

    #[test]
    fn suffix_is_appended_to_the_last_component() {
        assert_eq!(
            with_suffix(Path::new("/a/out.txt"), ".tmp"),
            PathBuf::from("/a/out.txt.tmp")
        );
    }
}
