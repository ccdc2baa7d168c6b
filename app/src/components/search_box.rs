//! The search box that filters the template tree.

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::use_navigate;
use leptos_router::location::Url;

/// A search field bound to `query`. Typing filters at once and keeps the address bar's `?q=` in
/// step (replacing the history entry), so the filtered view can be shared or reloaded. Before
/// hydration, or without JavaScript, pressing Enter submits `?q=` to the server, which renders the
/// filtered tree itself.
#[component]
pub fn SearchBox(
    /// The current search, shared with the list it filters.
    query: RwSignal<String>,
) -> impl IntoView {
    let navigate = use_navigate();
    let on_input = move |ev| {
        let value = event_target_value(&ev);
        let url = if value.is_empty() {
            "/".to_owned()
        } else {
            format!("/?q={}", Url::escape(&value))
        };
        query.set(value);
        navigate(
            &url,
            NavigateOptions {
                replace: true,
                scroll: false,
                ..NavigateOptions::default()
            },
        );
    };

    view! {
        <form
            method="get"
            action="/"
            role="search"
            class="w-full sm:w-80"
            on:submit=|ev| ev.prevent_default()
        >
            <label for="template-search" class="sr-only">
                "Search templates"
            </label>
            <input
                id="template-search"
                type="search"
                name="q"
                value=query.get_untracked()
                placeholder="Filter by name, title, description, folder"
                autocomplete="off"
                spellcheck="false"
                class="w-full rounded-lg border border-slate-300 dark:border-slate-600 bg-white dark:bg-slate-900 px-3 py-2 text-sm shadow-sm placeholder:text-slate-400 focus:border-emerald-500 focus:outline-hidden focus:ring-2 focus:ring-emerald-500/30"
                on:input=on_input
            />
        </form>
    }
}
