//! Keyboard shortcuts and their `?` cheat sheet.

use leptos::prelude::*;

/// What a key press does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shortcut {
    /// Show or hide the cheat sheet.
    Help,
    /// Close what is open.
    Close,
    /// Put the cursor in the page's search box.
    Search,
    /// Go to the templates.
    Templates,
    /// Go to all runs.
    Runs,
}

/// The shortcuts, as the cheat sheet lists them.
pub const SHORTCUTS: [(&str, &str); 5] = [
    ("?", "Show or hide this list"),
    ("/", "Search on this page"),
    ("g then t", "Go to the templates"),
    ("g then r", "Go to all runs"),
    ("Esc", "Close this list"),
];

/// The shortcut of `key` pressed after `previous` (for two-key sequences like `g t`).
pub fn shortcut(previous: Option<&str>, key: &str) -> Option<Shortcut> {
    match (previous, key) {
        (_, "?") => Some(Shortcut::Help),
        (_, "Escape") => Some(Shortcut::Close),
        (_, "/") => Some(Shortcut::Search),
        (Some("g"), "t") => Some(Shortcut::Templates),
        (Some("g"), "r") => Some(Shortcut::Runs),
        _ => None,
    }
}

/// Listens for shortcuts while the app is open (typing in a field is left alone).
#[component]
pub fn Shortcuts() -> impl IntoView {
    let open = RwSignal::new(false);
    let navigate = leptos_router::hooks::use_navigate();
    let previous = StoredValue::new(None::<String>);
    Effect::new(move |_| {
        let navigate = navigate.clone();
        let handle = window_event_listener(leptos::ev::keydown, move |ev| {
            if ev.ctrl_key() || ev.meta_key() || ev.alt_key() || typing(&ev) {
                return;
            }
            let key = ev.key();
            let action = previous.with_value(|p| shortcut(p.as_deref(), &key));
            previous.set_value(Some(key));
            match action {
                Some(Shortcut::Help) => open.update(|o| *o = !*o),
                Some(Shortcut::Close) => open.set(false),
                Some(Shortcut::Search) => {
                    ev.prevent_default();
                    focus_search();
                }
                Some(Shortcut::Templates) => navigate("/", Default::default()),
                Some(Shortcut::Runs) => navigate("/runs", Default::default()),
                None => {}
            }
        });
        on_cleanup(move || handle.remove());
    });
    view! {
        <Show when=move || open.get()>
            <div class="fixed inset-0 z-50 grid place-items-center bg-slate-900/40" on:click=move |_| open.set(false)>
                <div class="w-96 rounded-xl bg-white dark:bg-slate-900 p-6 shadow-xl" role="dialog" aria-label="Keyboard shortcuts" data-testid="shortcuts">
                    <h2 class="mb-3 text-lg font-semibold">"Keyboard shortcuts"</h2>
                    <dl class="space-y-2 text-sm">
                        {SHORTCUTS.iter().map(|(keys, what)| view! {
                            <div class="flex justify-between gap-4">
                                <dt><kbd class="rounded border border-slate-300 dark:border-slate-600 bg-slate-50 dark:bg-slate-950 px-1.5 py-0.5 font-mono text-xs">{*keys}</kbd></dt>
                                <dd class="text-slate-600 dark:text-slate-400">{*what}</dd>
                            </div>
                        }).collect_view()}
                    </dl>
                </div>
            </div>
        </Show>
    }
}

/// Whether the key went to a text field.
fn typing(ev: &leptos::ev::KeyboardEvent) -> bool {
    let tag = event_target::<web_sys::Element>(ev)
        .tag_name()
        .to_ascii_lowercase();
    matches!(tag.as_str(), "input" | "textarea" | "select")
}

/// Focuses the page's search box (else the top bar's).
fn focus_search() {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast as _;
        let doc = document();
        let find = |selector: &str| doc.query_selector(selector).ok().flatten();
        if let Some(el) = find("main input[type=search]")
            .or_else(|| find("input[type=search]"))
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = el.focus();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_sequences() {
        assert_eq!(shortcut(None, "?"), Some(Shortcut::Help));
        assert_eq!(shortcut(Some("g"), "r"), Some(Shortcut::Runs));
        assert_eq!(shortcut(Some("g"), "t"), Some(Shortcut::Templates));
        assert_eq!(shortcut(None, "r"), None, "r alone does nothing");
        assert_eq!(shortcut(Some("x"), "t"), None);
        assert_eq!(shortcut(Some("g"), "Escape"), Some(Shortcut::Close));
    }
}
