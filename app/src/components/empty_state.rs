//! What the home page shows instead of a tree.

use leptos::prelude::*;

/// Nothing is loaded at all.
#[component]
pub fn EmptyState() -> impl IntoView {
    view! {
        <div
            data-testid="empty-state"
            class="rounded-xl border border-dashed border-slate-300 dark:border-slate-600 bg-white dark:bg-slate-900 px-6 py-16 text-center"
        >
            <p class="text-base font-medium text-slate-700 dark:text-slate-300">
                "No templates yet — start with "
                <code class="rounded bg-slate-100 dark:bg-slate-800 px-1.5 py-0.5 font-mono text-sm">
                    "trellis serve --load DIR"
                </code>
            </p>
            <p class="mt-2 text-sm text-slate-500">
                "WorkflowTemplates, ClusterWorkflowTemplates and CronWorkflows found in DIR appear here."
            </p>
        </div>
    }
}

/// Templates are loaded, but none matches the search.
#[component]
pub fn NoMatches(
    /// The search that matched nothing.
    query: String,
) -> impl IntoView {
    view! {
        <div
            data-testid="no-matches"
            class="rounded-xl border border-slate-200 dark:border-slate-700 bg-white dark:bg-slate-900 px-6 py-12 text-center text-slate-600 dark:text-slate-400"
        >
            "No template matches “"
            <span class="font-medium text-slate-900 dark:text-slate-100">{query}</span>
            "”."
        </div>
    }
}

/// The catalog could not be loaded.
#[component]
pub fn ErrorNotice(
    /// What went wrong, for a person.
    message: String,
) -> impl IntoView {
    view! {
        <div role="alert" class="rounded-xl border border-rose-200 bg-rose-50 px-6 py-4 text-rose-800">
            {message}
        </div>
    }
}
