//! One lazily built hyper client per connect timeout, shared by every SDK client of the process.
//! Lazily, because a Lambda function's init should not pay for a TLS stack before it knows it
//! will make a request; shared, because each SDK client used to build (and load the system's
//! root certificates for) its own.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_smithy_client::erase::DynConnector;
use aws_smithy_client::http_connector::{ConnectorSettings, HttpConnector};
use bytes::Bytes;
use http_body_util::Full;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector as TcpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use crate::exchange::Exchange;
use crate::tls;

pub(crate) type HyperClient = Client<HttpsConnector<TcpConnector>, Full<Bytes>>;

/// The clients built so far, by connect timeout (in practice one: every client of a function has
/// the same timeouts).
type Clients = Vec<(Option<Duration>, HyperClient)>;

/// How long an idle keep-alive connection is kept: below the 20 s after which AWS front ends
/// may close one, so a reused connection is rarely one the server is closing.
const POOL_IDLE: Duration = Duration::from_secs(15);

/// The process's connection pools. Cheap to clone; clones share the pools.
#[derive(Clone, Default)]
pub struct Shared {
    clients: Arc<Mutex<Clients>>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").finish_non_exhaustive()
    }
}

impl Shared {
    pub fn new() -> Self {
        Self::default()
    }

    /// For `aws_config::ConfigLoader::http_connector` and the SDK config builders: the SDK calls
    /// it with each client's timeout settings.
    pub fn http_connector(&self) -> HttpConnector {
        let shared = self.clone();
        HttpConnector::ConnectorFn(Arc::new(move |settings: &ConnectorSettings, _sleep| {
            Some(DynConnector::new(Exchange::new(
                shared.clone(),
                settings.connect_timeout(),
                settings.read_timeout(),
            )))
        }))
    }

    /// The client for this connect timeout, built on first use.
    pub(crate) fn client(&self, connect_timeout: Option<Duration>) -> Result<HyperClient, String> {
        let mut clients = self
            .clients
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((_, client)) = clients.iter().find(|(t, _)| *t == connect_timeout) {
            return Ok(client.clone());
        }
        let client = build(connect_timeout)?;
        clients.push((connect_timeout, client.clone()));
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
