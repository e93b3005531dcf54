//! Loopback HTTP servers the harness runs in-process: the Lambda Runtime API stub the functions
//! (and the Python peer) talk to, an SNS Publish stub for notify-result (which also answers
//! poll-deployment's abort check, SSM GetParameter, with ParameterNotFound), and a timing proxy in
//! front of the emulator that measures each GameSparks round trip a function makes.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex as StdMutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, Mutex};
use tokio::task::{JoinHandle, JoinSet};

use crate::error::{Context, Result};

const RUNTIME_PREFIX: &str = "/2018-06-01/runtime";
/// Lambda's default for the functions in infra/template.yaml.
const INVOCATION_TIMEOUT: Duration = Duration::from_secs(30);

type Body = Full<Bytes>;

/// A server task on loopback; dropping it aborts the accept loop and every open connection.
struct Server {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn start_server<F, Fut>(handler: F) -> Result<Server>
where
    F: Fn(Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response<Body>> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .context("binding a loopback port")?;
    let addr = listener.local_addr().context("reading the bound address")?;
    let task = tokio::spawn(async move {
        // Owned by the accept loop: aborting the loop drops the set, which aborts connections
        // (a runtime client long-polling /next never returns on its own).
        let mut connections = JoinSet::new();
        loop {
            let (stream, _) = match listener.accept().await {
                Ok(accepted) => accepted,
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let handler = handler.clone();
            connections.spawn(async move {
                let svc = service_fn(move |req| {
                    let handler = handler.clone();
                    async move { Ok::<_, Infallible>(handler(req).await) }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
            while connections.try_join_next().is_some() {}
        }
    });
    Ok(Server { addr, task })
}

fn response(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> Response<Body> {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

async fn read_body(body: Incoming) -> Bytes {
    body.collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Lambda Runtime API

/// One event to hand out on `GET /invocation/next`.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub request_id: String,
    pub body: Bytes,
}

/// What the runtime client did, with when the stub saw it.
#[derive(Debug, Clone)]
pub enum Report {
    /// A `GET /invocation/next` arrived (the runtime is initialised and asks for work).
    NextRequested { at: Instant },
    /// An event was handed out.
    Served { request_id: String, at: Instant },
    /// `POST /invocation/{id}/response`, body fully read.
    Response {
        request_id: String,
        at: Instant,
        body: Bytes,
    },
    /// `POST /invocation/{id}/error`.
    Error {
        request_id: String,
        at: Instant,
        body: Bytes,
    },
    /// `POST /init/error`.
    InitError { at: Instant, body: Bytes },
}

struct RuntimeState {
    events: Mutex<mpsc::UnboundedReceiver<Invocation>>,
    reports: mpsc::UnboundedSender<Report>,
    function_arn: String,
    traces: AtomicU64,
}

/// The Lambda Runtime API (2018-06-01) as far as a runtime client uses it.
pub struct RuntimeStub {
    server: Server,
    events: mpsc::UnboundedSender<Invocation>,
    pub reports: mpsc::UnboundedReceiver<Report>,
}

impl RuntimeStub {
    pub async fn start(function_name: &str) -> Result<Self> {
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        let (reports_tx, reports_rx) = mpsc::unbounded_channel();
        let state = Arc::new(RuntimeState {
            events: Mutex::new(events_rx),
            reports: reports_tx,
            function_arn: format!("arn:aws:lambda:us-east-1:123456789012:function:{function_name}"),
            traces: AtomicU64::new(1),
        });
        let server = start_server(move |req| runtime_route(Arc::clone(&state), req)).await?;
        Ok(Self {
            server,
            events: events_tx,
            reports: reports_rx,
        })
    }

    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn api_address(&self) -> String {
        self.server.addr.to_string()
    }

    pub fn push(&self, invocation: Invocation) -> Result<()> {
        self.events
            .send(invocation)
            .map_err(|_| "the runtime stub has stopped".into())
    }
}

async fn runtime_route(state: Arc<RuntimeState>, req: Request<Incoming>) -> Response<Body> {
    let path = req.uri().path().to_owned();
    let Some(rest) = path.strip_prefix(RUNTIME_PREFIX) else {
        return response(StatusCode::NOT_FOUND, "text/plain", "unknown path");
    };
    let method = req.method().clone();
    match (method, rest) {
        (Method::GET, "/invocation/next") => next_invocation(&state).await,
        (Method::POST, "/init/error") => {
            let body = read_body(req.into_body()).await;
            let _ = state.reports.send(Report::InitError {
                at: Instant::now(),
                body,
            });
            accepted()
        }
        (Method::POST, rest) => {
            let Some(inner) = rest.strip_prefix("/invocation/") else {
                return response(StatusCode::NOT_FOUND, "text/plain", "unknown path");
            };
            let (request_id, kind) = match inner.rsplit_once('/') {
                Some((id, kind @ ("response" | "error"))) => (id.to_owned(), kind),
                _ => return response(StatusCode::NOT_FOUND, "text/plain", "unknown path"),
            };
            // The invocation ends when the runtime client posts its result: stamp the arrival of
            // the request head, before the harness reads the body.
            let at = Instant::now();
            let body = read_body(req.into_body()).await;
            let report = if kind == "response" {
                Report::Response {
                    request_id,
                    at,
                    body,
                }
            } else {
                Report::Error {
                    request_id,
                    at,
                    body,
                }
            };
            let _ = state.reports.send(report);
            accepted()
        }
        _ => response(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain",
            "method not allowed",
        ),
    }
}

fn accepted() -> Response<Body> {
    response(
        StatusCode::ACCEPTED,
        "application/json",
        r#"{"status":"OK"}"#,
    )
}

async fn next_invocation(state: &RuntimeState) -> Response<Body> {
    let _ = state
        .reports
        .send(Report::NextRequested { at: Instant::now() });
    // Long poll, as the real API does, until the harness pushes an event.
    let invocation = state.events.lock().await.recv().await;
    let Some(inv) = invocation else {
        return response(StatusCode::GONE, "text/plain", "no more events");
    };
    let deadline_ms = SystemTime::now()
        .checked_add(INVOCATION_TIMEOUT)
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_millis());
    let n = state.traces.fetch_add(1, Ordering::Relaxed);
    let trace = format!("Root=1-{n:08x}-{n:024x};Parent={n:016x};Sampled=0");
    let mut r = response(StatusCode::OK, "application/json", inv.body);
    let headers = r.headers_mut();
    for (name, value) in [
        ("lambda-runtime-aws-request-id", inv.request_id.as_str()),
        ("lambda-runtime-deadline-ms", &deadline_ms.to_string()),
        ("lambda-runtime-invoked-function-arn", &state.function_arn),
        ("lambda-runtime-trace-id", &trace),
    ] {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(name, v);
        }
    }
    let _ = state.reports.send(Report::Served {
        request_id: inv.request_id,
        at: Instant::now(),
    });
    r
}

// ---------------------------------------------------------------------------------------------
// SNS

/// Answers SNS `Publish` (awsQuery) with a well-formed `PublishResponse`.
pub struct SnsStub {
    server: Server,
    published: Arc<AtomicU64>,
}

impl SnsStub {
    pub async fn start() -> Result<Self> {
        let published = Arc::new(AtomicU64::new(0));
        let count = Arc::clone(&published);
        let server = start_server(move |req| sns_route(Arc::clone(&count), req)).await?;
        Ok(Self { server, published })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.server.addr)
    }

    pub fn published(&self) -> u64 {
        self.published.load(Ordering::Relaxed)
    }
}

async fn sns_route(count: Arc<AtomicU64>, req: Request<Incoming>) -> Response<Body> {
    // poll-deployment's abort check (SSM GetParameter, JSON 1.1) comes here too: nobody aborts a
    // bench run, so it gets the usual answer, as from Parameter Store, at loopback cost.
    let ssm = req
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("AmazonSSM."));
    let body = read_body(req.into_body()).await;
    if ssm {
        return response(
            StatusCode::BAD_REQUEST,
            "application/x-amz-json-1.1",
            "{\"__type\":\"ParameterNotFound\",\"message\":\"no abort requested\"}",
        );
    }
    let text = String::from_utf8_lossy(&body);
    if !text.split('&').any(|kv| kv == "Action=Publish") {
        return response(
            StatusCode::BAD_REQUEST,
            "text/xml",
            "<ErrorResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><Error>\
             <Type>Sender</Type><Code>InvalidAction</Code><Message>only Publish is stubbed\
             </Message></Error><RequestId>bench</RequestId></ErrorResponse>",
        );
    }
    let n = count.fetch_add(1, Ordering::Relaxed) + 1;
    response(
        StatusCode::OK,
        "text/xml",
        format!(
            "<PublishResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\">\
             <PublishResult><MessageId>00000000-0000-4000-8000-{n:012x}</MessageId></PublishResult>\
             <ResponseMetadata><RequestId>00000000-0000-4000-9000-{n:012x}</RequestId>\
             </ResponseMetadata></PublishResponse>"
        ),
    )
}

// ---------------------------------------------------------------------------------------------
// Timing proxy

/// One forwarded request: when the proxy had the request head and when it had the full answer.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub start: Instant,
    pub end: Instant,
    pub status: u16,
}

impl Window {
    pub fn duration(&self) -> Duration {
        self.end.saturating_duration_since(self.start)
    }
}

struct ProxyState {
    upstream: SocketAddr,
    sender: Mutex<Option<hyper::client::conn::http1::SendRequest<Body>>>,
    windows: StdMutex<Vec<Window>>,
}

/// Forwards every request to `upstream` over one kept-alive connection and records the window
/// in which the upstream answered, so a function's own time can be told from the emulator's.
pub struct TimingProxy {
    server: Server,
    state: Arc<ProxyState>,
}

impl TimingProxy {
    pub async fn start(upstream: SocketAddr) -> Result<Self> {
        let state = Arc::new(ProxyState {
            upstream,
            sender: Mutex::new(None),
            windows: StdMutex::new(Vec::new()),
        });
        let shared = Arc::clone(&state);
        let server = start_server(move |req| proxy_route(Arc::clone(&shared), req)).await?;
        Ok(Self { server, state })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.server.addr)
    }

    /// Takes the windows recorded so far.
    pub fn take_windows(&self) -> Vec<Window> {
        match self.state.windows.lock() {
            Ok(mut w) => std::mem::take(&mut *w),
            Err(p) => std::mem::take(&mut *p.into_inner()),
        }
    }
}

async fn proxy_route(state: Arc<ProxyState>, req: Request<Incoming>) -> Response<Body> {
    let start = Instant::now();
    let (parts, body) = req.into_parts();
    let body = read_body(body).await;
    let answer = forward(&state, &parts, body).await;
    let (status, headers, body) = match answer {
        Ok(r) => r,
        Err(e) => {
            return response(
                StatusCode::BAD_GATEWAY,
                "text/plain",
                format!("timing proxy: {e}"),
            )
        }
    };
    let end = Instant::now();
    let window = Window {
        start,
        end,
        status: status.as_u16(),
    };
    match state.windows.lock() {
        Ok(mut w) => w.push(window),
        Err(p) => p.into_inner().push(window),
    }
    let mut r = Response::new(Full::new(body));
    *r.status_mut() = status;
    *r.headers_mut() = headers;
    r
}

async fn forward(
    state: &ProxyState,
    parts: &hyper::http::request::Parts,
    body: Bytes,
) -> Result<(StatusCode, hyper::HeaderMap, Bytes)> {
    let mut guard = state.sender.lock().await;
    // One retry on a fresh connection if the kept-alive one was closed.
    for attempt in 0..2 {
        let closed = match guard.as_ref() {
            Some(sender) => sender.is_closed(),
            None => true,
        };
        if closed {
            let stream = TcpStream::connect(state.upstream)
                .await
                .context(format!("connecting to {}", state.upstream))?;
            let _ = stream.set_nodelay(true);
            let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .context("HTTP handshake with the emulator")?;
            tokio::spawn(conn);
            *guard = Some(sender);
        }
        let Some(sender) = guard.as_mut() else {
            continue;
        };
        let mut builder = Request::builder()
            .method(parts.method.clone())
            .uri(parts.uri.path_and_query().map_or("/", |p| p.as_str()));
        if let Some(headers) = builder.headers_mut() {
            headers.clone_from(&parts.headers);
        }
        let request = builder
            .body(Full::new(body.clone()))
            .context("building the forwarded request")?;
        match sender.send_request(request).await {
            Ok(resp) => {
                let (rparts, rbody) = resp.into_parts();
                let bytes = read_body(rbody).await;
                return Ok((rparts.status, rparts.headers, bytes));
            }
            Err(e) if attempt == 0 => {
                *guard = None;
                let _ = e;
            }
            Err(e) => return Err(format!("forwarding to the emulator: {e}").into()),
        }
    }
    Err("forwarding to the emulator failed twice".into())
}
