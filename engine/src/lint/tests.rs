//! Rule tests: small manifests, one mistake each.

use super::{Source, check};
use crate::diag::Severity;

fn lint(text: &str) -> Vec<(Severity, &'static str, String)> {
    let files = check(&[Source {
        name: "t.yaml",
        text,
    }]);
    files[0]
        .diagnostics
        .iter()
        .map(|d| (d.severity, d.code, d.message.clone()))
        .collect()
}

fn errors(text: &str) -> Vec<String> {
    lint(text)
        .into_iter()
        .filter(|(s, _, _)| *s == Severity::Error)
        .map(|(_, _, m)| m)
        .collect()
}

const HEAD: &str =
    "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata:\n  generateName: t-\nspec:\n";

#[test]
fn a_valid_workflow_has_no_findings() {
    let text = format!(
        "{HEAD}  entrypoint: main\n  arguments:\n    parameters: [{{name: who, value: world}}]\n  templates:\n  - name: main\n    steps:\n    - - name: hello\n        template: say\n        arguments:\n          parameters: [{{name: msg, value: '{{{{workflow.parameters.who}}}}'}}]\n    - - name: again\n        template: say\n        arguments:\n          parameters: [{{name: msg, value: '{{{{steps.hello.outputs.result}}}}'}}]\n  - name: say\n    inputs:\n      parameters: [{{name: msg}}]\n    container:\n      image: alpine\n      command: [echo, '{{{{inputs.parameters.msg}}}}']\n"
    );
    assert_eq!(lint(&text), vec![]);
}

#[test]
fn entrypoint_must_exist() {
    let text = format!(
        "{HEAD}  entrypoint: mian\n  templates:\n  - name: main\n    container: {{image: alpine}}\n"
    );
    assert_eq!(
        errors(&text),
        ["entrypoint `mian` is not a template of this workflow"]
    );
}

#[test]
fn references_and_arguments() {
    let text = format!(
        "{HEAD}  entrypoint: main\n  templates:\n  - name: main\n    steps:\n    - - name: a\n        template: sya\n      - name: b\n        template: say\n  - name: say\n    inputs: {{parameters: [{{name: msg}}]}}\n    container: {{image: alpine}}\n"
    );
    assert_eq!(
        errors(&text),
        [
            "there is no template named `sya`",
            "template `say` needs parameter `msg`, which is not passed"
        ]
    );
}

#[test]
fn dag_cycles_and_unknown_tasks() {
    let text = format!(
        "{HEAD}  entrypoint: main\n  templates:\n  - name: main\n    dag:\n      tasks:\n      - {{name: a, template: t, depends: c}}\n      - {{name: b, template: t, depends: a}}\n      - {{name: c, template: t, depends: b && zz}}\n  - name: t\n    container: {{image: alpine}}\n"
    );
    let found = errors(&text);
    assert!(
        found.contains(&"there is no task named `zz` in this DAG".to_string()),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|m| m.starts_with("the DAG has a dependency cycle: a → c → b → a")),
        "{found:?}"
    );
}

#[test]
fn depends_and_dependencies_cannot_mix() {
    let text = format!(
        "{HEAD}  entrypoint: main\n  templates:\n  - name: main\n    dag:\n      tasks:\n      - {{name: a, template: t}}\n      - {{name: b, template: t, depends: a}}\n      - {{name: c, template: t, dependencies: [a]}}\n  - name: t\n    container: {{image: alpine}}\n"
    );
    assert_eq!(
        errors(&text),
        ["this DAG mixes `depends` and `dependencies`; use one of them in all its tasks"]
    );
}

#[test]
fn variables_must_resolve() {
    let text = format!(
        "{HEAD}  entrypoint: main\n  templates:\n  - name: main\n    dag:\n      tasks:\n      - {{name: a, template: t}}\n      - name: b\n        template: u\n        arguments: {{parameters: [{{name: x, value: '{{{{tasks.a.outputs.parameters.out}}}}'}}, {{name: y, value: '{{{{item}}}}'}}]}}\n  - name: t\n    container: {{image: alpine, args: ['{{{{inputs.parameters.nope}}}}', '{{{{workflow.nmae}}}}']}}\n  - name: u\n    inputs: {{parameters: [{{name: x}}, {{name: y}}]}}\n    container: {{image: alpine}}\n"
    );
    let found = errors(&text);
    assert_eq!(found.len(), 4, "{found:#?}");
    assert!(
        found[0].contains("this task does not depend on task `a`"),
        "{found:#?}"
    );
    assert!(found.iter().any(|m| m.contains("`item` only exists")));
    assert!(
        found
            .iter()
            .any(|m| m.contains("no input parameter `nope`"))
    );
    assert!(
        found
            .iter()
            .any(|m| m.contains("`workflow.nmae` is not a workflow variable"))
    );
}

#[test]
fn outputs_of_other_steps_must_exist() {
    let text = format!(
        "{HEAD}  entrypoint: main\n  templates:\n  - name: main\n    dag:\n      tasks:\n      - {{name: a, template: t}}\n      - name: b\n        depends: a\n        template: t\n        arguments: {{parameters: [{{name: x, value: '{{{{tasks.a.outputs.parameters.out}}}}'}}]}}\n  - name: t\n    inputs: {{parameters: [{{name: x, value: '1'}}]}}\n    outputs: {{parameters: [{{name: output, valueFrom: {{path: /tmp/o}}}}]}}\n    container: {{image: alpine}}\n"
    );
    let found = lint(&text);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0]
            .2
            .contains("template `t` (run by task `a`) has no output parameter `out`"),
        "{found:#?}"
    );
}

#[test]
fn enums_durations_retries_and_names() {
    let text = format!(
        "{HEAD}  entrypoint: main\n  arguments:\n    parameters: [{{name: env, value: prod, enum: [staging, production]}}]\n  templates:\n  - name: main\n    retryStrategy: {{limit: -1, retryPolicy: Allways}}\n    timeout: 10 minutes\n    container: {{image: alpine}}\n  - name: Bad_Name\n    suspend: {{duration: 5d}}\n"
    );
    let found = errors(&text);
    assert_eq!(found.len(), 6, "{found:#?}");
    assert!(found[0].contains("value `prod` is not one of its enum values"));
    assert!(found.iter().any(|m| m == "retry limit must be 0 or more"));
    assert!(
        found
            .iter()
            .any(|m| m == "`Allways` is not a valid retry policy")
    );
    assert!(
        found
            .iter()
            .any(|m| m.contains("`10 minutes` is not a duration"))
    );
    assert!(
        found
            .iter()
            .any(|m| m.contains("template name `Bad_Name` is invalid"))
    );
    assert!(found.iter().any(|m| m.contains("unknown unit `d`")));
}

#[test]
fn cron_workflows() {
    let text = "apiVersion: argoproj.io/v1alpha1\nkind: CronWorkflow\nmetadata: {name: c}\nspec:\n  schedules: ['61 * * * *']\n  timezone: Europe/Berln\n  concurrencyPolicy: Forbidd\n  workflowSpec:\n    entrypoint: m\n    templates: [{name: m, container: {image: alpine}}]\n";
    let found = errors(text);
    assert_eq!(found.len(), 3, "{found:#?}");
    assert!(found[0].starts_with("invalid cron schedule `61 * * * *`: minute: 61 is out of range"));
    assert_eq!(found[1], "`Europe/Berln` is not a time zone");
    assert_eq!(found[2], "`Forbidd` is not a valid concurrency policy");
}

#[test]
fn template_refs_resolve_across_files() {
    let template = "apiVersion: argoproj.io/v1alpha1\nkind: WorkflowTemplate\nmetadata: {name: lib}\nspec:\n  templates:\n  - name: greet\n    inputs: {parameters: [{name: who}]}\n    container: {image: alpine}\n";
    let workflow = format!(
        "{HEAD}  entrypoint: main\n  templates:\n  - name: main\n    steps:\n    - - name: a\n        templateRef: {{name: lib, template: gret}}\n    - - name: b\n        templateRef: {{name: lib, template: greet}}\n    - - name: c\n        templateRef: {{name: elsewhere, template: x}}\n"
    );
    let files = check(&[
        Source {
            name: "lib.yaml",
            text: template,
        },
        Source {
            name: "wf.yaml",
            text: &workflow,
        },
    ]);
    let found: Vec<(Severity, String)> = files[1]
        .diagnostics
        .iter()
        .map(|d| (d.severity, d.message.clone()))
        .collect();
    assert_eq!(
        found,
        vec![
            (Severity::Error, "WorkflowTemplate `lib` has no template named `gret`".to_string()),
            (Severity::Error, "template `greet` needs parameter `who`, which is not passed".to_string()),
            (
                Severity::Warning,
                "WorkflowTemplate `elsewhere` is not among the linted files; it must exist where this runs".to_string()
            ),
        ]
    );
}

#[test]
fn diagnostics_point_at_the_offending_line() {
    let text = format!(
        "{HEAD}  entrypoint: main\n  templates:\n  - name: main\n    container:\n      image: alpine\n      args: ['{{{{inputs.parameters.x}}}}']\n"
    );
    let files = check(&[Source {
        name: "t.yaml",
        text: &text,
    }]);
    let d = &files[0].diagnostics[0];
    assert_eq!(d.path, "spec.templates[0].container.args[0]");
    assert_eq!(d.span.unwrap().start.line, 11);
}

#[test]
fn approval_rules_must_be_well_formed() {
    let gate = |annotations: &str, kind: &str| {
        format!(
            "{HEAD}  entrypoint: main\n  templates:\n  - name: main\n    steps:\n    - - name: approve\n        template: gate\n  - name: gate\n    metadata:\n      annotations:\n{annotations}    {kind}\n"
        )
    };
    let ok = gate(
        "        trellis.dev/approvers: \"group:release, user:alice, carol\"\n        trellis.dev/approval-no-self: \"true\"\n",
        "suspend: {}",
    );
    assert_eq!(lint(&ok), vec![]);

    let text = gate(
        "        trellis.dev/approvers: \"group:release, team:x\"\n",
        "suspend: {}",
    );
    let files = check(&[Source {
        name: "t.yaml",
        text: &text,
    }]);
    let d = &files[0].diagnostics[0];
    assert_eq!(d.code, "invalid-approval-rule");
    assert_eq!(
        d.message,
        "`team:x` in `trellis.dev/approvers` is neither `user:NAME` nor `group:NAME` (unknown kind `team`)"
    );
    assert_eq!(
        d.path,
        "spec.templates[1].metadata.annotations.trellis.dev/approvers"
    );
    assert_eq!(
        d.span.unwrap().start.line,
        15,
        "the caret is on the annotation"
    );

    let empty = gate(
        "        trellis.dev/approvers: \"alice,,bob\"\n",
        "suspend: {}",
    );
    assert_eq!(
        errors(&empty),
        ["entry 2 of `trellis.dev/approvers` is empty (a stray comma?)"]
    );
    let no_self = gate(
        "        trellis.dev/approval-no-self: \"yes\"\n",
        "suspend: {}",
    );
    let found = lint(&no_self);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].1, "invalid-approval-rule");
    assert!(found[0].2.contains("not \"yes\""), "{found:?}");

    let misplaced = gate(
        "        trellis.dev/approvers: alice\n",
        "container: {image: alpine}",
    );
    let found = lint(&misplaced);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (found[0].0, found[0].1),
        (Severity::Warning, "approval-rule-not-on-suspend")
    );
}

#[test]
fn form_hints_name_real_parameters_types_and_templates() {
    let template = |annotations: &str| {
        format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: WorkflowTemplate\nmetadata:\n  name: t\n  annotations:\n{annotations}spec:\n  entrypoint: main\n  arguments:\n    parameters:\n      - name: replicas\n        value: \"2\"\n      - name: token\n  templates:\n    - name: main\n      container: {{image: alpine}}\n    - name: quick\n      container: {{image: alpine}}\n"
        )
    };
    let good = template(
        "    trellis.dev/type.replicas: integer\n    trellis.dev/secret: token\n    trellis.dev/entrypoints: \"main, quick\"\n",
    );
    assert!(lint(&good).is_empty(), "{:?}", lint(&good));
    let bad = template(
        "    trellis.dev/type.replicas: integr\n    trellis.dev/type.replica: number\n    trellis.dev/secret: tokn\n    trellis.dev/entrypoints: \"main, quik\"\n",
    );
    let found = lint(&bad);
    let codes: Vec<&str> = found.iter().map(|f| f.1).collect();
    assert_eq!(
        codes,
        [
            "unknown-parameter-type",
            "hint-for-unknown-parameter",
            "hint-for-unknown-parameter",
            "unknown-entrypoint"
        ],
        "{found:?}"
    );
    let text = errors(&bad).join("\n");
    assert!(
        text.contains("`integr` is not a parameter type; did you mean `integer`?"),
        "{text}"
    );
    assert!(text.contains("parameter `replica`, which spec.arguments.parameters does not declare; did you mean `replicas`?"), "{text}");
    assert!(text.contains("parameter `tokn`"), "{text}");
    assert!(
        text.contains("template `quik`, which the spec does not have; did you mean `quick`?"),
        "{text}"
    );
}
