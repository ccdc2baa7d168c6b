//! The Trellis web UI: the HTML shell, the routes, pages, components and server functions.
//!
//! Compiled twice: with the `ssr` feature into the server (which renders pages and runs server
//! functions) and with `hydrate` into the browser's wasm (which makes the server's HTML
//! interactive).

// Leptos' view types nest deeply; the hydrating build needs more than the default 128.
#![recursion_limit = "256"]

pub mod act;
pub mod ansi;
pub mod api;
pub mod catalog;
pub mod codec;
pub mod components;
pub mod form;
pub mod format;
pub mod markdown;
pub mod model;
pub mod ops;
pub mod pages;
pub mod tree;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{SsrMode, path};

use crate::catalog::TemplateKind;
use crate::components::header::Header;
use crate::pages::approvals::{ApprovalsPage, AuditTrailPage};
use crate::pages::compare::ComparePage;
use crate::pages::home::HomePage;
use crate::pages::login::LoginPage;
use crate::pages::not_found::NotFound;
use crate::pages::run::RunPage;
use crate::pages::runs::RunsPage;
use crate::pages::template::TemplatePage;
use crate::pages::trigger::TriggerPage;

/// The id of the app's root element.
pub const ROOT_ID: &str = "trellis";

/// Sets the `dark` class on `<html>` before the page is painted: from the choice stored by the
/// theme toggle, else from the system's preference.
pub const THEME_SCRIPT: &str = "(function(){try{var t=localStorage.getItem('trellis-theme');\
var d=t?t==='dark':window.matchMedia('(prefers-color-scheme: dark)').matches;\
document.documentElement.classList.toggle('dark',d)}catch(e){}})()";

/// The whole HTML document around [`App`], rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    content_security_policy();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="data:," />
                <script nonce=leptos::nonce::use_nonce() inner_html=THEME_SCRIPT></script>
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body class="bg-slate-50 dark:bg-slate-950 text-slate-900 dark:text-slate-100">
                <App />
            </body>
        </html>
    }
}

/// Sends the page's Content Security Policy: scripts only from this server or inline with this
/// response's nonce (Leptos puts it on its hydration scripts), WebAssembly compiled from those
/// scripts, everything else from this server, and no framing by other sites.
#[cfg(feature = "ssr")]
fn content_security_policy() {
    let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    let policy = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
         object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
    );
    if let Ok(value) = policy.parse() {
        response.insert_header(
            leptos::server_fn::http_export::header::CONTENT_SECURITY_POLICY,
            value,
        );
    }
}

/// The application: header and routes. Once hydrated in the browser, its root element carries
/// `data-hydrated="true"` (browser tests wait for it).
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();

    let (hydrated, set_hydrated) = signal(false);
    // Effects never run on the server, so this marks the page as hydrated.
    Effect::new(move |_| set_hydrated.set(true));

    view! {
        <Stylesheet id="trellis-css" href="/pkg/trellis.css" />
        <Title formatter=|title: String| {
            if title.is_empty() { "Trellis".to_owned() } else { format!("{title} · Trellis") }
        } />
        <div
            id=ROOT_ID
            class="flex min-h-screen flex-col"
            data-hydrated=move || hydrated.get().then_some("true")
        >
            <Router>
                <Header />
                <crate::components::shortcuts::Shortcuts />
                <main class="mx-auto w-full max-w-7xl flex-1 px-4 py-6 sm:px-6">
                    <Routes fallback=NotFound>
                        <Route path=path!("/") view=HomePage ssr=SsrMode::Async />
                        <Route
                            path=path!("/templates/:namespace/:name")
                            view=|| view! { <TemplatePage kind=TemplateKind::WorkflowTemplate /> }
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/cluster-templates/:name")
                            view=|| view! { <TemplatePage kind=TemplateKind::ClusterWorkflowTemplate /> }
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/cron-workflows/:namespace/:name")
                            view=|| view! { <TemplatePage kind=TemplateKind::CronWorkflow /> }
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/templates/:namespace/:name/run")
                            view=|| view! { <TriggerPage kind=TemplateKind::WorkflowTemplate /> }
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/cluster-templates/:name/run")
                            view=|| view! { <TriggerPage kind=TemplateKind::ClusterWorkflowTemplate /> }
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/cron-workflows/:namespace/:name/run")
                            view=|| view! { <TriggerPage kind=TemplateKind::CronWorkflow /> }
                            ssr=SsrMode::Async
                        />
                        <Route path=path!("/runs") view=RunsPage ssr=SsrMode::Async />
                        <Route path=path!("/compare/:namespace/:a/:b") view=ComparePage ssr=SsrMode::Async />
                        <Route path=path!("/approvals") view=ApprovalsPage ssr=SsrMode::Async />
                        <Route path=path!("/audit") view=AuditTrailPage ssr=SsrMode::Async />
                        <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async />
                        <Route path=path!("/runs/:namespace/:name") view=RunPage ssr=SsrMode::Async />
                    </Routes>
                </main>
            </Router>
        </div>
    }
}
