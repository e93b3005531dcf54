//! The adapter's requests as S3 receives them, against a one-thread HTTP stand-in that answers
//! as S3 does (XML listings in pages, `NoSuchKey` as a 404): every page of a listing is read, a
//! put states its encryption, and an endpoint override addresses the bucket path-style. The
//! local stack's moto S3 covers the same adapter end to end (tests/e2e/audit.rs).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use super::*;
use crate::ports::ServiceErrorKind;

/// A request as the stand-in read it: request line and lower-case headers.
#[derive(Debug, Clone)]
struct Seen {
    line: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

const PAGE_1: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>records</Name><Prefix>g/dev/</Prefix><KeyCount>1</KeyCount><MaxKeys>1</MaxKeys><IsTruncated>true</IsTruncated><NextContinuationToken>page-2</NextContinuationToken><Contents><Key>g/dev/20261207T000000Z-a.json</Key><Size>2</Size></Contents></ListBucketResult>"#;
const PAGE_2: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>records</Name><Prefix>g/dev/</Prefix><KeyCount>1</KeyCount><MaxKeys>1</MaxKeys><IsTruncated>false</IsTruncated><Contents><Key>g/dev/20261208T000000Z-b.json</Key><Size>2</Size></Contents></ListBucketResult>"#;
const NO_SUCH_KEY: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>"#;

/// What S3 would answer to `seen`.
fn answer(seen: &Seen) -> (u16, Vec<u8>) {
    let target = seen.line.split(' ').nth(1).unwrap_or_default();
    match seen.line.split(' ').next().unwrap_or_default() {
        "GET" if target.contains("list-type=2") && target.contains("continuation-token=page-2") => {
            (200, PAGE_2.into())
        }
        "GET" if target.contains("list-type=2") => (200, PAGE_1.into()),
        "GET" if target.starts_with("/records/g/dev/20261207T000000Z-a.json") => {
            (200, b"{\"stored\": true}\n".to_vec())
        }
        "GET" => (404, NO_SUCH_KEY.into()),
        "PUT" => (200, Vec::new()),
        _ => (400, Vec::new()),
    }
}

/// Serves until the test ends; returns its URL and what it saw.
fn stand_in() -> (String, Arc<Mutex<Vec<Seen>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
    // `localhost`, not the IP: S3's rules address an IP path-style on their own, a name only
    // when told to (`force_path_style`), and moto's bucket is no DNS name.
    let url = format!(
        "http://localhost:{}",
        listener
            .local_addr()
            .unwrap_or_else(|e| panic!("address: {e}"))
            .port()
    );
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let log = Arc::clone(&log);
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream);
                // Keep-alive: one connection may carry several requests.
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let mut headers = Vec::new();
                    loop {
                        let mut h = String::new();
                        if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
                            break;
                        }
                        if let Some((n, v)) = h.trim_end().split_once(':') {
                            headers.push((n.to_ascii_lowercase(), v.trim().to_owned()));
                        }
                    }
                    let length = headers
                        .iter()
                        .find(|(n, _)| n == "content-length")
                        .and_then(|(_, v)| v.parse().ok())
                        .unwrap_or(0usize);
                    let mut body = vec![0; length];
                    if reader.read_exact(&mut body).is_err() {
                        return;
                    }
                    let request = Seen {
                        line: line.trim_end().to_owned(),
                        headers,
                        body,
                    };
                    let (status, reply) = answer(&request);
                    log.lock().unwrap_or_else(|p| p.into_inner()).push(request);
                    let head = format!(
                        "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nContent-Type: application/xml\r\n\r\n",
                        reply.len()
                    );
                    let stream = reader.get_mut();
                    if stream.write_all(head.as_bytes()).is_err()
                        || stream.write_all(&reply).is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    (url, seen)
}

fn records(url: &str) -> S3Records {
    let env = |k: &str| match k {
        "AWS_REGION" => Some("eu-west-1".to_owned()),
        "AWS_ACCESS_KEY_ID" => Some("AKID".to_owned()),
        "AWS_SECRET_ACCESS_KEY" => Some("secret".to_owned()),
        _ => None,
    };
    let config = crate::aws::lambda_config_from(env).unwrap_or_else(|e| panic!("{e}"));
    S3Records::for_bucket(&config, "records".into(), Some(url.to_owned()))
}

#[tokio::test]
async fn a_listing_is_read_to_its_last_page() {
    let (url, seen) = stand_in();
    let keys = records(&url).list_keys("g/dev/").await;
    assert_eq!(
        keys,
        Ok(vec![
            "g/dev/20261207T000000Z-a.json".to_owned(),
            "g/dev/20261208T000000Z-b.json".to_owned(),
        ])
    );
    let lines: Vec<String> = seen
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .map(|s| s.line.clone())
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines.iter().all(|l| l.starts_with("GET /records/?")),
        "path-style: {lines:?}"
    );
    assert!(
        lines.iter().all(|l| l.contains("prefix=g%2Fdev%2F")),
        "{lines:?}"
    );
    assert!(lines[1].contains("continuation-token=page-2"), "{lines:?}");
}

#[tokio::test]
async fn a_put_states_its_encryption_and_a_get_reads_the_exact_bytes() {
    let (url, seen) = stand_in();
    let store = records(&url);
    let put = store
        .put("g/dev/20261209T000000Z-c.json", b"{\"a\": 1}\n".to_vec())
        .await;
    assert_eq!(put, Ok(()));
    let got = store.get("g/dev/20261207T000000Z-a.json").await;
    assert_eq!(got, Ok(b"{\"stored\": true}\n".to_vec()));
    let missing = store.get("g/dev/none.json").await.err();
    assert_eq!(missing.map(|e| e.kind), Some(ServiceErrorKind::NotFound));
    let seen = seen.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let put = &seen[0];
    assert!(
        put.line
            .starts_with("PUT /records/g/dev/20261209T000000Z-c.json"),
        "{}",
        put.line
    );
    assert_eq!(put.header("x-amz-server-side-encryption"), Some("AES256"));
    assert_eq!(put.header("content-type"), Some("application/json"));
    assert_eq!(put.body, b"{\"a\": 1}\n");
}

#[test]
fn records_are_off_unless_a_bucket_is_named() {
    assert_eq!(bucket(|_| None), None);
    assert_eq!(bucket(|_| Some("  ".into())), None);
    assert_eq!(
        bucket(|k| (k == BUCKET_VAR).then(|| " stagegate-records ".into())),
        Some("stagegate-records".into())
    );
}
