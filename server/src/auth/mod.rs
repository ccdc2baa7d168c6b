//! Who a request comes from and what they may do, decided in one place that every page, server
//! function, REST handler, stream and download goes through.
//!
//! [`authenticate`] runs before every route: it turns the request's credentials (an API token in
//! `Authorization: Bearer`, a session cookie after an OpenID Connect sign-in, or nothing, which
//! acts as the server's own user in `--auth-mode server`) into a [`Caller`] put in the request's
//! extensions, or answers 401 (the API) or sends the browser to `/login` (pages). Handlers take
//! the [`Caller`] and ask [`Auth::check`] (an [`engine::access::Policy`] decision) before they act.

pub mod cli;
pub mod guard;
pub mod headers;
pub mod oidc;
pub mod sessions;
pub mod setup;
pub mod token_login;
pub mod tokens;

use std::sync::Arc;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use controller::store::SqlStore;
use engine::access::{Action, Decision, Policy, Subject, SubjectKind, Target};

use crate::api::ApiError;
use crate::identity::Identity;

/// How requests may authenticate (`--auth-mode`, repeatable, as Argo Server's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AuthMode {
    /// No sign-in: every request acts as the server's user (`--user`). Only on loopback unless
    /// `--insecure-no-auth`.
    Server,
    /// API tokens in `Authorization: Bearer TOKEN` (`trellis token create`).
    Client,
    /// OpenID Connect sign-in in the browser, then a session cookie.
    Sso,
}

/// How a caller proved who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// Nothing: `--auth-mode server` acts as the server's user.
    Server,
    /// The API token of that name.
    Token(String),
    /// A session after an OpenID Connect sign-in.
    Session,
}

/// Who a request comes from: put in the request's extensions by [`authenticate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The user (for a token: `token:NAME`, no groups).
    pub identity: Identity,
    /// How they signed in.
    pub via: Via,
    /// The role an API token holds by itself, if any (policy bindings may add more).
    pub grant: Option<tokens::Grant>,
    /// Whether the request came with the session cookie (after an OpenID Connect sign-in, or
    /// a token given on the sign-in page): a change then needs the browser's proof of origin.
    pub cookie: bool,
}

impl Caller {
    /// The caller as the policy sees it.
    pub fn subject(&self) -> Subject<'_> {
        match &self.via {
            Via::Token(name) => Subject {
                kind: SubjectKind::Token,
                name,
                email: None,
                groups: &[],
            },
            _ => Subject {
                kind: SubjectKind::User,
                name: &self.identity.subject,
                email: self.identity.email.as_deref(),
                groups: &self.identity.groups,
            },
        }
    }

    /// The caller of the current Leptos request (pages and server functions), if it was
    /// authenticated; `None` outside a request.
    pub fn of_leptos_request() -> Option<Caller> {
        leptos::prelude::use_context::<Parts>()
            .and_then(|parts| parts.extensions.get::<Caller>().cloned())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| ApiError::Unauthenticated("this request is not signed in".into()))
    }
}

/// The server's authentication settings and its policy.
#[derive(Debug)]
pub struct Auth {
    modes: Vec<AuthMode>,
    server_identity: Identity,
    policy: Option<Policy>,
    store: Option<SqlStore>,
    sso: Option<oidc::Sso>,
    /// Whether requests without credentials may name any host (`--insecure-no-auth`); else only
    /// loopback names, so a page elsewhere cannot reach a loopback server by rebinding its DNS.
    any_host: bool,
}

impl Auth {
    /// `--auth-mode server` without a policy: every request acts as `identity` and may do
    /// everything (the embedded default on loopback).
    pub fn open(identity: Identity) -> Self {
        Auth {
            modes: vec![AuthMode::Server],
            server_identity: identity,
            policy: None,
            store: None,
            sso: None,
            any_host: false,
        }
    }

    /// The settings of a server: `modes` (at least one), the server's own user (for
    /// `server` mode), the policy (`None`: everything allowed, only with `server` mode alone),
    /// the store holding API tokens and sessions, and the OpenID Connect client for `sso`.
    pub fn new(
        modes: Vec<AuthMode>,
        server_identity: Identity,
        policy: Option<Policy>,
        store: SqlStore,
        sso: Option<oidc::Sso>,
    ) -> Self {
        Auth {
            modes,
            server_identity,
            policy,
            store: Some(store),
            sso,
            any_host: false,
        }
    }

    /// The same settings, accepting requests without credentials for any `Host`
    /// (`--insecure-no-auth`: something in front authenticates them).
    pub fn with_any_host(mut self, any: bool) -> Self {
        self.any_host = any;
        self
    }

    /// Whether requests may authenticate this way.
    pub fn allows_mode(&self, mode: AuthMode) -> bool {
        self.modes.contains(&mode)
    }

    /// The OpenID Connect client, when `--auth-mode sso` is on.
    pub fn sso(&self) -> Option<&oidc::Sso> {
        self.sso.as_ref()
    }

    /// The store of tokens and sessions (absent only in [`Auth::open`]).
    pub fn store(&self) -> Option<&SqlStore> {
        self.store.as_ref()
    }

    /// Whether `caller` may do `action` on `target`, with the explanation: a token's own role
    /// first, then the policy (without one, a token has only its own role and everyone else
    /// may do everything, as in `--auth-mode server`).
    pub fn decide(&self, caller: &Caller, action: Action, target: &Target) -> Decision {
        if let Some(grant) = caller.grant.as_ref().filter(|g| g.allows(action, target)) {
            return grant.decision(action, target);
        }
        let mut decision = match (&self.policy, &caller.via) {
            (Some(policy), _) => policy.decide(&caller.subject(), action, target),
            (None, Via::Token(_)) => Decision {
                allowed: false,
                action,
                target: target.clone(),
                binding: None,
                reasons: vec![
                    "this server has no policy, so a token holds only its own role".into(),
                ],
            },
            (None, _) => Policy::allow_all().decide(&caller.subject(), action, target),
        };
        if let Some(grant) = &caller.grant {
            decision.reasons.insert(0, grant.why_not(action, target));
        }
        decision
    }

    /// Whether `caller` may do `action` on `target` (the fast path of [`Auth::decide`], for
    /// filtering lists).
    pub fn allows(&self, caller: &Caller, action: Action, target: &Target) -> bool {
        if caller
            .grant
            .as_ref()
            .is_some_and(|g| g.allows(action, target))
        {
            return true;
        }
        match (&self.policy, &caller.via) {
            (Some(policy), _) => policy.allows(&caller.subject(), action, target),
            (None, Via::Token(_)) => false,
            (None, _) => true,
        }
    }

    /// `Ok` when `caller` may do `action` on `target`, else a 403 that explains why not.
    pub fn check(&self, caller: &Caller, action: Action, target: &Target) -> Result<(), ApiError> {
        let decision = self.decide(caller, action, target);
        if decision.allowed {
            Ok(())
        } else {
            tracing::info!(
                user = %caller.identity.subject,
                action = action.name(),
                "refused by the policy"
            );
            Err(ApiError::Forbidden(decision.explain()))
        }
    }

    /// Whether `caller` may see anything in namespace `ns` (namespace lists).
    pub fn sees_namespace(&self, caller: &Caller, ns: &str) -> bool {
        if caller.grant.as_ref().is_some_and(|g| g.covers(ns)) {
            return true;
        }
        match (&self.policy, &caller.via) {
            (Some(policy), _) => policy.visible_namespace(&caller.subject(), ns),
            (None, Via::Token(_)) => false,
            (None, _) => true,
        }
    }
}

/// The server function that says who is signed in: the sign-in page asks it first.
pub const VIEWER_PATH: &str = "/api/trellis/viewer";

/// Paths anyone may open: the sign-in pages and routes, the built assets and the health check.
pub fn is_public(path: &str) -> bool {
    path == "/healthz"
        || path == "/login"
        || path == VIEWER_PATH
        || path.starts_with("/auth/")
        || path.starts_with("/pkg/")
        || path == "/favicon.ico"
}

/// What a request carries to prove who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// `Authorization: Bearer TOKEN`.
    Bearer(String),
    /// An `Authorization` header of another scheme, or an empty bearer token.
    Malformed,
    /// No `Authorization` header.
    None,
}

/// The credential of a request's headers.
pub fn credential(headers: &HeaderMap) -> Credential {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Credential::None;
    };
    let Ok(text) = value.to_str() else {
        return Credential::Malformed;
    };
    let mut parts = text.trim().splitn(2, ' ');
    match (parts.next(), parts.next().map(str::trim)) {
        (Some(scheme), Some(token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() =>
        {
            Credential::Bearer(token.to_owned())
        }
        _ => Credential::Malformed,
    }
}

/// The middleware that authenticates every request (see the module documentation).
pub async fn authenticate(
    State(auth): State<Arc<Auth>>,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    let session = request
        .extensions()
        .get::<tower_sessions::Session>()
        .cloned();
    match identify(&auth, request.headers(), session.as_ref()).await {
        Ok(Some(caller))
            if caller.cookie
                && crate::origin::changes_state(request.method())
                && !headers::from_own_pages(request.headers()) =>
        {
            tracing::warn!(user = %caller.identity.subject, path = %path, "refused a session request without proof of origin");
            ApiError::Forbidden(
                "a change sent with the session cookie must come from this server's own pages \
                 (the browser's Origin or Sec-Fetch-Site header is missing or names another site)"
                    .into(),
            )
            .into_response()
        }
        Ok(Some(caller)) => {
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        Ok(None) if is_public(&path) => next.run(request).await,
        Ok(None) => unauthenticated(&auth, request.method(), request.uri()),
        // Wrong credentials do not keep anyone from the sign-in page or the assets.
        Err(_) if is_public(&path) => next.run(request).await,
        Err(err) => err.into_response(),
    }
}

/// The caller a request's credentials prove, `None` when it carries none and the server has no
/// `server` mode, or an error for credentials that are wrong.
async fn identify(
    auth: &Auth,
    headers: &HeaderMap,
    session: Option<&tower_sessions::Session>,
) -> Result<Option<Caller>, ApiError> {
    let client = auth.allows_mode(AuthMode::Client);
    match credential(headers) {
        Credential::Bearer(secret) if client => {
            return tokens::caller_of(auth, &secret).await.map(Some);
        }
        Credential::Malformed if client => {
            return Err(ApiError::Unauthenticated(
                "the Authorization header must be `Bearer TOKEN` with a token from \
                 `trellis token create`"
                    .into(),
            ));
        }
        _ => {}
    }
    if let (true, Some(session)) = (client, session)
        && let Some(caller) = token_login::session_caller(auth, session).await?
    {
        return Ok(Some(caller));
    }
    if let (Some(sso), Some(session)) = (auth.sso(), session)
        && let Some(identity) = sso.signed_in(session).await?
    {
        return Ok(Some(Caller {
            identity,
            via: Via::Session,
            grant: None,
            cookie: true,
        }));
    }
    if !auth.allows_mode(AuthMode::Server) {
        return Ok(None);
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    if !auth.any_host && !setup::is_loopback(host_name(host)) {
        return Err(ApiError::Forbidden(format!(
            "requests without sign-in are served for this machine's own addresses only, not for \
             Host {host:?} (a page elsewhere may be pointing its name at this server)"
        )));
    }
    Ok(Some(Caller {
        identity: auth.server_identity.clone(),
        via: Via::Server,
        grant: None,
        cookie: false,
    }))
}

/// The name of a `Host` header without its port (`[::1]:2746` → `::1`).
pub fn host_name(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or_default();
    }
    host.rsplit_once(':')
        .filter(|(_, port)| port.chars().all(|c| c.is_ascii_digit()))
        .map_or(host, |(name, _)| name)
}

/// The answer to a request without credentials: a 401 for the API and other non-page requests,
/// the sign-in page for a browser asking for a page.
fn unauthenticated(auth: &Auth, method: &Method, uri: &axum::http::Uri) -> Response {
    let path = uri.path();
    let browser_sign_in = auth.sso().is_some() || auth.allows_mode(AuthMode::Client);
    if *method == Method::GET && !path.starts_with("/api/") && browser_sign_in {
        let back = uri.path_and_query().map_or(path, |p| p.as_str());
        let target = format!("/login?redirect={}", tokens::url_encode(back));
        return Redirect::to(&target).into_response();
    }
    let how = match (auth.sso().is_some(), auth.allows_mode(AuthMode::Client)) {
        (true, true) => "sign in at /login, or send `Authorization: Bearer TOKEN`",
        (true, false) => "sign in at /login",
        (false, _) => "send `Authorization: Bearer TOKEN` with a token from `trellis token create`",
    };
    let mut response =
        ApiError::Unauthenticated(format!("this server needs you to sign in: {how}"))
            .into_response();
    if auth.allows_mode(AuthMode::Client) {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            "Bearer".parse().expect("a header value"),
        );
    }
    *response.status_mut() = StatusCode::UNAUTHORIZED;
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, value.parse().unwrap());
        h
    }

    #[test]
    fn bearer_tokens_are_read_from_the_header() {
        assert_eq!(credential(&HeaderMap::new()), Credential::None);
        assert_eq!(
            credential(&headers("Bearer abc")),
            Credential::Bearer("abc".into())
        );
        assert_eq!(
            credential(&headers("bearer  abc ")),
            Credential::Bearer("abc".into())
        );
        assert_eq!(credential(&headers("Bearer ")), Credential::Malformed);
        assert_eq!(credential(&headers("Basic YTpi")), Credential::Malformed);
    }

    fn token(grant: Option<tokens::Grant>) -> Caller {
        Caller {
            identity: Identity::new("token:ci", vec![]),
            via: Via::Token("ci".into()),
            grant,
            cookie: false,
        }
    }

    fn runner_in_teams() -> tokens::Grant {
        tokens::Grant {
            token: "ci".into(),
            role: engine::access::Role::Runner,
            namespaces: vec![
                engine::access::Glob::new("team-*", engine::access::GlobKind::Name).unwrap(),
            ],
        }
    }

    fn auth(policy: Option<Policy>) -> Auth {
        Auth {
            modes: vec![AuthMode::Client, AuthMode::Server],
            server_identity: Identity::new("local", vec![]),
            policy,
            store: None,
            sso: None,
            any_host: false,
        }
    }

    #[test]
    fn hosts_lose_their_ports() {
        assert_eq!(host_name("127.0.0.1:2746"), "127.0.0.1");
        assert_eq!(host_name("[::1]:2746"), "::1");
        assert_eq!(host_name("localhost"), "localhost");
        assert_eq!(host_name("evil.example:2746"), "evil.example");
    }

    #[tokio::test]
    async fn without_credentials_only_loopback_hosts_are_served() {
        let auth = auth(None);
        let mut h = HeaderMap::new();
        h.insert(header::HOST, "127.0.0.1:2746".parse().unwrap());
        assert!(identify(&auth, &h, None).await.unwrap().is_some());
        h.insert(header::HOST, "evil.example:2746".parse().unwrap());
        assert!(identify(&auth, &h, None).await.is_err(), "a rebound name");
        let open = auth.with_any_host(true);
        assert!(identify(&open, &h, None).await.unwrap().is_some());
    }

    #[test]
    fn a_token_holds_its_own_role_and_what_the_policy_adds() {
        let policy = engine::access::parse_policy(
            "apiVersion: trellis.dev/v1\nkind: Policy\nbindings:\n  - name: ci-approves\n    \
             role: approver\n    subjects: [{token: ci}]\n",
        )
        .unwrap();
        let auth = auth(Some(policy));
        let ci = token(Some(runner_in_teams()));
        let team = Target::workflow("team-a", Some("w"));
        let prod = Target::workflow("prod", Some("w"));
        assert!(auth.allows(&ci, Action::Submit, &team), "its own role");
        assert!(
            auth.allows(&ci, Action::Approve, &prod),
            "the policy's binding"
        );
        assert!(!auth.allows(&ci, Action::Submit, &prod));
        assert!(!auth.allows(&ci, Action::Delete, &team));
        let d = auth.decide(&ci, Action::Submit, &prod);
        assert!(!d.allowed);
        assert!(
            d.explain().contains("covers namespaces [team-*]"),
            "{}",
            d.explain()
        );
        assert!(auth.decide(&ci, Action::Submit, &team).allowed);
        assert!(auth.check(&ci, Action::Delete, &team).is_err());
    }

    #[test]
    fn without_a_policy_tokens_hold_only_their_role_and_the_server_user_everything() {
        let auth = auth(None);
        let team = Target::workflow("team-a", Some("w"));
        assert!(auth.allows(&token(Some(runner_in_teams())), Action::Submit, &team));
        assert!(!auth.allows(&token(None), Action::Read, &team));
        assert!(!auth.decide(&token(None), Action::Read, &team).allowed);
        let local = Caller {
            identity: Identity::new("local", vec![]),
            via: Via::Server,
            grant: None,
            cookie: false,
        };
        assert!(auth.allows(&local, Action::Tokens, &team));
        assert!(auth.decide(&local, Action::Delete, &team).allowed);
        assert!(auth.sees_namespace(&local, "anything"));
        assert!(!auth.sees_namespace(&token(None), "team-a"));
        assert!(auth.sees_namespace(&token(Some(runner_in_teams())), "team-a"));
    }

    #[test]
    fn only_sign_in_and_assets_are_public() {
        for p in ["/healthz", "/login", "/auth/callback", "/pkg/trellis.js"] {
            assert!(is_public(p), "{p}");
        }
        for p in [
            "/",
            "/api/v1/workflows/ns",
            "/runs/ns/x",
            "/loginx",
            "/authx",
        ] {
            assert!(!is_public(p), "{p}");
        }
    }
}
