//! One request through the shared pool: the SDK's http 0.2 request in, converted to http 1 for
//! hyper 1, the whole answer read, converted back. Errors are sorted the way the SDK's retry
//! policy expects (a timeout or an I/O failure is transient), as the connector this replaces did.

use std::error::Error as StdError;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use aws_smithy_http::body::SdkBody;
use aws_smithy_http::result::ConnectorError;
use aws_smithy_types::retry::ErrorKind;
use bytes::{Bytes, BytesMut};
use http_body_util::{BodyExt, Full};

use crate::clients::Clients;

type BoxError = Box<dyn StdError + Send + Sync>;

#[derive(Clone)]
pub(crate) struct Exchange {
    clients: Arc<Clients>,
    connect_timeout: Option<Duration>,
    read_timeout: Option<Duration>,
}

impl Exchange {
    pub(crate) fn new(
        clients: Arc<Clients>,
        connect_timeout: Option<Duration>,
        read_timeout: Option<Duration>,
    ) -> Self {
        Self {
            clients,
            connect_timeout,
            read_timeout,
        }
    }

    async fn send(
        self,
        request: http02::Request<SdkBody>,
    ) -> Result<http02::Response<SdkBody>, ConnectorError> {
        let request = to_hyper(request).await?;
        let client = self
            .clients
            .get(self.connect_timeout)
            .map_err(|e| ConnectorError::other(e.into(), None))?;
        let exchange = async move {
            let response = client.request(request).await.map_err(dispatch_error)?;
            let (parts, body) = response.into_parts();
            let body = body
                .collect()
                .await
                .map_err(|e| classify(Box::new(e)))?
                .to_bytes();
            Ok::<_, ConnectorError>((parts, body))
        };
        let (parts, body) = match self.read_timeout {
            Some(limit) => tokio::time::timeout(limit, exchange)
                .await
                .map_err(|_| ConnectorError::timeout(ReadTimeout(limit).into()))??,
            None => exchange.await?,
        };
        from_hyper(parts, body)
    }
}

impl tower_service::Service<http02::Request<SdkBody>> for Exchange {
    type Response = http02::Response<SdkBody>;
    type Error = ConnectorError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // The pool queues or opens connections itself.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http02::Request<SdkBody>) -> Self::Future {
        Box::pin(self.clone().send(request))
    }
}

#[derive(Debug)]
struct ReadTimeout(Duration);

impl std::fmt::Display for ReadTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "no complete answer within the read timeout of {:?}",
            self.0
        )
    }
}

impl StdError for ReadTimeout {}

async fn to_hyper(
    request: http02::Request<SdkBody>,
) -> Result<http::Request<Full<Bytes>>, ConnectorError> {
    let (parts, body) = request.into_parts();
    let body = match body.bytes() {
        Some(bytes) => Bytes::copy_from_slice(bytes),
        None => read_streaming(body).await?,
    };
    let mut builder = http::Request::builder()
        .method(parts.method.as_str())
        .uri(parts.uri.to_string());
    for (name, value) in &parts.headers {
        builder = builder.header(name.as_str(), value.as_bytes());
    }
    builder
        .body(Full::new(body))
        .map_err(|e| ConnectorError::user(e.into()))
}

/// None of stagegate's operations streams a request body, but one the SDK hands over is read
/// whole rather than refused.
async fn read_streaming(mut body: SdkBody) -> Result<Bytes, ConnectorError> {
    use http_body04::Body as _;
    let mut all = BytesMut::new();
    while let Some(chunk) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_data(cx)).await {
        all.extend_from_slice(&chunk.map_err(ConnectorError::user)?);
    }
    Ok(all.freeze())
}

fn from_hyper(
    parts: http::response::Parts,
    body: Bytes,
) -> Result<http02::Response<SdkBody>, ConnectorError> {
    let mut builder = http02::Response::builder().status(parts.status.as_u16());
    for (name, value) in &parts.headers {
        builder = builder.header(name.as_str(), value.as_bytes());
    }
    builder
        .body(SdkBody::from(body))
        .map_err(|e| ConnectorError::other(e.into(), None))
}

fn dispatch_error(err: hyper_util::client::legacy::Error) -> ConnectorError {
    if err.is_connect() {
        // Refused, unreachable, the connect timeout, or a TLS handshake the server failed.
        return if find::<std::io::Error>(&err)
            .is_some_and(|e| e.kind() == std::io::ErrorKind::TimedOut)
        {
            ConnectorError::timeout(err.into())
        } else {
            ConnectorError::io(err.into())
        };
    }
    classify(Box::new(err))
}

fn classify(err: BoxError) -> ConnectorError {
    let hyper_err = find::<hyper::Error>(err.as_ref());
    if hyper_err.is_some_and(|e| e.is_timeout()) {
        ConnectorError::timeout(err)
    } else if hyper_err.is_some_and(|e| e.is_user()) {
        ConnectorError::user(err)
    } else if hyper_err.is_some_and(|e| e.is_closed() || e.is_canceled())
        || find::<std::io::Error>(err.as_ref()).is_some()
    {
        ConnectorError::io(err)
    } else if hyper_err.is_some_and(|e| e.is_incomplete_message()) {
        // The server closed a kept-alive connection as the request went out.
        ConnectorError::other(err, Some(ErrorKind::TransientError))
    } else {
        ConnectorError::other(err, None)
    }
}

fn find<'a, E: StdError + 'static>(err: &'a (dyn StdError + 'static)) -> Option<&'a E> {
    let mut next = Some(err);
    while let Some(err) = next {
        if let Some(found) = err.downcast_ref::<E>() {
            return Some(found);
        }
        next = err.source();
    }
    None
}
