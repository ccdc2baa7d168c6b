//! Building the server's [`Auth`] from `trellis serve`'s flags, refusing settings that would be
//! unsafe or cannot work, with a message that says what to change.

use std::net::IpAddr;

use controller::store::SqlStore;
use tower_sessions::{Expiry, SessionManagerLayer, cookie::SameSite};

use super::oidc::{Sso, SsoConfig};
use super::sessions::{COOKIE_NAME, SqlSessions};
use super::{Auth, AuthMode};
use crate::cli::ServeArgs;

/// Whether `host` (a --host value) is reachable only from this machine.
pub fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Why these modes may not serve on `host`, if they may not.
pub fn exposure_problem(modes: &[AuthMode], host: &str, insecure: bool) -> Option<String> {
    if modes.is_empty() {
        return Some("--auth-mode needs at least one of server, client, sso".into());
    }
    if !modes.contains(&AuthMode::Server) || is_loopback(host) || insecure {
        return None;
    }
    Some(format!(
        "refusing to serve on {host} with --auth-mode server: anyone who can reach it could run, \
         stop and approve everything. Choose one:\n  \
         - keep it on this machine: --host 127.0.0.1\n  \
         - make people sign in: --auth-mode sso --policy policy.yaml (OpenID Connect) and/or \
         --auth-mode client (API tokens from `trellis token create`)\n  \
         - it sits behind something that authenticates: add --insecure-no-auth"
    ))
}

/// The OpenID Connect settings of the flags, or what is missing.
pub fn sso_config(args: &ServeArgs, port: u16) -> anyhow::Result<SsoConfig> {
    let missing: Vec<&str> = [
        ("--sso-issuer", args.sso_issuer.is_none()),
        ("--sso-client-id", args.sso_client_id.is_none()),
        (
            "--sso-client-secret-file",
            args.sso_client_secret_file.is_none(),
        ),
    ]
    .into_iter()
    .filter_map(|(flag, absent)| absent.then_some(flag))
    .collect();
    if !missing.is_empty() {
        anyhow::bail!(
            "--auth-mode sso needs {} (the provider and this server's client registration there)",
            missing.join(", ")
        );
    }
    let secret_file = args.sso_client_secret_file.clone().unwrap_or_default();
    let secret = std::fs::read_to_string(&secret_file)
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot read --sso-client-secret-file `{}`: {e}",
                secret_file.display()
            )
        })?
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned();
    if secret.is_empty() {
        anyhow::bail!(
            "--sso-client-secret-file `{}` is empty: put the client secret on its first line",
            secret_file.display()
        );
    }
    let redirect_url = args.sso_redirect_url.clone().unwrap_or_else(|| {
        let host = if args.host.contains(':') {
            format!("[{}]", args.host)
        } else {
            args.host.clone()
        };
        let scheme = if args.serves_tls() { "https" } else { "http" };
        format!("{scheme}://{host}:{port}/auth/callback")
    });
    Ok(SsoConfig {
        issuer: args.sso_issuer.clone().unwrap_or_default(),
        client_id: args.sso_client_id.clone().unwrap_or_default(),
        client_secret: secret,
        redirect_url,
        scopes: args.sso_scopes.clone(),
        groups_claim: args.sso_groups_claim.clone(),
        idle: args.session_idle,
        max_age: args.session_max_age,
    })
}

/// The server's authentication from its flags: checks the exposure rule, reads the policy and,
/// for `sso`, the provider's discovery document.
pub async fn from_args(args: &ServeArgs, port: u16, store: SqlStore) -> anyhow::Result<Auth> {
    let mut modes = args.auth_modes.clone();
    modes.dedup();
    if let Some(problem) = exposure_problem(&modes, &args.host, args.insecure_no_auth) {
        anyhow::bail!(problem);
    }
    if args.insecure_no_auth && modes.contains(&AuthMode::Server) && !is_loopback(&args.host) {
        tracing::warn!(
            host = %args.host,
            "--insecure-no-auth: every request from anyone who can reach this address acts as the \
             server's user, with no sign-in"
        );
    }
    let policy = args
        .policy
        .as_deref()
        .map(super::cli::load_policy)
        .transpose()?;
    let sso = match modes.contains(&AuthMode::Sso) {
        true => {
            if policy.is_none() {
                anyhow::bail!(
                    "--auth-mode sso needs --policy FILE saying who may do what (everything is \
                     denied by default); see docs/policy.md"
                );
            }
            Some(Sso::discover(sso_config(args, port)?).await?)
        }
        false => None,
    };
    let identity = args.identity();
    tracing::info!(
        modes = ?modes,
        policy = %args.policy.as_ref().map_or("none (everything allowed)".to_owned(), |p| p.display().to_string()),
        server_user = %identity.subject,
        "authentication"
    );
    Ok(Auth::new(modes, identity, policy, store, sso).with_any_host(args.insecure_no_auth))
}

/// The session layer: cookies `HttpOnly`, `SameSite=Lax`, `Secure` when served over TLS, ending
/// after `idle` without a request; sessions kept in the server's database.
pub fn session_layer(
    store: SqlStore,
    idle: std::time::Duration,
    secure: bool,
) -> SessionManagerLayer<SqlSessions> {
    let idle = time::Duration::try_from(idle).unwrap_or(time::Duration::hours(8));
    SessionManagerLayer::new(SqlSessions::new(store))
        .with_name(COOKIE_NAME)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(secure)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(idle))
}

/// Starts deleting expired sessions in the background.
pub fn purge_sessions(store: SqlStore) {
    tokio::spawn(SqlSessions::new(store).purge_forever());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_addresses() {
        for h in ["127.0.0.1", "::1", "[::1]", "localhost", "127.1.2.3"] {
            assert!(is_loopback(h), "{h}");
        }
        for h in ["0.0.0.0", "10.0.0.1", "::", "example.com"] {
            assert!(!is_loopback(h), "{h}");
        }
    }

    #[test]
    fn server_mode_stays_on_loopback_unless_told() {
        use AuthMode::*;
        assert_eq!(exposure_problem(&[Server], "127.0.0.1", false), None);
        let refused = exposure_problem(&[Server, Client], "0.0.0.0", false).unwrap();
        assert!(refused.contains("--insecure-no-auth") && refused.contains("--auth-mode sso"));
        assert_eq!(exposure_problem(&[Server], "0.0.0.0", true), None);
        assert_eq!(exposure_problem(&[Client, Sso], "0.0.0.0", false), None);
        assert!(exposure_problem(&[], "127.0.0.1", false).is_some());
    }
}
