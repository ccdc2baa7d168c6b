//! Tests of policy parsing: positions, messages and suggestions of every kind of mistake.

use super::*;
use crate::access::Member;

const HEAD: &str = "apiVersion: trellis.dev/v1\nkind: Policy\n";

fn policy(source: &str) -> Policy {
    match parse_policy(source) {
        Ok(p) => p,
        Err(diags) => panic!("{diags:#?}"),
    }
}

fn errors(source: &str) -> Vec<Diagnostic> {
    match parse_policy(source) {
        Ok(p) => panic!("parsed: {p:#?}"),
        Err(diags) => diags,
    }
}

#[test]
fn parse_errors_point_at_their_line() {
    let cases: &[(&str, &str, u32, &str, &str)] = &[
        ("a: [1\n", "yaml-syntax", 2, "invalid YAML", ""),
        (
            "apiVersion: trellis.dev/v2\nkind: Policy\nbindings: []\n",
            "policy-header",
            1,
            "`trellis.dev/v2` is not a policy's apiVersion",
            "use `apiVersion: trellis.dev/v1`",
        ),
        (
            "apiVersion: trellis.dev/v1\nkind: Role\nbindings: []\n",
            "policy-header",
            2,
            "`Role` is not a policy's kind",
            "use `kind: Policy`",
        ),
        (
            "kind: Policy\nbindings: []\n",
            "policy-header",
            1,
            "the policy has no `apiVersion`",
            "trellis.dev/v1",
        ),
        (
            "apiVersion: trellis.dev/v1\nkind: Policy\nbinding: []\n",
            "unknown-field",
            3,
            "unknown field `binding` in the policy",
            "did you mean `bindings`?",
        ),
        (
            "apiVersion: trellis.dev/v1\nkind: Policy\n",
            "missing-bindings",
            1,
            "no `bindings`",
            "bindings: []",
        ),
        (
            "apiVersion: trellis.dev/v1\nkind: Policy\nbindings: {a: 1}\n",
            "invalid-value",
            3,
            "must be a list",
            "",
        ),
        (
            "bindings:\n- rol: runner\n  role: runner\n  subjects: [{user: a}]\n",
            "unknown-field",
            4,
            "unknown field `rol` in a binding",
            "did you mean `role`?",
        ),
        (
            "bindings:\n- role: runer\n  subjects: [{user: a}]\n",
            "unknown-role",
            4,
            "unknown role `runer`",
            "did you mean `runner`? (one of `viewer`, `runner`, `approver` or `admin`)",
        ),
        (
            "bindings:\n- role: owner\n  subjects: [{user: a}]\n",
            "unknown-role",
            4,
            "unknown role `owner`",
            "use one of `viewer`",
        ),
        (
            "bindings:\n- subjects: [{user: a}]\n",
            "missing-role",
            4,
            "no `role`",
            "`viewer`",
        ),
        (
            "bindings:\n- role: admin\n  subjects: []\n",
            "empty-subjects",
            5,
            "no subjects",
            "at least one",
        ),
        (
            "bindings:\n- role: admin\n",
            "empty-subjects",
            4,
            "no subjects",
            "",
        ),
        (
            "bindings:\n- role: admin\n  subjects:\n  - {}\n",
            "subject-kind",
            6,
            "needs one of `user`, `group` or `token`",
            "- group: NAME",
        ),
        (
            "bindings:\n- role: admin\n  subjects:\n  - {user: a, group: b}\n",
            "subject-kind",
            6,
            "not `user` and `group`",
            "own list item",
        ),
        (
            "bindings:\n- role: admin\n  subjects:\n  - alice\n",
            "invalid-value",
            6,
            "expected a mapping (a subject), found `alice`",
            "- user: NAME",
        ),
        (
            "bindings:\n- role: admin\n  subjects:\n  - {usr: a}\n",
            "unknown-field",
            6,
            "unknown field `usr` in a subject",
            "did you mean `user`?",
        ),
        (
            "bindings:\n- role: admin\n  subjects: [{user: ''}]\n",
            "empty-subject",
            5,
            "`user` is empty",
            "",
        ),
        (
            "bindings:\n- role: admin\n  subjects: [{user: a}]\n  scope:\n    namespace: [x]\n",
            "unknown-field",
            7,
            "unknown field `namespace` in a scope",
            "did you mean `namespaces`?",
        ),
        (
            "bindings:\n- role: admin\n  subjects: [{user: a}]\n  scope:\n    namespaces: x\n",
            "invalid-value",
            7,
            "expected a list, found `x`",
            "",
        ),
        (
            "bindings:\n- role: admin\n  subjects: [{user: a}]\n  scope:\n    folders:\n    - ci\n    - \"***\"\n",
            "invalid-glob",
            9,
            "invalid glob \"***\" in `folders`: `***` is not a wildcard",
            "`**` any path",
        ),
        (
            "bindings:\n- role: admin\n  subjects: [{user: a}]\n  scope: {namespaces: [\"\"]}\n",
            "invalid-glob",
            6,
            "invalid glob \"\" in `namespaces`: an empty pattern matches no name",
            "",
        ),
        (
            "bindings:\n- role: admin\n  subjects: [{user: a}]\n  scope: {templates: []}\n",
            "empty-scope",
            6,
            "an empty `templates` list matches nothing",
            "remove `templates`",
        ),
        (
            "bindings:\n- {name: a, role: admin, subjects: [{user: a}]}\n- {name: a, role: viewer, subjects: [{user: b}]}\n",
            "duplicate-binding",
            5,
            "two bindings are named \"a\"",
            "the first is at line 4",
        ),
        (
            "bindings:\n- {role: admin, role: viewer, subjects: [{user: a}]}\n",
            "duplicate-key",
            4,
            "role",
            "ambiguous",
        ),
    ];
    for (body, code, line, message, help) in cases {
        let source =
            if body.contains("apiVersion") || body.contains("kind:") || body.starts_with("a:") {
                body.to_string()
            } else {
                format!("{HEAD}{body}")
            };
        let diags = errors(&source);
        let diag = diags
            .iter()
            .find(|d| d.code == *code)
            .unwrap_or_else(|| panic!("no {code} in {diags:#?}"));
        assert!(diag.is_error());
        assert_eq!(
            diag.span.map(|s| s.start.line),
            Some(*line),
            "{code}: {diag:#?}"
        );
        assert!(diag.message.contains(message), "{code}: {}", diag.message);
        let got = diag.help.as_deref().unwrap_or_default();
        assert!(got.contains(help), "{code}: help {got:?}");
    }
}

#[test]
fn every_problem_is_reported_at_once() {
    let source = format!(
        "{HEAD}bindings:
- name: a
  rol: runner
  subjects: []
- name: b
  role: viewr
  subjects: [{{group: x}}]
  scope: {{folders: [\"ci//x\"], templates: [\"team-**\"]}}
"
    );
    let diags = errors(&source);
    let found: Vec<(&str, u32)> = diags
        .iter()
        .map(|d| (d.code, d.span.unwrap().start.line))
        .collect();
    assert_eq!(
        found,
        [
            ("unknown-field", 5),
            ("missing-role", 4),
            ("empty-subjects", 6),
            ("unknown-role", 8),
            ("invalid-glob", 10),
            ("invalid-glob", 10),
        ]
    );
    let text = crate::diag::render(&diags[0], "policy.yaml", &source, false);
    assert!(text.contains("--> policy.yaml:5:3"), "{text}");
    assert!(text.contains("help: did you mean `role`?"), "{text}");
}

#[test]
fn a_small_team_policy_reads_and_keeps_its_order() {
    let policy = policy(&format!(
        "{HEAD}bindings:
- name: everyone
  role: viewer
  subjects: [{{group: staff}}]
- role: admin
  subjects: [{{user: root@example.com}}, {{token: ops-bot}}]
"
    ));
    let names: Vec<&str> = policy.bindings().iter().map(|b| b.name.as_str()).collect();
    assert_eq!(names, ["everyone", "bindings[1]"]);
    assert_eq!(
        policy.bindings()[1].subjects[1],
        Member::Token("ops-bot".into())
    );
    assert!(!policy.is_allow_all());
}
