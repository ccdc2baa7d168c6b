//! A coloured pill naming a template's kind.

use leptos::prelude::*;

use crate::catalog::TemplateKind;

/// The badge of one kind; its tooltip is the full Kubernetes kind.
#[component]
pub fn KindBadge(
    /// The kind to name.
    kind: TemplateKind,
) -> impl IntoView {
    let colours = match kind {
        TemplateKind::WorkflowTemplate => "bg-sky-100 text-sky-800 ring-sky-200",
        TemplateKind::ClusterWorkflowTemplate => "bg-violet-100 text-violet-800 ring-violet-200",
        TemplateKind::CronWorkflow => "bg-amber-100 text-amber-800 ring-amber-200",
    };
    view! {
        <span
            class=format!(
                "inline-flex shrink-0 items-center rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset {colours}",
            )
            title=kind.as_str()
            data-kind=kind.as_str()
        >
            {kind.short_label()}
        </span>
    }
}
