//! Artifacts through the local repository, raw content and HTTP, with real files: Argo's archive
//! layout, round trips of files and directories, missing artifacts, and hostile archives.

use std::io::Read;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use controller::artifacts::{
    ArchiveMode, ArtifactDestination, ArtifactError, ArtifactSource, HttpHeader, fetch_artifact,
    read_artifact, store_artifact,
};
use futures::TryStreamExt;

fn local(root: &Path, key: &str) -> ArtifactDestination {
    ArtifactDestination::Local {
        root: root.to_path_buf(),
        key: key.into(),
    }
}

fn tar_names(tgz: &Path) -> Vec<String> {
    let file = std::fs::File::open(tgz).expect("open archive");
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    archive
        .entries()
        .expect("entries")
        .map(|e| {
            e.expect("entry")
                .path()
                .expect("path")
                .display()
                .to_string()
        })
        .collect()
}

/// Every path below `dir` with its content (`<dir>` for directories, `-> target` for links).
fn tree(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read_dir") {
            let path = entry.expect("entry").path();
            let rel = path
                .strip_prefix(dir)
                .expect("prefix")
                .display()
                .to_string();
            let meta = std::fs::symlink_metadata(&path).expect("stat");
            let content = if meta.file_type().is_symlink() {
                format!("-> {}", std::fs::read_link(&path).expect("link").display())
            } else if meta.is_dir() {
                stack.push(path.clone());
                "<dir>".to_string()
            } else {
                std::fs::read_to_string(&path).expect("read")
            };
            out.push((rel, content));
        }
    }
    out.sort();
    out
}

fn make_tree(root: &Path) {
    std::fs::create_dir_all(root.join("sub/deeper")).expect("mkdir");
    std::fs::write(root.join("a.txt"), "alpha\n").expect("write");
    std::fs::write(root.join("sub/b.txt"), "beta\n").expect("write");
    std::fs::write(root.join("sub/deeper/run.sh"), "#!/bin/sh\n").expect("write");
    std::fs::set_permissions(
        root.join("sub/deeper/run.sh"),
        std::fs::Permissions::from_mode(0o755),
    )
    .expect("chmod");
    std::os::unix::fs::symlink("sub/b.txt", root.join("link")).expect("symlink");
}

#[tokio::test]
async fn a_file_is_stored_as_argo_does_and_fetched_back() {
    let work = tempfile::tempdir().expect("tempdir");
    let repo = work.path().join("repo");
    let file = work.path().join("data.txt");
    std::fs::write(&file, "payload\n").expect("write");

    let location = store_artifact(
        &file,
        &local(&repo, "wf/pod/data.tgz"),
        &ArchiveMode::default(),
    )
    .await
    .expect("store");
    assert_eq!(tar_names(&repo.join("wf/pod/data.tgz")), vec!["data.txt"]);

    let dest = work.path().join("fetched/in.txt");
    fetch_artifact(&location, &dest).await.expect("fetch");
    assert_eq!(std::fs::read_to_string(&dest).expect("read"), "payload\n");
    assert!(!work.path().join("fetched/in.txt.tmp").exists());
    assert!(!work.path().join("fetched/in.txt.tmpdir").exists());
}

#[tokio::test]
async fn a_directory_round_trips_with_modes_and_links() {
    let work = tempfile::tempdir().expect("tempdir");
    let repo = work.path().join("repo");
    let src = work.path().join("out");
    make_tree(&src);

    let location = store_artifact(
        &src,
        &local(&repo, "wf/pod/out.tgz"),
        &ArchiveMode::default(),
    )
    .await
    .expect("store");
    assert_eq!(
        tar_names(&repo.join("wf/pod/out.tgz")),
        vec![
            "out",
            "out/a.txt",
            "out/link",
            "out/sub",
            "out/sub/b.txt",
            "out/sub/deeper",
            "out/sub/deeper/run.sh"
        ]
    );

    let dest = work.path().join("elsewhere/input");
    fetch_artifact(&location, &dest).await.expect("fetch");
    assert_eq!(tree(&dest), tree(&src));
    let mode = std::fs::metadata(dest.join("sub/deeper/run.sh"))
        .expect("stat")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o755);
}

#[tokio::test]
async fn unarchived_artifacts_are_stored_as_they_are() {
    let work = tempfile::tempdir().expect("tempdir");
    let repo = work.path().join("repo");
    let src = work.path().join("out");
    make_tree(&src);
    let file = src.join("a.txt");

    let file_location = store_artifact(&file, &local(&repo, "wf/pod/a.txt"), &ArchiveMode::None {})
        .await
        .expect("store file");
    assert_eq!(
        std::fs::read_to_string(repo.join("wf/pod/a.txt")).expect("read"),
        "alpha\n"
    );
    let dir_location = store_artifact(&src, &local(&repo, "wf/pod/tree"), &ArchiveMode::None {})
        .await
        .expect("store dir");
    assert_eq!(
        std::fs::read_to_string(repo.join("wf/pod/tree/sub/b.txt")).expect("read"),
        "beta\n"
    );

    let dest = work.path().join("in");
    fetch_artifact(&file_location, &dest.join("a"))
        .await
        .expect("fetch file");
    fetch_artifact(&dir_location, &dest.join("tree"))
        .await
        .expect("fetch dir");
    assert_eq!(
        std::fs::read_to_string(dest.join("a")).expect("read"),
        "alpha\n"
    );
    // Links are stored as the files they point to; files keep their layout.
    let got: Vec<String> = tree(&dest.join("tree"))
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    assert_eq!(
        got,
        vec![
            "a.txt",
            "link",
            "sub",
            "sub/b.txt",
            "sub/deeper",
            "sub/deeper/run.sh"
        ]
    );
    assert_eq!(
        std::fs::read_to_string(dest.join("tree/link")).expect("read"),
        "beta\n"
    );
}

#[tokio::test]
async fn compression_levels_are_honoured() {
    let work = tempfile::tempdir().expect("tempdir");
    let repo = work.path().join("repo");
    let file = work.path().join("big.txt");
    std::fs::write(&file, "abc".repeat(100_000)).expect("write");
    let size = |level| {
        let repo = repo.clone();
        let file = file.clone();
        async move {
            let key = format!("k{level}.tgz");
            let mode = ArchiveMode::Tar {
                compression_level: Some(level),
            };
            store_artifact(&file, &local(&repo, &key), &mode)
                .await
                .expect("store");
            std::fs::metadata(repo.join(key)).expect("stat").len()
        }
    };
    let (none, best) = (size(0).await, size(9).await);
    assert!(none > 300_000 && best < 10_000, "{none} {best}");
    let bad = ArchiveMode::Tar {
        compression_level: Some(12),
    };
    let err = store_artifact(&file, &local(&repo, "bad.tgz"), &bad)
        .await
        .expect_err("level 12");
    assert!(matches!(err, ArtifactError::CompressionLevel(12)), "{err}");
}

#[tokio::test]
async fn an_archive_of_several_entries_becomes_a_directory() {
    let work = tempfile::tempdir().expect("tempdir");
    let repo = work.path().join("repo");
    std::fs::create_dir_all(&repo).expect("mkdir");
    let tgz = repo.join("multi.tgz");
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        std::fs::File::create(&tgz).expect("create"),
        flate2::Compression::default(),
    ));
    for (name, data) in [("one.txt", "1"), ("two.txt", "2")] {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder
            .append_data(&mut header, name, data.as_bytes())
            .expect("append");
    }
    builder
        .into_inner()
        .expect("finish")
        .finish()
        .expect("gzip");

    let dest = work.path().join("in/multi");
    let source = ArtifactSource::Local {
        root: repo.clone(),
        key: "multi.tgz".into(),
    };
    fetch_artifact(&source, &dest).await.expect("fetch");
    assert_eq!(
        tree(&dest),
        vec![
            ("one.txt".to_string(), "1".to_string()),
            ("two.txt".to_string(), "2".to_string())
        ]
    );
}

/// A tar entry trying to escape: its name, its link target when it is a symlink, the expected error.
type HostileEntry = (&'static [u8], Option<&'static [u8]>, &'static str);

fn hostile_archive(path: &Path, name: &[u8], link: Option<&[u8]>) {
    let mut header = tar::Header::new_gnu();
    {
        let gnu = header.as_gnu_mut().expect("gnu header");
        gnu.name[..name.len()].copy_from_slice(name);
        if let Some(link) = link {
            gnu.linkname[..link.len()].copy_from_slice(link);
        }
    }
    header.set_entry_type(if link.is_some() {
        tar::EntryType::Symlink
    } else {
        tar::EntryType::Regular
    });
    header.set_size(if link.is_some() { 0 } else { 4 });
    header.set_mode(0o644);
    header.set_cksum();
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        std::fs::File::create(path).expect("create"),
        flate2::Compression::default(),
    ));
    let data: &[u8] = if link.is_some() { b"" } else { b"evil" };
    builder.append(&header, data).expect("append");
    builder
        .into_inner()
        .expect("finish")
        .finish()
        .expect("gzip");
}

#[tokio::test]
async fn archives_cannot_write_outside_their_destination() {
    // (entry name, symlink target, expected error)
    let cases: [HostileEntry; 3] = [
        (b"../escape.txt", None, "illegal file path"),
        (b"/abs.txt", None, "illegal file path"),
        (b"link", Some(b"../../../etc"), "illegal symlink target"),
    ];
    for (name, link, expected) in cases {
        let work = tempfile::tempdir().expect("tempdir");
        let repo = work.path().join("repo");
        std::fs::create_dir_all(&repo).expect("mkdir");
        hostile_archive(&repo.join("bad.tgz"), name, link);
        let source = ArtifactSource::Local {
            root: repo,
            key: "bad.tgz".into(),
        };
        let dest = work.path().join("in/x");
        let err = fetch_artifact(&source, &dest).await.expect_err("refused");
        assert!(err.to_string().contains(expected), "{err}");
        assert!(
            !work.path().join("escape.txt").exists() && !work.path().join("in/escape.txt").exists()
        );
    }
}

#[tokio::test]
async fn missing_artifacts_say_what_is_missing() {
    let work = tempfile::tempdir().expect("tempdir");
    let repo = work.path().join("repo");
    std::fs::create_dir_all(&repo).expect("mkdir");
    let source = ArtifactSource::Local {
        root: repo.clone(),
        key: "wf/none.tgz".into(),
    };
    let err = fetch_artifact(&source, &work.path().join("in"))
        .await
        .expect_err("missing");
    assert!(err.is_not_found(), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "{}: no such file or directory",
            repo.join("wf/none.tgz").display()
        )
    );
    assert!(!work.path().join("in.tmp").exists());

    let absent = work.path().join("never-written");
    let err = store_artifact(&absent, &local(&repo, "k.tgz"), &ArchiveMode::default())
        .await
        .expect_err("missing");
    assert!(err.is_not_found());
    assert_eq!(
        err.to_string(),
        format!("{}: no such file or directory", absent.display())
    );
}

#[tokio::test]
async fn raw_and_git_sources() {
    let work = tempfile::tempdir().expect("tempdir");
    let raw = ArtifactSource::Raw {
        data: "literal\ncontent".into(),
    };
    let dest = work.path().join("a/b/raw.txt");
    fetch_artifact(&raw, &dest).await.expect("raw");
    assert_eq!(
        std::fs::read_to_string(&dest).expect("read"),
        "literal\ncontent"
    );
    let chunks: Vec<_> = read_artifact(&raw)
        .await
        .expect("read")
        .try_collect()
        .await
        .expect("bytes");
    assert_eq!(chunks.concat(), b"literal\ncontent");

    let git = ArtifactSource::Git {
        repo: "https://example.invalid/r.git".into(),
        revision: None,
    };
    let err = fetch_artifact(&git, &work.path().join("src"))
        .await
        .expect_err("git");
    assert_eq!(err.to_string(), "git artifacts need the Kubernetes backend");
}

#[tokio::test]
async fn stored_artifacts_read_back_as_stored() {
    let work = tempfile::tempdir().expect("tempdir");
    let repo = work.path().join("repo");
    let file = work.path().join("f.txt");
    std::fs::write(&file, "x".repeat(3_000_000)).expect("write");
    let location = store_artifact(&file, &local(&repo, "f.tgz"), &ArchiveMode::default())
        .await
        .expect("store");
    let chunks: Vec<_> = read_artifact(&location)
        .await
        .expect("read")
        .try_collect()
        .await
        .expect("bytes");
    assert_eq!(
        chunks.concat(),
        std::fs::read(repo.join("f.tgz")).expect("read")
    );
    let missing = ArtifactSource::Local {
        root: repo,
        key: "nope".into(),
    };
    assert!(
        read_artifact(&missing)
            .await
            .err()
            .is_some_and(|e| e.is_not_found())
    );
}

/// A `python3 -m http.server` serving `dir` on a free port, stopped on drop.
struct HttpServer {
    child: Child,
    port: u16,
}

impl HttpServer {
    fn start(dir: &Path) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .expect("bind")
            .local_addr()
            .expect("addr")
            .port();
        let child = Command::new("python3")
            .args([
                "-m",
                "http.server",
                "--bind",
                "127.0.0.1",
                &port.to_string(),
            ])
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 is needed for the HTTP artifact test");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "the HTTP server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        HttpServer { child, port }
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn http_artifacts_are_downloaded_and_unpacked() {
    let work = tempfile::tempdir().expect("tempdir");
    let served = work.path().join("served");
    std::fs::create_dir_all(&served).expect("mkdir");
    std::fs::write(served.join("plain.txt"), "over http\n").expect("write");
    let src = work.path().join("pkg");
    make_tree(&src);
    store_artifact(&src, &local(&served, "pkg.tgz"), &ArchiveMode::default())
        .await
        .expect("store");
    let server = HttpServer::start(&served);
    let http = |name: &str| ArtifactSource::Http {
        url: format!("http://127.0.0.1:{}/{name}", server.port),
        headers: vec![HttpHeader {
            name: "X-Trellis".into(),
            value: "1".into(),
        }],
    };

    let dest = work.path().join("in");
    fetch_artifact(&http("plain.txt"), &dest.join("plain"))
        .await
        .expect("plain");
    assert_eq!(
        std::fs::read_to_string(dest.join("plain")).expect("read"),
        "over http\n"
    );
    fetch_artifact(&http("pkg.tgz"), &dest.join("pkg"))
        .await
        .expect("tgz");
    assert_eq!(tree(&dest.join("pkg")), tree(&src));

    let err = fetch_artifact(&http("missing"), &dest.join("m"))
        .await
        .expect_err("404");
    assert!(err.is_not_found(), "{err:?}");
    let mut body = String::new();
    let chunks: Vec<_> = read_artifact(&http("plain.txt"))
        .await
        .expect("read")
        .try_collect()
        .await
        .expect("bytes");
    chunks
        .concat()
        .as_slice()
        .read_to_string(&mut body)
        .expect("utf8");
    assert_eq!(body, "over http\n");
}
