//! All runs: every workflow, filtered by namespace, phase, template, label, creation day and
//! name, paged on the server. The filters live in the URL, so a filtered list can be shared;
//! while any shown run is live, the list refreshes itself every few seconds.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::list_runs;
use crate::components::empty_state::ErrorNotice;
use crate::components::run_table::RunTable;
use crate::model::RunsFilter;

/// How often a list with live runs is read again.
const REFRESH: std::time::Duration = std::time::Duration::from_secs(3);

/// The filters of a query string.
pub fn filter_of(get: impl Fn(&str) -> Option<String>) -> RunsFilter {
    let v = |k: &str| get(k).unwrap_or_default();
    RunsFilter {
        namespace: v("namespace"),
        phase: v("phase"),
        template: v("template"),
        label: v("label"),
        name: v("name"),
        since: v("since"),
        until: v("until"),
        sort: v("sort"),
        page: v("page"),
    }
}

/// The query string of filters (without the page), for links.
pub fn query_of(f: &RunsFilter) -> String {
    let pairs = [
        ("namespace", &f.namespace),
        ("phase", &f.phase),
        ("template", &f.template),
        ("label", &f.label),
        ("name", &f.name),
        ("since", &f.since),
        ("until", &f.until),
        ("sort", &f.sort),
    ];
    pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", leptos_router::location::Url::escape(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The all-runs page.
#[component]
pub fn RunsPage() -> impl IntoView {
    let query = use_query_map();
    let filter = Memo::new(move |_| query.with(|q| filter_of(|k| q.get(k))));
    let tick = RwSignal::new(0_u64);
    let page = crate::codec::resource(move || (filter.get(), tick.get()), |(f, _)| list_runs(f));
    let live = RwSignal::new(false);
    Effect::new(move |_| {
        if let Some(Ok(p)) = page.get() {
            live.set(p.runs.iter().any(|r| r.phase.is_live()));
        }
    });
    Effect::new(move |_| {
        if let Ok(h) = set_interval_with_handle(
            move || {
                if live.get_untracked() {
                    tick.update(|t| *t += 1);
                }
            },
            REFRESH,
        ) {
            on_cleanup(move || h.clear());
        }
    });
    view! {
        <Title text="All runs" />
        <h1 class="mb-4 text-2xl font-semibold tracking-tight">"All runs"</h1>
        <Filters filter />
        <Transition fallback=|| view! { <p class="text-sm text-slate-500">"Loading runs…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(p) if p.runs.is_empty() => view! {
                        <p class="rounded-lg border border-dashed border-slate-300 dark:border-slate-600 bg-white dark:bg-slate-900 p-6 text-sm text-slate-600 dark:text-slate-400" data-testid="no-runs">
                            "No runs match. Clear the filters, or submit a workflow with "
                            <code class="font-mono">"trellis submit FILE"</code>"."
                        </p>
                    }.into_any(),
                    Ok(p) => {
                        let f = filter.get_untracked();
                        let next = p.next.clone().map(|t| {
                            let q = query_of(&f);
                            let sep = if q.is_empty() { "" } else { "&" };
                            format!("/runs?{q}{sep}page={t}")
                        });
                        view! {
                            <RunTable runs=p.runs show_template=true />
                            <div class="mt-3 flex gap-3 text-sm">
                                {(!f.page.is_empty()).then(|| view! { <a href=format!("/runs?{}", query_of(&f)) class="text-sky-700 hover:underline">"Newest"</a> })}
                                {next.map(|href| view! { <a href=href class="text-sky-700 hover:underline" data-testid="older">"Older runs →"</a> })}
                            </div>
                        }.into_any()
                    }
                    Err(e) => view! { <ErrorNotice message=e.to_string() /> }.into_any(),
                }
            })}
        </Transition>
    }
    .into_any()
}

/// The filter form: a plain GET form, so it works before hydration too.
#[component]
fn Filters(filter: Memo<RunsFilter>) -> impl IntoView {
    let f = filter.get_untracked();
    let input = "rounded border border-slate-300 dark:border-slate-600 bg-white dark:bg-slate-900 px-2 py-1 text-sm shadow-sm";
    let phase = f.phase.clone();
    let options = ["", "Pending", "Running", "Succeeded", "Failed", "Error"]
        .into_iter()
        .map(|p| {
            let label = if p.is_empty() { "any phase" } else { p };
            view! { <option value=p selected=phase == p>{label}</option> }
        })
        .collect_view();
    let sort = f.sort.clone();
    let sorts = [
        ("", "newest first"),
        ("duration", "longest first"),
        ("name", "by name"),
    ]
    .into_iter()
    .map(|(v, l)| view! { <option value=v selected=sort == v>{l}</option> })
    .collect_view();
    view! {
        <form method="get" action="/runs" class="mb-4 flex flex-wrap items-end gap-2 rounded-lg border border-slate-200 dark:border-slate-700 bg-white dark:bg-slate-900 p-3 shadow-sm" data-testid="filters">
            <label class="flex flex-col text-xs text-slate-500">"Namespace"<input name="namespace" value=f.namespace class=input /></label>
            <label class="flex flex-col text-xs text-slate-500">"Phase"<select name="phase" class=input>{options}</select></label>
            <label class="flex flex-col text-xs text-slate-500">"Template"<input name="template" value=f.template class=input /></label>
            <label class="flex flex-col text-xs text-slate-500">"Label"<input name="label" value=f.label placeholder="key=value" class=input /></label>
            <label class="flex flex-col text-xs text-slate-500">"Name contains"<input name="name" value=f.name class=input data-testid="filter-name" /></label>
            <label class="flex flex-col text-xs text-slate-500">"From"<input type="date" name="since" value=f.since class=input /></label>
            <label class="flex flex-col text-xs text-slate-500">"To"<input type="date" name="until" value=f.until class=input /></label>
            <label class="flex flex-col text-xs text-slate-500">"Sort"<select name="sort" class=input>{sorts}</select></label>
            <button type="submit" class="rounded bg-slate-900 px-3 py-1.5 text-sm text-white hover:bg-slate-700" data-testid="apply">"Apply"</button>
            <a href="/runs" class="px-2 py-1.5 text-sm text-slate-600 dark:text-slate-400 hover:underline">"Clear"</a>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_round_trip_through_the_query_string() {
        let f = filter_of(|k| match k {
            "phase" => Some("Failed".into()),
            "name" => Some("night ly".into()),
            "page" => Some("tok".into()),
            _ => None,
        });
        assert_eq!(f.phase, "Failed");
        assert_eq!(f.page, "tok");
        assert_eq!(query_of(&f), "phase=Failed&name=night%20ly");
        assert_eq!(query_of(&RunsFilter::default()), "");
    }
}
