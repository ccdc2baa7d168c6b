//! Tests of `engine::ops` on planned workflows: approving a suspend step with supplied values,
//! rejecting it, resuming everything, and the errors that leave the status untouched.

#[path = "plan/harness.rs"]
mod harness;

use std::collections::BTreeMap;

use engine::model::{NodePhase, Workflow, WorkflowPhase};
use engine::ops::{
    NodeSelector, NodeUpdate, OpError, resume_all, resume_checked, update_suspended,
};
use harness::{Outcome, Sim};

const APPROVAL: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: rel}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: approve, template: gate}
    - - name: deploy
        template: echo
        arguments: {parameters: [{name: msg, value: "{{steps.approve.outputs.parameters.env}}"}]}
  - name: gate
    suspend: {}
    outputs:
      parameters:
      - {name: env, valueFrom: {supplied: {}, default: staging}, globalName: target}
      - {name: note, valueFrom: {supplied: {}}}
  - name: echo
    inputs: {parameters: [{name: msg}]}
    container: {image: alpine, command: [echo, "{{inputs.parameters.msg}}"]}
"#;

/// Applies an operation to the sim's status the way a backend does: on a Workflow holding it.
fn apply(
    s: &mut Sim,
    op: impl FnOnce(&mut Workflow, &engine::plan::ResolvedWorkflow) -> Result<Vec<String>, OpError>,
) -> Result<Vec<String>, OpError> {
    let mut wf = Workflow {
        status: Some(s.status.clone()),
        spec: Some(s.wf.spec.clone()),
        ..Default::default()
    };
    let r = op(&mut wf, &s.wf);
    s.status = wf.status.unwrap_or_default();
    r
}

fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn approving_with_values_resumes_the_step_and_feeds_the_next() {
    let mut s = Sim::new(APPROVAL);
    s.tick();
    assert_eq!(s.phase("rel[0].approve"), NodePhase::Running);
    let sel = NodeSelector::parse("displayName=approve").unwrap();
    let update = NodeUpdate {
        phase: Some(NodePhase::Succeeded),
        message: Some("approved by alice".into()),
        outputs: values(&[("env", "prod"), ("note", "go")]),
    };
    let ids = apply(&mut s, |wf, r| {
        update_suspended(wf, r, &sel, &update, "2026-01-01T00:00:05Z")
    })
    .unwrap();
    assert_eq!(ids.len(), 1);
    s.tick();
    let approve = s.node("rel[0].approve");
    assert_eq!(approve.phase, Some(NodePhase::Succeeded));
    assert_eq!(approve.message.as_deref(), Some("approved by alice"));
    assert_eq!(approve.finished_at.as_deref(), Some("2026-01-01T00:00:05Z"));
    let launches = s.launches();
    assert_eq!(launches.len(), 1);
    assert_eq!(harness::command(&launches[0]), vec!["echo", "prod"]);
    assert_eq!(s.run(&|_| Outcome::ok()), WorkflowPhase::Succeeded);
    assert_eq!(
        s.first_global_output(),
        (Some("target".into()), Some("prod".into()))
    );
}

#[test]
fn resume_all_uses_defaults_and_fails_on_a_supplied_output_without_one() {
    let mut s = Sim::new(APPROVAL);
    s.tick();
    let before = s.status.clone();
    let err = apply(&mut s, |wf, r| resume_all(wf, r, "2026-01-01T00:00:05Z")).unwrap_err();
    assert_eq!(err, OpError::NoDefault("note".into()));
    assert_eq!(s.status, before, "nothing changed");

    let sel = NodeSelector::parse("displayName=approve").unwrap();
    let only_note = NodeUpdate {
        outputs: values(&[("note", "n")]),
        ..Default::default()
    };
    apply(&mut s, |wf, r| {
        update_suspended(wf, r, &sel, &only_note, "2026-01-01T00:00:01Z")
    })
    .unwrap();
    assert_eq!(
        s.phase("rel[0].approve"),
        NodePhase::Running,
        "values alone do not resume"
    );
    apply(&mut s, |wf, r| resume_all(wf, r, "2026-01-01T00:00:05Z")).unwrap();
    s.tick();
    assert_eq!(harness::command(&s.launches()[0]), vec!["echo", "staging"]);
}

#[test]
fn rejecting_fails_the_step_and_the_workflow() {
    let mut s = Sim::new(APPROVAL);
    s.tick();
    let sel = NodeSelector::parse("displayName=approve").unwrap();
    let reject = NodeUpdate {
        phase: Some(NodePhase::Failed),
        message: Some("not today".into()),
        ..Default::default()
    };
    apply(&mut s, |wf, r| {
        update_suspended(wf, r, &sel, &reject, "2026-01-01T00:00:05Z")
    })
    .unwrap();
    s.tick();
    assert_eq!(s.phase("rel[0].approve"), NodePhase::Failed);
    assert_eq!(s.status.phase, Some(WorkflowPhase::Failed));
    assert!(s.launches().is_empty());
}

#[test]
fn errors_leave_the_status_as_it_was() {
    let mut s = Sim::new(APPROVAL);
    s.tick();
    let before = s.status.clone();
    let cases: Vec<(&str, BTreeMap<String, String>, OpError)> = vec![
        (
            "displayName=nope",
            BTreeMap::new(),
            OpError::NoSuspendedNode("displayName=nope".into()),
        ),
        (
            "displayName=approve",
            values(&[("colour", "red")]),
            OpError::UnknownOutput {
                node: "approve".into(),
                name: "colour".into(),
            },
        ),
    ];
    for (sel, outputs, want) in cases {
        let sel = NodeSelector::parse(sel).unwrap();
        let update = NodeUpdate {
            phase: Some(NodePhase::Succeeded),
            outputs,
            ..Default::default()
        };
        let err = apply(&mut s, |wf, r| {
            update_suspended(wf, r, &sel, &update, "2026-01-01T00:00:05Z")
        })
        .unwrap_err();
        assert_eq!(err, want);
        assert_eq!(s.status, before);
    }
}

#[test]
fn a_checked_resume_releases_nothing_it_did_not_check() {
    let mut s = Sim::new(APPROVAL);
    s.tick();
    let waiting = s.node("rel[0].approve").id.clone().unwrap();
    let sel = NodeSelector::parse("displayName=approve").unwrap();
    let note = NodeUpdate {
        outputs: values(&[("note", "n")]),
        ..Default::default()
    };
    apply(&mut s, |wf, r| {
        update_suspended(wf, r, &sel, &note, "2026-01-01T00:00:01Z")
    })
    .unwrap();
    let before = s.status.clone();
    let err = apply(&mut s, |wf, r| {
        resume_checked(wf, r, &[], "2026-01-01T00:00:05Z")
    })
    .unwrap_err();
    assert_eq!(err, OpError::Unchecked("approve".into()));
    assert_eq!(s.status, before, "nothing changed");
    let ids = apply(&mut s, |wf, r| {
        resume_checked(
            wf,
            r,
            std::slice::from_ref(&waiting),
            "2026-01-01T00:00:05Z",
        )
    })
    .unwrap();
    assert_eq!(ids, [waiting]);
    assert_eq!(s.phase("rel[0].approve"), NodePhase::Succeeded);
}
