//! Tests of access decisions: the role table, scopes, subjects, explanations and targets.

use super::*;

/// The role table of the documentation, written independently of `Role::actions`.
const TABLE: &[(&str, &[&str])] = &[
    ("viewer", &["read"]),
    ("runner", &["read", "submit", "retry", "resubmit", "stop"]),
    ("approver", &["read", "approve"]),
    (
        "admin",
        &[
            "read", "submit", "retry", "resubmit", "stop", "approve", "manage", "delete", "tokens",
        ],
    ),
];

/// Parses a policy that must be valid.
pub(super) fn policy(source: &str) -> Policy {
    match parse_policy(source) {
        Ok(p) => p,
        Err(diags) => panic!("{diags:#?}"),
    }
}

/// The header of every policy file.
pub(super) const HEAD: &str = "apiVersion: trellis.dev/v1\nkind: Policy\n";

/// Group names as an identity carries them.
pub(super) fn groups(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

#[test]
fn every_role_allows_exactly_its_actions() {
    let mut source = format!("{HEAD}bindings:\n");
    for (role, _) in TABLE {
        source.push_str(&format!(
            "- {{name: {role}s, role: {role}, subjects: [{{group: {role}s}}]}}\n"
        ));
    }
    let policy = policy(&source);
    let target = Target::workflow_template("team-a", "deploy", Some("ci"));
    for role in Role::ALL {
        let (_, allowed) = TABLE.iter().find(|(n, _)| *n == role.name()).unwrap();
        let member = groups(&[&format!("{}s", role.name())]);
        let who = Subject::user("someone", None, &member);
        for action in Action::ALL {
            let expected = allowed.contains(&action.name());
            assert_eq!(role.allows(action), expected, "{role} {action}");
            assert_eq!(
                role.actions().contains(&action),
                expected,
                "{role} {action}"
            );
            assert_eq!(
                policy.allows(&who, action, &target),
                expected,
                "{role} {action}"
            );
            let decision = policy.decide(&who, action, &target);
            assert_eq!(decision.allowed, expected, "{role} {action}");
            if expected {
                assert_eq!(
                    decision.binding.as_deref(),
                    Some(format!("{role}s").as_str())
                );
            } else {
                let phrase = format!("grants {role}, which does not allow {action}");
                assert!(
                    decision.explain().contains(&phrase),
                    "{}",
                    decision.explain()
                );
            }
        }
    }
}

#[test]
fn names_round_trip_and_typos_get_suggestions() {
    for action in Action::ALL {
        assert_eq!(action.name().parse::<Action>(), Ok(action));
        assert_eq!(action.to_string(), action.name());
    }
    for role in Role::ALL {
        assert_eq!(role.name().parse::<Role>(), Ok(role));
    }
    let cases: &[(&str, bool, Option<&str>)] = &[
        ("aprove", true, Some("approve")),
        ("Submit", true, Some("submit")),
        ("frobnicate", true, None),
        ("runer", false, Some("runner")),
        ("admn", false, Some("admin")),
        ("owner", false, None),
    ];
    for &(given, is_action, suggestion) in cases {
        let err = if is_action {
            given.parse::<Action>().unwrap_err()
        } else {
            given.parse::<Role>().unwrap_err()
        };
        assert_eq!(err.suggestion, suggestion, "{given}");
        let text = err.to_string();
        assert!(
            text.starts_with(&format!("unknown {} `{given}`", err.what)),
            "{text}"
        );
        match suggestion {
            Some(s) => assert!(text.contains(&format!("did you mean `{s}`?")), "{text}"),
            None => assert!(text.contains("use one of"), "{text}"),
        }
    }
}

/// A runner binding of group `release` scoped by all three lists.
pub(super) const SCOPED: &str = "bindings:
- name: release-team
  role: runner
  subjects: [{group: release}]
  scope:
    namespaces: [\"team-*\"]
    folders: [\"ci/**\"]
    templates: [deploy, \"build-*\"]
";

#[test]
fn denied_by_default_with_the_reason() {
    let who = Subject::user("alice", None, &[]);
    let target = Target::workflow("a", Some("r"));
    for source in [
        format!("{HEAD}bindings: []\n"),
        format!("{HEAD}bindings:\n"),
    ] {
        let empty = policy(&source);
        for action in Action::ALL {
            assert!(!empty.allows(&who, action, &target));
        }
        assert!(!empty.visible_namespace(&who, "a"));
    }
    let g = groups(&["a", "b"]);
    let who = Subject::user("alice", None, &g);
    let decision = policy(&format!("{HEAD}{SCOPED}")).decide(&who, Action::Read, &target);
    assert!(!decision.allowed);
    assert_eq!(decision.binding, None);
    assert_eq!(
        decision.reasons,
        ["no binding names you (user alice, groups [a, b]): deny by default"]
    );
    assert_eq!(
        decision.explain(),
        "denied: read on workflow/a/r: no binding names you (user alice, groups [a, b]): deny by default"
    );
}

#[test]
fn explanations_say_which_binding_and_why() {
    let policy = policy(&format!(
        "{HEAD}{SCOPED}- {{name: approvers, role: approver, subjects: [{{user: alice@example.com}}]}}\n"
    ));
    let g = groups(&["release"]);
    let alice = Subject::user("alice@example.com", None, &g);
    let carol = Subject::user("carol", None, &[]);
    let prod = Target::workflow_template("prod", "deploy", Some("ops"));
    let team = Target::workflow_template("team-a", "deploy", Some("ci"));
    let run = Target::workflow("team-a", Some("r"));
    let cluster = Target::cluster_workflow_template("deploy", Some("ci"));
    let cases: Vec<(&Subject, Action, &Target, bool, &[&str])> = vec![
        (
            &alice,
            Action::Submit,
            &team,
            true,
            &[
                "allowed by binding \"release-team\": role runner allows submit on workflowtemplate/team-a/deploy",
            ],
        ),
        (
            &alice,
            Action::Submit,
            &prod,
            false,
            &[
                "denied: submit on workflowtemplate/prod/deploy:\n",
                "binding \"release-team\" (runner): covers namespaces [team-*], not \"prod\" and covers folders [ci/**], not \"ops\"",
                "binding \"approvers\" (approver): grants approver, which does not allow submit",
            ],
        ),
        (
            &alice,
            Action::Approve,
            &prod,
            true,
            &["allowed by binding \"approvers\""],
        ),
        (
            &alice,
            Action::Manage,
            &team,
            false,
            &["binding \"release-team\" (runner): grants runner, which does not allow manage"],
        ),
        (
            &carol,
            Action::Read,
            &team,
            false,
            &["no binding names you (user carol, groups []): deny by default"],
        ),
        (
            &alice,
            Action::Submit,
            &run,
            false,
            &[
                "covers folders [ci/**], not the top level (no folder) and covers templates [deploy, build-*], and workflow/team-a/r has no template",
            ],
        ),
        (
            &alice,
            Action::Read,
            &cluster,
            true,
            &["allowed by binding \"approvers\""],
        ),
        (
            &alice,
            Action::Submit,
            &cluster,
            false,
            &["covers namespaces [team-*], and clusterworkflowtemplate/deploy has no namespace"],
        ),
    ];
    for (who, action, target, allowed, phrases) in cases {
        let decision = policy.decide(who, action, target);
        assert_eq!(decision.allowed, allowed, "{}", decision.explain());
        let text = decision.explain();
        for phrase in phrases {
            assert!(text.contains(phrase), "missing {phrase:?} in:\n{text}");
        }
    }
    let dave = Subject::user("dave", None, &g);
    let text = policy.decide(&dave, Action::Approve, &team).explain();
    assert!(
        text.contains("binding \"approvers\" (approver): its subjects do not include you (user dave, groups [release])"),
        "{text}"
    );
}

#[test]
fn allow_all_allows_everything_and_says_so() {
    let policy = Policy::allow_all();
    let who = Subject::token("anything");
    for action in Action::ALL {
        let target = Target::token("t");
        assert!(policy.allows(&who, action, &target));
        let decision = policy.decide(&who, action, &target);
        assert!(decision.allowed);
        assert_eq!(
            decision.explain(),
            "no policy: the server allows every request"
        );
    }
    assert!(policy.visible_namespace(&who, "x"));
    assert!(!Policy::default().allows(&who, Action::Read, &Target::namespace("x")));
}

#[test]
fn allows_agrees_with_decide_everywhere() {
    let policy = policy(&format!(
        "{HEAD}{SCOPED}- {{role: approver, subjects: [{{user: alice}}], scope: {{templates: [\"dep*\"]}}}}
- {{role: viewer, subjects: [{{group: all}}], scope: {{folders: [\"\", \"**/docs\"]}}}}
- {{role: admin, subjects: [{{token: root-bot}}], scope: {{namespaces: [\"*\"]}}}}
- {{role: runner, subjects: [{{group: all}}], scope: {{namespaces: [prod], templates: [\"**\"]}}}}
"
    ));
    let g1 = groups(&["release"]);
    let g2 = groups(&["all", "release"]);
    let subjects = [
        Subject::user("alice", None, &[]),
        Subject::user("bob", Some("ALICE"), &g1),
        Subject::user("carol", None, &g2),
        Subject::token("root-bot"),
        Subject::token("alice"),
    ];
    let namespaces = ["team-a", "prod", "team-"];
    let folders = [
        None,
        Some(""),
        Some("ci"),
        Some("ci/x"),
        Some("a/docs"),
        Some("ops"),
    ];
    let templates = ["deploy", "build-go", "test"];
    let mut targets = vec![Target::token("t")];
    for ns in namespaces {
        targets.push(Target::namespace(ns));
        targets.push(Target::workflow(ns, None));
        for folder in folders {
            for t in templates {
                targets.push(Target::workflow_template(ns, t, folder));
                targets.push(Target::cron_workflow(ns, t, folder));
                targets.push(Target::cluster_workflow_template(t, folder));
                targets.push(Target::workflow(ns, Some("r")).from_template(t, folder));
            }
        }
    }
    let mut allowed = 0;
    for who in &subjects {
        for action in Action::ALL {
            for target in &targets {
                let fast = policy.allows(who, action, target);
                let decision = policy.decide(who, action, target);
                assert_eq!(fast, decision.allowed, "{who} {action} {target:?}");
                assert_eq!(decision.binding.is_some(), fast);
                assert!(!decision.reasons.is_empty());
                allowed += usize::from(fast);
            }
        }
    }
    let total = subjects.len() * Action::ALL.len() * targets.len();
    assert!(allowed > 0 && allowed < total, "{allowed} of {total}");
}
