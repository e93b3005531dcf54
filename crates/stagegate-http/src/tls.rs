//! Which certificate authorities the connector trusts. The system's, as the old connector did
//! (rustls-native-certs, which honours `SSL_CERT_FILE` and `SSL_CERT_DIR` the way OpenSSL does), or
//! exactly the bundle in `AWS_CA_BUNDLE`, the variable the AWS CLI and the other SDKs read for a
//! proxy or a private endpoint with its own CA. Loaded on the first HTTPS connection, not at cold
//! start: reading and parsing the system's ~150 roots took about 1.3 ms of every init, per client.
//!
//! With neither variable set, the system's bundle file is read, not also the certificate
//! directory beside it: distributions generate the bundle from that directory (update-ca-
//! certificates, update-ca-trust), and rustls-native-certs would read both, parsing every root
//! twice and opening ~300 files on Debian (provided.al2023 keeps its bundle in
//! /etc/pki/tls/certs). Without a bundle file it falls back to rustls-native-certs' search.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::{ClientConfig, RootCertStore};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

pub const CA_BUNDLE_VAR: &str = "AWS_CA_BUNDLE";

/// Where Linux distributions keep the system's root bundle (OpenSSL's probe order).
const BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/tls/cacert.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

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
            let set = |var: &str| std::env::var_os(var).is_some_and(|v| !v.is_empty());
            let bundle = BUNDLES.iter().map(Path::new).find(|p| p.is_file());
            let found = match bundle {
                Some(file) if !set("SSL_CERT_FILE") && !set("SSL_CERT_DIR") => {
                    rustls_native_certs::load_certs_from_paths(Some(file), None)
                }
                _ => rustls_native_certs::load_native_certs(),
            };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_system_bundle_is_trusted_by_default() {
        // No test in this binary sets the trust variables; the machine's own may be set.
        let (roots, source) = trust_roots().expect("this machine has a root bundle");
        let bundle = std::env::var_os(CA_BUNDLE_VAR).filter(|v| !v.is_empty());
        assert_eq!(
            source == TrustSource::System,
            bundle.is_none(),
            "{source:?}"
        );
        assert!(roots.len() > 50, "{} roots", roots.len());
    }
}
