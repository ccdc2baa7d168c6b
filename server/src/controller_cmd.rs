//! `trellis controller`: the Kubernetes backend's controller process (DESIGN §3).

use std::time::Duration;

use controller::k8s::{self, Scope, Settings, lease, pod::PodConfig};
use k8s_openapi::api::coordination::v1::Lease;
use kube::api::Api;

use crate::cli::{ControllerArgs, ScopeArgs};

/// How long a leader's Lease lasts without renewal.
const LEASE_DURATION: Duration = Duration::from_secs(15);

/// Connects (kubeconfig, else in-cluster), waits for leadership unless disabled, then runs the
/// controller until SIGTERM/SIGINT or the loss of the Lease.
pub fn run(args: ControllerArgs) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(main(args))
}

/// The database node status is offloaded to, if one is named.
async fn offload_store(url: Option<&str>) -> anyhow::Result<Option<controller::store::SqlStore>> {
    let Some(url) = url else {
        return Ok(None);
    };
    let database = controller::store::Database::from_url(url)?;
    let store = controller::store::SqlStore::open(&database)
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot open the database of offloaded node status {}: {e}",
                controller::store::redact(url)
            )
        })?;
    Ok(Some(store))
}

/// Connects to the cluster (kubeconfig, else in-cluster credentials) and reads the scope the
/// flags give.
pub async fn connect(args: &ScopeArgs) -> anyhow::Result<(kube::Client, Scope)> {
    let client = kube::Client::try_default().await.map_err(|e| {
        anyhow::anyhow!(
            "cannot connect to Kubernetes (a kubeconfig, $KUBECONFIG, or in-cluster credentials are needed): {e}"
        )
    })?;
    let own_namespace = client.default_namespace().to_string();
    let scope = Scope {
        namespace: args
            .namespaced
            .then(|| args.managed_namespace.clone().unwrap_or(own_namespace)),
        instance_id: args.instance_id.clone(),
    };
    Ok((client, scope))
}

async fn main(args: ControllerArgs) -> anyhow::Result<()> {
    let (client, scope) = connect(&args.scope).await?;
    let own_namespace = client.default_namespace().to_string();
    let settings = Settings {
        pod: PodConfig {
            executor_image: args.executor_image.clone(),
            executor_pull_policy: args.executor_image_pull_policy.clone(),
            service_account: args.workflow_service_account.clone(),
            instance_id: args.scope.instance_id.clone(),
            // Each workflow's own, read from its namespace when it has artifacts.
            artifact_repository: Ok(None),
        },
        max_workflow_size: args.max_workflow_size,
        offload: offload_store(args.database_url.as_deref()).await?,
    };
    if args.no_leader_election {
        tracing::info!(?scope, "controller starting (no leader election)");
        return k8s::run(client, scope, settings, shutdown())
            .await
            .map_err(anyhow::Error::msg);
    }
    let lease_ns = args.lease_namespace.clone().unwrap_or(own_namespace);
    let leases: Api<Lease> = Api::namespaced(client.clone(), &lease_ns);
    let me = identity();
    tracing::info!(lease = %args.lease_name, namespace = %lease_ns, identity = %me, "waiting for leadership");
    let shutdown = shutdown();
    tokio::pin!(shutdown);
    tokio::select! {
        () = lease::acquire(&leases, &args.lease_name, &me, LEASE_DURATION) => {}
        () = &mut shutdown => return Ok(()),
    }
    tracing::info!(?scope, "leading; controller starting");
    let (lost_tx, lost_rx) = tokio::sync::oneshot::channel::<String>();
    let keeper = {
        let leases = leases.clone();
        let name = args.lease_name.clone();
        let me = me.clone();
        tokio::spawn(async move {
            let why = lease::keep(&leases, &name, &me, LEASE_DURATION).await;
            let _ = lost_tx.send(why);
        })
    };
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let controller = tokio::spawn(k8s::run(client, scope, settings, async move {
        let _ = stop_rx.await;
    }));
    let mut controller = controller;
    let lost = tokio::select! {
        () = &mut shutdown => None,
        why = lost_rx => why.ok(),
        ran = &mut controller => {
            keeper.abort();
            return match ran {
                Ok(Err(why)) => Err(anyhow::anyhow!("{why}")),
                _ => Ok(()),
            };
        }
    };
    let _ = stop_tx.send(());
    let ran = controller.await;
    keeper.abort();
    if let Ok(Err(why)) = ran {
        anyhow::bail!("{why}");
    }
    match lost {
        // Exit non-zero so that the Deployment restarts the replica as a standby.
        Some(why) => anyhow::bail!("leadership lost: {why}"),
        None => Ok(()),
    }
}

/// This replica's identity in the Lease: the Pod name (`$HOSTNAME`) and the process id.
fn identity() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "trellis".into());
    format!("{host}-{}", std::process::id())
}

/// Resolves on SIGTERM (the kubelet stopping the Pod) or SIGINT.
async fn shutdown() {
    let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
    else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}
