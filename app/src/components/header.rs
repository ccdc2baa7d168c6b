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
                    <ApprovalsLink />
                </nav>
                <span class="ml-auto"></span>
                <NamespaceSwitcher />
                <form method="get" action="/" role="search" class="hidden md:block">
                    <input
                        type="search"
                        name="q"
                        placeholder="Search templates"
                        aria-label="Search templates"
                        class="w-48 rounded-md border border-slate-700 bg-slate-800 px-2 py-1 text-sm text-slate-100 placeholder:text-slate-400"
                    />
                </form>
                <ThemeToggle />
                <UserMenu />
                <span class="hidden text-xs text-slate-400 sm:block">
                    "Press "<kbd class="rounded border border-slate-600 px-1 font-mono">"?"</kbd>" for shortcuts"
                </span>
            </div>
        </header>
    }
}

/// How often the approvals badge is read again.
const INBOX_REFRESH: std::time::Duration = std::time::Duration::from_secs(5);

/// The approvals inbox, with a badge counting the steps waiting for the current user.
#[component]
fn ApprovalsLink() -> impl IntoView {
    let count = RwSignal::new(None::<usize>);
    // Whether someone is signed in (asked once): no one, no inbox to read.
    let signed_in = RwSignal::new(None::<bool>);
    let location = leptos_router::hooks::use_location();
    let read = move || {
        leptos::task::spawn_local(async move {
            if signed_in.get_untracked().is_none() {
                let who = crate::act::who_am_i().await.ok();
                signed_in.set(Some(who.is_some_and(|v| v.user.is_some())));
            }
            if signed_in.get_untracked() != Some(true) {
                return;
            }
            if let Ok(list) = crate::act::inbox().await {
                count.set(Some(list.len()));
            }
        });
    };
    // Effects run only in the browser: read on every page change and every few seconds.
    Effect::new(move |_| {
        location.pathname.track();
        read();
    });
    Effect::new(move |_| {
        if let Ok(h) = set_interval_with_handle(read, INBOX_REFRESH) {
            on_cleanup(move || h.clear());
        }
    });
    view! {
        <a href="/approvals" class="flex items-center gap-1 rounded px-2 py-1 text-white hover:bg-slate-800" data-testid="nav-approvals">
            "Approvals"
            {move || count.get().filter(|n| *n > 0).map(|n| view! {
                <span class="rounded-full bg-violet-500 px-1.5 text-xs font-semibold text-white" data-testid="inbox-count" title="Steps waiting for your approval">{n}</span>
            })}
        </a>
    }
}

/// Picks the namespace the templates and runs pages show; its choices are the namespaces that
/// hold templates.
#[component]
fn NamespaceSwitcher() -> impl IntoView {
    let scopes = crate::codec::resource(|| (), |()| crate::api::namespaces());
    let query = leptos_router::hooks::use_query_map();
    let location = leptos_router::hooks::use_location();
    let navigate = leptos_router::hooks::use_navigate();
    let current = move || query.with(|q| q.get("namespace").unwrap_or_default());
    let on_change = move |ev| {
        let ns = event_target_value(&ev);
        let base = if location.pathname.get_untracked().starts_with("/runs") {
            "/runs"
        } else {
            "/"
        };
        let url = if ns.is_empty() {
            base.to_string()
        } else {
            format!(
                "{base}?namespace={}",
                leptos_router::location::Url::escape(&ns)
            )
        };
        navigate(&url, Default::default());
    };
    view! {
        <Suspense fallback=|| ()>
            {move || {
                let on_change = on_change.clone();
                Suspend::new(async move {
                let list = scopes.await.unwrap_or_default();
                let options = list
                    .into_iter()
                    .map(|ns| {
                        let selected = current() == ns;
                        view! { <option value=ns.clone() selected=selected>{ns.clone()}</option> }
                    })
                    .collect_view();
                view! {
                    <select
                        aria-label="Namespace"
                        data-testid="namespace-switcher"
                        class="rounded-md border border-slate-700 bg-slate-800 px-2 py-1 text-sm text-slate-100"
                        on:change=on_change
                    >
                        <option value="" selected=move || current().is_empty()>"all namespaces"</option>
                        {options}
                    </select>
                }
            })
            }}
        </Suspense>
    }
}

/// Who is signed in, with a way to sign out (or in).
#[component]
fn UserMenu() -> impl IntoView {
    let viewer = crate::codec::resource(|| (), |()| crate::act::who_am_i());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let v = viewer.await.unwrap_or_default();
                match (v.user, v.sso || v.tokens) {
                    (Some(user), _) => {
                        let groups = if user.groups.is_empty() {
                            "no groups".to_string()
                        } else {
                            format!("groups: {}", user.groups.join(", "))
                        };
                        let title = format!("{} ({groups})", user.email.clone().unwrap_or_else(|| user.subject.clone()));
                        view! {
                            <span class="flex items-center gap-2 text-sm text-slate-200" data-testid="user-menu">
                                <span data-testid="user-name" title=title>{user.shown().to_string()}</span>
                                {user.session.then(|| view! {
                                    <form method="post" action="/auth/logout">
                                        <button type="submit" class="rounded px-2 py-1 text-slate-300 hover:bg-slate-800" data-testid="sign-out">"Sign out"</button>
                                    </form>
                                })}
                            </span>
                        }.into_any()
                    }
                    (None, true) => view! {
                        <a href="/login" class="rounded px-2 py-1 text-sm text-white hover:bg-slate-800" data-testid="sign-in">"Sign in"</a>
                    }.into_any(),
                    (None, false) => ().into_any(),
                }
            })}
        </Suspense>
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
            class="rounded px-2 py-1 text-sm text-slate-300 hover:bg-slate-800"
            title="Light or dark"
            aria-label="Switch between light and dark"
            data-testid="theme-toggle"
            on:click=toggle
        >
            "◐"
        </button>
    }
}
