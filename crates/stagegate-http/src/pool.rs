//! The process's connection pools, shared by every SDK client: each SDK client used to build
//! (and load the system's root certificates for) its own. The pools themselves are `clients`;
//! this is the handle the SDK configs hold and the connector the SDK asks for.

use std::sync::Arc;

use aws_smithy_client::erase::DynConnector;
use aws_smithy_client::http_connector::{ConnectorSettings, HttpConnector};

use crate::clients::Clients;
use crate::exchange::Exchange;

/// The process's connection pools. Cheap to clone; clones share the pools.
#[derive(Clone, Default)]
pub struct Shared {
    clients: Arc<Clients>,
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
        let clients = self.clients.clone();
        HttpConnector::ConnectorFn(Arc::new(move |settings: &ConnectorSettings, _sleep| {
            Some(DynConnector::new(Exchange::new(
                clients.clone(),
                settings.connect_timeout(),
                settings.read_timeout(),
            )))
        }))
    }
}
