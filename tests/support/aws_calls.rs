//! What a process calls on AWS, recorded on the wire: a relay between a client and one endpoint of
//! the local stack that writes down every request it passes on (who signed it for which service,
//! the operation it names) and relays the reply.
//!
//! Why on the wire: the `stagegate` CLI builds its own SDK clients, so only its endpoint can be
//! swapped from outside; recording there sees every call the binary an operator runs makes,
//! whichever client and code path makes it, and nothing the gate's functions make (they keep the
//! stack's own endpoints). `iam_actions` says which IAM action each recorded call needs.
//!
//! One request per connection: the relay asks the endpoint to close after its reply and tells
//! the client the same, so a reply is read to the end of the connection and no client reuses a
//! connection the relay has finished with. Requests and replies are otherwise passed on byte for
//! byte (the SigV4 signature stays valid). Plain blocking I/O on threads, like the stack's own
//! fault proxy, so the relay does not depend on the caller's runtime.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// One request as the relay saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// The service the request is signed for (the SigV4 credential scope's), e.g. `states`.
    pub service: String,
    pub method: String,
    /// The path, without the query string.
    pub path: String,
    /// `X-Amz-Target` (the JSON protocols' operation), if any.
    pub target: Option<String>,
    /// The request body as text (the query protocol's `Action=...&...`).
    pub body: String,
}

impl Call {
    /// A form parameter of a query-protocol body (`Action`, `QueueUrl`), decoded.
    pub fn form(&self, name: &str) -> Option<String> {
        self.body.split('&').find_map(|pair| {
            let (key, value) = pair.split_once('=')?;
            (key == name).then(|| percent_decode(value))
        })
    }

    /// The call as `iam_actions` names it: the JSON protocols' target, the query protocol's
    /// `Action=...`, or `METHOD /path` for REST.
    pub fn wire_name(&self) -> String {
        if let Some(target) = &self.target {
            return target.clone();
        }
        if let Some(action) = self.form("Action") {
            return format!("Action={action}");
        }
        format!("{} {}", self.method, self.path)
    }
}

impl std::fmt::Display for Call {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.service, self.wire_name())
    }
}

struct Shared {
    upstream: SocketAddr,
    stop: AtomicBool,
    calls: Mutex<Vec<Call>>,
    /// Requests the relay could not read or pass on: a test that reads `take` sees them as errors.
    errors: Mutex<Vec<String>>,
}

/// A recording relay to one upstream, on a free loopback port; stopped on drop.
pub struct Recorder {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

impl Recorder {
    pub fn start(upstream: SocketAddr) -> Result<Self, String> {
        let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("recorder: {e}"))?;
        let addr = listener
            .local_addr()
            .map_err(|e| format!("recorder: {e}"))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| format!("recorder: {e}"))?;
        let shared = Arc::new(Shared {
            upstream,
            stop: AtomicBool::new(false),
            calls: Mutex::new(Vec::new()),
            errors: Mutex::new(Vec::new()),
        });
        let accepting = shared.clone();
        let acceptor = std::thread::Builder::new()
            .name("aws-calls-accept".into())
            .spawn(move || accept_loop(&listener, &accepting))
            .map_err(|e| format!("recorder: {e}"))?;
        Ok(Self {
            addr,
            shared,
            acceptor: Some(acceptor),
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The calls recorded since the last `take`, in the order they arrived; an error when a
    /// request could not be read or relayed.
    pub fn take(&self) -> Result<Vec<Call>, String> {
        let errors = std::mem::take(&mut *lock(&self.shared.errors));
        if !errors.is_empty() {
            return Err(format!(
                "the recorder could not relay: {}",
                errors.join("; ")
            ));
        }
        Ok(std::mem::take(&mut *lock(&self.shared.calls)))
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    while !shared.stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => {
                let served = shared.clone();
                let spawned =
                    std::thread::Builder::new()
                        .name("aws-calls".into())
                        .spawn(move || {
                            if let Err(e) = relay(&stream, &served) {
                                lock(&served.errors).push(e.to_string());
                            }
                            let _ = stream.shutdown(Shutdown::Both);
                        });
                if let Err(e) = spawned {
                    lock(&shared.errors).push(format!("no thread for a connection: {e}"));
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => {
                lock(&shared.errors).push(format!("accept: {e}"));
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

/// Reads one request, records it, passes it on asking the upstream to close, and relays the
/// whole reply with `Connection: close`.
fn relay(stream: &TcpStream, shared: &Shared) -> io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let Some(head) = read_head(&mut reader)? else {
        return Ok(()); // a connection opened and closed unused
    };
    let text = String::from_utf8_lossy(&head).into_owned();
    let mut lines = text.split("\r\n");
    let start = lines.next().unwrap_or_default().to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    if header("transfer-encoding").is_some() {
        return Err(io::Error::other(format!(
            "{start}: a chunked request body, which this relay does not read"
        )));
    }
    let length: usize = header("content-length")
        .map(|v| v.parse())
        .transpose()
        .map_err(|_| io::Error::other(format!("{start}: bad content-length")))?
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;

    let mut parts = start.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or_default();
    let path = target.split('?').next().unwrap_or_default().to_owned();
    lock(&shared.calls).push(Call {
        service: header("authorization")
            .and_then(signed_service)
            .unwrap_or_else(|| "(unsigned)".into()),
        method,
        path,
        target: header("x-amz-target").map(str::to_owned),
        body: String::from_utf8_lossy(&body).into_owned(),
    });

    let mut upstream = TcpStream::connect_timeout(&shared.upstream, Duration::from_secs(5))?;
    upstream.set_read_timeout(Some(Duration::from_secs(60)))?;
    upstream.write_all(&with_close(&start, &headers))?;
    upstream.write_all(&body)?;
    let mut reply = Vec::new();
    upstream.read_to_end(&mut reply)?;
    let split = reply
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| io::Error::other(format!("{start}: a reply with no head")))?;
    let reply_text = String::from_utf8_lossy(&reply[..split]).into_owned();
    let mut reply_lines = reply_text.split("\r\n");
    let status = reply_lines.next().unwrap_or_default().to_owned();
    let reply_headers: Vec<(String, String)> = reply_lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut writer = stream.try_clone()?;
    writer.write_all(&with_close(&status, &reply_headers))?;
    writer.write_all(&reply[split + 4..])?;
    writer.flush()
}

/// Reads a message head through its blank line; `None` at a clean end of stream.
fn read_head<R: BufRead>(reader: &mut R) -> io::Result<Option<Vec<u8>>> {
    let mut head = Vec::new();
    loop {
        let before = head.len();
        if reader.read_until(b'\n', &mut head)? == 0 {
            return if head.is_empty() {
                Ok(None)
            } else {
                Err(io::Error::other(
                    "the connection closed inside a request head",
                ))
            };
        }
        if &head[before..] == b"\r\n" {
            head.truncate(before);
            return Ok(Some(head));
        }
        if head.len() > 64 * 1024 {
            return Err(io::Error::other("request head too large"));
        }
    }
}

/// The head again, its `Connection` header replaced by `close`.
fn with_close(start: &str, headers: &[(String, String)]) -> Vec<u8> {
    let mut out = format!("{start}\r\n");
    for (k, v) in headers {
        if !k.eq_ignore_ascii_case("connection") {
            out.push_str(&format!("{k}: {v}\r\n"));
        }
    }
    out.push_str("Connection: close\r\n\r\n");
    out.into_bytes()
}

/// The service of a SigV4 `Authorization` header: `Credential=KEY/DATE/REGION/SERVICE/aws4_request`.
pub fn signed_service(authorization: &str) -> Option<String> {
    let credential = authorization
        .split([',', ' '])
        .find_map(|p| p.trim().strip_prefix("Credential="))?;
    credential.split('/').nth(3).map(str::to_owned)
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%' && i + 2 < bytes.len())
            .then(|| std::str::from_utf8(&bytes[i + 1..i + 3]).ok())
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match (escaped, bytes[i]) {
            (Some(b), _) => {
                out.push(b);
                i += 3;
                continue;
            }
            (None, b'+') => out.push(b' '),
            (None, b) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(target: Option<&str>, body: &str) -> Call {
        Call {
            service: "sqs".into(),
            method: "POST".into(),
            path: "/".into(),
            target: target.map(str::to_owned),
            body: body.into(),
        }
    }

    #[test]
    fn names_a_call_by_its_protocol() {
        let json = call(Some("AWSStepFunctions.StartExecution"), "{}");
        assert_eq!(json.wire_name(), "AWSStepFunctions.StartExecution");
        let query = call(
            None,
            "Action=ReceiveMessage&QueueUrl=http%3A%2F%2Fh%3A1%2Fq&Version=1",
        );
        assert_eq!(query.wire_name(), "Action=ReceiveMessage");
        assert_eq!(query.form("QueueUrl").as_deref(), Some("http://h:1/q"));
        let rest = Call {
            method: "GET".into(),
            path: "/game/g/stage".into(),
            target: None,
            body: String::new(),
            ..json
        };
        assert_eq!(rest.wire_name(), "GET /game/g/stage");
    }

    #[test]
    fn reads_the_signed_service() {
        let auth = "AWS4-HMAC-SHA256 Credential=AKID/20261207/us-east-1/states/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc";
        assert_eq!(signed_service(auth).as_deref(), Some("states"));
        assert_eq!(signed_service("Basic dXNlcg=="), None);
    }

    #[test]
    fn records_and_relays_one_request_per_connection() {
        let upstream = TcpListener::bind("127.0.0.1:0").expect("bind");
        let upstream_addr = upstream.local_addr().expect("addr");
        let server = std::thread::spawn(move || {
            let (stream, _) = upstream.accept().expect("accept");
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let head = read_head(&mut reader).expect("read").expect("head");
            let head = String::from_utf8_lossy(&head).into_owned();
            let mut body = [0u8; 2];
            reader.read_exact(&mut body).expect("body");
            let mut writer = stream;
            writer
                .write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok",
                )
                .expect("reply");
            head
        });
        let recorder = Recorder::start(upstream_addr).expect("recorder");
        let mut client = TcpStream::connect(recorder.addr).expect("connect");
        client
            .write_all(b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: AmazonSSM.PutParameter\r\nAuthorization: AWS4-HMAC-SHA256 Credential=K/D/R/ssm/aws4_request\r\nContent-Length: 2\r\n\r\n{}")
            .expect("request");
        let mut reply = String::new();
        client.read_to_string(&mut reply).expect("reply");
        assert!(reply.starts_with("HTTP/1.1 200 OK\r\n"), "{reply}");
        assert!(
            reply.contains("Connection: close\r\n") && !reply.contains("keep-alive"),
            "{reply}"
        );
        assert!(reply.ends_with("\r\n\r\nok"), "{reply}");
        let forwarded = server.join().expect("server");
        assert!(forwarded.contains("Connection: close"), "{forwarded}");
        let calls = recorder.take().expect("calls");
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].to_string(), "ssm AmazonSSM.PutParameter");
        assert!(recorder.take().expect("calls").is_empty(), "taken once");
    }
}
