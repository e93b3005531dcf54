//! Which certificate authorities the connector trusts. The system's, as the old connector did
//! (rustls-native-certs, which honours `SSL_CERT_FILE` and `SSL_CERT_DIR` the way OpenSSL does), or
//! exactly the bundle in `AWS_CA_BUNDLE`, the variable the AWS CLI and the other SDKs read for a
//! proxy or a private endpoint with its own CA. Loaded on the first HTTPS connection, not at cold
//! start: reading and parsing the system's ~150 roots took about 1.3 ms of every init, per client.

use std::path::PathBuf;
use std::sync::Arc;

use rustls::{ClientConfig, RootCertStore};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

pub const CA_BUNDLE_VAR: &str = "AWS_CA_BUNDLE";

/// Where the trusted roots came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrustSource {
    /// The PEM file named by `AWS_CA_BUNDLE`, and nothing else.
    Bundle(PathBuf),
    /// The platform's store (or `SSL_CERT_FILE` / `SSL_CERT_DIR`).
    System,
}

/// The roots the connector would trust now, and where they came from. An unreadable or empty
/// bundle is an error naming the variable: a connector that trusted nothing would fail every
/// request with a message about the server's certificate instead.
pub fn trust_roots() -> Result<(RootCertStore, TrustSource), String> {
    let mut roots = RootCertStore::empty();
    match std::env::var_os(CA_BUNDLE_VAR).filter(|v| !v.is_empty()) {
        Some(path) => {
            let path = PathBuf::from(path);
            let certs = CertificateDer::pem_file_iter(&path)
                .map_err(|e| format!("{CA_BUNDLE_VAR}={}: {e}", path.display()))?;
            for cert in certs {
                let cert = cert.map_err(|e| format!("{CA_BUNDLE_VAR}={}: {e}", path.display()))?;
                roots.add(cert).map_err(|e| {
                    format!(
                        "{CA_BUNDLE_VAR}={}: not a CA certificate: {e}",
                        path.display()
                    )
                })?;
            }
            if roots.is_empty() {
                return Err(format!(
                    "{CA_BUNDLE_VAR}={}: no PEM certificate in the file",
                    path.display()
                ));
            }
            Ok((roots, TrustSource::Bundle(path)))
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            // A store may hold a few certificates rustls cannot use (e.g. v1); the others still
            // count, as with the connector this replaces.
            let (_added, _ignored) = roots.add_parsable_certificates(found.certs);
            if roots.is_empty() {
                let why: Vec<String> = found.errors.iter().map(|e| e.to_string()).collect();
                return Err(format!(
                    "no trusted root certificates found on this system ({}); set {CA_BUNDLE_VAR} or SSL_CERT_FILE",
                    why.join("; ")
                ));
            }
            Ok((roots, TrustSource::System))
        }
    }
}

pub(crate) fn client_config() -> Result<ClientConfig, String> {
    let (roots, _) = trust_roots()?;
    ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS configuration: {e}"))
        .map(|b| b.with_root_certificates(roots).with_no_client_auth())
}
