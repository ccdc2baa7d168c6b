//! The dark bar at the top of every page.

use leptos::prelude::*;

/// The product name and the main navigation.
#[component]
pub fn Header() -> impl IntoView {
    view! {
        <header class="bg-slate-900 text-slate-100 shadow-sm">
            <div class="mx-auto flex h-14 max-w-7xl items-center gap-6 px-4 sm:px-6">
                <a href="/" class="flex items-center gap-2 text-lg font-semibold tracking-tight text-white">
                    <span
                        aria-hidden="true"
                        class="grid h-7 w-7 place-items-center rounded-md bg-emerald-500 text-sm font-bold text-slate-900 dark:text-slate-100"
                    >
                        "T"
                    </span>
                    "Trellis"
                </a>
                <nav class="flex items-center gap-4 text-sm text-slate-300">
                    <a href="/" class="rounded px-2 py-1 text-white hover:bg-slate-800" data-testid="nav-templates">
                        "Templates"
                    </a>
                    <a href="/runs" class="rounded px-2 py-1 text-white hover:bg-slate-800" data-testid="nav-runs">
                        "Runs"
                    </a>
                </nav>
                <ThemeToggle />
                <span class="hidden text-xs text-slate-400 sm:block">
                    "Press "<kbd class="rounded border border-slate-600 px-1 font-mono">"?"</kbd>" for shortcuts"
                </span>
            </div>
        </header>
    }
}

/// Switches between light and dark, remembered in the browser (the page starts with the
/// system's choice until then).
#[component]
fn ThemeToggle() -> impl IntoView {
    let toggle = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let root = document().document_element();
            if let Some(root) = root {
                let dark = root.class_list().toggle("dark").unwrap_or(false);
                if let Ok(Some(store)) = window().local_storage() {
                    let _ = store.set_item("trellis-theme", if dark { "dark" } else { "light" });
                }
            }
        }
    };
    view! {
        <button
            class="ml-auto rounded px-2 py-1 text-sm text-slate-300 hover:bg-slate-800"
            title="Light or dark"
            aria-label="Switch between light and dark"
            data-testid="theme-toggle"
            on:click=toggle
        >
            "◐"
        </button>
    }
}
