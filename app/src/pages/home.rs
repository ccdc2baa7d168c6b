//! The home page: every loaded template as a searchable folder tree.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::list_templates;
use crate::components::empty_state::{EmptyState, ErrorNotice, NoMatches};
use crate::components::folder_tree::ScopeSection;
use crate::components::search_box::SearchBox;
use crate::tree::CatalogTree;

/// The folder tree with its search box. The first render (on the server) is filtered by `?q=`;
/// after hydration the browser filters the whole tree itself as the user types.
#[component]
pub fn HomePage() -> impl IntoView {
    let initial = use_query_map().with_untracked(|params| params.get("q").unwrap_or_default());
    let query = RwSignal::new(initial);
    // The whole catalog, loaded once (and sent along with the server's HTML), so that filtering
    // needs no further request.
    let catalog = Resource::new(|| (), |()| list_templates(String::new()));

    view! {
        <Title text="Templates" />
        <div class="mb-6 flex flex-col gap-3 sm:flex-row sm:items-center sm:justify-between">
            <h1 class="text-2xl font-semibold tracking-tight">"Templates"</h1>
            <SearchBox query />
        </div>
        <Suspense fallback=|| {
            view! { <p class="text-sm text-slate-500">"Loading templates…"</p> }
        }>
            {move || Suspend::new(async move {
                match catalog.await {
                    Ok(tree) => view! { <CatalogView tree query /> }.into_any(),
                    Err(err) => view! { <ErrorNotice message=err.to_string() /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The tree filtered by the current query, or the empty state.
#[component]
fn CatalogView(
    /// The whole, unfiltered catalog.
    tree: CatalogTree,
    /// The search to filter it by.
    query: RwSignal<String>,
) -> impl IntoView {
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
                    <p data-testid="summary" class="text-sm text-slate-500">
                        {summary}
                    </p>
                    {shown
                        .groups
                        .into_iter()
                        .map(|group| view! { <ScopeSection group /> })
                        .collect_view()}
                }
                    .into_any()
            }}
        </div>
    }
    .into_any()
}
