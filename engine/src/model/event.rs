//! `WorkflowEventBinding`: submit a workflow template when an event matches.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};

use super::params::Arguments;
use super::workflow::WorkflowTemplateRef;

/// Binds an event selector to a workflow template submission.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkflowEventBinding {
    /// `argoproj.io/v1alpha1`.
    #[serde(
        rename = "apiVersion",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub api_version: Option<String>,
    /// `WorkflowEventBinding`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Name, namespace, labels, annotations…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<ObjectMeta>,
    /// Event selector and what to submit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<WorkflowEventBindingSpec>,
}

/// Event selector and what to submit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkflowEventBindingSpec {
    /// Which events match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<Event>,
    /// The workflow to submit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submit: Option<Submit>,
}

/// An event selector.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    /// Expression over the event (`payload`, `metadata`, `discriminator`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<String>,
}

/// The workflow submitted for a matching event.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Submit {
    /// The workflow template to run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow_template_ref: Option<WorkflowTemplateRef>,
    /// Metadata of the submitted workflow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<ObjectMeta>,
    /// Arguments of the submitted workflow (values may use `valueFrom.event`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<Arguments>,
}
