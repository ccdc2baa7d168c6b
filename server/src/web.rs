//! The web server: the Leptos UI (rendered on the server, then hydrated in the browser), its
//! server functions, the built assets under `/pkg`, and `/healthz`.

use std::io::IsTerminal as _;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use app::api::data::UiData;
use app::catalog::Catalog;
use axum::Router;
use axum::routing::get;
use leptos::config::{Env, LeptosOptions};
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, file_and_error_handler_with_context, generate_route_list};
use tower_http::compression::CompressionLayer;
use tower_http::services::ServeDir;
use tower_http::trace::TraceLayer;
use tracing_subscriber::EnvFilter;

use crate::backend::Backend;
use crate::cli::{BackendKind, ServeArgs};

/// The base name of the built script, wasm and stylesheet (`pkg/trellis.js`, …).
pub const OUTPUT_NAME: &str = "trellis";

/// The directory under the site directory that holds the built assets, served at `/pkg`.
pub const SITE_PKG_DIR: &str = "pkg";

/// Serves the UI and the API on `args.host:args.port` until Ctrl-C or SIGTERM;
/// `library` (the templates loaded with `--load`, summarized in `catalog`) is stored first.
pub async fn serve(
    args: ServeArgs,
    catalog: Catalog,
    library: crate::manifests::Library,
) -> anyhow::Result<()> {
    init_tracing();
    let listener = tokio::net::TcpListener::bind((args.host.as_str(), args.port))
        .await
        .with_context(|| format!("cannot listen on {}:{}", args.host, args.port))?;
    let addr = listener.local_addr()?;
    let database = args
        .database_url
        .as_deref()
        .map(controller::store::Database::from_url)
        .transpose()?;
    let database_shown = match &database {
        Some(controller::store::Database::Postgres(url)) => controller::store::redact(url),
        Some(controller::store::Database::Sqlite(path)) => path.display().to_string(),
        None => args.data_dir.join("trellis.db").display().to_string(),
    };
    let backend = match args.backend {
        BackendKind::Local => open_local(&args, database, &database_shown, &library).await?,
        BackendKind::Kubernetes => open_kube(&args, database, &database_shown).await?,
    };
    let options = leptos_options(&args.site_dir, addr);
    warn_if_assets_missing(&options);
    let templates = catalog.templates.len();
    let runner = backend.clone();
    let store = backend.store().clone();
    let auth = Arc::new(crate::auth::setup::from_args(&args, addr.port(), store.clone()).await?);
    crate::auth::setup::purge_sessions(store.clone());
    let tls = args.tls_identity()?;
    let sessions = crate::auth::setup::session_layer(store, args.session_idle, tls.is_some());
    let api = crate::api::ApiState::new(backend).with_auth(auth);
    let app = app(
        {
            let source = crate::ui::UiSource::new(api.clone());
            router(options, source.clone(), Some(source))
        },
        api.clone(),
        sessions,
    );
    let lost_flag = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let lost = lost_flag.clone();

    let stop = async move {
        tokio::select! {
            () = shutdown_signal() => {}
            err = runner.runner_lost() => {
                tracing::error!(error = %err, "stopping: this server no longer runs the database's workflows");
                lost.store(true, std::sync::atomic::Ordering::SeqCst);
            }
        }
        api.shut_down();
    };
    match tls {
        Some(identity) => {
            let listener = crate::tls::TlsListener::new(listener, identity)?;
            tracing::info!(templates, "Trellis is listening on https://{addr}");
            axum::serve(listener, app)
                .with_graceful_shutdown(stop)
                .await
                .context("the web server failed")?;
        }
        None => {
            tracing::info!(templates, "Trellis is listening on http://{addr}");
            axum::serve(listener, app)
                .with_graceful_shutdown(stop)
                .await
                .context("the web server failed")?;
        }
    }
    if lost_flag.load(std::sync::atomic::Ordering::SeqCst) {
        anyhow::bail!("another Trellis server took over this database's workflows");
    }
    tracing::info!("Trellis stopped");
    Ok(())
}

/// Opens the local backend, stores the `--load`ed templates and resumes what was running.
async fn open_local(
    args: &ServeArgs,
    database: Option<controller::store::Database>,
    database_shown: &str,
    library: &crate::manifests::Library,
) -> anyhow::Result<Backend> {
    let backend = controller::local::LocalBackend::open(controller::local::LocalConfig {
        data_dir: args.data_dir.clone(),
        database,
        exec_binary: std::env::current_exe()?,
        sandbox: !args.no_sandbox,
    })
    .await
    .context("cannot open the local backend")?;
    library
        .install(&backend)
        .await
        .context("cannot store the loaded templates")?;
    let resumed = backend.resume_all().await?;
    tokio::spawn(controller::cron::CronScheduler::new(backend.clone()).run());
    tokio::spawn(controller::ttl::TtlReaper::new(backend.clone()).run());
    tracing::info!(
        resumed,
        sandboxed = backend.sandboxed(),
        data_dir = %args.data_dir.display(),
        database = %database_shown,
        "local backend ready"
    );
    Ok(Backend::Local(backend))
}

/// Connects to the cluster and mirrors its objects into the database (the controller runs the
/// workflows, their crons and TTLs); ready once every watch has listed.
async fn open_kube(
    args: &ServeArgs,
    database: Option<controller::store::Database>,
    database_shown: &str,
) -> anyhow::Result<Backend> {
    if !args.load.is_empty() {
        anyhow::bail!(
            "--load stores templates in the local backend; with --backend kubernetes, apply them \
             to the cluster instead (kubectl apply -f FILE)"
        );
    }
    std::fs::create_dir_all(&args.data_dir).with_context(|| {
        format!(
            "cannot create the data directory {}",
            args.data_dir.display()
        )
    })?;
    let database = database
        .unwrap_or_else(|| controller::store::Database::Sqlite(args.data_dir.join("trellis.db")));
    let store = controller::store::SqlStore::open(&database)
        .await
        .with_context(|| format!("cannot open the database {database_shown}"))?;
    let (client, scope) = crate::controller_cmd::connect(&args.scope).await?;
    let config = controller::k8s::serve::KubeConfig {
        scope: scope.clone(),
        data_dir: args.data_dir.clone(),
    };
    let backend = controller::k8s::serve::KubeBackend::start(client, store, config);
    tracing::info!(?scope, "listing the cluster's workflows and templates");
    if tokio::time::timeout(std::time::Duration::from_secs(120), backend.ready())
        .await
        .is_err()
    {
        tracing::error!(
            "not every kind of object could be listed in 120 s (see the warnings above: are the \
             CRDs installed, and may the server list them?); serving what is known"
        );
    }
    tracing::info!(
        ?scope,
        data_dir = %args.data_dir.display(),
        database = %database_shown,
        "kubernetes backend ready"
    );
    Ok(Backend::Kube(backend))
}

/// The routes of the web UI, without a listener: pages, server functions, `/pkg` assets,
/// `/healthz`, and a fallback that serves other files of the site directory or a 404 page.
///
/// `act` does the UI's actions; without it (a read-only UI) they answer that they are not wired.
pub fn router(
    options: LeptosOptions,
    data: Arc<dyn UiData>,
    act: Option<Arc<dyn app::act::data::ActData>>,
) -> Router {
    let routes = generate_route_list(app::App);
    let context = move || {
        provide_context(data.clone());
        if let Some(a) = &act {
            provide_context(a.clone());
        }
    };
    let pkg_dir = Path::new(&*options.site_root).join(&*options.site_pkg_dir);
    let pkg_route = format!("/{}", options.site_pkg_dir.trim_matches('/'));
    let shell_options = options.clone();

    Router::new()
        .route("/healthz", get(healthz))
        .nest_service(
            &pkg_route,
            ServeDir::new(pkg_dir)
                .precompressed_br()
                .precompressed_gzip(),
        )
        .leptos_routes_with_context(&options, routes, context.clone(), move || {
            app::shell(shell_options.clone())
        })
        .fallback(file_and_error_handler_with_context(context, app::shell))
        .with_state(options)
        .layer(CompressionLayer::new())
}

/// The whole server: the UI (compressed), the REST API (not compressed, so its streams are
/// sent as they are written) and the sign-in routes, every request authenticated first
/// (`auth`), with sessions, security headers and request tracing; state-changing requests from
/// other sites are refused (`origin`).
pub fn app(
    ui: Router,
    api: crate::api::ApiState,
    sessions: tower_sessions::SessionManagerLayer<crate::auth::sessions::SqlSessions>,
) -> Router {
    let auth = api.auth().clone();
    ui.merge(crate::api::router(api))
        .merge(crate::auth::oidc::routes().with_state(auth.clone()))
        .merge(crate::auth::token_login::routes().with_state(auth.clone()))
        .layer(axum::middleware::from_fn_with_state(
            auth,
            crate::auth::authenticate,
        ))
        .layer(sessions)
        .layer(axum::middleware::from_fn(crate::origin::same_origin))
        .layer(axum::middleware::from_fn(
            crate::auth::headers::security_headers,
        ))
        .layer(TraceLayer::new_for_http())
}

/// Leptos' settings, built here from the command line so that no `LEPTOS_*` variable is needed.
pub fn leptos_options(site_dir: &Path, addr: SocketAddr) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name(OUTPUT_NAME)
        .site_root(site_dir.to_string_lossy().as_ref())
        .site_pkg_dir(SITE_PKG_DIR)
        .site_addr(addr)
        .env(if cfg!(debug_assertions) {
            Env::DEV
        } else {
            Env::PROD
        })
        .build()
}

/// Answers once the server is up: the templates are stored before the router exists.
async fn healthz() -> &'static str {
    "ok"
}

/// Logs to stdout, filtered by `RUST_LOG` (default `info`).
fn init_tracing() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // A second call (e.g. a test that serves twice) keeps the first subscriber.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stdout().is_terminal())
        .try_init();
}

/// Pages still render without the built assets, but never hydrate: say so at start-up.
fn warn_if_assets_missing(options: &LeptosOptions) {
    let script = Path::new(&*options.site_root)
        .join(&*options.site_pkg_dir)
        .join(format!("{}.js", options.output_name));
    if !script.is_file() {
        tracing::warn!(
            path = %script.display(),
            "the web UI's script is missing, so pages will not be interactive: run `cargo xtask build` \
             or pass --site-dir"
        );
    }
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut sigterm) => {
                sigterm.recv().await;
            }
            Err(err) => {
                tracing::error!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();

    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

#[cfg(test)]
mod tests {
    use app::api::data::Fut;
    use app::api::{Folders, UiError};
    use app::catalog::{ParameterSummary, TemplateKind, TemplateSummary};
    use app::model::{
        FolderPage, LogWindow, NodeDetail, RunPage, RunTab, RunsFilter, RunsPage, TemplateId,
        TemplatePage,
    };
    use axum::body::{Body, to_bytes};
    use axum::http::{Request, StatusCode, header};
    use leptos::server_fn::ServerFn as _;
    use tower::ServiceExt as _;

    use super::*;

    /// The web tests share one runtime, as the server's requests do.
    static RUNTIME: std::sync::LazyLock<tokio::runtime::Runtime> = std::sync::LazyLock::new(|| {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("a Tokio runtime")
    });

    /// How long one test may take: a hung page stream fails the test instead of the whole run.
    const DEADLINE: std::time::Duration = std::time::Duration::from_secs(30);

    /// A test run on the shared runtime within [`DEADLINE`].
    macro_rules! web_test {
        (async fn $name:ident() $body:block) => {
            #[test]
            fn $name() {
                RUNTIME.block_on(async {
                    tokio::time::timeout(DEADLINE, async $body)
                        .await
                        .expect("the server answered within the deadline (a hung page stream?)")
                })
            }
        };
    }

    fn summary(name: &str, folder: &[&str]) -> TemplateSummary {
        TemplateSummary {
            kind: TemplateKind::WorkflowTemplate,
            namespace: Some("team-a".into()),
            name: name.into(),
            folder: folder.iter().map(|s| (*s).to_owned()).collect(),
            title: None,
            description: None,
            parameters: vec![],
            schedule: None,
        }
    }

    fn catalog() -> Catalog {
        let mut evil = summary("evil", &[]);
        evil.title = Some("<script>alert(1)</script>".into());
        evil.description = Some("<img src=x onerror=alert(2)>".into());
        let mut nightly = summary("nightly-report", &["reports"]);
        nightly.kind = TemplateKind::CronWorkflow;
        nightly.schedule = Some("0 3 * * *".into());
        nightly.parameters = vec![ParameterSummary {
            name: "day".into(),
            default: Some("yesterday".into()),
            description: None,
            enum_values: vec![],
        }];
        Catalog {
            templates: vec![summary("build-backend", &["ci", "backend"]), nightly, evil],
        }
    }

    /// The UI's data from a fixed catalog of never-run templates; runs do not exist.
    struct Fixed(Catalog);

    impl UiData for Fixed {
        fn folders(&self, query: String) -> Fut<'_, FolderPage> {
            let tree = app::tree::CatalogTree::build(&self.0).filtered(&query);
            Box::pin(async move {
                Ok(FolderPage {
                    tree,
                    jobs: Default::default(),
                })
            })
        }
        fn namespaces(&self) -> Fut<'_, Vec<String>> {
            let scopes = app::tree::CatalogTree::build(&self.0).scopes();
            Box::pin(async move { Ok(scopes) })
        }
        fn template(&self, id: TemplateId, _: String) -> Fut<'_, TemplatePage> {
            Box::pin(async move { Err(UiError::NotFound(format!("no template {}", id.name))) })
        }
        fn runs(&self, _: RunsFilter) -> Fut<'_, RunsPage> {
            Box::pin(async { Ok(RunsPage::default()) })
        }
        fn run(&self, _: String, name: String, _: Vec<String>) -> Fut<'_, RunPage> {
            Box::pin(async move { Err(UiError::NotFound(format!("no workflow {name}"))) })
        }
        fn tab(&self, _: String, name: String, _: String) -> Fut<'_, RunTab> {
            Box::pin(async move { Err(UiError::NotFound(format!("no workflow {name}"))) })
        }
        fn node(&self, _: String, _: String, node: String) -> Fut<'_, NodeDetail> {
            Box::pin(async move { Err(UiError::NotFound(format!("no node {node}"))) })
        }
        fn log(
            &self,
            _: String,
            _: String,
            _: String,
            _: Option<u64>,
            _: u32,
        ) -> Fut<'_, LogWindow> {
            Box::pin(async { Ok(LogWindow::default()) })
        }
    }

    fn test_router(catalog: Catalog) -> Router {
        let options = leptos_options(
            Path::new("target/no-such-site"),
            SocketAddr::from(([127, 0, 0, 1], 0)),
        );
        router(options, Arc::new(Fixed(catalog)), None)
    }

    /// The two routers the tests use, built once and one after the other, as the server builds
    /// its one router before serving. Building a router (Leptos renders the app to list its
    /// routes) while another router renders a page left that page's stream open forever in about
    /// a third of the runs here; with the routers built first, 100 runs out of 100 finished.
    static ROUTERS: std::sync::LazyLock<(Router, Router)> =
        std::sync::LazyLock::new(|| (test_router(catalog()), test_router(Catalog::default())));

    fn full_router() -> Router {
        ROUTERS.0.clone()
    }

    fn empty_router() -> Router {
        ROUTERS.1.clone()
    }

    async fn send(router: Router, request: Request<Body>) -> (StatusCode, String) {
        let response = router.oneshot(request).await.expect("the router answers");
        let status = response.status();
        let body = to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("the body is readable");
        (
            status,
            String::from_utf8(body.to_vec()).expect("the body is UTF-8"),
        )
    }

    async fn get(router: Router, uri: &str) -> (StatusCode, String) {
        send(router, Request::get(uri).body(Body::empty()).unwrap()).await
    }

    web_test! {
        async fn healthz_is_ok() {
            let (status, body) = get(empty_router(), "/healthz").await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(body, "ok");
        }
    }

    web_test! {
        async fn home_renders_the_catalog() {
            let (status, html) = get(full_router(), "/").await;
            assert_eq!(status, StatusCode::OK);
            assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
            for expected in [
                "build-backend",
                "nightly-report",
                "0 3 * * *",
                "yesterday",
                r#"data-folder="ci/backend""#,
                r#"<link rel="icon" href="data:,">"#,
                "/pkg/trellis.js",
                "/pkg/trellis.css",
            ] {
                assert!(html.contains(expected), "missing {expected:?} in {html}");
            }
            assert!(
                !html.contains("data-hydrated"),
                "only the browser marks hydration"
            );
        }
    }

    web_test! {
        async fn many_pages_render_at_once() {
            let router = full_router();
            let mut pages = tokio::task::JoinSet::new();
            for i in 0..64 {
                let router = router.clone();
                pages.spawn(async move { get(router, &format!("/?q={}", i % 3)).await });
            }
            while let Some(page) = pages.join_next().await {
                let (status, html) = page.expect("the render task ends");
                assert_eq!(status, StatusCode::OK);
                assert!(html.contains("</html>"), "a complete page: {html}");
            }
        }
    }

    web_test! {
        async fn user_strings_are_escaped() {
            let (_, html) = get(full_router(), "/").await;
            assert!(!html.contains("<script>alert(1)"), "{html}");
            assert!(
                html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
                "{html}"
            );
            assert!(!html.contains("<img src=x"), "{html}");
        }
    }

    web_test! {
        async fn query_filters_on_the_server() {
            let (status, html) = get(full_router(), "/?q=NIGHTLY").await;
            assert_eq!(status, StatusCode::OK);
            assert!(html.contains(r#"data-name="nightly-report""#), "{html}");
            assert!(!html.contains(r#"data-name="build-backend""#), "{html}");
            assert!(
                html.contains(r#"value="NIGHTLY""#),
                "the box shows the query: {html}"
            );
        }
    }

    web_test! {
        async fn empty_catalog_shows_how_to_load_templates() {
            let (status, html) = get(empty_router(), "/").await;
            assert_eq!(status, StatusCode::OK);
            assert!(html.contains("No templates yet"), "{html}");
            assert!(html.contains("trellis serve --load DIR"), "{html}");
        }
    }

    web_test! {
        async fn a_missing_run_says_so() {
            let (status, html) = get(full_router(), "/runs/ci/gone").await;
            assert_eq!(status, StatusCode::OK);
            assert!(html.contains("no workflow gone"), "{html}");
        }
    }

    web_test! {
        async fn unknown_paths_are_404() {
            let (status, html) = get(full_router(), "/no/such/page").await;
            assert_eq!(status, StatusCode::NOT_FOUND);
            assert!(html.contains("Page not found"), "{html}");
        }
    }

    web_test! {
        async fn folders_server_fn_filters() {
            use leptos::server_fn::Decodes;
            use leptos::server_fn::codec::PostcardEncoding;
            let request = Request::post(Folders::PATH)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from("query=backend"))
                .unwrap();
            let response = full_router().oneshot(request).await.expect("an answer");
            assert_eq!(response.status(), StatusCode::OK);
            let body = to_bytes(response.into_body(), usize::MAX).await.unwrap();
            // Server functions answer in postcard (app::codec).
            let page: FolderPage = PostcardEncoding::decode(body).expect("a postcard tree");
            assert_eq!((page.tree.shown(), page.tree.total), (1, 3));
        }
    }
}
