//! A fault proxy for one HTTP upstream: the functions' SNS traffic goes through it (see
//! `Options::sns_fault_proxy`), and a test switches it between passing requests through and
//! failing them, to model windows in which SNS is unreachable.
//!
//! The decision is made per request, once the whole request has been read, and a failing mode
//! never forwards anything: a failed Publish has certainly not been published, so a retry cannot
//! produce a duplicate message. Requests and replies are relayed byte for byte (SigV4 stays
//! valid); one upstream connection per request. Plain blocking I/O on threads, so the proxy does
//! not depend on the caller's async runtime.

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::Error;

/// How the proxy treats the requests it receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyMode {
    /// Forward to the upstream and relay its reply.
    PassThrough,
    /// Close the connection without answering (the client sees the connection drop).
    Reset,
    /// Answer `503 Service Unavailable` with an AWS query-protocol error body.
    Unavailable,
}

impl ProxyMode {
    fn from_u8(value: u8) -> Self {
        match value {
            1 => Self::Reset,
            2 => Self::Unavailable,
            _ => Self::PassThrough,
        }
    }

    fn as_u8(self) -> u8 {
        match self {
            Self::PassThrough => 0,
            Self::Reset => 1,
            Self::Unavailable => 2,
        }
    }
}

impl fmt::Display for ProxyMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::PassThrough => "pass-through",
            Self::Reset => "reset",
            Self::Unavailable => "unavailable (503)",
        })
    }
}

/// What the proxy did so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProxyStats {
    pub connections: u64,
    /// Requests relayed to the upstream and answered by it.
    pub forwarded: u64,
    /// Requests dropped by closing the connection (`ProxyMode::Reset`).
    pub reset: u64,
    /// Requests answered 503 (`ProxyMode::Unavailable`).
    pub unavailable: u64,
    /// Requests in pass-through mode the upstream did not answer (answered 502).
    pub upstream_errors: u64,
}

#[derive(Default)]
struct Counters {
    connections: AtomicU64,
    forwarded: AtomicU64,
    reset: AtomicU64,
    unavailable: AtomicU64,
    upstream_errors: AtomicU64,
}

struct Shared {
    upstream: SocketAddr,
    mode: AtomicU8,
    stop: AtomicBool,
    counters: Counters,
    /// Open client connections, so `stop` can end the threads blocked reading them.
    clients: Mutex<Vec<(u64, TcpStream)>>,
    log: Mutex<Option<File>>,
}

impl Shared {
    fn log(&self, line: &str) {
        let mut log = self.log.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(file) = log.as_mut() {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs_f64();
            let _ = writeln!(file, "{now:.3} {line}");
        }
    }

    fn mode(&self) -> ProxyMode {
        ProxyMode::from_u8(self.mode.load(Ordering::SeqCst))
    }
}

/// The running proxy. Stopped by `stop` or on drop.
pub struct FaultProxy {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Mutex<Option<JoinHandle<()>>>,
}

impl FaultProxy {
    /// Listens on a free loopback port, in pass-through mode. With `log_dir`, mode switches and
    /// upstream errors go to `sns-proxy.log` there.
    pub fn start(upstream: SocketAddr, log_dir: Option<&Path>) -> Result<Self, Error> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .map_err(|e| Error::new(format!("fault proxy: bind: {e}")))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::new(format!("fault proxy: {e}")))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| Error::new(format!("fault proxy: {e}")))?;
        let log = match log_dir {
            Some(dir) => {
                let path = dir.join("sns-proxy.log");
                Some(
                    File::create(&path)
                        .map_err(|e| Error::new(format!("{}: {e}", path.display())))?,
                )
            }
            None => None,
        };
        let shared = Arc::new(Shared {
            upstream,
            mode: AtomicU8::new(ProxyMode::PassThrough.as_u8()),
            stop: AtomicBool::new(false),
            counters: Counters::default(),
            clients: Mutex::new(Vec::new()),
            log: Mutex::new(log),
        });
        shared.log(&format!("listening on {addr}, upstream {upstream}"));
        let acceptor = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("sns-proxy-accept".into())
                .spawn(move || accept_loop(&listener, &shared))
                .map_err(|e| Error::new(format!("fault proxy: {e}")))?
        };
        Ok(Self {
            addr,
            shared,
            acceptor: Mutex::new(Some(acceptor)),
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn upstream(&self) -> SocketAddr {
        self.shared.upstream
    }

    /// Applies to every request read from now on (requests already being relayed finish).
    pub fn set_mode(&self, mode: ProxyMode) {
        let old = ProxyMode::from_u8(self.shared.mode.swap(mode.as_u8(), Ordering::SeqCst));
        if old != mode {
            self.shared.log(&format!("mode {old} -> {mode}"));
        }
    }

    pub fn mode(&self) -> ProxyMode {
        self.shared.mode()
    }

    pub fn stats(&self) -> ProxyStats {
        let c = &self.shared.counters;
        ProxyStats {
            connections: c.connections.load(Ordering::SeqCst),
            forwarded: c.forwarded.load(Ordering::SeqCst),
            reset: c.reset.load(Ordering::SeqCst),
            unavailable: c.unavailable.load(Ordering::SeqCst),
            upstream_errors: c.upstream_errors.load(Ordering::SeqCst),
        }
    }

    /// Stops accepting and closes every client connection. Safe to call more than once.
    pub fn stop(&self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        let acceptor = self
            .acceptor
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(acceptor) = acceptor {
            let _ = acceptor.join();
            self.shared.log("stopped");
        }
        let clients = self
            .shared
            .clients
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        for (_, stream) in clients.iter() {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop();
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    let mut next_id = 0u64;
    while !shared.stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => {
                next_id += 1;
                shared.counters.connections.fetch_add(1, Ordering::SeqCst);
                let (served, id) = (shared.clone(), next_id);
                let spawned = std::thread::Builder::new()
                    .name(format!("sns-proxy-{id}"))
                    .spawn(move || serve(stream, id, &served));
                if let Err(e) = spawned {
                    shared.log(&format!("could not serve a connection: {e}"));
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => {
                shared.log(&format!("accept: {e}"));
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

/// Serves one client connection (HTTP/1.1 keep-alive: several requests, each decided on its
/// own).
fn serve(stream: TcpStream, id: u64, shared: &Shared) {
    let registered = stream.try_clone().map(|s| {
        let mut clients = shared.clients.lock().unwrap_or_else(|p| p.into_inner());
        clients.push((id, s));
    });
    if registered.is_ok() && !shared.stop.load(Ordering::SeqCst) {
        if let Err(e) = serve_requests(&stream, shared) {
            if !matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::NotConnected
            ) {
                shared.log(&format!("connection {id}: {e}"));
            }
        }
    }
    let _ = stream.shutdown(Shutdown::Both);
    let mut clients = shared.clients.lock().unwrap_or_else(|p| p.into_inner());
    clients.retain(|(other, _)| *other != id);
}

fn serve_requests(stream: &TcpStream, shared: &Shared) -> io::Result<()> {
    // An idle keep-alive connection is closed after this; the client opens a new one.
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream.try_clone()?;
    loop {
        let Some(request) = read_message(&mut reader, false)? else {
            return Ok(());
        };
        if shared.stop.load(Ordering::SeqCst) {
            return Ok(());
        }
        match shared.mode() {
            ProxyMode::Reset => {
                shared.counters.reset.fetch_add(1, Ordering::SeqCst);
                return Ok(());
            }
            ProxyMode::Unavailable => {
                shared.counters.unavailable.fetch_add(1, Ordering::SeqCst);
                writer.write_all(&unavailable_reply())?;
                return Ok(());
            }
            ProxyMode::PassThrough => match forward(shared.upstream, &request) {
                Ok(reply) => {
                    shared.counters.forwarded.fetch_add(1, Ordering::SeqCst);
                    writer.write_all(&reply.head)?;
                    writer.write_all(&reply.body)?;
                    if reply.close || request.close {
                        return Ok(());
                    }
                }
                Err(e) => {
                    shared
                        .counters
                        .upstream_errors
                        .fetch_add(1, Ordering::SeqCst);
                    shared.log(&format!("upstream {}: {e}", shared.upstream));
                    writer.write_all(&bad_gateway_reply(&e.to_string()))?;
                    return Ok(());
                }
            },
        }
    }
}

fn forward(upstream: SocketAddr, request: &Message) -> io::Result<Message> {
    let mut conn = TcpStream::connect_timeout(&upstream, Duration::from_secs(5))?;
    conn.set_read_timeout(Some(Duration::from_secs(60)))?;
    conn.write_all(&request.head)?;
    conn.write_all(&request.body)?;
    let mut reader = BufReader::new(conn);
    loop {
        let reply = read_message(&mut reader, true)?.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the upstream closed the connection without a reply",
            )
        })?;
        // An interim 1xx reply (100 Continue) is not the answer; the final one follows.
        if !reply.head.starts_with(b"HTTP/1.1 1") && !reply.head.starts_with(b"HTTP/1.0 1") {
            return Ok(reply);
        }
    }
}

/// One HTTP/1.x message, raw: the head (through the blank line) and the body as framed on the
/// wire (chunked framing included).
struct Message {
    head: Vec<u8>,
    body: Vec<u8>,
    /// The connection ends after this message.
    close: bool,
}

/// Reads one message; `Ok(None)` on a clean end of stream before it starts.
fn read_message<R: BufRead>(reader: &mut R, response: bool) -> io::Result<Option<Message>> {
    const MAX_HEAD: usize = 64 * 1024;
    let mut head = Vec::new();
    loop {
        let before = head.len();
        let n = reader.read_until(b'\n', &mut head)?;
        if n == 0 {
            return if head.is_empty() {
                Ok(None)
            } else {
                Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "connection closed inside a message head",
                ))
            };
        }
        let line = &head[before..];
        if line == b"\r\n" || line == b"\n" {
            if before == 0 {
                // Stray blank line between messages.
                head.clear();
                continue;
            }
            break;
        }
        if head.len() > MAX_HEAD {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "message head too large",
            ));
        }
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let mut lines = text.lines();
    let start = lines.next().unwrap_or_default().to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_ascii_lowercase()))
        .collect();
    let header = |name: &str| headers.iter().find(|(k, _)| k == name).map(|(_, v)| v);
    let http10 = if response {
        start.starts_with("HTTP/1.0")
    } else {
        start.ends_with("HTTP/1.0")
    };
    let mut close = match header("connection") {
        Some(v) if v.contains("close") => true,
        Some(v) if v.contains("keep-alive") => false,
        _ => http10,
    };
    let status: u16 = if response {
        start
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    } else {
        0
    };
    let mut body = Vec::new();
    if response && (status / 100 == 1 || status == 204 || status == 304) {
        // No body.
    } else if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        read_chunked(reader, &mut body)?;
    } else if let Some(length) = header("content-length") {
        let length: usize = length
            .parse()
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad content-length"))?;
        body.resize(length, 0);
        reader.read_exact(&mut body)?;
    } else if response {
        // Delimited by the end of the connection.
        reader.read_to_end(&mut body)?;
        close = true;
    }
    Ok(Some(Message { head, body, close }))
}

fn read_chunked<R: BufRead>(reader: &mut R, body: &mut Vec<u8>) -> io::Result<()> {
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_owned());
    loop {
        let start = body.len();
        if reader.read_until(b'\n', body)? == 0 {
            return Err(bad("connection closed inside a chunked body"));
        }
        let line = String::from_utf8_lossy(&body[start..]).into_owned();
        let size = usize::from_str_radix(line.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| bad("bad chunk size"))?;
        if size == 0 {
            // Trailers, then the blank line.
            loop {
                let at = body.len();
                if reader.read_until(b'\n', body)? == 0 {
                    return Err(bad("connection closed inside chunked trailers"));
                }
                if matches!(&body[at..], b"\r\n" | b"\n") {
                    return Ok(());
                }
            }
        }
        let at = body.len();
        body.resize(at + size + 2, 0);
        reader.read_exact(&mut body[at..])?;
    }
}

fn unavailable_reply() -> Vec<u8> {
    let body = "<ErrorResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><Error><Type>Receiver</Type><Code>ServiceUnavailable</Code><Message>stagegate-local fault proxy: SNS is unavailable</Message></Error><RequestId>00000000-0000-0000-0000-000000000503</RequestId></ErrorResponse>";
    reply(503, "Service Unavailable", "text/xml", body)
}

fn bad_gateway_reply(detail: &str) -> Vec<u8> {
    let body = format!(
        "<ErrorResponse><Error><Type>Receiver</Type><Code>BadGateway</Code><Message>stagegate-local fault proxy: upstream failed: {}</Message></Error></ErrorResponse>",
        detail.replace(['<', '>', '&'], " ")
    );
    reply(502, "Bad Gateway", "text/xml", &body)
}

fn reply(status: u16, reason: &str, content_type: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nx-amzn-RequestId: 00000000-0000-0000-0000-000000000{status}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http;

    /// A one-shot upstream that answers every request with `body`, counting requests.
    fn upstream(body: &'static str) -> (SocketAddr, Arc<AtomicU64>) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let seen = Arc::new(AtomicU64::new(0));
        let counter = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut writer = stream;
                while let Ok(Some(_)) = read_message(&mut reader, false) {
                    counter.fetch_add(1, Ordering::SeqCst);
                    let reply = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\n",
                        body.len()
                    );
                    if writer.write_all(reply.as_bytes()).is_err() {
                        break;
                    }
                }
            }
        });
        (addr, seen)
    }

    #[test]
    fn switches_between_pass_through_and_failing_per_request() {
        let (upstream, seen) = upstream("published");
        let proxy = FaultProxy::start(upstream, None).expect("proxy");
        let send = || {
            http::request(
                proxy.addr,
                "POST",
                "/",
                Some("Action=Publish"),
                Duration::from_secs(5),
            )
        };

        let ok = send().expect("pass-through");
        assert_eq!((ok.status, ok.body.as_str()), (200, "published"));

        proxy.set_mode(ProxyMode::Unavailable);
        let down = send().expect("503");
        assert_eq!(down.status, 503);
        assert!(down.body.contains("ServiceUnavailable"), "{}", down.body);

        proxy.set_mode(ProxyMode::Reset);
        assert!(send().is_err(), "a reset connection has no reply");

        proxy.set_mode(ProxyMode::PassThrough);
        assert_eq!(send().map(|r| r.status).ok(), Some(200));

        // Failing modes never reach the upstream.
        assert_eq!(seen.load(Ordering::SeqCst), 2);
        let stats = proxy.stats();
        assert_eq!(
            (
                stats.forwarded,
                stats.unavailable,
                stats.reset,
                stats.upstream_errors
            ),
            (2, 1, 1, 0)
        );
        proxy.stop();
        proxy.stop();
        assert!(send().is_err(), "stopped");
    }

    #[test]
    fn keep_alive_connections_are_decided_per_request() {
        let (upstream, seen) = upstream("ok");
        let proxy = FaultProxy::start(upstream, None).expect("proxy");
        let stream = TcpStream::connect(proxy.addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        let mut reader = BufReader::new(stream.try_clone().expect("clone"));
        let mut writer = stream;
        let request = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi";

        writer.write_all(request).expect("write");
        let first = read_message(&mut reader, true)
            .expect("read")
            .expect("reply");
        assert!(first.head.starts_with(b"HTTP/1.1 200"));
        assert_eq!(first.body, b"2\r\nok\r\n0\r\n\r\n");

        // Same connection, now failing: the request is not forwarded.
        proxy.set_mode(ProxyMode::Unavailable);
        writer.write_all(request).expect("write");
        let second = read_message(&mut reader, true)
            .expect("read")
            .expect("reply");
        assert!(second.head.starts_with(b"HTTP/1.1 503"));
        assert!(second.close);
        assert_eq!(seen.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn an_unreachable_upstream_is_a_502() {
        let port = crate::process::free_port().expect("port");
        let proxy =
            FaultProxy::start(SocketAddr::from(([127, 0, 0, 1], port)), None).expect("proxy");
        let reply = http::request(proxy.addr, "POST", "/", Some("x"), Duration::from_secs(10))
            .expect("reply");
        assert_eq!(reply.status, 502);
        assert_eq!(proxy.stats().upstream_errors, 1);
    }
}
