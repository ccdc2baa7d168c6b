//! Tests of the CLI form of targets.

use super::*;

#[test]
fn targets_parse_from_the_cli_form() {
    let cases: &[(&str, &str)] = &[
        ("workflowtemplate/ns/deploy", "workflowtemplate/ns/deploy"),
        ("wftmpl/ns/deploy", "workflowtemplate/ns/deploy"),
        ("WorkflowTemplate/ns/deploy", "workflowtemplate/ns/deploy"),
        ("wf/ns/run-1", "workflow/ns/run-1"),
        ("workflow/ns", "workflow/ns"),
        ("cwftmpl/build", "clusterworkflowtemplate/build"),
        ("cwf/ns/nightly", "cronworkflow/ns/nightly"),
        ("namespace/team-a", "namespace/team-a"),
        ("token/ci-bot", "token/ci-bot"),
    ];
    for (text, shown) in cases {
        let target = Target::parse(text).unwrap();
        assert_eq!(target.to_string(), *shown);
    }
    let t = Target::parse("cronworkflow/ns/nightly").unwrap();
    assert_eq!(
        (t.namespace.as_deref(), t.template.as_deref()),
        (Some("ns"), Some("nightly"))
    );
    let t = Target::parse("cwftmpl/build").unwrap();
    assert_eq!((t.namespace, t.template.as_deref()), (None, Some("build")));

    let errors: &[(&str, &str)] = &[
        ("", "no target"),
        (
            "wftemplate/ns/x",
            "unknown kind `wftemplate` in `wftemplate/ns/x`: did you mean",
        ),
        (
            "pod/ns/x",
            "kinds are workflow (wf), workflowtemplate (wftmpl)",
        ),
        (
            "workflowtemplate/deploy",
            "is not a workflowtemplate: write workflowtemplate/NAMESPACE/NAME",
        ),
        (
            "clusterworkflowtemplate/ns/x",
            "write clusterworkflowtemplate/NAME",
        ),
        (
            "workflowtemplate//x",
            "write workflowtemplate/NAMESPACE/NAME",
        ),
        ("token", "write token/NAME"),
    ];
    for (text, phrase) in errors {
        let err = Target::parse(text).unwrap_err().to_string();
        assert!(err.contains(phrase), "{text}: {err}");
    }
}
