//! Sign-in with OpenID Connect (`--auth-mode sso`): the authorization code flow with PKCE,
//! state and nonce checked, the ID token verified against the provider's keys (fetched again
//! once when a token is signed by a key not seen yet, so key rotation needs no restart), groups
//! read from a configurable claim, and RP-initiated logout when the provider offers it.
//!
//! Routes: `GET /auth/login?redirect=PATH` (to the provider), `GET /auth/callback` (back from
//! it), `POST /auth/logout`. A signed-in user is kept in the session ([`SessionUser`]); the
//! session id is rotated at sign-in, the session ends after `--session-idle` without a request
//! and `--session-max-age` after sign-in, whatever happens.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreIdToken};
use openidconnect::{
    AsyncHttpClient, AuthorizationCode, ClientId, ClientSecret, CsrfToken, HttpRequest,
    HttpResponse, IssuerUrl, LogoutRequest, Nonce, PkceCodeChallenge, PkceCodeVerifier,
    PostLogoutRedirectUrl, ProviderMetadataWithLogout, RedirectUrl, Scope, TokenResponse as _,
};
use serde::{Deserialize, Serialize};
use tokio::sync::RwLock;
use tower_sessions::Session;

use super::tokens::url_encode;
use crate::api::ApiError;
use crate::identity::Identity;

/// The session key of a sign-in under way.
const PENDING_KEY: &str = "trellis.login";
/// The session key of the signed-in user.
const USER_KEY: &str = "trellis.user";
/// How long a sign-in may take at the provider.
const LOGIN_WINDOW_SECONDS: i64 = 600;
/// How stale `seen_at` may get before a request writes it again.
const SEEN_EVERY_SECONDS: i64 = 60;

/// The settings of `--auth-mode sso`.
#[derive(Clone)]
pub struct SsoConfig {
    /// The provider's issuer URL (its discovery document is at
    /// `ISSUER/.well-known/openid-configuration`).
    pub issuer: String,
    /// This server's client id at the provider.
    pub client_id: String,
    /// Its client secret.
    pub client_secret: String,
    /// Where the provider sends the browser back: `https://HOST/auth/callback`.
    pub redirect_url: String,
    /// Scopes asked for beyond `openid`.
    pub scopes: Vec<String>,
    /// The ID token claim that lists the user's groups.
    pub groups_claim: String,
    /// How long a session lasts without a request.
    pub idle: Duration,
    /// How long a session lasts after sign-in, whatever happens.
    pub max_age: Duration,
}

impl std::fmt::Debug for SsoConfig {
    /// Everything but the client secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SsoConfig")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &"***")
            .field("redirect_url", &self.redirect_url)
            .field("scopes", &self.scopes)
            .field("groups_claim", &self.groups_claim)
            .field("idle", &self.idle)
            .field("max_age", &self.max_age)
            .finish()
    }
}

/// A sign-in under way, kept in the session between `/auth/login` and `/auth/callback`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Pending {
    state: String,
    nonce: String,
    verifier: String,
    redirect: String,
    started_at: i64,
}

/// The signed-in user, kept in the session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionUser {
    /// The ID token's `sub`.
    pub subject: String,
    /// Its `email`.
    pub email: Option<String>,
    /// Its `name`.
    pub name: Option<String>,
    /// The groups of the groups claim.
    pub groups: Vec<String>,
    /// When they signed in (Unix seconds).
    pub login_at: i64,
    /// When they last made a request (Unix seconds, to a minute).
    pub seen_at: i64,
    /// The ID token, for the provider's logout (`id_token_hint`).
    pub id_token: String,
}

/// The OpenID Connect client of a server.
#[derive(Debug)]
pub struct Sso {
    config: SsoConfig,
    http: Http,
    provider: RwLock<ProviderMetadataWithLogout>,
}

/// The HTTP client of the provider's endpoints: redirects are not followed (a redirect from a
/// token endpoint would be a way to send the client secret elsewhere).
#[derive(Debug, Clone)]
struct Http(reqwest::Client);

impl<'c> AsyncHttpClient<'c> for Http {
    type Error = reqwest::Error;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, reqwest::Error>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let response = self
                .0
                .request(parts.method, parts.uri.to_string())
                .headers(parts.headers)
                .body(body)
                .send()
                .await?;
            let mut answer = openidconnect::http::Response::builder().status(response.status());
            for (name, value) in response.headers() {
                answer = answer.header(name, value);
            }
            let body = response.bytes().await?.to_vec();
            Ok(answer.body(body).unwrap_or_default())
        })
    }
}

fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

impl Sso {
    /// Reads the provider's discovery document and keys; fails with a message saying what is
    /// wrong with the settings or the provider.
    pub async fn discover(config: SsoConfig) -> anyhow::Result<Self> {
        RedirectUrl::new(config.redirect_url.clone())
            .map_err(|e| anyhow::anyhow!("--sso-redirect-url {:?}: {e}", config.redirect_url))?;
        let http = Http(
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(15))
                .build()?,
        );
        let provider = discover(&config.issuer, &http).await?;
        Ok(Sso {
            config,
            http,
            provider: RwLock::new(provider),
        })
    }

    /// The provider's issuer URL.
    pub fn issuer(&self) -> &str {
        &self.config.issuer
    }

    fn client(&self, provider: ProviderMetadataWithLogout) -> anyhow::Result<SsoClient> {
        Ok(CoreClient::from_provider_metadata(
            provider,
            ClientId::new(self.config.client_id.clone()),
            Some(ClientSecret::new(self.config.client_secret.clone())),
        )
        .set_redirect_uri(RedirectUrl::new(self.config.redirect_url.clone())?))
    }

    /// The user signed in on this session, if any and if the session is still within its idle
    /// and absolute limits (else the session is ended).
    pub async fn signed_in(&self, session: &Session) -> Result<Option<Identity>, ApiError> {
        let user: Option<SessionUser> = session
            .get(USER_KEY)
            .await
            .map_err(|e| ApiError::Internal(format!("cannot read the session: {e}")))?;
        let Some(mut user) = user else {
            return Ok(None);
        };
        let now = unix_now();
        let max_age = self.config.max_age.as_secs() as i64;
        let idle = self.config.idle.as_secs() as i64;
        if now - user.login_at >= max_age || now - user.seen_at >= idle {
            tracing::info!(user = %user.subject, "the session expired");
            let _ = session.flush().await;
            return Ok(None);
        }
        if now - user.seen_at >= SEEN_EVERY_SECONDS {
            user.seen_at = now;
            session
                .insert(USER_KEY, &user)
                .await
                .map_err(|e| ApiError::Internal(format!("cannot write the session: {e}")))?;
        }
        Ok(Some(identity_of(&user)))
    }

    /// The provider's address for the browser, after remembering state, nonce and PKCE
    /// verifier in the session.
    async fn start(&self, session: &Session, redirect: &str) -> anyhow::Result<String> {
        let client = self.client(self.provider.read().await.clone())?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge);
        for scope in &self.config.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.url();
        let pending = Pending {
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            verifier: verifier.secret().clone(),
            redirect: safe_redirect(redirect).to_owned(),
            started_at: unix_now(),
        };
        session.insert(PENDING_KEY, &pending).await?;
        Ok(url.to_string())
    }

    /// Finishes a sign-in: checks the state, exchanges the code, verifies the ID token and
    /// signs the user in on a new session id. Returns where to send the browser.
    async fn finish(&self, session: &Session, code: &str, state: &str) -> Result<String, String> {
        let pending: Pending = session
            .remove(PENDING_KEY)
            .await
            .map_err(|e| format!("cannot read the session: {e}"))?
            .ok_or(
                "no sign-in was started in this browser (or it was finished already): start again",
            )?;
        if !constant_time_eq(pending.state.as_bytes(), state.as_bytes()) {
            return Err("the provider's answer does not belong to this sign-in (state mismatch): start again".into());
        }
        if unix_now() - pending.started_at > LOGIN_WINDOW_SECONDS {
            return Err("the sign-in took too long: start again".into());
        }
        let client = self
            .client(self.provider.read().await.clone())
            .map_err(|e| e.to_string())?;
        let response = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| format!("the provider has no token endpoint: {e}"))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier.clone()))
            .request_async(&self.http)
            .await
            .map_err(|e| {
                tracing::warn!(error = ?e, "the token endpoint refused the code");
                "the provider refused to exchange the sign-in code (used already, or expired)"
                    .to_string()
            })?;
        let id_token = response
            .id_token()
            .ok_or("the provider sent no ID token")?
            .clone();
        let nonce = Nonce::new(pending.nonce.clone());
        let user = match self.verify(&client, &id_token, &nonce) {
            Err(Rejected::UnknownKey) => {
                // Perhaps the provider rotated its keys: read them again, once.
                let fresh = discover(&self.config.issuer, &self.http)
                    .await
                    .map_err(|e| e.to_string())?;
                *self.provider.write().await = fresh.clone();
                let client = self.client(fresh).map_err(|e| e.to_string())?;
                self.verify(&client, &id_token, &nonce)
            }
            other => other,
        }
        .map_err(|r| r.to_string())?;
        session
            .cycle_id()
            .await
            .map_err(|e| format!("cannot start the session: {e}"))?;
        tracing::info!(user = %user.subject, groups = ?user.groups, "signed in");
        session
            .insert(USER_KEY, &user)
            .await
            .map_err(|e| format!("cannot write the session: {e}"))?;
        Ok(pending.redirect)
    }

    fn verify(
        &self,
        client: &SsoClient,
        id_token: &CoreIdToken,
        nonce: &Nonce,
    ) -> Result<SessionUser, Rejected> {
        let verifier = client.id_token_verifier();
        let claims = id_token.claims(&verifier, nonce).map_err(Rejected::from)?;
        let now = unix_now();
        Ok(SessionUser {
            subject: claims.subject().as_str().to_owned(),
            email: claims.email().map(|e| e.as_str().to_owned()),
            name: claims
                .name()
                .and_then(|n| n.get(None))
                .map(|n| n.as_str().to_owned()),
            groups: groups_claim(&id_token.to_string(), &self.config.groups_claim),
            login_at: now,
            seen_at: now,
            id_token: id_token.to_string(),
        })
    }

    /// Where to send the browser after signing out: the provider's end-session endpoint when
    /// it has one (with the ID token as hint and this server as the way back), else `/login`.
    async fn logout_target(&self, user: Option<&SessionUser>) -> String {
        let provider = self.provider.read().await;
        let endpoint = provider.additional_metadata().end_session_endpoint.clone();
        let back = post_logout_url(&self.config.redirect_url);
        match (endpoint, back) {
            (Some(endpoint), Some(back)) => {
                let mut request = LogoutRequest::from(endpoint)
                    .set_post_logout_redirect_uri(back)
                    .set_client_id(ClientId::new(self.config.client_id.clone()));
                if let Some(token) = user.and_then(|u| u.id_token.parse::<CoreIdToken>().ok()) {
                    request = request.set_id_token_hint(&token);
                }
                request.http_get_url().to_string()
            }
            _ => "/login?signed_out=1".to_owned(),
        }
    }
}

/// The client type `from_provider_metadata` makes.
type SsoClient = CoreClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

/// Why an ID token was refused, in words a user can act on.
#[derive(Debug, thiserror::Error)]
enum Rejected {
    #[error("the ID token is signed by a key the provider does not publish")]
    UnknownKey,
    #[error("the ID token was refused: {0}")]
    Claims(String),
}

impl From<openidconnect::ClaimsVerificationError> for Rejected {
    fn from(e: openidconnect::ClaimsVerificationError) -> Self {
        use openidconnect::{ClaimsVerificationError as C, SignatureVerificationError as S};
        tracing::warn!(error = %e, "an ID token was refused");
        match e {
            C::SignatureVerification(S::NoMatchingKey) => Rejected::UnknownKey,
            C::Expired(_) => Rejected::Claims("it has expired".into()),
            C::InvalidAudience(_) => Rejected::Claims("it is meant for another client".into()),
            C::InvalidIssuer(_) => Rejected::Claims("it comes from another issuer".into()),
            C::InvalidNonce(_) => {
                Rejected::Claims("its nonce is not this sign-in's (a replay?)".into())
            }
            C::SignatureVerification(
                S::NoSignature | S::DisallowedAlg(_) | S::UnsupportedAlg(_),
            ) => Rejected::Claims("it is not signed with an accepted algorithm".into()),
            C::SignatureVerification(_) => Rejected::Claims("its signature is not valid".into()),
            other => Rejected::Claims(other.to_string()),
        }
    }
}

async fn discover(issuer: &str, http: &Http) -> anyhow::Result<ProviderMetadataWithLogout> {
    let url = IssuerUrl::new(issuer.to_owned())
        .map_err(|e| anyhow::anyhow!("--sso-issuer {issuer:?} is not a URL: {e}"))?;
    ProviderMetadataWithLogout::discover_async(url, http)
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot read the OpenID provider's discovery document at \
                 {issuer}/.well-known/openid-configuration: {e}"
            )
        })
}

/// The identity of a signed-in user.
fn identity_of(user: &SessionUser) -> Identity {
    Identity {
        subject: user.subject.clone(),
        email: user.email.clone(),
        name: user.name.clone(),
        groups: user.groups.clone(),
    }
}

/// The groups in claim `claim` of a (verified) JWT: an array of strings, or one string.
pub fn groups_claim(jwt: &str, claim: &str) -> Vec<String> {
    let payload = jwt.split('.').nth(1).unwrap_or_default();
    let Ok(bytes) =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('='))
    else {
        return vec![];
    };
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return vec![];
    };
    match value.get(claim) {
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .filter_map(|g| g.as_str().map(str::to_owned))
            .collect(),
        Some(serde_json::Value::String(g)) => vec![g.clone()],
        _ => vec![],
    }
}

/// Only a path of this server is a place to return to (never `//host` or `https://…`).
pub fn safe_redirect(redirect: &str) -> &str {
    let ok = redirect.starts_with('/')
        && !redirect.starts_with("//")
        && !redirect.starts_with("/\\")
        && !redirect.chars().any(char::is_control);
    if ok { redirect } else { "/" }
}

/// The page the provider returns to after logout: the root of the callback's server.
fn post_logout_url(redirect_url: &str) -> Option<PostLogoutRedirectUrl> {
    let mut url = url::Url::parse(redirect_url).ok()?;
    url.set_path("/");
    url.set_query(None);
    PostLogoutRedirectUrl::new(url.to_string()).ok()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The routes of signing in and out.
pub fn routes() -> Router<std::sync::Arc<super::Auth>> {
    Router::new()
        .route("/auth/login", get(login))
        .route("/auth/callback", get(callback))
        .route("/auth/logout", post(logout))
}

#[derive(Debug, Deserialize)]
struct LoginQuery {
    redirect: Option<String>,
}

async fn login(
    State(auth): State<std::sync::Arc<super::Auth>>,
    session: Session,
    Query(q): Query<LoginQuery>,
) -> Response {
    let Some(sso) = auth.sso() else {
        return failed("this server has no single sign-on (--auth-mode sso is off)");
    };
    match sso
        .start(&session, q.redirect.as_deref().unwrap_or("/"))
        .await
    {
        Ok(url) => Redirect::to(&url).into_response(),
        Err(err) => {
            tracing::error!(error = %err, "cannot start a sign-in");
            failed("cannot reach the sign-in provider; try again later")
        }
    }
}

#[derive(Debug, Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

async fn callback(
    State(auth): State<std::sync::Arc<super::Auth>>,
    session: Session,
    Query(q): Query<CallbackQuery>,
) -> Response {
    let Some(sso) = auth.sso() else {
        return failed("this server has no single sign-on (--auth-mode sso is off)");
    };
    if let Some(error) = q.error {
        let _ = session.remove::<Pending>(PENDING_KEY).await;
        let why = q.error_description.unwrap_or(error);
        return failed(&format!("the provider did not sign you in: {why}"));
    }
    let (Some(code), Some(state)) = (q.code, q.state) else {
        return failed("the provider's answer has no code or state");
    };
    match sso.finish(&session, &code, &state).await {
        Ok(to) => Redirect::to(safe_redirect(&to)).into_response(),
        Err(why) => {
            tracing::warn!(reason = %why, "a sign-in failed");
            failed(&format!("sign-in failed: {why}"))
        }
    }
}

async fn logout(State(auth): State<std::sync::Arc<super::Auth>>, session: Session) -> Response {
    let user: Option<SessionUser> = session.get(USER_KEY).await.ok().flatten();
    if let Some(u) = &user {
        tracing::info!(user = %u.subject, "signed out");
    }
    let _ = session.flush().await;
    // Only a session of the provider's signs out there too (not one of an API token).
    let to = match (auth.sso(), &user) {
        (Some(sso), Some(_)) => sso.logout_target(user.as_ref()).await,
        (_, None) if auth.allows_mode(super::AuthMode::Client) => "/login?signed_out=1".to_owned(),
        _ => "/".to_owned(),
    };
    Redirect::to(&to).into_response()
}

/// Back to the sign-in page, which shows why.
fn failed(why: &str) -> Response {
    Redirect::to(&format!("/login?error={}", url_encode(why))).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(payload: serde_json::Value) -> String {
        let enc = |v: &serde_json::Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
        };
        format!(
            "{}.{}.sig",
            enc(&serde_json::json!({"alg": "RS256"})),
            enc(&payload)
        )
    }

    #[test]
    fn groups_come_from_the_configured_claim() {
        let token = jwt(serde_json::json!({"groups": ["a", "b", 3], "roles": "admin"}));
        assert_eq!(groups_claim(&token, "groups"), vec!["a", "b"]);
        assert_eq!(groups_claim(&token, "roles"), vec!["admin"]);
        assert!(groups_claim(&token, "missing").is_empty());
        assert!(groups_claim("garbage", "groups").is_empty());
    }

    #[test]
    fn only_local_paths_are_returned_to() {
        assert_eq!(safe_redirect("/runs/a?x=1"), "/runs/a?x=1");
        for evil in [
            "//evil.example",
            "https://evil.example",
            "/\\evil",
            "runs",
            "/a\nb",
        ] {
            assert_eq!(safe_redirect(evil), "/", "{evil:?}");
        }
    }

    #[test]
    fn logout_returns_to_the_server_root() {
        assert_eq!(
            post_logout_url("http://127.0.0.1:2746/auth/callback?x=1")
                .unwrap()
                .as_str(),
            "http://127.0.0.1:2746/"
        );
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
