//! The namespace → folder → template tree.

use leptos::prelude::*;

use crate::components::icons::{ChevronIcon, FolderIcon};
use crate::components::template_row::TemplateRow;
use crate::tree::{Folder, Scope, ScopeGroup};

/// One namespace (or the cluster-wide group) with its folders and templates.
#[component]
pub fn ScopeSection(
    /// The namespace's tree.
    group: ScopeGroup,
) -> impl IntoView {
    let ScopeGroup { scope, root } = group;
    let count = root.count();
    let cluster_wide = scope == Scope::ClusterWide;
    let label = scope.label().to_owned();
    let scope_attr = label.clone();
    view! {
        <section data-testid="scope" data-scope=scope_attr class="space-y-3">
            <h2 class="flex items-center gap-2 text-sm font-semibold uppercase tracking-wide text-slate-500">
                <span class=if cluster_wide { "text-violet-700" } else { "text-slate-700 dark:text-slate-300" }>
                    {label}
                </span>
                <span class="rounded-full bg-slate-200 px-2 py-0.5 text-xs font-medium text-slate-600 dark:text-slate-400">
                    {count}
                </span>
            </h2>
            {folder_contents(root)}
        </section>
    }
}

/// A folder's sub-folders (collapsible, open by default) and then its templates.
fn folder_contents(folder: Folder) -> AnyView {
    let Folder {
        folders, templates, ..
    } = folder;
    view! {
        <ul class="space-y-2">
            {folders
                .into_iter()
                .map(|sub| view! { <li><FolderBranch folder=sub /></li> })
                .collect_view()}
            {templates
                .into_iter()
                .map(|template| view! { <li><TemplateRow template /></li> })
                .collect_view()}
        </ul>
    }
    .into_any()
}

/// A folder shown as a `<details>` element, so it collapses without JavaScript.
#[component]
fn FolderBranch(
    /// The folder to show.
    folder: Folder,
) -> impl IntoView {
    let key = folder.key();
    let name = folder.name.clone();
    let count = folder.count();
    view! {
        <details open data-testid="folder" data-folder=key class="group">
            <summary class="flex cursor-pointer select-none items-center gap-1.5 rounded-md px-1 py-1 text-sm font-medium text-slate-700 dark:text-slate-300 hover:bg-slate-100 dark:hover:bg-slate-800">
                <ChevronIcon />
                <FolderIcon />
                <span>{name}</span>
                <span class="text-xs font-normal text-slate-400">{count}</span>
            </summary>
            <div class="ml-3 mt-2 border-l border-slate-200 dark:border-slate-700 pl-4">{folder_contents(folder)}</div>
        </details>
    }
}
