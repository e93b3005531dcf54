//! The adapter through the real aws-sdk-cloudwatch client (awsQuery over `stagegate-http`)
//! against a loopback stub of DescribeAlarms that behaves as CloudWatch does where the
//! adapter depends on it: at most 100 names a call, pages with NextToken, and composite alarms
//! listed only when asked for by type. The handlers' fakes answer `Alarms` whole, so only here
//! would a bake that reads one page, asks for too many names or never asks for composites show:
//! on AWS it would miss the alarm that fires.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use super::*;

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Metric,
    Composite,
}

/// One DescribeAlarms call as the stub saw it.
#[derive(Debug, Clone)]
struct Call {
    names: Vec<String>,
    types: Vec<String>,
    token: Option<String>,
}

struct Stub {
    alarms: Vec<(String, Kind, &'static str)>,
    page: usize,
    /// Answers every page with this NextToken (a service that never ends its listing).
    stuck_token: Option<&'static str>,
    calls: Mutex<Vec<Call>>,
}

impl Stub {
    fn new(alarms: Vec<(String, Kind, &'static str)>, page: usize) -> Self {
        Self {
            alarms,
            page,
            stuck_token: None,
            calls: Mutex::new(Vec::new()),
        }
    }

    fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The reply to one form-encoded DescribeAlarms request: (status, XML).
    fn answer(&self, form: &str) -> (u16, String) {
        let params: Vec<(String, String)> = form
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (decode(k), decode(v)))
            .collect();
        let list = |prefix: &str| -> Vec<String> {
            params
                .iter()
                .filter(|(k, _)| k.starts_with(prefix))
                .map(|(_, v)| v.clone())
                .collect()
        };
        let call = Call {
            names: list("AlarmNames.member."),
            types: list("AlarmTypes.member."),
            token: params
                .iter()
                .find(|(k, _)| k == "NextToken")
                .map(|(_, v)| v.clone()),
        };
        self.calls
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(call.clone());
        if call.names.len() > 100 {
            return (
                400,
                error_xml(
                    "ValidationError",
                    "The collection AlarmNames must not have more than 100 members",
                ),
            );
        }
        // AWS lists only metric alarms unless AlarmTypes asks for others.
        let wanted = |kind: Kind| match kind {
            Kind::Metric => call.types.is_empty() || call.types.iter().any(|t| t == "MetricAlarm"),
            Kind::Composite => call.types.iter().any(|t| t == "CompositeAlarm"),
        };
        let matching: Vec<_> = self
            .alarms
            .iter()
            .filter(|(name, kind, _)| call.names.contains(name) && wanted(*kind))
            .collect();
        let start: usize = match (self.stuck_token, call.token.as_deref()) {
            (_, None) | (Some(_), Some(_)) => 0,
            (None, Some(token)) => match token.parse() {
                Ok(n) => n,
                Err(_) => return (400, error_xml("InvalidNextToken", "bad token")),
            },
        };
        let page: Vec<_> = matching.iter().skip(start).take(self.page).collect();
        let next = match self.stuck_token {
            Some(token) => Some(token.to_owned()),
            None => (start + self.page < matching.len()).then(|| (start + self.page).to_string()),
        };
        let members = |kind: Kind| -> String {
            page.iter()
                .filter(|(_, k, _)| *k == kind)
                .map(|(name, _, state)| {
                    format!(
                        "<member><AlarmName>{name}</AlarmName><StateValue>{state}</StateValue>\
                         <StateReason>stub says {state}</StateReason>\
                         <StateUpdatedTimestamp>2026-12-07T10:00:00.000Z</StateUpdatedTimestamp></member>"
                    )
                })
                .collect()
        };
        let next = next
            .map(|t| format!("<NextToken>{t}</NextToken>"))
            .unwrap_or_default();
        let xml = format!(
            "<DescribeAlarmsResponse xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\">\
             <DescribeAlarmsResult><MetricAlarms>{}</MetricAlarms>\
             <CompositeAlarms>{}</CompositeAlarms>{next}</DescribeAlarmsResult>\
             <ResponseMetadata><RequestId>stub</RequestId></ResponseMetadata>\
             </DescribeAlarmsResponse>",
            members(Kind::Metric),
            members(Kind::Composite),
        );
        (200, xml)
    }
}

fn error_xml(code: &str, message: &str) -> String {
    format!(
        "<ErrorResponse xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\">\
         <Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>\
         <RequestId>stub</RequestId></ErrorResponse>"
    )
}

/// Form decoding: `+` and `%XX`.
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                out.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Serves the stub on a loopback port, one request per connection, until the test process
/// ends; returns its URL.
fn serve(stub: Arc<Stub>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
    let url = format!(
        "http://{}",
        listener
            .local_addr()
            .unwrap_or_else(|e| panic!("addr: {e}"))
    );
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let mut reader = BufReader::new(conn);
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some((name, value)) = line.split_once(':') {
                    if name.eq_ignore_ascii_case("content-length") {
                        length = value.trim().parse().unwrap_or(0);
                    }
                }
            }
            let mut body = vec![0; length];
            if reader.read_exact(&mut body).is_err() {
                continue;
            }
            let (status, xml) = stub.answer(&String::from_utf8_lossy(&body));
            let reply = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{xml}",
                xml.len()
            );
            // A client that gave up on this reply fails its own assertion.
            let _ = reader.get_mut().write_all(reply.as_bytes());
        }
    });
    url
}

fn alarms_at(url: &str) -> CloudWatchAlarms {
    let config = crate::aws::lambda_config_from(|k| match k {
        "AWS_REGION" => Some("us-east-1".to_owned()),
        "AWS_ACCESS_KEY_ID" | "AWS_SECRET_ACCESS_KEY" => Some("test".to_owned()),
        _ => None,
    })
    .unwrap_or_else(|e| panic!("config: {e}"));
    CloudWatchAlarms::with_endpoint(&config, Some(url.to_owned()))
}

fn names(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("alarm-{i:03}")).collect()
}

#[tokio::test]
async fn every_name_is_asked_in_chunks_of_100_and_every_page_is_read() {
    let all = names(250);
    let stub = Arc::new(Stub::new(
        all.iter()
            .map(|n| (n.clone(), Kind::Metric, "OK"))
            .collect(),
        40,
    ));
    let url = serve(stub.clone());
    let got = alarms_at(&url)
        .describe_alarms(&all)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let got_names: Vec<String> = got.iter().map(|a| a.name.clone()).collect();
    assert_eq!(got_names, all, "every alarm, once, in order");
    assert!(got
        .iter()
        .all(|a| a.state == "OK" && a.updated_at.is_some()));
    let calls = stub.calls();
    let shape: Vec<(usize, Option<String>)> = calls
        .iter()
        .map(|c| (c.names.len(), c.token.clone()))
        .collect();
    let page = |n: usize, t: Option<&str>| (n, t.map(str::to_owned));
    assert_eq!(
        shape,
        vec![
            page(100, None),
            page(100, Some("40")),
            page(100, Some("80")),
            page(100, None),
            page(100, Some("40")),
            page(100, Some("80")),
            page(50, None),
            page(50, Some("40")),
        ]
    );
}

#[tokio::test]
async fn a_composite_alarm_that_fires_is_seen_and_fails_the_bake() {
    let stub = Arc::new(Stub::new(
        vec![
            ("latency-p99".to_owned(), Kind::Metric, "OK"),
            ("deploy-health".to_owned(), Kind::Composite, "ALARM"),
        ],
        100,
    ));
    let url = serve(stub.clone());
    let asked = vec!["latency-p99".to_owned(), "deploy-health".to_owned()];
    let got = alarms_at(&url)
        .describe_alarms(&asked)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let fired = got
        .iter()
        .find(|a| a.name == "deploy-health")
        .unwrap_or_else(|| panic!("the composite alarm is missing: {got:?}"));
    assert_eq!(fired.state, "ALARM");
    assert_eq!(fired.reason.as_deref(), Some("stub says ALARM"));
    assert!(fired.updated_at.is_some());
    let spec = crate::bake::BakeSpec {
        seconds: 600,
        alarm_names: asked,
        check_interval_seconds: 60,
        fail_on_insufficient_data: false,
        ignore_alarm_read_errors: false,
    };
    assert!(crate::bake::is_failing(&spec, &fired.state));
    assert!(got
        .iter()
        .any(|a| a.name == "latency-p99" && !crate::bake::is_failing(&spec, &a.state)));
}

#[tokio::test]
async fn a_listing_that_never_ends_is_an_error_not_a_partial_answer() {
    let mut stub = Stub::new(vec![("a".to_owned(), Kind::Metric, "OK")], 1);
    stub.stuck_token = Some("again");
    let stub = Arc::new(stub);
    let url = serve(stub.clone());
    let got = alarms_at(&url).describe_alarms(&["a".to_owned()]).await;
    assert!(
        got.is_err(),
        "{} alarms from a never-ending listing",
        got.map_or(0, |a| a.len())
    );
    assert!(stub.calls().len() <= 2, "{} calls", stub.calls().len());
}
