//! Opens the object store behind a location and moves bytes between it and local files.
//!
//! The local repository, S3 and HTTP all go through `object_store`, so a key that names a directory
//! (a prefix with objects below it) behaves the same everywhere.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use futures::StreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::buffered::BufWriter;
use object_store::http::HttpBuilder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ClientOptions, HeaderMap, ObjectStore, ObjectStoreExt};
use tokio::io::AsyncWriteExt;

use super::ArtifactError;
use super::location::{ArtifactDestination, ArtifactSource, HttpHeader, S3Location, Secret};

/// An opened store and the object path of one artifact in it.
pub(crate) struct Target {
    /// The store.
    pub store: Arc<dyn ObjectStore>,
    /// The artifact's key in the store.
    pub path: ObjectPath,
    /// How the artifact is named in messages (`s3://bucket/key`, a local path, a URL).
    pub display: String,
}

/// Opens the store of a fetchable source; `None` for sources that are not object stores (raw, git).
pub(crate) fn open_source(source: &ArtifactSource) -> Result<Option<Target>, ArtifactError> {
    match source {
        ArtifactSource::Local { root, key } => open_local(root, parse_key(key)?, false).map(Some),
        ArtifactSource::S3(s3) => open_s3(s3, parse_key(&s3.key)?).map(Some),
        ArtifactSource::Http { url, headers } => open_http(url, headers).map(Some),
        ArtifactSource::Raw { .. } | ArtifactSource::Git { .. } => Ok(None),
    }
}

/// Opens the store of a destination, creating a local repository's root when it is missing.
pub(crate) fn open_destination(dest: &ArtifactDestination) -> Result<Target, ArtifactError> {
    match dest {
        ArtifactDestination::Local { root, key } => open_local(root, parse_key(key)?, true),
        ArtifactDestination::S3(s3) => open_s3(s3, parse_key(&s3.key)?),
    }
}

/// Opens a repository source as a prefix to list below; an empty key is the whole repository
/// or bucket. `None` for sources that cannot be listed (raw, git, HTTP).
pub(crate) fn open_prefix(source: &ArtifactSource) -> Result<Option<Target>, ArtifactError> {
    let prefix = |key: &str| {
        if key.trim_matches('/').is_empty() {
            Ok(ObjectPath::default())
        } else {
            parse_key(key)
        }
    };
    match source {
        ArtifactSource::Local { root, key } => open_local(root, prefix(key)?, false).map(Some),
        ArtifactSource::S3(s3) => open_s3(s3, prefix(&s3.key)?).map(Some),
        _ => Ok(None),
    }
}

fn parse_key(key: &str) -> Result<ObjectPath, ArtifactError> {
    let trimmed = key.trim_matches('/');
    if trimmed.is_empty() {
        return Err(ArtifactError::InvalidKey {
            key: key.to_string(),
            reason: "the key is empty".into(),
        });
    }
    ObjectPath::parse(trimmed).map_err(|e| ArtifactError::InvalidKey {
        key: key.to_string(),
        reason: e.to_string(),
    })
}

fn open_local(root: &Path, path: ObjectPath, create: bool) -> Result<Target, ArtifactError> {
    let display = root.join(path.as_ref()).display().to_string();
    if create {
        std::fs::create_dir_all(root).map_err(|e| ArtifactError::io("mkdir", root, e))?;
    } else if !root.is_dir() {
        return Err(ArtifactError::NotFound(display));
    }
    let store = LocalFileSystem::new_with_prefix(root).map_err(|source| ArtifactError::Store {
        what: display.clone(),
        source,
    })?;
    Ok(Target {
        store: Arc::new(store),
        path,
        display,
    })
}

/// The endpoint URL for an S3 location: a full URL as given, else `http(s)://` + `host:port`.
pub(crate) fn s3_endpoint_url(s3: &S3Location) -> Option<String> {
    let endpoint = s3.endpoint.trim().trim_end_matches('/');
    if endpoint.is_empty() {
        None
    } else if endpoint.starts_with("http://") || endpoint.starts_with("https://") {
        Some(endpoint.to_string())
    } else if s3.insecure {
        Some(format!("http://{endpoint}"))
    } else {
        Some(format!("https://{endpoint}"))
    }
}

fn open_s3(s3: &S3Location, path: ObjectPath) -> Result<Target, ArtifactError> {
    let display = format!("s3://{}/{}", s3.bucket, path);
    let region = if s3.region.is_empty() {
        "us-east-1"
    } else {
        &s3.region
    };
    let mut builder = AmazonS3Builder::new()
        .with_bucket_name(&s3.bucket)
        .with_region(region)
        .with_virtual_hosted_style_request(!s3.path_style);
    if let Some(url) = s3_endpoint_url(s3) {
        builder = builder
            .with_allow_http(url.starts_with("http://"))
            .with_endpoint(url);
    }
    let from_env = |name: &Option<String>| {
        let name = name.as_deref()?;
        std::env::var(name).ok().map(Secret)
    };
    let id = s3
        .access_key
        .clone()
        .or_else(|| from_env(&s3.access_key_env));
    let secret = s3
        .secret_key
        .clone()
        .or_else(|| from_env(&s3.secret_key_env));
    if id.is_none() && s3.access_key_env.is_some() {
        return Err(ArtifactError::Config(format!(
            "{display}: the access key is to be in ${}, which is not set",
            s3.access_key_env.as_deref().unwrap_or_default()
        )));
    }
    builder = match (id, secret) {
        (Some(id), Some(secret)) => builder
            .with_access_key_id(&id.0)
            .with_secret_access_key(&secret.0),
        _ => builder.with_skip_signature(true),
    };
    let store = builder
        .build()
        .map_err(|e| ArtifactError::Config(format!("{display}: {e}")))?;
    Ok(Target {
        store: Arc::new(store),
        path,
        display,
    })
}

fn open_http(url: &str, headers: &[HttpHeader]) -> Result<Target, ArtifactError> {
    let map: HashMap<String, String> = headers
        .iter()
        .map(|h| (h.name.clone(), h.value.clone()))
        .collect();
    let header_map = HeaderMap::try_from(&map)
        .map_err(|e| ArtifactError::Config(format!("{url}: invalid header: {e}")))?;
    let options = ClientOptions::new()
        .with_allow_http(url.starts_with("http://"))
        .with_default_headers(header_map);
    let store = HttpBuilder::new()
        .with_url(url)
        .with_client_options(options)
        .build()
        .map_err(|e| ArtifactError::Config(format!("{url}: {e}")))?;
    Ok(Target {
        store: Arc::new(store),
        path: ObjectPath::default(),
        display: url.to_string(),
    })
}

/// Downloads the object at `path` in `store` into the file `file`; `false` when there is no such object.
pub(crate) async fn download_object(
    store: &dyn ObjectStore,
    path: &ObjectPath,
    file: &Path,
    display: &str,
) -> Result<bool, ArtifactError> {
    let result = match store.get(path).await {
        Ok(result) => result,
        Err(object_store::Error::NotFound { .. }) => return Ok(false),
        Err(source) => {
            return Err(ArtifactError::Store {
                what: display.to_string(),
                source,
            });
        }
    };
    let mut out = tokio::fs::File::create(file)
        .await
        .map_err(|e| ArtifactError::io("create", file, e))?;
    let mut stream = result.into_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|source| ArtifactError::Store {
            what: display.to_string(),
            source,
        })?;
        out.write_all(&chunk)
            .await
            .map_err(|e| ArtifactError::io("write", file, e))?;
    }
    out.flush()
        .await
        .map_err(|e| ArtifactError::io("write", file, e))?;
    Ok(true)
}

/// The keys of every object below the prefix `target.path` (the whole store when it is empty),
/// sorted.
pub(crate) async fn list_keys(target: &Target) -> Result<Vec<String>, ArtifactError> {
    let mut keys: Vec<String> = list_objects(target)
        .await?
        .into_iter()
        .map(|m| m.location.to_string())
        .collect();
    keys.sort();
    Ok(keys)
}

/// Every object below `target.path` (the whole store when it is empty).
async fn list_objects(target: &Target) -> Result<Vec<object_store::ObjectMeta>, ArtifactError> {
    let prefix = (!target.path.as_ref().is_empty()).then_some(&target.path);
    target
        .store
        .list(prefix)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()
        .map_err(|source| ArtifactError::Store {
            what: target.display.clone(),
            source,
        })
}

/// Downloads every object below the prefix `target.path` into the directory `dir`, keeping the
/// relative layout; returns how many objects there were.
pub(crate) async fn download_prefix(target: &Target, dir: &Path) -> Result<usize, ArtifactError> {
    let listed = list_objects(target).await?;
    let prefix: Vec<String> = target
        .path
        .parts()
        .map(|p| p.as_ref().to_string())
        .collect();
    let mut count = 0;
    for meta in listed {
        let parts: Vec<String> = meta
            .location
            .parts()
            .map(|p| p.as_ref().to_string())
            .collect();
        let Some(rel) = parts.get(prefix.len()..).filter(|r| !r.is_empty()) else {
            continue;
        };
        let file = rel.iter().fold(dir.to_path_buf(), |p, part| p.join(part));
        if let Some(parent) = file.parent() {
            tokio::fs::create_dir_all(parent)
                .await
                .map_err(|e| ArtifactError::io("mkdir", parent, e))?;
        }
        let found = download_object(
            target.store.as_ref(),
            &meta.location,
            &file,
            &target.display,
        )
        .await?;
        count += usize::from(found);
    }
    Ok(count)
}

/// Uploads the local file `file` to `path` in `store`, streaming it.
pub(crate) async fn upload_file(
    store: &Arc<dyn ObjectStore>,
    path: &ObjectPath,
    file: &Path,
    display: &str,
) -> Result<(), ArtifactError> {
    let mut input = tokio::fs::File::open(file)
        .await
        .map_err(|e| ArtifactError::io("open", file, e))?;
    let mut writer = BufWriter::new(Arc::clone(store), path.clone());
    if let Err(e) = tokio::io::copy(&mut input, &mut writer).await {
        let _ = writer.abort().await;
        return Err(ArtifactError::Upload {
            what: display.to_string(),
            source: e,
        });
    }
    writer.shutdown().await.map_err(|e| ArtifactError::Upload {
        what: display.to_string(),
        source: e,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_endpoints_get_a_scheme() {
        let cases = [
            ("", false, None),
            ("minio:9000", true, Some("http://minio:9000")),
            ("s3.example.com", false, Some("https://s3.example.com")),
            (
                "http://127.0.0.1:8333/",
                false,
                Some("http://127.0.0.1:8333"),
            ),
        ];
        for (endpoint, insecure, expected) in cases {
            let s3 = S3Location {
                endpoint: endpoint.into(),
                insecure,
                ..S3Location::default()
            };
            assert_eq!(s3_endpoint_url(&s3).as_deref(), expected, "{endpoint}");
        }
    }

    #[test]
    fn keys_are_validated() {
        assert!(parse_key("wf/pod/out.tgz").is_ok());
        assert!(parse_key("/wf/pod/").is_ok());
        assert!(matches!(
            parse_key(""),
            Err(ArtifactError::InvalidKey { .. })
        ));
        assert!(matches!(
            parse_key("a/../b"),
            Err(ArtifactError::InvalidKey { .. })
        ));
    }
}
