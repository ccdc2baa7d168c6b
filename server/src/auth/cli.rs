//! `trellis token …` (API tokens, managed on the server's machine, straight in its database) and
//! `trellis auth can …` (explains what a policy allows).

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::{Args, Subcommand};
use controller::store::{Database, NewApiToken, SqlStore};
use engine::access::{Action, Policy, Role, Subject, SubjectKind, Target};

/// `trellis token …`.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token and print its secret (shown this once; only its hash is kept).
    Create(TokenCreateArgs),
    /// List the tokens: name, role, namespaces, created, expires, revoked, last used.
    List(StoreArgs),
    /// Revoke a token: requests that carry it are refused from now on.
    Revoke(TokenRevokeArgs),
}

/// Where the server keeps its data (the same flags as `trellis serve`).
#[derive(Debug, Args)]
pub struct StoreArgs {
    /// The server's data directory (its database is `<data-dir>/trellis.db`).
    #[arg(long, env = "TRELLIS_DATA_DIR", default_value = "./.trellis")]
    pub data_dir: PathBuf,
    /// The server's database, when it is not the data directory's (`postgres://…`, `sqlite://…`).
    #[arg(
        long,
        env = "TRELLIS_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,
}

/// Flags of `trellis token create`.
#[derive(Debug, Args)]
pub struct TokenCreateArgs {
    /// The token's name: unique, shown in the audit trail, and what policy bindings name
    /// (`token: NAME`).
    pub name: String,
    /// The role it holds by itself: viewer, runner, approver or admin. Without it, the token
    /// holds only what the policy's bindings naming `token: NAME` grant.
    #[arg(long)]
    pub role: Option<String>,
    /// A namespace glob its role covers (`team-*`). Repeatable; default: every namespace.
    #[arg(long = "namespace", value_name = "GLOB")]
    pub namespaces: Vec<String>,
    /// How long it is valid: `30d`, `12h`, `90m`; default: until revoked.
    #[arg(long, value_name = "DURATION")]
    pub expires_in: Option<String>,
    /// Who creates it (recorded with it). Default: the OS user.
    #[arg(long, env = "USER", default_value = "admin")]
    pub created_by: String,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// Flags of `trellis token revoke`.
#[derive(Debug, Args)]
pub struct TokenRevokeArgs {
    /// The token's name.
    pub name: String,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// `trellis auth …`.
#[derive(Debug, Subcommand)]
pub enum AuthCommand {
    /// Explain whether a user, group or token may do an action on a target under a policy, and
    /// which binding decides it. Exits 0 when allowed, 1 when denied, 2 on bad input.
    Can(CanArgs),
}

/// Flags of `trellis auth can`.
#[derive(Debug, Args)]
pub struct CanArgs {
    /// The policy file (as `trellis serve --policy`).
    #[arg(long, env = "TRELLIS_POLICY")]
    pub policy: PathBuf,
    /// The user: their subject or email, as the OpenID provider gives it.
    #[arg(long, conflicts_with = "token")]
    pub user: Option<String>,
    /// Their email, when --user is their subject.
    #[arg(long)]
    pub email: Option<String>,
    /// A group of the user. Repeatable.
    #[arg(long = "group")]
    pub groups: Vec<String>,
    /// An API token's name instead of a user.
    #[arg(long)]
    pub token: Option<String>,
    /// The folder of the target's template (`trellis.dev/folder`), for folder-scoped bindings.
    #[arg(long)]
    pub folder: Option<String>,
    /// For a workflow target: the template it runs from.
    #[arg(long)]
    pub template: Option<String>,
    /// The action: read, submit, retry, resubmit, stop, approve, manage, delete or tokens.
    pub action: String,
    /// What it acts on: `workflowtemplate/NS/NAME`, `workflow/NS/NAME`, `cronworkflow/NS/NAME`,
    /// `clusterworkflowtemplate/NAME`, `namespace/NS`.
    pub target: String,
}

impl StoreArgs {
    async fn open(&self) -> anyhow::Result<SqlStore> {
        let database = match &self.database_url {
            Some(url) => Database::from_url(url)?,
            None => {
                let path = self.data_dir.join("trellis.db");
                if !path.exists() {
                    anyhow::bail!(
                        "no Trellis database at `{}`: pass the server's --data-dir or --database-url",
                        path.display()
                    );
                }
                Database::Sqlite(path)
            }
        };
        SqlStore::open(&database)
            .await
            .context("cannot open the server's database")
    }
}

/// Reads a duration such as `30d`, `12h`, `90m` or `1h30m`.
pub fn parse_validity(text: &str) -> Result<chrono::Duration, String> {
    let text = text.trim();
    let parsed = match text.strip_suffix('d') {
        Some(days) => days
            .parse::<i64>()
            .ok()
            .and_then(chrono::Duration::try_days)
            .ok_or_else(|| format!("{days:?} is not a number of days")),
        None => engine::plan::duration_of(text),
    }?;
    if parsed <= chrono::Duration::zero() {
        return Err(format!("{text:?} is not a duration longer than zero"));
    }
    Ok(parsed)
}

/// Runs `trellis token …`; returns the exit code.
pub fn token(cmd: TokenCommand) -> anyhow::Result<u8> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        match cmd {
            TokenCommand::Create(a) => create(a).await,
            TokenCommand::List(a) => list(&a.open().await?).await,
            TokenCommand::Revoke(a) => {
                let t = a.store.open().await?.revoke_api_token(&a.name).await?;
                println!("revoked API token {:?}", t.name);
                Ok(0)
            }
        }
    })
}

/// A token to create, checked: the name, the role, the namespace globs and the validity.
pub fn new_token(
    name: &str,
    role: Option<&str>,
    namespaces: &[String],
    expires_in: Option<&str>,
    created_by: &str,
) -> Result<(NewApiToken, String), String> {
    if let Some(problem) = super::tokens::name_problem(name) {
        return Err(format!("token name {name:?}: {problem}"));
    }
    let role = role
        .map(|r| r.parse::<Role>().map_err(|e| format!("role: {e}")))
        .transpose()?;
    if role.is_none() && !namespaces.is_empty() {
        return Err("namespaces limit the token's own role: give a role too".into());
    }
    for glob in namespaces {
        engine::access::Glob::new(glob, engine::access::GlobKind::Name)
            .map_err(|e| format!("namespace {glob:?}: {e}"))?;
    }
    let expires_at = expires_in
        .map(parse_validity)
        .transpose()
        .map_err(|e| format!("expiry: {e}"))?
        .map(|d| chrono::Utc::now() + d);
    let secret = super::tokens::new_secret().map_err(|e| e.to_string())?;
    Ok((
        NewApiToken {
            name: name.to_owned(),
            secret_hash: super::tokens::hash_secret(&secret),
            role: role.map(|r| r.name().to_owned()).unwrap_or_default(),
            namespaces: namespaces.to_vec(),
            created_by: created_by.to_owned(),
            expires_at,
        },
        secret,
    ))
}

async fn create(a: TokenCreateArgs) -> anyhow::Result<u8> {
    let (new, secret) = new_token(
        &a.name,
        a.role.as_deref(),
        &a.namespaces,
        a.expires_in.as_deref(),
        &a.created_by,
    )
    .map_err(|e| anyhow::anyhow!(e))?;
    let store = a.store.open().await?;
    let token = store.create_api_token(&new).await?;
    let role = if token.role.is_empty() {
        "no role of its own".to_owned()
    } else {
        token.role.clone()
    };
    eprintln!(
        "created API token {:?} ({} on {}{}); its secret is shown this once:",
        token.name,
        role,
        namespaces_text(&token.namespaces),
        token
            .expires_at
            .map(|at| format!(", until {}", at.format("%Y-%m-%d %H:%M UTC")))
            .unwrap_or_default()
    );
    println!("{secret}");
    Ok(0)
}

fn namespaces_text(globs: &[String]) -> String {
    if globs.is_empty() {
        "every namespace".into()
    } else {
        format!("namespaces {}", globs.join(", "))
    }
}

async fn list(store: &SqlStore) -> anyhow::Result<u8> {
    let tokens = store.api_tokens().await?;
    if tokens.is_empty() {
        println!("no API tokens (create one with `trellis token create NAME --role ROLE`)");
        return Ok(0);
    }
    let now = chrono::Utc::now();
    let time = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map_or("-".to_owned(), |t| t.format("%Y-%m-%d %H:%M").to_string())
    };
    println!(
        "{:<20} {:<9} {:<24} {:<17} {:<17} {:<17} STATE",
        "NAME", "ROLE", "NAMESPACES", "CREATED", "EXPIRES", "LAST USED"
    );
    for t in tokens {
        let state = match (t.revoked_at, t.is_active(now)) {
            (Some(_), _) => "revoked",
            (None, false) => "expired",
            (None, true) => "active",
        };
        println!(
            "{:<20} {:<9} {:<24} {:<17} {:<17} {:<17} {state}",
            t.name,
            t.role,
            if t.namespaces.is_empty() {
                "*".to_owned()
            } else {
                t.namespaces.join(",")
            },
            time(Some(t.created_at)),
            time(t.expires_at),
            time(t.last_used_at),
        );
    }
    Ok(0)
}

/// Reads and checks a policy file, printing every finding rendered like `trellis lint`'s.
pub fn load_policy(path: &Path) -> anyhow::Result<Policy> {
    let source = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the policy `{}`", path.display()))?;
    engine::access::parse_policy(&source).map_err(|diagnostics| {
        let color = std::io::IsTerminal::is_terminal(&std::io::stderr())
            && std::env::var_os("NO_COLOR").is_none();
        let shown = path.display().to_string();
        let text: String = diagnostics
            .iter()
            .map(|d| engine::diag::render(d, &shown, &source, color))
            .collect();
        anyhow::anyhow!("the policy `{}` is not valid:\n{text}", path.display())
    })
}

/// Runs `trellis auth …`; returns the exit code.
pub fn auth(cmd: AuthCommand) -> anyhow::Result<u8> {
    let AuthCommand::Can(a) = cmd;
    let policy = match load_policy(&a.policy) {
        Ok(p) => p,
        Err(err) => {
            eprintln!("error: {err:#}");
            return Ok(2);
        }
    };
    let action: Action = match a.action.parse() {
        Ok(action) => action,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(2);
        }
    };
    let mut target = match Target::parse(&a.target) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(2);
        }
    };
    if a.folder.is_some() {
        target.folder = a.folder.clone();
    }
    if a.template.is_some() {
        target.template = a.template.clone();
    }
    let subject = match (&a.user, &a.token) {
        (_, Some(token)) => Subject {
            kind: SubjectKind::Token,
            name: token,
            email: None,
            groups: &[],
        },
        (Some(user), None) => Subject {
            kind: SubjectKind::User,
            name: user,
            email: a.email.as_deref(),
            groups: &a.groups,
        },
        (None, None) => {
            eprintln!("error: say who asks: --user NAME (with --group …) or --token NAME");
            return Ok(2);
        }
    };
    let decision = policy.decide(&subject, action, &target);
    println!("{}", decision.explain());
    Ok(if decision.allowed { 0 } else { 1 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validities_read_days_and_go_durations() {
        assert_eq!(parse_validity("30d").unwrap(), chrono::Duration::days(30));
        assert_eq!(
            parse_validity("1h30m").unwrap(),
            chrono::Duration::minutes(90)
        );
        assert!(parse_validity("0s").is_err());
        assert!(parse_validity("xd").is_err());
        assert!(parse_validity("soon").is_err());
    }
}
