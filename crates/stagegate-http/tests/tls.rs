//! The connector's trust, end to end through the real GameSparks client: a local HTTPS endpoint
//! whose certificate comes from a CA made here is reached when that CA is given through
//! `AWS_CA_BUNDLE` or `SSL_CERT_FILE`, and refused without it. One test function, because the
//! variables are process-wide and the cases must not run side by side.

use std::path::Path;
use std::sync::Arc;

use aws_sdk_gamesparks::config::{Credentials, Region};
use aws_sdk_gamesparks::error::DisplayErrorContext;
use aws_sdk_gamesparks::Client;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::TlsAcceptor;

const ANSWER: &str = r#"{"StageDeployment":{"DeploymentId":"d-tls","DeploymentState":"COMPLETED","SnapshotId":"S1","DeploymentAction":"DEPLOY","Created":"2026-12-01T00:00:00Z","LastUpdated":"2026-12-01T00:00:10Z"}}"#;

struct Pki {
    ca_pem: String,
    server: ServerConfig,
}

fn pki() -> Pki {
    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "stagegate test CA");
    let ca_cert = ca.self_signed(&ca_key).expect("CA certificate");
    let issuer = Issuer::new(ca, ca_key);

    let server_key = KeyPair::generate().expect("server key");
    let server = CertificateParams::new(vec!["localhost".to_owned()]).expect("server params");
    let server_cert = server
        .signed_by(&server_key, &issuer)
        .expect("server certificate");

    // Err only when a provider is installed already (by an earlier test or the connector): the
    // server config below is built either way, and fails loudly if no provider is there.
    let _ = tokio_rustls::rustls::crypto::ring::default_provider().install_default();
    let server = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(server_cert.der().to_vec())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der())),
        )
        .expect("server TLS config");
    Pki {
        ca_pem: ca_cert.pem(),
        server,
    }
}

/// Answers every request on the connection with one GetStageDeployment reply.
async fn serve(listener: TcpListener, acceptor: TlsAcceptor) {
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            return;
        };
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let Ok(mut tls) = acceptor.accept(tcp).await else {
                return; // the client refused our certificate
            };
            let mut head = Vec::new();
            let mut buf = [0u8; 4096];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match tls.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            let reply = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{ANSWER}",
                ANSWER.len()
            );
            // The stub's side: a reply that does not arrive fails the client's own assertion.
            let _ = tls.write_all(reply.as_bytes()).await;
            let _ = tls.shutdown().await;
        });
    }
}

async fn client(endpoint: &str) -> Client {
    let sdk = aws_config::from_env()
        .http_connector(stagegate_http::connector())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("AKIDTLS", "tls-secret", None, None, "tls"))
        .load()
        .await;
    let conf = aws_sdk_gamesparks::config::Builder::from(&sdk)
        .endpoint_url(endpoint)
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .build();
    Client::from_conf(conf)
}

async fn get(endpoint: &str) -> Result<String, String> {
    client(endpoint)
        .await
        .get_stage_deployment()
        .game_name("tls")
        .stage_name("prod")
        .deployment_id("d-tls")
        .send()
        .await
        .map(|out| {
            out.stage_deployment()
                .and_then(|d| d.deployment_id())
                .unwrap_or_default()
                .to_owned()
        })
        .map_err(|e| DisplayErrorContext(&e).to_string())
}

fn clear_trust_vars() {
    for var in ["AWS_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR"] {
        std::env::remove_var(var);
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_private_ca_is_trusted_only_when_given() {
    let pki = pki();
    let dir = std::env::temp_dir().join(format!("stagegate-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let ca_file = dir.join("ca.pem");
    std::fs::write(&ca_file, &pki.ca_pem).expect("write CA");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let endpoint = format!(
        "https://localhost:{}",
        listener.local_addr().expect("addr").port()
    );
    tokio::spawn(serve(listener, TlsAcceptor::from(Arc::new(pki.server))));

    clear_trust_vars();
    let refused = get(&endpoint).await.expect_err("no CA given: refused");
    assert!(
        refused.contains("certificate") || refused.contains("UnknownIssuer"),
        "refused for the certificate, not something else: {refused}"
    );

    std::env::set_var("AWS_CA_BUNDLE", &ca_file);
    assert_eq!(
        get(&endpoint).await,
        Ok("d-tls".to_owned()),
        "AWS_CA_BUNDLE"
    );

    clear_trust_vars();
    std::env::set_var("SSL_CERT_FILE", &ca_file);
    assert_eq!(
        get(&endpoint).await,
        Ok("d-tls".to_owned()),
        "SSL_CERT_FILE"
    );

    // A bundle that names no certificate is an error saying so, not "unknown issuer".
    clear_trust_vars();
    let empty = dir.join("empty.pem");
    std::fs::write(&empty, "not a certificate\n").expect("write");
    std::env::set_var("AWS_CA_BUNDLE", &empty);
    let err = get(&endpoint).await.expect_err("empty bundle");
    assert!(
        err.contains("AWS_CA_BUNDLE") && err.contains("no PEM certificate"),
        "{err}"
    );
    clear_trust_vars();
    // Cleanup of a temporary folder: a leftover does not change what was asserted.
    let _ = std::fs::remove_dir_all(Path::new(&dir));
}
