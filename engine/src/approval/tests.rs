//! Approval rules: parsing, who may approve and why not, supplied fields and their values.

use std::collections::BTreeMap;

use super::*;
use crate::model::NodeStatus;

fn rule(approvers: Option<&str>, no_self: Option<&str>) -> Result<ApprovalRule, RuleError> {
    let mut a = BTreeMap::new();
    if let Some(v) = approvers {
        a.insert(ANNOTATION_APPROVERS.to_string(), v.to_string());
    }
    if let Some(v) = no_self {
        a.insert(ANNOTATION_NO_SELF.to_string(), v.to_string());
    }
    ApprovalRule::from_annotations(Some(&a))
}

fn groups(g: &[&str]) -> Vec<String> {
    g.iter().map(|s| s.to_string()).collect()
}

const GATE: Gate<'static> = Gate {
    step: "approve",
    run: "deploy-x",
    submitter: Some("bob"),
};

#[test]
fn approvers_parse_users_groups_and_bare_names() {
    let r = rule(Some(" group:release, user:alice ,carol"), Some("true")).unwrap();
    assert_eq!(
        r.approvers,
        [
            Approver::Group("release".into()),
            Approver::User("alice".into()),
            Approver::User("carol".into())
        ]
    );
    assert!(r.no_self);
    assert_eq!(
        r.approver_names(),
        ["group:release", "user:alice", "user:carol"]
    );
    assert_eq!(
        ApprovalRule::from_annotations(None).unwrap(),
        ApprovalRule::default()
    );
    assert!(ApprovalRule::default().is_open());
    assert!(!rule(None, Some("false")).unwrap().no_self);
}

#[test]
fn malformed_annotations_say_what_is_wrong() {
    for (approvers, no_self, says) in [
        (
            Some("team:x"),
            None,
            "`team:x` in `trellis.dev/approvers` is neither `user:NAME` nor `group:NAME` (unknown kind `team`)",
        ),
        (
            Some("alice,,bob"),
            None,
            "entry 2 of `trellis.dev/approvers` is empty (a stray comma?)",
        ),
        (
            Some("alice,"),
            None,
            "entry 2 of `trellis.dev/approvers` is empty",
        ),
        (
            Some("group:"),
            None,
            "`group:` in `trellis.dev/approvers` has no name after the colon",
        ),
        (Some("  "), None, "`trellis.dev/approvers` names no one"),
        (
            None,
            Some("yes"),
            "`trellis.dev/approval-no-self` must be \"true\" or \"false\", not \"yes\"",
        ),
    ] {
        let err = rule(approvers, no_self).unwrap_err().to_string();
        assert!(err.starts_with(says), "{approvers:?} {no_self:?}: {err}");
    }
}

#[test]
fn only_listed_users_and_group_members_may_approve() {
    let r = rule(Some("group:release, user:alice"), None).unwrap();
    let (release, dev) = (groups(&["dev", "release"]), groups(&["dev"]));
    let who = |subject, groups| Actor { subject, groups };
    assert_eq!(r.check(&who("alice", &[]), &GATE), Ok(()));
    assert_eq!(r.check(&who("dave", &release), &GATE), Ok(()));
    let err = r.check(&who("bob", &dev), &GATE).unwrap_err();
    assert_eq!(
        err.to_string(),
        "only group:release or user:alice may approve step `approve` of run `deploy-x`; \
         you are user:bob (groups: dev)"
    );
    let err = r.check(&who("eve", &[]), &GATE).unwrap_err().to_string();
    assert!(err.ends_with("you are user:eve (no groups)"), "{err}");
    let three = rule(Some("group:a,group:b,user:c"), None).unwrap();
    let err = three.check(&who("x", &[]), &GATE).unwrap_err().to_string();
    assert!(
        err.starts_with("only group:a, group:b or user:c may"),
        "{err}"
    );
    assert_eq!(
        ApprovalRule::default().check(&who("anyone", &[]), &GATE),
        Ok(())
    );
}

#[test]
fn no_self_forbids_the_submitter_only() {
    let r = rule(None, Some("true")).unwrap();
    let err = r
        .check(
            &Actor {
                subject: "bob",
                groups: &[],
            },
            &GATE,
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "`trellis.dev/approval-no-self` forbids the run's submitter (bob) from approving it"
    );
    assert_eq!(
        r.check(
            &Actor {
                subject: "alice",
                groups: &[]
            },
            &GATE
        ),
        Ok(())
    );
    let unknown = Gate {
        submitter: None,
        ..GATE
    };
    assert_eq!(
        r.check(
            &Actor {
                subject: "bob",
                groups: &[]
            },
            &unknown
        ),
        Ok(())
    );
    // The submitter is compared as the label the server wrote for them.
    let sso = Gate {
        submitter: Some("bob-example.com"),
        ..GATE
    };
    assert!(
        r.check(
            &Actor {
                subject: "bob@example.com",
                groups: &[]
            },
            &sso
        )
        .is_err()
    );
}

#[test]
fn label_values_are_made_like_argo_creator_labels() {
    for (given, want) in [
        ("alice", "alice"),
        ("bob@example.com", "bob-example.com"),
        ("CN=Alice Smith", "CN-Alice-Smith"),
        ("--x--", "x"),
        (
            "system:serviceaccount:argo:default",
            "system-serviceaccount-argo-default",
        ),
        ("", ""),
    ] {
        assert_eq!(label_value(given), want, "{given}");
    }
    let long = format!("{}z", "a".repeat(70));
    assert_eq!(label_value(&long).len(), 63);
    assert!(label_value(&long).ends_with('z'));
}

fn gate_template() -> Template {
    serde_json::from_value(serde_json::json!({
        "name": "gate",
        "suspend": {},
        "inputs": {"parameters": [
            {"name": "strategy", "value": "rolling", "enum": ["rolling", "canary"],
             "description": "How to roll out."}
        ]},
        "outputs": {"parameters": [
            {"name": "strategy", "valueFrom": {"supplied": {}}},
            {"name": "env", "valueFrom": {"supplied": {}, "default": "staging"},
             "enum": ["staging", "prod"]},
            {"name": "computed", "valueFrom": {"path": "/tmp/x"}}
        ]}
    }))
    .unwrap()
}

#[test]
fn supplied_fields_borrow_from_same_named_inputs() {
    let t = gate_template();
    let fields = supplied_fields(Some(&t), &NodeStatus::default());
    assert_eq!(
        fields,
        [
            SuppliedField {
                name: "strategy".into(),
                default: Some("rolling".into()),
                enum_values: vec!["rolling".into(), "canary".into()],
                description: Some("How to roll out.".into()),
            },
            SuppliedField {
                name: "env".into(),
                default: Some("staging".into()),
                enum_values: vec!["staging".into(), "prod".into()],
                description: None,
            },
        ]
    );
    assert!(supplied_fields(None, &NodeStatus::default()).is_empty());
}

#[test]
fn values_outside_an_enum_are_refused() {
    let fields = supplied_fields(Some(&gate_template()), &NodeStatus::default());
    let values = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    assert_eq!(
        check_values(&fields, "approve", &values(&[("env", "prod")])),
        Ok(())
    );
    assert_eq!(
        check_values(&fields, "approve", &values(&[("other", "x")])),
        Ok(())
    );
    let err = check_values(&fields, "approve", &values(&[("env", "qa")])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "\"qa\" is not a value step `approve` accepts for `env`: use one of staging, prod"
    );
}
