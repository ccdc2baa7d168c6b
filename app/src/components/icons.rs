//! Small inline SVG icons (no icon font: they render whatever fonts the machine has).

use leptos::prelude::*;

/// A right-pointing chevron; rotates when its `<details>` group is open.
#[component]
pub fn ChevronIcon() -> impl IntoView {
    view! {
        <svg
            aria-hidden="true"
            viewBox="0 0 20 20"
            fill="currentColor"
            class="h-4 w-4 shrink-0 text-slate-400 transition-transform group-open:rotate-z-90"
        >
            <path
                fill-rule="evenodd"
                d="M7.2 14.8a.75.75 0 0 1 0-1.06L10.94 10 7.2 6.26a.75.75 0 1 1 1.06-1.06l4.27 4.27a.75.75 0 0 1 0 1.06l-4.27 4.27a.75.75 0 0 1-1.06 0Z"
                clip-rule="evenodd"
            />
        </svg>
    }
}

/// A folder.
#[component]
pub fn FolderIcon() -> impl IntoView {
    view! {
        <svg aria-hidden="true" viewBox="0 0 20 20" fill="currentColor" class="h-4 w-4 shrink-0 text-amber-400">
            <path d="M2 5.5A1.5 1.5 0 0 1 3.5 4h4.38a1.5 1.5 0 0 1 1.06.44L10.5 6h6A1.5 1.5 0 0 1 18 7.5v7a1.5 1.5 0 0 1-1.5 1.5h-13A1.5 1.5 0 0 1 2 14.5v-9Z" />
        </svg>
    }
}

/// A clock, for schedules.
#[component]
pub fn ClockIcon() -> impl IntoView {
    view! {
        <svg
            aria-hidden="true"
            viewBox="0 0 20 20"
            fill="none"
            stroke="currentColor"
            stroke-width="1.6"
            class="h-3.5 w-3.5 shrink-0"
        >
            <circle cx="10" cy="10" r="7.25" />
            <path d="M10 6v4.2l2.8 1.8" stroke-linecap="round" stroke-linejoin="round" />
        </svg>
    }
}
