//! The home page: every stored template as a searchable folder tree (namespace → folders →
//! templates), each with its last runs like a Jenkins job, or as one sortable table.

use std::sync::Arc;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::folders;
use crate::catalog::TemplateSummary;
use crate::components::empty_state::{EmptyState, ErrorNotice, NoMatches};
use crate::components::folder_tree::ScopeSection;
use crate::components::search_box::SearchBox;
use crate::components::status::PhaseBadge;
use crate::components::template_row::Jobs;
use crate::format;
use crate::model::{FolderPage, JobRow};

/// The folder tree (or, with `?view=table`, the table) with its search box. The first render (on
/// the server) is filtered by `?q=`; after hydration the browser filters as the user types.
#[component]
pub fn HomePage() -> impl IntoView {
    let params = use_query_map();
    let initial = params.with_untracked(|p| p.get("q").unwrap_or_default());
    let query = RwSignal::new(initial);
    let table = move || params.with(|p| p.get("view").as_deref() == Some("table"));
    let scope = Signal::derive(move || params.with(|p| p.get("namespace").unwrap_or_default()));
    let sort = move || params.with(|p| p.get("sort").unwrap_or_default());
    // The whole tree with every template's row, loaded once (and sent along with the server's
    // HTML), so that filtering needs no further request.
    let page = crate::codec::resource(|| (), |()| folders(String::new()));

    view! {
        <Title text="Templates" />
        <div class="mb-6 flex flex-col gap-3 sm:flex-row sm:items-center sm:justify-between">
            <div class="flex items-center gap-4">
                <h1 class="text-2xl font-semibold tracking-tight">"Templates"</h1>
                <nav class="flex rounded-lg border border-slate-200 dark:border-slate-700 bg-white dark:bg-slate-900 p-0.5 text-sm" aria-label="View">
                    <a href="/" data-testid="view-tree" class=move || view_tab(!table())>"Folders"</a>
                    <a href="/?view=table" data-testid="view-table" class=move || view_tab(table())>"All templates"</a>
                </nav>
            </div>
            <SearchBox query />
        </div>
        <Suspense fallback=|| view! { <p class="text-sm text-slate-500">"Loading templates…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(mut page) => {
                        provide_context(Jobs(Arc::new(page.jobs.clone())));
                        page.tree = page.tree.in_scope(&scope.get());
                        if table() {
                            view! { <TemplateTable page query sort=Signal::derive(sort) /> }.into_any()
                        } else {
                            view! { <CatalogView page query /> }.into_any()
                        }
                    }
                    Err(err) => view! { <ErrorNotice message=err.to_string() /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn view_tab(active: bool) -> &'static str {
    if active {
        "rounded-md bg-slate-900 px-3 py-1 text-white"
    } else {
        "rounded-md px-3 py-1 text-slate-600 dark:text-slate-400 hover:text-slate-900 dark:hover:text-slate-100"
    }
}

/// The tree filtered by the current query, or the empty state.
#[component]
fn CatalogView(
    /// The whole, unfiltered tree and rows.
    page: FolderPage,
    /// The search to filter it by.
    query: RwSignal<String>,
) -> impl IntoView {
    let tree = page.tree;
    if tree.total == 0 {
        return view! { <EmptyState /> }.into_any();
    }
    let total = tree.total;
    view! {
        <div class="space-y-8">
            {move || {
                let query = query.get();
                let shown = tree.filtered(&query);
                let count = shown.shown();
                if shown.groups.is_empty() {
                    return view! { <NoMatches query /> }.into_any();
                }
                let summary = if count == total {
                    format!("{total} templates")
                } else {
                    format!("{count} of {total} templates")
                };
                view! {
                    <p data-testid="summary" class="text-sm text-slate-500">{summary}</p>
                    {shown.groups.into_iter().map(|group| view! { <ScopeSection group /> }).collect_view()}
                }
                .into_any()
            }}
        </div>
    }
    .into_any()
}

/// How the table is sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableSort {
    /// By name.
    Name,
    /// Failing first, then by name.
    Status,
    /// Longest last duration first.
    Duration,
    /// Least healthy first.
    Health,
    /// Most recently run first.
    LastRun,
}

impl TableSort {
    /// The sort of a `?sort=` value (name by default).
    pub fn parse(s: &str) -> Self {
        match s {
            "status" => Self::Status,
            "duration" => Self::Duration,
            "health" => Self::Health,
            "last" => Self::LastRun,
            _ => Self::Name,
        }
    }
}

/// Sorts templates with their rows.
pub fn sort_templates(rows: &mut [(TemplateSummary, JobRow)], by: TableSort) {
    let rank = |j: &JobRow| {
        j.last.as_ref().map_or(3, |r| match r.phase {
            crate::model::Phase::Failed | crate::model::Phase::Error => 0,
            p if p.is_live() => 1,
            _ => 2,
        })
    };
    let health = |j: &JobRow| {
        j.health
            .as_ref()
            .map_or(2.0, |h| h.passed as f64 / h.of.max(1) as f64)
    };
    let duration = |j: &JobRow| {
        j.last
            .as_ref()
            .and_then(|r| r.duration_seconds)
            .unwrap_or(-1)
    };
    let started = |j: &JobRow| {
        j.last
            .as_ref()
            .and_then(|r| r.created_at.clone())
            .unwrap_or_default()
    };
    rows.sort_by(|(a, ja), (b, jb)| {
        let name = a.name.cmp(&b.name).then(a.namespace.cmp(&b.namespace));
        match by {
            TableSort::Name => name,
            TableSort::Status => rank(ja).cmp(&rank(jb)).then(name),
            TableSort::Duration => duration(jb).cmp(&duration(ja)).then(name),
            TableSort::Health => health(ja).total_cmp(&health(jb)).then(name),
            TableSort::LastRun => started(jb).cmp(&started(ja)).then(name),
        }
    });
}

/// Every template in one table with the tree's columns, sortable by clicking a heading.
#[component]
fn TemplateTable(page: FolderPage, query: RwSignal<String>, sort: Signal<String>) -> impl IntoView {
    if page.tree.total == 0 {
        return view! { <EmptyState /> }.into_any();
    }
    let jobs = page.jobs;
    let tree = page.tree;
    let heading = move |key: &'static str, label: &'static str| {
        let active = move || sort.get() == key || (key == "name" && sort.get().is_empty());
        view! {
            <th class="px-3 py-2 font-medium">
                <a
                    href=format!("/?view=table&sort={key}")
                    class=move || if active() { "text-slate-900 dark:text-slate-100 underline" } else { "hover:text-slate-900 dark:hover:text-slate-100" }
                    data-testid=format!("sort-{key}")
                >{label}</a>
            </th>
        }
    };
    let rows = move || {
        let shown = tree.filtered(&query.get());
        let mut rows: Vec<(TemplateSummary, JobRow)> = shown
            .templates()
            .map(|t| {
                (
                    t.clone(),
                    jobs.get(&t.id().key()).cloned().unwrap_or_default(),
                )
            })
            .collect();
        sort_templates(&mut rows, TableSort::parse(&sort.get()));
        rows.into_iter()
            .map(|(t, j)| {
                let id = t.id();
                let title = t.display_title().to_string();
                let scope = if id.namespace.is_empty() { "cluster-wide".to_string() } else { id.namespace.clone() };
                view! {
                    <tr data-testid="table-row" data-name=t.name.clone() class="hover:bg-slate-50 dark:hover:bg-slate-800">
                        <td class="px-3 py-2">
                            <a href=id.href() class="font-medium text-sky-700 hover:underline">{title}</a>
                            <div class="text-xs text-slate-400">{scope}" · "{t.folder_path()}</div>
                        </td>
                        <td class="px-3 py-2">
                            {j.last.clone().map(|r| view! {
                                <a href=r.href() class="flex items-center gap-1.5">{r.title()}<PhaseBadge phase=r.phase /></a>
                            })}
                        </td>
                        <td class="px-3 py-2 text-slate-600 dark:text-slate-400">{j.last_success.clone().map(|r| r.title())}</td>
                        <td class="px-3 py-2 text-slate-600 dark:text-slate-400">{j.last_failure.clone().map(|r| r.title())}</td>
                        <td class="px-3 py-2 tabular-nums">{format::maybe_duration(j.last.as_ref().and_then(|r| r.duration_seconds))}</td>
                        <td class="px-3 py-2 text-slate-600 dark:text-slate-400">{j.health.clone().map(|h| h.text)}</td>
                    </tr>
                }
            })
            .collect_view()
    };
    view! {
        <div class="overflow-x-auto rounded-lg border border-slate-200 dark:border-slate-700 bg-white dark:bg-slate-900 shadow-sm">
            <table class="min-w-full text-left text-sm" data-testid="template-table">
                <thead class="border-b border-slate-200 dark:border-slate-700 bg-slate-50 dark:bg-slate-950 text-xs uppercase tracking-wide text-slate-500">
                    <tr>
                        {heading("name", "Template")}
                        {heading("status", "Last run")}
                        <th class="px-3 py-2 font-medium">"Last success"</th>
                        <th class="px-3 py-2 font-medium">"Last failure"</th>
                        {heading("duration", "Duration")}
                        {heading("health", "Health")}
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100 dark:divide-slate-800">{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::TemplateKind;
    use crate::model::{HealthView, Phase, RunRow};

    fn template(name: &str) -> TemplateSummary {
        TemplateSummary {
            kind: TemplateKind::WorkflowTemplate,
            namespace: Some("ci".into()),
            name: name.into(),
            folder: vec![],
            title: None,
            description: None,
            parameters: vec![],
            schedule: None,
        }
    }

    fn job(phase: Phase, duration: i64, passed: usize) -> JobRow {
        JobRow {
            last: Some(RunRow {
                name: "r".into(),
                namespace: "ci".into(),
                number: Some(1),
                phase,
                created_at: None,
                started_at: None,
                finished_at: None,
                duration_seconds: Some(duration),
                progress: None,
                message: None,
                trigger: "manual".into(),
                parameters: vec![],
                slow: false,
                template: None,
            }),
            health: Some(HealthView {
                passed,
                of: 5,
                text: String::new(),
            }),
            ..JobRow::default()
        }
    }

    #[test]
    fn the_table_sorts_by_each_column() {
        let mut rows = vec![
            (template("b"), job(Phase::Succeeded, 10, 5)),
            (template("a"), job(Phase::Failed, 30, 1)),
            (template("c"), JobRow::default()),
        ];
        let names = |rows: &[(TemplateSummary, JobRow)]| {
            rows.iter().map(|(t, _)| t.name.clone()).collect::<Vec<_>>()
        };
        sort_templates(&mut rows, TableSort::Name);
        assert_eq!(names(&rows), ["a", "b", "c"]);
        for by in [TableSort::Duration, TableSort::Health, TableSort::Status] {
            rows.reverse();
            sort_templates(&mut rows, by);
            assert_eq!(names(&rows), ["a", "b", "c"], "{by:?}");
        }
        rows.reverse();
        sort_templates(&mut rows, TableSort::LastRun);
        assert_eq!(names(&rows)[2], "c", "never run last");
        rows.swap(0, 1);
        sort_templates(&mut rows, TableSort::parse("status"));
        assert_eq!(names(&rows)[0], "a", "failing first");
        assert_eq!(TableSort::parse("nonsense"), TableSort::Name);
    }
}
