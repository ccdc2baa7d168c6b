//! API tokens (`--auth-mode client`): a random secret shown once at creation, stored only as its
//! SHA-256, found by that hash on each request, refused once revoked or expired. A token holds
//! one role over some namespaces; policy bindings naming `token: NAME` can add more.

use base64::Engine as _;
use chrono::Utc;
use controller::store::ApiToken;
use engine::access::{Action, Decision, Glob, GlobKind, Role, Target};
use sha2::{Digest as _, Sha256};

use super::{Auth, Caller, Via};
use crate::api::ApiError;
use crate::identity::Identity;

/// What every Trellis token starts with, so secret scanners and people recognise one.
pub const TOKEN_PREFIX: &str = "trellis_";

/// How long a token's last use may be stale before it is written again (one write a minute at
/// most per token, not one per request).
const TOUCH_EVERY_SECONDS: i64 = 60;

/// A new random secret: the prefix and 32 random bytes in URL-safe base64.
pub fn new_secret() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    ))
}

/// The SHA-256 of a secret in lowercase hex: what the store keeps and looks tokens up by.
pub fn hash_secret(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The subject a token acts as (kept apart from user names: a token `alice` is not user alice).
pub fn subject_of(name: &str) -> String {
    format!("token:{name}")
}

/// The caller of a bearer secret, or 401 when no active token has it.
pub async fn caller_of(auth: &Auth, secret: &str) -> Result<Caller, ApiError> {
    caller_of_hash(auth, &hash_secret(secret)).await
}

/// The caller of a token found by the SHA-256 of its secret (see [`hash_secret`]), or 401.
pub async fn caller_of_hash(auth: &Auth, hash: &str) -> Result<Caller, ApiError> {
    let store = auth
        .store()
        .ok_or_else(|| ApiError::Unauthenticated("this server accepts no API tokens".into()))?;
    let token = store
        .api_token_by_hash(hash)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let now = Utc::now();
    let token = match token {
        Some(t) if t.is_active(now) => t,
        Some(t) => {
            tracing::info!(token = %t.name, "refused an inactive API token");
            return Err(ApiError::Unauthenticated(inactive_reason(&t)));
        }
        None => {
            return Err(ApiError::Unauthenticated(
                "the bearer token is not one this server issued".into(),
            ));
        }
    };
    if token
        .last_used_at
        .is_none_or(|at| (now - at).num_seconds() >= TOUCH_EVERY_SECONDS)
        && let Err(err) = store.touch_api_token(&token.name).await
    {
        tracing::warn!(token = %token.name, error = %err, "cannot record the token's use");
    }
    let grant = Grant::of(&token).map_err(ApiError::Internal)?;
    Ok(Caller {
        identity: Identity::new(subject_of(&token.name), vec![]),
        via: Via::Token(token.name),
        grant,
        cookie: false,
    })
}

/// The role a token holds by itself, over some namespaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The token's name.
    pub token: String,
    /// Its role.
    pub role: Role,
    /// The namespace globs it covers (none: every namespace).
    pub namespaces: Vec<Glob>,
}

impl Grant {
    /// The grant of a stored token (`None` for a token without a role of its own).
    pub fn of(t: &ApiToken) -> Result<Option<Grant>, String> {
        if t.role.is_empty() {
            return Ok(None);
        }
        let namespaces = t
            .namespaces
            .iter()
            .map(|g| {
                Glob::new(g, GlobKind::Name)
                    .map_err(|e| format!("API token {:?}: namespace {g:?}: {e}", t.name))
            })
            .collect::<Result<_, _>>()?;
        Ok(Some(Grant {
            token: t.name.clone(),
            role: role_of(t)?,
            namespaces,
        }))
    }

    /// Whether the grant covers namespace `ns`.
    pub fn covers(&self, ns: &str) -> bool {
        self.namespaces.is_empty() || self.namespaces.iter().any(|g| g.matches(ns))
    }

    /// Whether the grant covers a target: every namespace (and cluster-wide things) when it
    /// names none, else the target's namespace must match one of its globs.
    fn covers_target(&self, target: &Target) -> bool {
        match &target.namespace {
            _ if self.namespaces.is_empty() => true,
            Some(ns) => self.covers(ns),
            None => false,
        }
    }

    /// Whether the grant allows `action` on `target`.
    pub fn allows(&self, action: Action, target: &Target) -> bool {
        self.role.allows(action) && self.covers_target(target)
    }

    fn scope_text(&self) -> String {
        if self.namespaces.is_empty() {
            "every namespace".into()
        } else {
            let globs: Vec<&str> = self.namespaces.iter().map(Glob::as_str).collect();
            format!("namespaces [{}]", globs.join(", "))
        }
    }

    /// The decision when the grant allows it.
    pub fn decision(&self, action: Action, target: &Target) -> Decision {
        Decision {
            allowed: true,
            action,
            target: target.clone(),
            binding: Some(format!("API token {:?}", self.token)),
            reasons: vec![format!(
                "allowed by API token {:?}: role {} over {} allows {}",
                self.token,
                self.role.name(),
                self.scope_text(),
                action.name()
            )],
        }
    }

    /// Why the grant does not allow it.
    pub fn why_not(&self, action: Action, target: &Target) -> String {
        if !self.role.allows(action) {
            format!(
                "API token {:?} holds role {}, which does not allow {}",
                self.token,
                self.role.name(),
                action.name()
            )
        } else {
            format!(
                "API token {:?} covers {}, not {}",
                self.token,
                self.scope_text(),
                target
                    .namespace
                    .as_deref()
                    .map_or("cluster-wide objects".to_owned(), |n| format!("{n:?}"))
            )
        }
    }
}

/// Why an inactive token is refused, in words.
fn inactive_reason(t: &ApiToken) -> String {
    match (t.revoked_at, t.expires_at) {
        (Some(at), _) => format!("the API token {:?} was revoked at {at}", t.name),
        (None, Some(at)) => format!("the API token {:?} expired at {at}", t.name),
        (None, None) => format!("the API token {:?} is not active", t.name),
    }
}

/// The role a stored token holds, or an error naming the bad value.
pub fn role_of(t: &ApiToken) -> Result<Role, String> {
    t.role
        .parse::<Role>()
        .map_err(|e| format!("API token {:?}: {e}", t.name))
}

/// What is wrong with a token name, if anything: 1 to 63 lowercase letters, digits, `-`, `_`
/// or `.`, starting with a letter or digit.
pub fn name_problem(name: &str) -> Option<&'static str> {
    let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c);
    if name.is_empty() || name.len() > 63 {
        Some("must be 1 to 63 characters long")
    } else if !name.chars().all(ok_char) {
        Some("may hold only lowercase letters, digits, `-`, `_` and `.`")
    } else if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        Some("must start with a letter or a digit")
    } else {
        None
    }
}

/// `text` percent-encoded for a URL query value.
pub fn url_encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_prefixed_and_hashed() {
        let a = new_secret().unwrap();
        let b = new_secret().unwrap();
        assert_ne!(a, b);
        assert!(
            a.starts_with(TOKEN_PREFIX) && a.len() == TOKEN_PREFIX.len() + 43,
            "{a}"
        );
        assert_eq!(
            hash_secret("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_ne!(hash_secret(&a), hash_secret(&b));
    }

    #[test]
    fn token_subjects_never_look_like_users() {
        assert_eq!(subject_of("alice"), "token:alice");
        assert_eq!(url_encode("/runs/a b?x=1"), "%2Fruns%2Fa+b%3Fx%3D1");
        assert_eq!(name_problem("ci-bot.1"), None);
        for bad in ["", "CI", "-x", "a b", &"a".repeat(64)] {
            assert!(name_problem(bad).is_some(), "{bad:?}");
        }
    }
}
