//! Making the Workflow to run: from a Workflow as written, or from a WorkflowTemplate,
//! ClusterWorkflowTemplate or CronWorkflow (Argo's "submit from"), with `-p name=value`
//! parameters and an entrypoint override. Pure: names are not generated here.

use crate::diag::did_you_mean;
use crate::model::{
    Arguments, ClusterWorkflowTemplate, CronWorkflow, Parameter, Workflow, WorkflowSpec,
    WorkflowTemplate, WorkflowTemplateRef,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

/// Label naming the WorkflowTemplate a workflow was submitted from (Argo's).
pub const LABEL_WORKFLOW_TEMPLATE: &str = "workflows.argoproj.io/workflow-template";
/// Label naming the ClusterWorkflowTemplate a workflow was submitted from (Argo's).
pub const LABEL_CLUSTER_WORKFLOW_TEMPLATE: &str = "workflows.argoproj.io/cluster-workflow-template";
/// Label naming the CronWorkflow that created a workflow (Argo's).
pub const LABEL_CRON_WORKFLOW: &str = "workflows.argoproj.io/cron-workflow";

/// What a submission asks for on top of the manifest.
#[derive(Debug, Clone, Default)]
pub struct SubmitOptions {
    /// `name=value` pairs for `spec.arguments.parameters`.
    pub parameters: Vec<(String, String)>,
    /// Another entrypoint.
    pub entrypoint: Option<String>,
}

/// Splits a `name=value` flag.
pub fn parse_parameter(flag: &str) -> Result<(String, String), String> {
    match flag.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("parameter \"{flag}\" must be written name=value")),
    }
}

/// A Workflow as written, with options applied.
pub fn from_workflow(mut wf: Workflow, opts: &SubmitOptions) -> Result<Workflow, String> {
    let extra = template_declared(&wf);
    let spec = wf.spec.get_or_insert_with(Default::default);
    apply(spec, opts, &extra)?;
    Ok(wf)
}

/// A Workflow that runs a WorkflowTemplate (through `workflowTemplateRef`, as Argo submits it).
pub fn from_workflow_template(
    t: &WorkflowTemplate,
    opts: &SubmitOptions,
) -> Result<Workflow, String> {
    from_template(t.metadata.as_ref(), t.spec.as_ref(), false, opts)
}

/// A Workflow that runs a ClusterWorkflowTemplate.
pub fn from_cluster_workflow_template(
    t: &ClusterWorkflowTemplate,
    opts: &SubmitOptions,
) -> Result<Workflow, String> {
    from_template(t.metadata.as_ref(), t.spec.as_ref(), true, opts)
}

/// A Workflow referencing a (cluster) workflow template, labelled with it.
fn from_template(
    meta: Option<&ObjectMeta>,
    spec: Option<&WorkflowSpec>,
    cluster: bool,
    opts: &SubmitOptions,
) -> Result<Workflow, String> {
    let label = if cluster {
        LABEL_CLUSTER_WORKFLOW_TEMPLATE
    } else {
        LABEL_WORKFLOW_TEMPLATE
    };
    let mut wf = referencing(meta, label, &meta_name(meta), cluster);
    let secrets = crate::secrets::secret_names(meta.and_then(|m| m.annotations.as_ref()));
    if !secrets.is_empty()
        && let Some(m) = wf.metadata.as_mut()
    {
        m.annotations
            .get_or_insert_with(Default::default)
            .insert(crate::secrets::SECRET_ANNOTATION.into(), secrets.join(","));
    }
    let spec_out = wf.spec.get_or_insert_with(Default::default);
    apply(spec_out, opts, &declared(spec))?;
    Ok(wf)
}

/// A Workflow run of a CronWorkflow's `workflowSpec`, as if scheduled at `scheduled_time`.
pub fn from_cron_workflow(
    c: &CronWorkflow,
    scheduled_time: &str,
    opts: &SubmitOptions,
) -> Result<Workflow, String> {
    let name = meta_name(c.metadata.as_ref());
    let cron_spec = c.spec.clone().unwrap_or_default();
    let mut spec = cron_spec.workflow_spec.clone().unwrap_or_default();
    apply(&mut spec, opts, &[])?;
    let extra = cron_spec.workflow_metadata.clone().unwrap_or_default();
    let mut labels = extra.labels.clone().unwrap_or_default();
    labels.insert(LABEL_CRON_WORKFLOW.into(), name.clone());
    let mut annotations = extra.annotations.clone().unwrap_or_default();
    annotations.insert(
        "workflows.argoproj.io/scheduled-time".into(),
        scheduled_time.into(),
    );
    let secrets =
        crate::secrets::secret_names(c.metadata.as_ref().and_then(|m| m.annotations.as_ref()));
    if !secrets.is_empty() {
        annotations.insert(crate::secrets::SECRET_ANNOTATION.into(), secrets.join(","));
    }
    Ok(Workflow {
        api_version: Some("argoproj.io/v1alpha1".into()),
        kind: Some("Workflow".into()),
        metadata: Some(ObjectMeta {
            generate_name: Some(format!("{name}-")),
            namespace: c.metadata.as_ref().and_then(|m| m.namespace.clone()),
            labels: Some(labels),
            annotations: Some(annotations),
            ..Default::default()
        }),
        spec: Some(spec),
        status: None,
    })
}

/// Label a resubmitted workflow carries: the workflow it was resubmitted from (Argo's).
pub const LABEL_RESUBMITTED_FROM: &str = "workflows.argoproj.io/resubmitted-from-workflow";

/// Labels the controller sets on a run, which a copy of it must not inherit.
const RUN_LABELS: [&str; 3] = [
    "workflows.argoproj.io/phase",
    "workflows.argoproj.io/completed",
    "trellis.dev/run-number",
];

/// A new Workflow that runs `wf` again from the start (Argo's `resubmit`): same spec, labels
/// and annotations, a name generated from the old one, parameters overridden by `opts`, and a
/// label naming the workflow it was resubmitted from. The template it came from (if any) is
/// kept, so the copy is the next run in that template's history.
pub fn resubmit(wf: &Workflow, opts: &SubmitOptions) -> Result<Workflow, String> {
    let old = wf.metadata.clone().unwrap_or_default();
    let name = old.name.clone().unwrap_or_default();
    let mut labels = old.labels.clone().unwrap_or_default();
    for l in RUN_LABELS {
        labels.remove(l);
    }
    labels.insert(LABEL_RESUBMITTED_FROM.into(), name.clone());
    let mut spec = wf.spec.clone().unwrap_or_default();
    spec.shutdown = None;
    spec.suspend = None;
    apply(&mut spec, opts, &template_declared(wf))?;
    Ok(Workflow {
        api_version: Some("argoproj.io/v1alpha1".into()),
        kind: Some("Workflow".into()),
        metadata: Some(ObjectMeta {
            generate_name: Some(resubmit_prefix(&old)),
            namespace: old.namespace.clone(),
            labels: Some(labels),
            annotations: old.annotations.clone(),
            ..Default::default()
        }),
        spec: Some(spec),
        status: None,
    })
}

/// A memoized resubmission (Argo's `resubmit --memoized`) of `old` as `wf`, which must have its
/// final name: the steps that succeeded in `old` (each Pod node but its exit handler's) are
/// carried over under `wf`'s name with their outputs, Succeeded with a message naming the run
/// they ran in, so the new run does not run them again; everything else runs anew.
pub fn memoize(mut wf: Workflow, old: &Workflow, now: &str) -> Result<Workflow, String> {
    let new_name = wf
        .metadata
        .as_ref()
        .and_then(|m| m.name.clone())
        .filter(|n| !n.is_empty())
        .ok_or("a memoized resubmission needs its final name")?;
    let old_name = meta_name(old.metadata.as_ref());
    let phase = old.status.as_ref().and_then(|s| s.phase);
    if !matches!(
        phase,
        Some(crate::model::WorkflowPhase::Failed | crate::model::WorkflowPhase::Error)
    ) {
        return Err(format!(
            "workflow `{old_name}` must be Failed or Errored to be resubmitted memoized (it is {}); \
             resubmit it without memoized to run every step again",
            phase.map_or("not finished", |p| p.as_str())
        ));
    }
    let on_exit = format!("{old_name}.onExit");
    let nodes: std::collections::BTreeMap<String, crate::model::NodeStatus> = old
        .status
        .as_ref()
        .and_then(|s| s.nodes.as_ref())
        .into_iter()
        .flatten()
        .filter(|(_, n)| {
            n.r#type == Some(crate::model::NodeType::Pod)
                && n.phase == Some(crate::model::NodePhase::Succeeded)
        })
        .filter_map(|(id, n)| {
            let name = n.name.as_deref()?;
            let rest = name.strip_prefix(&old_name)?;
            if name.starts_with(&on_exit) {
                return None;
            }
            let renamed = format!("{new_name}{rest}");
            let new_id = crate::plan::node_id(&new_name, &renamed);
            let mut m = n.clone();
            m.id = Some(new_id.clone());
            m.name = Some(renamed);
            m.boundary_id = None;
            m.children = None;
            m.started_at = Some(now.to_string());
            m.finished_at = Some(now.to_string());
            m.message = Some(format!("memoized: ran in {old_name} as {id}"));
            Some((new_id, m))
        })
        .collect();
    wf.status = Some(crate::model::WorkflowStatus {
        nodes: Some(nodes),
        ..Default::default()
    });
    Ok(wf)
}

/// `generateName` of a resubmission: the original's `generateName`, else `<name>-`.
fn resubmit_prefix(old: &ObjectMeta) -> String {
    old.generate_name
        .clone()
        .filter(|g| !g.is_empty())
        .unwrap_or_else(|| format!("{}-", old.name.clone().unwrap_or_default()))
}

fn meta_name(m: Option<&ObjectMeta>) -> String {
    m.and_then(|m| m.name.clone()).unwrap_or_default()
}

/// The parameters the template a workflow runs declares (its `storedWorkflowTemplateSpec`).
fn template_declared(wf: &Workflow) -> Vec<String> {
    declared(
        wf.status
            .as_ref()
            .and_then(|s| s.stored_workflow_template_spec.as_deref()),
    )
}

fn declared(spec: Option<&WorkflowSpec>) -> Vec<String> {
    spec.and_then(|s| s.arguments.as_ref())
        .and_then(|a| a.parameters.as_ref())
        .into_iter()
        .flatten()
        .filter_map(|p| p.name.clone())
        .collect()
}

fn referencing(meta: Option<&ObjectMeta>, label: &str, name: &str, cluster: bool) -> Workflow {
    let mut labels = std::collections::BTreeMap::new();
    labels.insert(label.to_string(), name.to_string());
    Workflow {
        api_version: Some("argoproj.io/v1alpha1".into()),
        kind: Some("Workflow".into()),
        metadata: Some(ObjectMeta {
            generate_name: Some(format!("{name}-")),
            namespace: meta.and_then(|m| m.namespace.clone()),
            labels: Some(labels),
            ..Default::default()
        }),
        spec: Some(WorkflowSpec {
            workflow_template_ref: Some(WorkflowTemplateRef {
                name: Some(name.to_string()),
                cluster_scope: cluster.then_some(true),
            }),
            ..Default::default()
        }),
        status: None,
    }
}

/// Applies parameters and entrypoint to a spec. A parameter must be declared, by the spec
/// itself or (`extra`) by the template it references.
fn apply(spec: &mut WorkflowSpec, opts: &SubmitOptions, extra: &[String]) -> Result<(), String> {
    if let Some(e) = &opts.entrypoint {
        spec.entrypoint = Some(e.clone());
    }
    let args = spec.arguments.get_or_insert_with(Arguments::default);
    let params = args.parameters.get_or_insert_with(Vec::new);
    let mut known: Vec<String> = params.iter().filter_map(|p| p.name.clone()).collect();
    known.extend(extra.iter().cloned());
    for (name, value) in &opts.parameters {
        if !known.contains(name) {
            let hint = did_you_mean(name, known.iter().map(String::as_str))
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            let list = if known.is_empty() {
                "it declares none".to_string()
            } else {
                format!("it declares: {}", known.join(", "))
            };
            return Err(format!(
                "parameter `{name}` is not a parameter of the workflow ({list}){hint}"
            ));
        }
        match params.iter_mut().find(|p| p.name.as_deref() == Some(name)) {
            Some(p) => p.value = Some(value.clone().into()),
            None => params.push(Parameter {
                name: Some(name.clone()),
                value: Some(value.clone().into()),
                ..Default::default()
            }),
        }
    }
    if params.is_empty() {
        args.parameters = None;
    }
    if args.parameters.is_none() && args.artifacts.is_none() {
        spec.arguments = None;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wf(yaml: &str) -> Workflow {
        let json = crate::yaml::to_json(&crate::parse::parse_file(yaml).documents[0].node);
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn parameters_override_declared_values_and_unknown_ones_are_refused() {
        let w = wf(
            "metadata: {name: a}\nspec:\n  entrypoint: m\n  arguments: {parameters: [{name: message, value: x}]}\n",
        );
        let opts = SubmitOptions {
            parameters: vec![("message".into(), "hi".into())],
            entrypoint: Some("other".into()),
        };
        let out = from_workflow(w.clone(), &opts).unwrap();
        let spec = out.spec.unwrap();
        assert_eq!(spec.entrypoint.as_deref(), Some("other"));
        assert_eq!(
            spec.arguments.unwrap().parameters.unwrap()[0]
                .value
                .as_ref()
                .unwrap()
                .0,
            "hi"
        );
        let bad = SubmitOptions {
            parameters: vec![("mesage".into(), "hi".into())],
            entrypoint: None,
        };
        let err = from_workflow(w, &bad).unwrap_err();
        assert!(err.contains("did you mean `message`"), "{err}");
    }

    #[test]
    fn a_run_of_a_template_takes_the_parameters_its_template_declares() {
        let run: Workflow = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "build-x", "namespace": "ci"},
            "spec": {"workflowTemplateRef": {"name": "build"}},
            "status": {"phase": "Failed",
                "storedWorkflowTemplateSpec": {"arguments": {"parameters": [{"name": "rev", "value": "main"}]}}}
        }))
        .unwrap();
        let opts = SubmitOptions {
            parameters: vec![("rev".into(), "v2".into())],
            entrypoint: None,
        };
        let args = |w: Workflow| w.spec.unwrap().arguments.unwrap().parameters.unwrap();
        assert_eq!(
            args(from_workflow(run.clone(), &opts).unwrap())[0]
                .value
                .as_ref()
                .unwrap()
                .0,
            "v2"
        );
        assert_eq!(
            args(resubmit(&run, &opts).unwrap())[0]
                .value
                .as_ref()
                .unwrap()
                .0,
            "v2"
        );
        let mut bare = run;
        bare.status = None;
        assert!(
            from_workflow(bare, &opts)
                .unwrap_err()
                .contains("declares none")
        );
    }

    #[test]
    fn secret_parameters_of_a_template_are_named_on_its_runs() {
        let t: WorkflowTemplate = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "deploy", "annotations": {"trellis.dev/secret": "token",
                "trellis.dev/type.key": "secret"}},
            "spec": {"arguments": {"parameters": [{"name": "token"}, {"name": "key"}]}}
        }))
        .unwrap();
        let w = from_workflow_template(&t, &SubmitOptions::default()).unwrap();
        assert_eq!(
            w.metadata.unwrap().annotations.unwrap()["trellis.dev/secret"],
            "key,token"
        );
    }

    #[test]
    fn a_template_submission_references_the_template_and_labels_the_run() {
        let t: WorkflowTemplate = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "build", "namespace": "ci"},
            "spec": {"entrypoint": "m", "arguments": {"parameters": [{"name": "rev", "value": "main"}]}}
        })).unwrap();
        let opts = SubmitOptions {
            parameters: vec![("rev".into(), "v2".into())],
            entrypoint: None,
        };
        let w = from_workflow_template(&t, &opts).unwrap();
        let meta = w.metadata.clone().unwrap();
        assert_eq!(meta.generate_name.as_deref(), Some("build-"));
        assert_eq!(meta.namespace.as_deref(), Some("ci"));
        assert_eq!(meta.labels.unwrap()[LABEL_WORKFLOW_TEMPLATE], "build");
        let spec = w.spec.clone().unwrap();
        assert_eq!(
            spec.workflow_template_ref.unwrap().name.as_deref(),
            Some("build")
        );
        assert_eq!(
            spec.arguments.unwrap().parameters.unwrap()[0]
                .value
                .as_ref()
                .unwrap()
                .0,
            "v2"
        );
        assert!(parse_parameter("novalue").is_err());
        let mut done = w.clone();
        let meta = done.metadata.as_mut().unwrap();
        meta.name = Some("build-x1".into());
        let labels = meta.labels.get_or_insert_with(Default::default);
        labels.insert("workflows.argoproj.io/phase".into(), "Failed".into());
        labels.insert("trellis.dev/run-number".into(), "7".into());
        done.spec.as_mut().unwrap().shutdown = Some("Stop".into());
        let again = resubmit(&done, &SubmitOptions::default()).unwrap();
        let meta = again.metadata.unwrap();
        assert_eq!(meta.generate_name.as_deref(), Some("build-"));
        let labels = meta.labels.unwrap();
        assert_eq!(labels[LABEL_RESUBMITTED_FROM], "build-x1");
        assert_eq!(labels[LABEL_WORKFLOW_TEMPLATE], "build");
        assert!(!labels.contains_key("workflows.argoproj.io/phase"));
        assert!(!labels.contains_key("trellis.dev/run-number"));
        assert_eq!(again.spec.unwrap().shutdown, None);
        assert_eq!(
            parse_parameter("a=b=c").unwrap(),
            ("a".into(), "b=c".into())
        );
    }
}
