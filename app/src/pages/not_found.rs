//! The page for an unknown address.

use leptos::prelude::*;
use leptos_meta::Title;

/// Shown for any path no route matches (the server answers 404).
#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <Title text="Not found" />
        <div class="py-16 text-center">
            <h1 class="text-2xl font-semibold">"Page not found"</h1>
            <p class="mt-2 text-slate-600 dark:text-slate-400">
                <a href="/" class="text-emerald-700 underline hover:text-emerald-900">
                    "Back to the templates"
                </a>
            </p>
        </div>
    }
}
