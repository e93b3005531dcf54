//! The answer function's URL on the local stack. `cargo lambda watch` serves function URLs but
//! checks no IAM, and the answer function takes only what Lambda delivers after it verified the
//! caller (AuthType AWS_IAM): `requestContext.authorizer.iam.userArn`. This front stands in for
//! that step: a request without a SigV4 `Authorization` for the service `lambda` is refused 403
//! as Lambda refuses it; one with it is handed to the function as a function-URL event carrying
//! the caller named by the signature's access key (`caller_arn`), through cargo lambda's invoke
//! API. It does not check the signature's bytes (moto checks no signature either): the local
//! stack has one credential, and what is tested here is the gate's side, that only answers the
//! function signed are taken.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use crate::{http, Error, ACCESS_KEY_ID, ACCOUNT};

/// Who the stack's own credential (`ACCESS_KEY_ID`) is, as Lambda would name its caller.
pub const LOCAL_CALLER_ARN: &str = "arn:aws:iam::123456789012:user/stagegate-local-operator";

/// The caller a request signed with `access_key` is: the stack's operator for its credential,
/// else a user named by the key (a test signing as someone else).
pub fn caller_arn(access_key: &str) -> String {
    if access_key == ACCESS_KEY_ID {
        LOCAL_CALLER_ARN.to_owned()
    } else {
        format!("arn:aws:iam::{ACCOUNT}:user/{access_key}")
    }
}

pub struct FunctionUrl {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl FunctionUrl {
    /// Serves `function` of the `cargo lambda watch` at `lambda` on a free loopback port.
    pub fn start(lambda: SocketAddr, function: &'static str) -> Result<Self, Error> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .map_err(|e| Error::new(format!("function URL: bind: {e}")))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::new(format!("function URL: {e}")))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| Error::new(format!("function URL: {e}")))?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        std::thread::Builder::new()
            .name(format!("{function}-url"))
            .spawn(move || {
                while !stopped.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            let _ = std::thread::Builder::new()
                                .name(format!("{function}-url-request"))
                                .spawn(move || serve(stream, lambda, function));
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(20)),
                    }
                }
            })
            .map_err(|e| Error::new(format!("function URL: {e}")))?;
        Ok(Self { addr, stop })
    }

    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

impl Drop for FunctionUrl {
    fn drop(&mut self) {
        self.stop();
    }
}

fn serve(stream: TcpStream, lambda: SocketAddr, function: &str) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let (status, body) = match read_request(&stream) {
        Some((headers, body)) => answer(&headers, &body, lambda, function),
        None => (400, json!({"Message": "malformed request"}).to_string()),
    };
    let mut stream = stream;
    let _ = write!(
        stream,
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// The request's headers (lower-case names) and body.
fn read_request(stream: &TcpStream) -> Option<(Vec<(String, String)>, String)> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut headers = vec![];
    loop {
        line.clear();
        reader.read_line(&mut line).ok()?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        let (k, v) = l.split_once(':')?;
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
    }
    let length: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some((headers, String::from_utf8_lossy(&body).into_owned()))
}

/// The access key of a SigV4 signature for the service `lambda`, if the request carries one.
pub fn signed_by(authorization: &str) -> Option<&str> {
    let credential = authorization
        .strip_prefix("AWS4-HMAC-SHA256 ")?
        .split(',')
        .find_map(|p| p.trim().strip_prefix("Credential="))?;
    let mut scope = credential.split('/');
    let key = scope.next()?;
    let service = scope.nth(2)?;
    (service == "lambda" && !key.is_empty()).then_some(key)
}

fn answer(
    headers: &[(String, String)],
    body: &str,
    lambda: SocketAddr,
    function: &str,
) -> (u16, String) {
    let Some(key) = headers
        .iter()
        .find(|(k, _)| k == "authorization")
        .and_then(|(_, v)| signed_by(v))
    else {
        return (403, json!({"Message": "Forbidden"}).to_string());
    };
    let event = json!({
        "version": "2.0",
        "rawPath": "/",
        "headers": {"content-type": "application/json"},
        "requestContext": {
            "accountId": ACCOUNT,
            "authorizer": {"iam": {"accessKey": key, "accountId": ACCOUNT, "userArn": caller_arn(key)}},
            "http": {"method": "POST", "path": "/"},
        },
        "body": body,
        "isBase64Encoded": false,
    });
    let path = format!("/2015-03-31/functions/{function}/invocations");
    match http::request(
        lambda,
        "POST",
        &path,
        Some(&event.to_string()),
        Duration::from_secs(60),
    ) {
        Ok(reply) if reply.status == 200 => {
            let result: Value = serde_json::from_str(&reply.body).unwrap_or(Value::Null);
            let status = result["statusCode"]
                .as_u64()
                .and_then(|s| u16::try_from(s).ok())
                .unwrap_or(502);
            let body = result["body"].as_str().unwrap_or("{}").to_owned();
            (status, body)
        }
        Ok(reply) => (502, json!({"Message": reply.body}).to_string()),
        Err(e) => (502, json!({"Message": e.to_string()}).to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_sigv4_signature_for_lambda_names_a_caller() {
        let auth = "AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20261207/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=ab";
        assert_eq!(signed_by(auth), Some("AKIAEXAMPLE"));
        assert_eq!(signed_by(&auth.replace("/lambda/", "/states/")), None);
        assert_eq!(signed_by("Bearer x"), None);
        assert_eq!(caller_arn(ACCESS_KEY_ID), LOCAL_CALLER_ARN);
        assert_eq!(
            caller_arn("AKIAOTHER"),
            "arn:aws:iam::123456789012:user/AKIAOTHER"
        );
    }
}
