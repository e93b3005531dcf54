//! The HTTP connector under every AWS client stagegate builds.
//!
//! The smithy 0.56 runtime, the last that has GameSparks, ships its connector on hyper 0.14 with
//! HTTP/2 (h2 0.3) and rustls 0.21 (rustls-webpki 0.101, rustls-pemfile 1), all of which carry
//! RustSec advisories today. Its connector interface is a plain tower service over
//! `http::Request<SdkBody>` though, so this crate puts a maintained stack behind it: hyper 1
//! (HTTP/1.1 only, which is all the AWS JSON and query protocols need) with hyper-rustls 0.27 on
//! rustls 0.23 and ring 0.17. The workspace turns the SDK's default connector features off, so
//! a client without this connector cannot send at all rather than silently falling back.
//!
//! One process holds one connection pool ([`Shared`]), cloned into every client: a function
//! with a GameSparks and a CloudWatch client no longer builds two TLS stacks at cold start, and
//! nothing TLS-related is built until the first HTTPS request (see `tls`).
//!
//! The timeouts of the client's `TimeoutConfig` keep their meaning: the connect timeout bounds the
//! TCP connect, the read timeout the whole exchange from there to the last byte of the answer,
//! TLS handshake included (the old connector stopped at the response head, so a body that
//! stalled half-way held the attempt until the attempt timeout). Attempt and operation timeouts
//! and retries stay with the SDK, which classifies this connector's errors as before: timeouts
//! and I/O errors are transient and retried.

mod clients;
mod exchange;
mod pool;
mod tls;

pub use pool::Shared;
pub use tls::{trust_roots, TrustSource, CA_BUNDLE_VAR};

use aws_smithy_client::http_connector::HttpConnector;

/// The connector to give an `aws_config` loader or an `SdkConfig` builder: every client made
/// from that config shares one pool, each with its own timeouts.
pub fn connector() -> HttpConnector {
    Shared::new().http_connector()
}
