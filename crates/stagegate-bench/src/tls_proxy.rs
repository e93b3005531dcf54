//! The TLS front on the emulator for the HTTPS cold starts: a terminating proxy that accepts
//! TLS on 127.0.0.1 with the run CA's certificate (`run_ca`) and copies the bytes to and from
//! the emulator's plain-HTTP port. A proxy rather than TLS in the emulator: gamesparks-local stays
//! plain HTTP for everything else that uses it, and the front is the same for every client, so
//! the HTTPS figure differs from the plain one by the TLS work only (handshake, trust store,
//! encryption) plus one loopback hop. It counts the handshakes it completed, so the bench can
//! check that the HTTPS targets did reach it (an endpoint override that did not take would
//! otherwise measure plain HTTP twice).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::TlsAcceptor;

use crate::error::{Context, Result};
use crate::run_ca::SERVER_IP;

/// A running TLS front; stops when dropped.
pub struct TlsProxy {
    addr: SocketAddr,
    handshakes: Arc<AtomicU64>,
    task: JoinHandle<()>,
}

impl TlsProxy {
    /// Listens on an ephemeral port of [`SERVER_IP`] and forwards each connection to `upstream`.
    pub async fn start(upstream: SocketAddr, config: Arc<ServerConfig>) -> Result<Self> {
        let listener = TcpListener::bind(SocketAddr::new(SERVER_IP, 0))
            .await
            .context("binding the TLS front")?;
        let addr = listener.local_addr().context("the TLS front's address")?;
        let handshakes = Arc::new(AtomicU64::new(0));
        let acceptor = TlsAcceptor::from(config);
        let counted = Arc::clone(&handshakes);
        let task = tokio::spawn(async move {
            // The listener only fails when the process runs out of descriptors; the targets
            // behind it then fail their cold start with a connection error, which names it.
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                let counted = Arc::clone(&counted);
                tokio::spawn(async move {
                    // A client that refuses the certificate ends here; it reports that itself.
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    counted.fetch_add(1, Ordering::Relaxed);
                    let Ok(mut plain) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    let _ = plain.set_nodelay(true);
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                });
            }
        });
        Ok(Self {
            addr,
            handshakes,
            task,
        })
    }

    /// The base URL for `AWS_ENDPOINT_URL_GAMESPARKS`.
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// TLS handshakes completed so far.
    pub fn handshakes(&self) -> u64 {
        self.handshakes.load(Ordering::Relaxed)
    }
}

impl Drop for TlsProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_rustls::rustls::pki_types::ServerName;
    use tokio_rustls::rustls::{ClientConfig, RootCertStore};
    use tokio_rustls::TlsConnector;

    use super::*;
    use crate::run_ca::RunCa;

    const WAIT: std::time::Duration = std::time::Duration::from_secs(5);
    const REPLY: &str = "HTTP/1.1 200 OK\r\ncontent-length: 5\r\nconnection: close\r\n\r\nhello";

    /// A plain-TCP upstream that reads one request head, sends it back through `seen` and
    /// answers [`REPLY`].
    async fn upstream() -> (SocketAddr, tokio::sync::oneshot::Receiver<Vec<u8>>) {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
        let (tx, rx) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            let Ok((mut tcp, _)) = listener.accept().await else {
                return;
            };
            let mut head = vec![];
            let mut buf = [0u8; 1024];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match tcp.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            let _ = tx.send(head);
            let _ = tcp.write_all(REPLY.as_bytes()).await;
        });
        (addr, rx)
    }

    fn client(ca_pem: &str) -> TlsConnector {
        use tokio_rustls::rustls::pki_types::pem::PemObject;
        use tokio_rustls::rustls::pki_types::CertificateDer;
        let mut roots = RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
            roots
                .add(cert.unwrap_or_else(|e| panic!("{e}")))
                .unwrap_or_else(|e| panic!("{e}"));
        }
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap_or_else(|e| panic!("{e}"))
            .with_root_certificates(roots)
            .with_no_client_auth();
        TlsConnector::from(Arc::new(config))
    }

    #[tokio::test]
    async fn one_request_over_tls_reaches_the_upstream_and_its_answer_comes_back() {
        let ca = RunCa::new().unwrap_or_else(|e| panic!("{e}"));
        let (up, seen) = upstream().await;
        let proxy = TlsProxy::start(up, ca.server_config().unwrap_or_else(|e| panic!("{e}")))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            proxy.url().starts_with("https://127.0.0.1:"),
            "{}",
            proxy.url()
        );
        assert_eq!(proxy.handshakes(), 0);

        let tcp = TcpStream::connect(proxy.addr)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let name = ServerName::IpAddress(SERVER_IP.into());
        let mut tls = client(&ca.ca_pem)
            .connect(name, tcp)
            .await
            .unwrap_or_else(|e| panic!("handshake with the front: {e}"));
        let request = "GET /game/space-raiders HTTP/1.1\r\nhost: x\r\n\r\n";
        tls.write_all(request.as_bytes())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        // Bounded: a front that forwards one way only would leave the client waiting forever.
        let mut answer = String::new();
        let read = tokio::time::timeout(WAIT, tls.read_to_string(&mut answer)).await;
        assert!(read.is_ok(), "no answer within {WAIT:?}");
        assert_eq!(answer, REPLY);
        let head = tokio::time::timeout(WAIT, seen)
            .await
            .unwrap_or_else(|_| panic!("the upstream saw no request within {WAIT:?}"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(String::from_utf8_lossy(&head), request);
        assert_eq!(proxy.handshakes(), 1);
    }

    #[tokio::test]
    async fn a_client_that_does_not_trust_the_run_ca_is_not_counted() {
        let ca = RunCa::new().unwrap_or_else(|e| panic!("{e}"));
        let stranger = RunCa::new().unwrap_or_else(|e| panic!("{e}"));
        let (up, _seen) = upstream().await;
        let proxy = TlsProxy::start(up, ca.server_config().unwrap_or_else(|e| panic!("{e}")))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let tcp = TcpStream::connect(proxy.addr)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let name = ServerName::IpAddress(SERVER_IP.into());
        let refused = client(&stranger.ca_pem).connect(name, tcp).await;
        assert!(refused.is_err());
        // The front's side of the failed handshake ends after the client's alert.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert_eq!(proxy.handshakes(), 0);
    }
}
