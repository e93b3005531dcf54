//! The certificate authority made for one bench run, and the bundle that makes the processes
//! trust it. The HTTPS cold starts need a certificate the functions and the Python peer accept
//! without touching the machine's trust store, so each run makes a CA of its own, signs one
//! server certificate for 127.0.0.1 with it, and writes a bundle: the system's roots followed by
//! the run's CA. The system's roots stay in because what the HTTPS figure is after is the cost of
//! loading a real trust store on the first request (about 150 roots, as on Lambda; botocore's
//! certifi bundle is the same size): a bundle of one certificate would hide it again, as the
//! plain-HTTP figures do. Our functions read the bundle through `SSL_CERT_FILE` (the system-store
//! path of stagegate-http's `tls`), the peer through `AWS_CA_BUNDLE` (what botocore reads).

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::ServerConfig;

use crate::error::{Context, Result};

/// The name the TLS front answers to, and the host of its URL: an address, so no process
/// resolves a name on its first request (the plain-HTTP endpoints are addresses too).
pub const SERVER_IP: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// Where Linux distributions keep the system's root bundle (the first ones of stagegate-http's
/// list: the Debian and the Amazon Linux places).
const SYSTEM_BUNDLES: [&str; 2] = [
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
];

const BEGIN: &str = "-----BEGIN CERTIFICATE-----";

/// The run's CA and the server certificate it signed.
pub struct RunCa {
    /// The CA certificate, PEM.
    pub ca_pem: String,
    /// The server certificate (for [`SERVER_IP`] and `localhost`), DER.
    pub server_der: CertificateDer<'static>,
    server_key: PrivatePkcs8KeyDer<'static>,
}

impl RunCa {
    /// A new CA and a server certificate signed by it.
    pub fn new() -> Result<Self> {
        let ca_key = KeyPair::generate().context("generating the run CA's key")?;
        let mut ca = CertificateParams::new(Vec::<String>::new()).context("the run CA")?;
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(DnType::CommonName, "stagegate-bench run CA");
        ca.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_cert = ca.self_signed(&ca_key).context("signing the run CA")?;
        let issuer = Issuer::new(ca, ca_key);

        let server_key = KeyPair::generate().context("generating the TLS front's key")?;
        let mut server =
            CertificateParams::new(vec!["localhost".to_owned()]).context("the TLS front")?;
        server.subject_alt_names.push(SanType::IpAddress(SERVER_IP));
        server
            .distinguished_name
            .push(DnType::CommonName, "stagegate-bench TLS front");
        // OpenSSL's strict verification (Python 3.13's default context) wants the issuer's key
        // named in the leaf.
        server.use_authority_key_identifier_extension = true;
        let server_cert = server
            .signed_by(&server_key, &issuer)
            .context("signing the TLS front's certificate")?;
        Ok(Self {
            ca_pem: ca_cert.pem(),
            server_der: server_cert.der().clone(),
            server_key: PrivatePkcs8KeyDer::from(server_key.serialize_der()),
        })
    }

    /// The TLS front's server configuration: this certificate, ring, TLS 1.2 and 1.3.
    pub fn server_config(&self) -> Result<Arc<ServerConfig>> {
        let provider = tokio_rustls::rustls::crypto::ring::default_provider();
        let config = ServerConfig::builder_with_provider(Arc::new(provider))
            .with_safe_default_protocol_versions()
            .context("the TLS front's protocol versions")?
            .with_no_client_auth()
            .with_single_cert(
                vec![self.server_der.clone()],
                PrivateKeyDer::Pkcs8(self.server_key.clone_key()),
            )
            .context("the TLS front's certificate")?;
        Ok(Arc::new(config))
    }
}

/// The bundle both kinds of process trust, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustBundle {
    pub path: PathBuf,
    /// Certificates in it: the system's roots and the run's CA.
    pub certificates: usize,
}

/// The bundle's text: the system's roots (if any), then the run's CA; and how many certificates
/// that is.
pub fn bundle_text(system: Option<&str>, ca_pem: &str) -> (String, usize) {
    let mut text = system.unwrap_or_default().trim_end().to_owned();
    if !text.is_empty() {
        text.push('\n');
    }
    text.push_str(ca_pem.trim_end());
    text.push('\n');
    let count = text.matches(BEGIN).count();
    (text, count)
}

/// Writes `dir/run-ca-bundle.pem`: the system's roots and `ca`'s certificate.
pub fn write_bundle(dir: &Path, ca: &RunCa) -> Result<TrustBundle> {
    let system = SYSTEM_BUNDLES
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok());
    let (text, certificates) = bundle_text(system.as_deref(), &ca.ca_pem);
    let path = dir.join("run-ca-bundle.pem");
    std::fs::write(&path, text).context(format!("writing {}", path.display()))?;
    Ok(TrustBundle { path, certificates })
}

#[cfg(test)]
mod tests {
    use tokio_rustls::rustls::client::danger::ServerCertVerifier;
    use tokio_rustls::rustls::client::WebPkiServerVerifier;
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    use tokio_rustls::rustls::pki_types::{ServerName, UnixTime};
    use tokio_rustls::rustls::RootCertStore;

    use super::*;

    /// Whether a client trusting exactly `roots` (PEM) accepts the front's certificate for
    /// `name`.
    fn accepted(roots_pem: &str, ca: &RunCa, name: &str) -> std::result::Result<(), String> {
        let certs: Vec<CertificateDer<'static>> =
            CertificateDer::pem_slice_iter(roots_pem.as_bytes())
                .collect::<std::result::Result<_, _>>()
                .map_err(|e| e.to_string())?;
        // A system bundle may hold a root rustls cannot use; the connector skips those too.
        let mut roots = RootCertStore::empty();
        roots.add_parsable_certificates(certs);
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .map_err(|e| e.to_string())?;
        let name = ServerName::try_from(name.to_owned()).map_err(|e| e.to_string())?;
        verifier
            .verify_server_cert(&ca.server_der, &[], &name, &[], UnixTime::now())
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn the_front_is_trusted_through_the_run_ca_for_its_address_only() {
        let ca = RunCa::new().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(accepted(&ca.ca_pem, &ca, "127.0.0.1"), Ok(()));
        assert_eq!(accepted(&ca.ca_pem, &ca, "localhost"), Ok(()));
        let other = accepted(&ca.ca_pem, &ca, "example.com").unwrap_err();
        assert!(other.contains("not valid for name"), "{other}");
        // Another run's CA does not vouch for it: same name, another key.
        let stranger = RunCa::new().unwrap_or_else(|e| panic!("{e}"));
        let refused = accepted(&stranger.ca_pem, &ca, "127.0.0.1").unwrap_err();
        assert!(refused.contains("BadSignature"), "{refused}");
        assert!(ca.server_config().is_ok());
    }

    #[test]
    fn the_bundle_is_the_system_roots_then_the_run_ca() {
        let ca = RunCa::new().unwrap_or_else(|e| panic!("{e}"));
        let system = format!("{BEGIN}\nAAAA\n-----END CERTIFICATE-----\n{BEGIN}\nBBBB\n-----END CERTIFICATE-----\n\n");
        let (text, n) = bundle_text(Some(&system), &ca.ca_pem);
        assert_eq!(n, 3);
        assert!(text.starts_with(system.trim_end()), "{text}");
        assert!(
            text.ends_with(&format!("{}\n", ca.ca_pem.trim_end())),
            "{text}"
        );
        // No system bundle: the run's CA alone.
        assert_eq!(
            bundle_text(None, &ca.ca_pem),
            (format!("{}\n", ca.ca_pem.trim_end()), 1)
        );
    }

    #[test]
    fn the_written_bundle_holds_the_run_ca() {
        let dir = std::env::temp_dir().join(format!("stagegate-bench-ca-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        let ca = RunCa::new().unwrap_or_else(|e| panic!("{e}"));
        let bundle = write_bundle(&dir, &ca).unwrap_or_else(|e| panic!("{e}"));
        let text = std::fs::read_to_string(&bundle.path).unwrap_or_else(|e| panic!("{e}"));
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(text.matches(BEGIN).count(), bundle.certificates);
        assert!(bundle.certificates >= 1);
        assert_eq!(accepted(&text, &ca, "127.0.0.1"), Ok(()));
    }
}
