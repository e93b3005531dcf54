//! One lazily built hyper client per connect timeout: what the pool hands out and what every
//! exchange sends through, in a module of its own so that neither needs the other's (the
//! connector wiring in `pool` builds exchanges; an exchange only needs a client). Lazily,
//! because a Lambda function's init should not pay for a TLS stack before it knows it will make
//! a request.

use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector as TcpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use crate::tls;

pub(crate) type HyperClient = Client<HttpsConnector<TcpConnector>, Full<Bytes>>;

/// How long an idle keep-alive connection is kept: below the 20 s after which AWS front ends
/// may close one, so a reused connection is rarely one the server is closing.
const POOL_IDLE: Duration = Duration::from_secs(15);

/// The clients built so far, by connect timeout (in practice one: every client of a function has
/// the same timeouts).
#[derive(Default)]
pub(crate) struct Clients {
    built: Mutex<Vec<(Option<Duration>, HyperClient)>>,
}

impl Clients {
    /// The client for this connect timeout, built on first use.
    pub(crate) fn get(&self, connect_timeout: Option<Duration>) -> Result<HyperClient, String> {
        let mut built = self
            .built
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((_, client)) = built.iter().find(|(t, _)| *t == connect_timeout) {
            return Ok(client.clone());
        }
        let client = build(connect_timeout)?;
        built.push((connect_timeout, client.clone()));
        Ok(client)
    }
}

fn build(connect_timeout: Option<Duration>) -> Result<HyperClient, String> {
    let mut tcp = TcpConnector::new();
    tcp.enforce_http(false);
    tcp.set_nodelay(true);
    tcp.set_connect_timeout(connect_timeout);
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls::client_config()?)
        .https_or_http()
        .enable_http1()
        .wrap_connector(tcp);
    Ok(Client::builder(TokioExecutor::new())
        .pool_idle_timeout(POOL_IDLE)
        .pool_timer(TokioTimer::new())
        .http09_responses(false)
        .build(https))
}
