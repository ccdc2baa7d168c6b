//! Readiness of daemon steps (`daemon: true`): the container's `readinessProbe` (`httpGet`,
//! `tcpSocket` or `exec`), checked the way the kubelet does — after `initialDelaySeconds`, then
//! every `periodSeconds`, each try given `timeoutSeconds`. Steps share this machine's network, so
//! probes reach `127.0.0.1` unless they name a host.

use std::time::Duration;

use k8s_openapi::api::core::v1::{ContainerPort, Probe};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// The address of a step on the local backend: steps share the machine's network.
pub const LOCAL_IP: &str = "127.0.0.1";

/// The name of this machine, which steps on the local backend run on (`hostNodeName`).
pub fn host_name() -> String {
    static NAME: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    NAME.get_or_init(|| {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .or_else(|_| std::fs::read_to_string("/etc/hostname"))
            .map(|n| n.trim().to_string())
            .ok()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "localhost".into())
    })
    .clone()
}

/// How to tell that a daemon is ready.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readiness {
    /// What one try does; `None`: ready as soon as the process runs (no probe).
    pub check: Option<Check>,
    /// Before the first try.
    pub initial_delay: Duration,
    /// Between tries.
    pub period: Duration,
    /// How long one try may take.
    pub timeout: Duration,
}

/// One probe try.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    /// An HTTP GET that answers 200–399.
    Http {
        /// `http://host:port/path`.
        url: String,
        /// `httpHeaders`.
        headers: Vec<(String, String)>,
    },
    /// A TCP connection that opens.
    Tcp {
        /// `host:port`.
        addr: String,
    },
    /// A command that exits 0.
    Exec {
        /// The command and its arguments.
        argv: Vec<String>,
    },
}

/// Reads a container's readiness probe. Errors name what cannot be checked on this machine.
pub fn readiness_of(probe: Option<&Probe>, ports: &[ContainerPort]) -> Result<Readiness, String> {
    let seconds = |v: Option<i32>, default: u64| {
        Duration::from_secs(v.and_then(|s| u64::try_from(s).ok()).unwrap_or(default))
    };
    let Some(p) = probe else {
        return Ok(Readiness {
            check: None,
            initial_delay: Duration::ZERO,
            period: Duration::from_secs(1),
            timeout: Duration::from_secs(1),
        });
    };
    let check = if let Some(h) = &p.http_get {
        let port = port_of(&h.port, ports)?;
        let scheme = h.scheme.as_deref().unwrap_or("HTTP").to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return Err(format!(
                "readinessProbe.httpGet.scheme \"{scheme}\": use HTTP or HTTPS"
            ));
        }
        let host = h
            .host
            .as_deref()
            .filter(|h| !h.is_empty())
            .unwrap_or(LOCAL_IP);
        let path = h.path.as_deref().unwrap_or("/");
        let sep = if path.starts_with('/') { "" } else { "/" };
        Check::Http {
            url: format!("{scheme}://{host}:{port}{sep}{path}"),
            headers: h
                .http_headers
                .iter()
                .flatten()
                .map(|x| (x.name.clone(), x.value.clone()))
                .collect(),
        }
    } else if let Some(t) = &p.tcp_socket {
        let port = port_of(&t.port, ports)?;
        let host = t
            .host
            .as_deref()
            .filter(|h| !h.is_empty())
            .unwrap_or(LOCAL_IP);
        Check::Tcp {
            addr: format!("{host}:{port}"),
        }
    } else if let Some(e) = &p.exec {
        let argv = e.command.clone().unwrap_or_default();
        if argv.is_empty() {
            return Err("readinessProbe.exec.command is empty: give the command to run".into());
        }
        Check::Exec { argv }
    } else if p.grpc.is_some() {
        return Err(
            "readinessProbe.grpc cannot be checked on the local backend: use httpGet, \
             tcpSocket or exec"
                .into(),
        );
    } else {
        return Err("readinessProbe has no check: give one of httpGet, tcpSocket or exec".into());
    };
    Ok(Readiness {
        check: Some(check),
        initial_delay: seconds(p.initial_delay_seconds, 0),
        period: seconds(p.period_seconds, 10).max(Duration::from_secs(1)),
        timeout: seconds(p.timeout_seconds, 1).max(Duration::from_secs(1)),
    })
}

/// A probe's port: a number, or the name of one of the container's ports.
fn port_of(port: &IntOrString, ports: &[ContainerPort]) -> Result<u16, String> {
    let n = match port {
        IntOrString::Int(n) => *n,
        IntOrString::String(name) => match name.parse::<i32>() {
            Ok(n) => n,
            Err(_) => ports
                .iter()
                .find(|p| p.name.as_deref() == Some(name))
                .map(|p| p.container_port)
                .ok_or_else(|| {
                    format!("readinessProbe port \"{name}\" is not one of the container's ports")
                })?,
        },
    };
    u16::try_from(n)
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| format!("readinessProbe port {n} is not a port number (1–65535)"))
}

impl Readiness {
    /// Waits until one try succeeds (forever if none does: the step's deadline or its scope
    /// ends it).
    pub async fn wait(&self, client: &reqwest::Client) {
        tokio::time::sleep(self.initial_delay).await;
        let Some(check) = &self.check else { return };
        loop {
            let ok = tokio::time::timeout(self.timeout, check.once(client))
                .await
                .unwrap_or(false);
            if ok {
                return;
            }
            tokio::time::sleep(self.period).await;
        }
    }
}

impl Check {
    async fn once(&self, client: &reqwest::Client) -> bool {
        match self {
            Check::Http { url, headers } => {
                let mut req = client.get(url);
                for (k, v) in headers {
                    req = req.header(k, v);
                }
                req.send().await.is_ok_and(|r| {
                    let s = r.status().as_u16();
                    (200..400).contains(&s)
                })
            }
            Check::Tcp { addr } => tokio::net::TcpStream::connect(addr).await.is_ok(),
            Check::Exec { argv } => tokio::process::Command::new(&argv[0])
                .args(&argv[1..])
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .kill_on_drop(true)
                .status()
                .await
                .is_ok_and(|s| s.success()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(yaml: serde_json::Value) -> Probe {
        serde_json::from_value(yaml).expect("a probe")
    }

    #[test]
    fn http_probes_default_to_this_machine_and_kubelet_timings() {
        let r = readiness_of(
            Some(&probe(
                serde_json::json!({"httpGet": {"path": "ping", "port": 8086}}),
            )),
            &[],
        )
        .unwrap();
        assert_eq!(
            r.check,
            Some(Check::Http {
                url: "http://127.0.0.1:8086/ping".into(),
                headers: vec![]
            })
        );
        assert_eq!(r.initial_delay, Duration::ZERO);
        assert_eq!(r.period, Duration::from_secs(10));
        assert_eq!(r.timeout, Duration::from_secs(1));
    }

    #[test]
    fn named_ports_come_from_the_container() {
        let ports: Vec<ContainerPort> = serde_json::from_value(serde_json::json!([
            {"name": "web", "containerPort": 8080}
        ]))
        .unwrap();
        let r = readiness_of(
            Some(&probe(serde_json::json!({
                "tcpSocket": {"port": "web"}, "initialDelaySeconds": 2, "periodSeconds": 3
            }))),
            &ports,
        )
        .unwrap();
        assert_eq!(
            r.check,
            Some(Check::Tcp {
                addr: "127.0.0.1:8080".into()
            })
        );
        assert_eq!(r.initial_delay, Duration::from_secs(2));
        assert_eq!(r.period, Duration::from_secs(3));
        let err = readiness_of(
            Some(&probe(serde_json::json!({"tcpSocket": {"port": "db"}}))),
            &ports,
        )
        .unwrap_err();
        assert!(
            err.contains("\"db\" is not one of the container's ports"),
            "{err}"
        );
    }

    #[test]
    fn what_cannot_be_checked_is_said() {
        let grpc = readiness_of(
            Some(&probe(serde_json::json!({"grpc": {"port": 9000}}))),
            &[],
        );
        assert!(grpc.unwrap_err().contains("grpc"));
        let port = readiness_of(
            Some(&probe(serde_json::json!({"httpGet": {"port": 70000}}))),
            &[],
        );
        assert!(port.unwrap_err().contains("70000"));
        assert!(readiness_of(None, &[]).unwrap().check.is_none());
    }

    #[tokio::test]
    async fn a_tcp_probe_waits_for_the_listener() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let r = Readiness {
            check: Some(Check::Tcp { addr }),
            initial_delay: Duration::ZERO,
            period: Duration::from_millis(10),
            timeout: Duration::from_secs(1),
        };
        let client = reqwest::Client::new();
        tokio::time::timeout(Duration::from_secs(5), r.wait(&client))
            .await
            .expect("ready while the port listens");
        drop(listener);
        let r2 = Readiness {
            period: Duration::from_millis(10),
            ..r
        };
        let waited = tokio::time::timeout(Duration::from_millis(200), r2.wait(&client)).await;
        assert!(waited.is_err(), "not ready once nothing listens");
    }
}
