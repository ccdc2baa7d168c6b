//! One template in the tree: title, name, kind, schedule, description and parameters.

use leptos::prelude::*;

use crate::catalog::{ParameterSummary, TemplateSummary};
use crate::components::icons::ClockIcon;
use crate::components::kind_badge::KindBadge;

/// A template's row. Every string is rendered as text, never as HTML.
#[component]
pub fn TemplateRow(
    /// The template to show.
    template: TemplateSummary,
) -> impl IntoView {
    let title = template.display_title().to_owned();
    let show_name = title != template.name;
    let TemplateSummary {
        kind,
        name,
        description,
        parameters,
        schedule,
        ..
    } = template;
    let name_attr = name.clone();

    view! {
        <article
            data-testid="template-row"
            data-name=name_attr
            class="rounded-lg border border-slate-200 bg-white px-4 py-3 shadow-sm hover:border-slate-300"
        >
            <div class="flex flex-wrap items-center gap-x-2 gap-y-1">
                <h3 class="font-medium text-slate-900">{title}</h3>
                <KindBadge kind />
                {show_name
                    .then(|| view! { <span class="font-mono text-xs text-slate-500">{name}</span> })}
                {schedule
                    .map(|schedule| {
                        view! {
                            <span
                                class="ml-auto inline-flex items-center gap-1 rounded bg-amber-50 px-1.5 py-0.5 font-mono text-xs text-amber-900"
                                title="Cron schedule"
                            >
                                <ClockIcon />
                                {schedule}
                            </span>
                        }
                    })}
            </div>
            {description
                .filter(|text| !text.trim().is_empty())
                .map(|text| {
                    view! { <p class="mt-1 whitespace-pre-line text-sm text-slate-600">{text}</p> }
                })}
            {(!parameters.is_empty())
                .then(|| {
                    view! {
                        <ul class="mt-2 flex flex-wrap gap-1.5" aria-label="Parameters">
                            {parameters.into_iter().map(parameter_chip).collect_view()}
                        </ul>
                    }
                })}
        </article>
    }
    // Erased, so the nested tree's view type stays small enough for the compiler.
    .into_any()
}

fn parameter_chip(parameter: ParameterSummary) -> impl IntoView {
    let tooltip = parameter_tooltip(&parameter);
    let ParameterSummary { name, default, .. } = parameter;
    view! {
        <li
            class="rounded bg-slate-100 px-1.5 py-0.5 font-mono text-xs text-slate-700"
            title=tooltip
        >
            {name}
            {default
                .map(|value| {
                    view! {
                        <span class="text-slate-400">"="</span>
                        <span class="text-slate-500">{value}</span>
                    }
                })}
        </li>
    }
}

/// The chip's tooltip: the description, then the allowed values.
fn parameter_tooltip(parameter: &ParameterSummary) -> Option<String> {
    let mut lines = Vec::new();
    if let Some(description) = parameter.description.as_deref().filter(|d| !d.is_empty()) {
        lines.push(description.to_owned());
    }
    if !parameter.enum_values.is_empty() {
        lines.push(format!("One of: {}", parameter.enum_values.join(", ")));
    }
    (!lines.is_empty()).then(|| lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tooltip_lists_description_then_values() {
        let mut parameter = ParameterSummary {
            name: "env".into(),
            default: Some("dev".into()),
            description: None,
            enum_values: vec![],
        };
        assert_eq!(parameter_tooltip(&parameter), None);
        parameter.description = Some("Target environment".into());
        parameter.enum_values = vec!["dev".into(), "prod".into()];
        assert_eq!(
            parameter_tooltip(&parameter).as_deref(),
            Some("Target environment\nOne of: dev, prod")
        );
    }
}
