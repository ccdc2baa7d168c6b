//! Serving over TLS: `--secure` with a self-signed certificate made at start (as Argo Server's
//! `--secure`), or `--tls-cert`/`--tls-key` with the operator's own. Handshakes run in tasks
//! of their own, so a slow or silent client never holds up the others.

use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::server::TlsStream;

/// How long a client may take to finish its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A certificate chain and its key.
pub struct Identity {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

/// A self-signed certificate for `host` (and `localhost`, `127.0.0.1`, `::1`).
pub fn self_signed(host: &str) -> anyhow::Result<Identity> {
    let mut names = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    if !names.iter().any(|n| n == host) && !host.is_empty() && host != "0.0.0.0" && host != "::" {
        names.push(host.to_owned());
    }
    let made = rcgen::generate_simple_self_signed(names)
        .context("cannot make a self-signed certificate")?;
    Ok(Identity {
        chain: vec![made.cert.der().clone()],
        key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(made.signing_key.serialize_der())),
    })
}

/// The certificate chain and key of PEM files.
pub fn from_files(cert: &Path, key: &Path) -> anyhow::Result<Identity> {
    let chain = CertificateDer::pem_file_iter(cert)
        .with_context(|| format!("cannot read --tls-cert `{}`", cert.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("--tls-cert `{}` is not PEM certificates", cert.display()))?;
    if chain.is_empty() {
        anyhow::bail!("--tls-cert `{}` holds no certificate", cert.display());
    }
    let key = PrivateKeyDer::from_pem_file(key).with_context(|| {
        format!(
            "cannot read a private key from --tls-key `{}`",
            key.display()
        )
    })?;
    Ok(Identity { chain, key })
}

/// A server configuration builder on aws-lc-rs (the provider reqwest uses too), with the safe
/// protocol versions.
fn config_builder() -> anyhow::Result<
    tokio_rustls::rustls::ConfigBuilder<ServerConfig, tokio_rustls::rustls::WantsVerifier>,
> {
    let provider = Arc::new(tokio_rustls::rustls::crypto::aws_lc_rs::default_provider());
    ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("no TLS protocol version is available")
}

/// A listener whose connections are TLS streams, handshakes done.
pub struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
}

impl TlsListener {
    /// Serves TLS with `identity` on the connections `tcp` accepts.
    pub fn new(tcp: TcpListener, identity: Identity) -> anyhow::Result<Self> {
        let mut config = config_builder()?
            .with_no_client_auth()
            .with_single_cert(identity.chain, identity.key)
            .context("the TLS certificate and key do not go together")?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let local = tcp.local_addr()?;
        let (tx, ready) = mpsc::channel(64);
        tokio::spawn(accept_forever(tcp, acceptor, tx));
        Ok(TlsListener { ready, local })
    }
}

async fn accept_forever(
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    tx: mpsc::Sender<(TlsStream<TcpStream>, SocketAddr)>,
) {
    loop {
        let (stream, peer) = match tcp.accept().await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "cannot accept a connection");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let (acceptor, tx) = (acceptor.clone(), tx.clone());
        tokio::spawn(async move {
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(tls)) => {
                    let _ = tx.send((tls, peer)).await;
                }
                Ok(Err(e)) => tracing::debug!(peer = %peer, error = %e, "a TLS handshake failed"),
                Err(_) => tracing::debug!(peer = %peer, "a TLS handshake timed out"),
            }
        });
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(c) => c,
            // The accepting task ended: nothing more will come.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(self.local)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_self_signed_certificate_can_be_served() {
        let id = self_signed("trellis.example.com").unwrap();
        config_builder()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(id.chain, id.key)
            .expect("a usable certificate and key");
    }

    #[test]
    fn missing_files_are_named() {
        let Err(e) = from_files(Path::new("/no/cert.pem"), Path::new("/no/key.pem")) else {
            panic!("no files, no identity");
        };
        assert!(format!("{e:#}").contains("/no/cert.pem"), "{e:#}");
    }
}
