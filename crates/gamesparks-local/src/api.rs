//! restJson1 request binding: routes, labels, query strings and bodies, checked against the
//! model before anything touches the world.

use hyper::Method;
use serde_json::Value;
use time::OffsetDateTime;

use crate::error::ApiError;
pub(crate) use crate::op::Op;
use crate::pagination::PageRequest;
use crate::validate::{self, Violations};
use crate::world::World;

/// A matched route with its (decoded) labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Route {
    pub op: Op,
    pub game: Option<String>,
    pub stage: Option<String>,
    pub snapshot: Option<String>,
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Percent-decoding; malformed escapes are kept literally and invalid UTF-8 becomes U+FFFD,
/// which then fails the model's patterns rather than the request parser.
pub(crate) fn percent_decode(s: &str, plus_is_space: bool) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 3;
                }
                _ => {
                    out.push(b'%');
                    i += 1;
                }
            },
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub(crate) fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k, true), percent_decode(v, true))
        })
        .collect()
}

pub(crate) fn route(method: &Method, path: &str) -> Option<Route> {
    let segs: Vec<String> = path
        .strip_prefix('/')?
        .split('/')
        .map(|s| percent_decode(s, false))
        .collect();
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    let r = |op, game: Option<&str>, stage: Option<&str>, snapshot: Option<&str>| {
        Some(Route {
            op,
            game: game.map(str::to_string),
            stage: stage.map(str::to_string),
            snapshot: snapshot.map(str::to_string),
        })
    };
    let get = method == Method::GET;
    let post = method == Method::POST;
    match s.as_slice() {
        ["game"] if get => r(Op::ListGames, None, None, None),
        ["game", g] if get => r(Op::GetGame, Some(g), None, None),
        ["game", g, "stage"] if get => r(Op::ListStages, Some(g), None, None),
        ["game", g, "stage", st] if get => r(Op::GetStage, Some(g), Some(st), None),
        ["game", g, "snapshot"] if get => r(Op::ListSnapshots, Some(g), None, None),
        ["game", g, "snapshot"] if post => r(Op::CreateSnapshot, Some(g), None, None),
        ["game", g, "snapshot", id] if get => r(Op::GetSnapshot, Some(g), None, Some(id)),
        ["game", g, "stage", st, "deployment"] if post => {
            r(Op::StartStageDeployment, Some(g), Some(st), None)
        }
        ["game", g, "stage", st, "deployment"] if get => {
            r(Op::GetStageDeployment, Some(g), Some(st), None)
        }
        ["game", g, "stage", st, "deployments"] if get => {
            r(Op::ListStageDeployments, Some(g), Some(st), None)
        }
        _ => None,
    }
}

/// A request that passed model validation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Call {
    ListGames(PageRequest),
    GetGame {
        game: String,
    },
    ListStages {
        game: String,
        page: PageRequest,
    },
    GetStage {
        game: String,
        stage: String,
    },
    ListSnapshots {
        game: String,
        page: PageRequest,
    },
    GetSnapshot {
        game: String,
        snapshot_id: String,
        sections: Option<Vec<String>>,
    },
    CreateSnapshot {
        game: String,
        description: Option<String>,
    },
    StartStageDeployment {
        game: String,
        stage: String,
        snapshot_id: String,
        client_token: Option<String>,
    },
    GetStageDeployment {
        game: String,
        stage: String,
        deployment_id: Option<String>,
    },
    ListStageDeployments {
        game: String,
        stage: String,
        page: PageRequest,
    },
}

fn first<'a>(query: &'a [(String, String)], name: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn page(v: &mut Violations, query: &[(String, String)]) -> PageRequest {
    let max_results = v.max_results(first(query, "MaxResults"));
    let next_token = first(query, "NextToken");
    v.next_token(next_token);
    PageRequest {
        max_results,
        next_token: next_token.map(str::to_string),
    }
}

/// A string member of a JSON body: absent and `null` both mean unset.
fn body_string(
    v: &mut Violations,
    body: &serde_json::Map<String, Value>,
    field: &str,
) -> Option<String> {
    match body.get(field) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => {
            v.push(field, Some(&other.to_string()), "must be a string");
            None
        }
    }
}

fn body_object(body: &[u8]) -> Result<serde_json::Map<String, Value>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(serde_json::Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(ApiError::validation(
            "The request body must be a JSON object",
        )),
        Err(e) => Err(ApiError::validation(format!(
            "The request body is not valid JSON: {e}"
        ))),
    }
}

/// Binds and validates a request. All violations are reported together, as AWS does.
pub(crate) fn bind(
    route: &Route,
    query: &[(String, String)],
    body: &[u8],
) -> Result<Call, ApiError> {
    let mut v = Violations::default();
    let game = route.game.clone().unwrap_or_default();
    let stage = route.stage.clone().unwrap_or_default();
    if route.game.is_some() {
        v.name("GameName", &game);
    }
    if route.stage.is_some() {
        v.name("StageName", &stage);
    }
    let call = match route.op {
        Op::ListGames => Call::ListGames(page(&mut v, query)),
        Op::GetGame => Call::GetGame { game },
        Op::ListStages => Call::ListStages {
            game,
            page: page(&mut v, query),
        },
        Op::GetStage => Call::GetStage { game, stage },
        Op::ListSnapshots => Call::ListSnapshots {
            game,
            page: page(&mut v, query),
        },
        Op::GetSnapshot => {
            let snapshot_id = route.snapshot.clone().unwrap_or_default();
            v.snapshot_id("SnapshotId", &snapshot_id);
            let sections: Vec<String> = query
                .iter()
                .filter(|(k, _)| k == "Sections")
                .flat_map(|(_, val)| val.split(',').map(str::to_string).collect::<Vec<_>>())
                .collect();
            if sections.len() > 100 {
                v.push(
                    "Sections",
                    Some(&sections.join(",")),
                    "must have length less than or equal to 100",
                );
            }
            for s in &sections {
                if v.length("Sections.member", s, 1, 36) {
                    v.pattern(
                        "Sections.member",
                        s,
                        validate::is_section_name(s),
                        validate::SECTION_NAME_PATTERN,
                    );
                }
            }
            Call::GetSnapshot {
                game,
                snapshot_id,
                sections: (!sections.is_empty()).then_some(sections),
            }
        }
        Op::CreateSnapshot => {
            let obj = body_object(body)?;
            let description = body_string(&mut v, &obj, "Description");
            if let Some(d) = &description {
                v.description("Description", d);
            }
            Call::CreateSnapshot { game, description }
        }
        Op::StartStageDeployment => {
            let obj = body_object(body)?;
            let snapshot_id = body_string(&mut v, &obj, "SnapshotId");
            match &snapshot_id {
                Some(id) => v.snapshot_id("SnapshotId", id),
                None if !obj.get("SnapshotId").is_some_and(|x| !x.is_null()) => {
                    v.required("SnapshotId")
                }
                None => {}
            }
            let client_token = body_string(&mut v, &obj, "ClientToken");
            if let Some(t) = &client_token {
                v.length("ClientToken", t, 33, 126);
            }
            Call::StartStageDeployment {
                game,
                stage,
                snapshot_id: snapshot_id.unwrap_or_default(),
                client_token,
            }
        }
        Op::GetStageDeployment => {
            let deployment_id = first(query, "DeploymentId").map(str::to_string);
            if let Some(id) = &deployment_id {
                v.deployment_id(id);
            }
            Call::GetStageDeployment {
                game,
                stage,
                deployment_id,
            }
        }
        Op::ListStageDeployments => Call::ListStageDeployments {
            game,
            stage,
            page: page(&mut v, query),
        },
    };
    v.into_result()?;
    Ok(call)
}

impl Call {
    pub fn execute(self, world: &mut World, now: OffsetDateTime) -> Result<Value, ApiError> {
        match self {
            Call::ListGames(page) => world.list_games(&page),
            Call::GetGame { game } => world.get_game(&game),
            Call::ListStages { game, page } => world.list_stages(&game, &page),
            Call::GetStage { game, stage } => world.get_stage(&game, &stage, now),
            Call::ListSnapshots { game, page } => world.list_snapshots(&game, &page),
            Call::GetSnapshot {
                game,
                snapshot_id,
                sections,
            } => world.get_snapshot(&game, &snapshot_id, sections.as_deref()),
            Call::CreateSnapshot { game, description } => {
                world.create_snapshot(&game, description, now)
            }
            Call::StartStageDeployment {
                game,
                stage,
                snapshot_id,
                client_token,
            } => world.start_stage_deployment(
                &game,
                &stage,
                &snapshot_id,
                client_token.as_deref(),
                now,
            ),
            Call::GetStageDeployment {
                game,
                stage,
                deployment_id,
            } => world.get_stage_deployment(&game, &stage, deployment_id.as_deref(), now),
            Call::ListStageDeployments { game, stage, page } => {
                world.list_stage_deployments(&game, &stage, &page, now)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes() {
        assert_eq!(percent_decode("a%3Ab", false), "a:b");
        assert_eq!(percent_decode("a+b", false), "a+b");
        assert_eq!(percent_decode("a+b", true), "a b");
        assert_eq!(percent_decode("100%", false), "100%");
        assert_eq!(percent_decode("%zz%4", false), "%zz%4");
        assert_eq!(percent_decode("%ff", false), "\u{fffd}");
    }

    #[test]
    fn routes() {
        let r = route(
            &Method::GET,
            "/game/g/snapshot/Snapshot_2026-11-20T10%3A00%3A00.000Z",
        )
        .unwrap();
        assert_eq!(r.op, Op::GetSnapshot);
        assert_eq!(
            r.snapshot.as_deref(),
            Some("Snapshot_2026-11-20T10:00:00.000Z")
        );
        assert_eq!(
            route(&Method::POST, "/game/g/stage/s/deployment").map(|r| r.op),
            Some(Op::StartStageDeployment)
        );
        assert_eq!(
            route(&Method::GET, "/game/g/stage/s/deployments").map(|r| r.op),
            Some(Op::ListStageDeployments)
        );
        assert!(route(&Method::DELETE, "/game/g").is_none());
        assert!(route(&Method::GET, "/games").is_none());
        // An encoded slash stays inside its label and then fails the name pattern.
        let r = route(&Method::GET, "/game/a%2Fb").unwrap();
        assert_eq!(r.game.as_deref(), Some("a/b"));
    }

    #[test]
    fn binds_and_validates() {
        let r = route(&Method::POST, "/game/g/stage/s/deployment").unwrap();
        let err = bind(&r, &[], b"{}").unwrap_err();
        assert!(err.message.contains("'SnapshotId'"), "{}", err.message);
        let err = bind(&r, &[], br#"{"SnapshotId": "x", "ClientToken": "short"}"#).unwrap_err();
        assert!(
            err.message.starts_with("2 validation errors"),
            "{}",
            err.message
        );
        assert!(err.message.contains("'ClientToken'"));
        let err = bind(&r, &[], b"[1]").unwrap_err();
        assert!(err.message.contains("JSON object"));
        let ok = bind(
            &r,
            &[],
            br#"{"SnapshotId": "Snapshot_2026-11-20T10:00:00.000Z"}"#,
        )
        .unwrap();
        assert!(matches!(
            ok,
            Call::StartStageDeployment {
                client_token: None,
                ..
            }
        ));

        let r = route(&Method::GET, "/game").unwrap();
        let q = parse_query("MaxResults=101&NextToken=");
        let err = bind(&r, &q, b"").unwrap_err();
        assert!(err.message.contains("'MaxResults'") && err.message.contains("'NextToken'"));
    }
}
