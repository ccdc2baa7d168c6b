//! Tests of scopes and subjects: which targets a binding covers, and whom it names.

use crate::access::tests::{HEAD, SCOPED, groups, policy};
use crate::access::{Action, Subject, Target};

#[test]
fn scopes_need_every_list_and_one_glob_of_each() {
    let policy = policy(&format!("{HEAD}{SCOPED}"));
    let g = groups(&["release"]);
    let who = Subject::user("alice", None, &g);
    let wf = |ns: &str| Target::workflow(ns, Some("run-1"));
    let cases: Vec<(Target, bool)> = vec![
        (
            Target::workflow_template("team-a", "deploy", Some("ci")),
            true,
        ),
        (
            Target::workflow_template("team-a", "build-go", Some("ci/backend")),
            true,
        ),
        (
            Target::cron_workflow("team-b", "deploy", Some("ci/a/b")),
            true,
        ),
        (
            Target::workflow_template("prod", "deploy", Some("ci")),
            false,
        ),
        (
            Target::workflow_template("team-a", "deploy", Some("ops")),
            false,
        ),
        (Target::workflow_template("team-a", "deploy", None), false),
        (
            Target::workflow_template("team-a", "test", Some("ci")),
            false,
        ),
        (
            Target::cluster_workflow_template("deploy", Some("ci")),
            false,
        ),
        (wf("team-a").from_template("deploy", Some("ci")), true),
        (wf("team-a").from_template("deploy", Some("ops")), false),
        (wf("team-a"), false),
        (Target::namespace("team-a"), true),
        (Target::namespace("prod"), false),
        (Target::token("ci-bot"), false),
    ];
    for (target, expected) in cases {
        assert_eq!(
            policy.allows(&who, Action::Submit, &target),
            expected,
            "{target:?}"
        );
    }
}

#[test]
fn missing_values_match_only_lists_that_match_nothing_written() {
    let cases: &[(&str, Target, bool)] = &[
        (
            "namespaces: [\"*\"]",
            Target::cluster_workflow_template("build", None),
            true,
        ),
        (
            "namespaces: [\"**\"]",
            Target::cluster_workflow_template("build", None),
            true,
        ),
        (
            "namespaces: [\"team-*\"]",
            Target::cluster_workflow_template("build", None),
            false,
        ),
        ("folders: [\"\"]", Target::workflow("a", Some("x")), true),
        ("folders: [\"**\"]", Target::workflow("a", Some("x")), true),
        (
            "folders: [\"ci/**\"]",
            Target::workflow("a", Some("x")),
            false,
        ),
        (
            "folders: [\"\"]",
            Target::workflow_template("a", "t", Some("")),
            true,
        ),
        (
            "folders: [\"\"]",
            Target::workflow_template("a", "t", Some("ci")),
            false,
        ),
        ("templates: [\"*\"]", Target::workflow("a", Some("x")), true),
        (
            "templates: [\"**\"]",
            Target::workflow("a", Some("x")),
            true,
        ),
        (
            "templates: [deploy]",
            Target::workflow("a", Some("x")),
            false,
        ),
        ("namespaces: [\"*\"]", Target::token("bot"), true),
        ("folders: [\"\"]", Target::token("bot"), false),
        ("folders: [\"**\"]", Target::token("bot"), true),
        ("", Target::token("bot"), true),
    ];
    for (scope, target, expected) in cases {
        let source = format!(
            "{HEAD}bindings:\n- role: admin\n  subjects: [{{user: root}}]\n  scope: {{{scope}}}\n"
        );
        let policy = policy(&source);
        let who = Subject::user("root", None, &[]);
        assert_eq!(
            policy.allows(&who, Action::Read, target),
            *expected,
            "{scope} {target:?}"
        );
    }
}

#[test]
fn users_groups_and_tokens_match_their_own_entries() {
    let policy = policy(&format!(
        "{HEAD}bindings:
- {{name: people, role: viewer, subjects: [{{user: Alice@Example.com}}, {{user: bob}}, {{group: ops}}]}}
- {{name: bots, role: viewer, subjects: [{{token: ci-bot}}]}}
"
    ));
    let ops = groups(&["ops"]);
    let opps = groups(&["Ops"]);
    let cases: Vec<(Subject, bool)> = vec![
        (Subject::user("alice@example.com", None, &[]), true),
        (
            Subject::user("00u1a2b3", Some("ALICE@example.COM"), &[]),
            true,
        ),
        (Subject::user("BOB", None, &[]), true),
        (Subject::user("carol", None, &ops), true),
        (Subject::user("carol", None, &opps), false),
        (
            Subject::user("carol", Some("carol@example.com"), &[]),
            false,
        ),
        (Subject::user("ci-bot", None, &[]), false),
        (Subject::token("ci-bot"), true),
        (Subject::token("bob"), false),
        (Subject::token("ops"), false),
    ];
    let target = Target::workflow("any", Some("run"));
    for (who, expected) in cases {
        assert_eq!(
            policy.allows(&who, Action::Read, &target),
            expected,
            "{who}"
        );
    }
}

#[test]
fn namespaces_are_visible_through_any_binding_that_could_reach_them() {
    let policy = policy(&format!(
        "{HEAD}bindings:
- {{role: viewer, subjects: [{{group: dev}}], scope: {{namespaces: [\"team-*\"], folders: [ci]}}}}
- {{role: admin, subjects: [{{group: root}}], scope: {{folders: [ops]}}}}
"
    ));
    let dev = groups(&["dev"]);
    let root = groups(&["root"]);
    let cases: &[(&[String], &str, bool)] = &[
        (&dev, "team-a", true),
        (&dev, "prod", false),
        (&root, "prod", true),
        (&[], "team-a", false),
    ];
    for (g, ns, expected) in cases {
        let who = Subject::user("u", None, g);
        assert_eq!(policy.visible_namespace(&who, ns), *expected, "{g:?} {ns}");
        let target = Target::namespace(ns);
        assert_eq!(
            policy.allows(&who, Action::Read, &target),
            *expected,
            "{g:?} {ns}"
        );
    }
}
