//! The workflow as Step Functions runs it, read from `infra/statemachine/deployment-gate.asl.json`
//! at run time.
//!
//! The simulator must see what the deployed workflow does, not what someone remembers of it:
//! removing an error name from a Retry or a Catch from a Task changes what the simulator observes.
//! So this module holds no copy of the workflow, only the semantics of the few ASL constructs
//! the gate uses (Pass, Task with Parameters/ResultSelector/ResultPath/OutputPath, Retry, Catch,
//! Choice on `IsPresent`/`StringEquals`/`BooleanEquals`/`Not`, Wait on `SecondsPath`, Succeed,
//! Fail), and the JSONPath subset those use (`$`, `$.a.b`, `$$.Execution.*`, `$$.Task.Token`).
//! Anything else in the file is an error that names the state, so a new construct cannot be
//! silently ignored.

use serde_json::{Map, Value};

/// One Retry rule.
#[derive(Debug, Clone)]
pub struct Retrier {
    pub errors: Vec<String>,
    pub interval_seconds: f64,
    pub backoff_rate: f64,
    pub max_attempts: u32,
    pub max_delay_seconds: Option<f64>,
    pub full_jitter: bool,
}

/// One Catch rule.
#[derive(Debug, Clone)]
pub struct Catcher {
    pub errors: Vec<String>,
    pub result_path: Option<String>,
    pub next: String,
}

#[derive(Debug, Clone)]
pub enum State {
    Pass {
        parameters: Option<Value>,
        result: Option<Value>,
        result_path: Option<String>,
        next: String,
    },
    Task(Box<Task>),
    Choice {
        choices: Vec<(Value, String)>,
        default: Option<String>,
    },
    Wait {
        seconds_path: String,
        next: String,
    },
    Succeed,
    Fail {
        error: Option<String>,
        error_path: Option<String>,
        cause: Option<String>,
        cause_path: Option<String>,
    },
}

#[derive(Debug, Clone)]
pub struct Task {
    pub resource: String,
    /// The `${...}` placeholder the template substitutes with a function's ARN.
    pub function: String,
    pub parameters: Value,
    pub result_selector: Option<Value>,
    pub result_path: Option<String>,
    pub output_path: Option<String>,
    pub timeout_seconds: Option<u64>,
    pub timeout_seconds_path: Option<String>,
    pub retry: Vec<Retrier>,
    pub catch: Vec<Catcher>,
    pub next: Option<String>,
}

impl Task {
    pub fn waits_for_token(&self) -> bool {
        self.resource.ends_with(".waitForTaskToken")
    }
}

#[derive(Debug, Clone)]
pub struct Workflow {
    pub start_at: String,
    pub timeout_seconds: Option<u64>,
    pub states: std::collections::BTreeMap<String, State>,
}

/// Where the workflow lives in the repository.
pub fn default_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../infra/statemachine/deployment-gate.asl.json")
}

impl Workflow {
    pub fn load(path: &std::path::Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("reading {}: {e}", path.display()))?;
        let doc: Value =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        Self::parse(&doc)
    }

    pub fn parse(doc: &Value) -> Result<Self, String> {
        if doc.get("QueryLanguage").and_then(Value::as_str) == Some("JSONata") {
            return Err("the simulator models JSONPath workflows only".into());
        }
        let start_at = text(doc, "StartAt", "(workflow)")?;
        let mut states = std::collections::BTreeMap::new();
        let Some(map) = doc.get("States").and_then(Value::as_object) else {
            return Err("the workflow has no States".into());
        };
        for (name, s) in map {
            states.insert(name.clone(), parse_state(name, s)?);
        }
        for (name, s) in &states {
            for next in successors(s) {
                if !states.contains_key(next) {
                    return Err(format!("state {name} goes to {next}, which does not exist"));
                }
            }
        }
        if !states.contains_key(&start_at) {
            return Err(format!("StartAt {start_at} does not exist"));
        }
        Ok(Self {
            start_at,
            timeout_seconds: doc.get("TimeoutSeconds").and_then(Value::as_u64),
            states,
        })
    }

    pub fn state(&self, name: &str) -> Result<&State, String> {
        self.states
            .get(name)
            .ok_or_else(|| format!("no state {name}"))
    }
}

fn successors(s: &State) -> Vec<&String> {
    match s {
        State::Pass { next, .. } | State::Wait { next, .. } => vec![next],
        State::Task(t) => t
            .next
            .iter()
            .chain(t.catch.iter().map(|c| &c.next))
            .collect(),
        State::Choice { choices, default } => choices
            .iter()
            .map(|(_, n)| n)
            .chain(default.iter())
            .collect(),
        State::Succeed | State::Fail { .. } => vec![],
    }
}

fn text(v: &Value, key: &str, state: &str) -> Result<String, String> {
    v.get(key)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| format!("state {state}: {key} is missing or not a string"))
}

fn opt_text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn errors(v: &Value, state: &str) -> Result<Vec<String>, String> {
    v.get("ErrorEquals")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .ok_or_else(|| format!("state {state}: a Retry or Catch without ErrorEquals"))
}

const KNOWN_TASK_KEYS: &[&str] = &[
    "Type",
    "Comment",
    "Resource",
    "TimeoutSeconds",
    "TimeoutSecondsPath",
    "Parameters",
    "ResultSelector",
    "ResultPath",
    "OutputPath",
    "Retry",
    "Catch",
    "Next",
    "End",
];

fn parse_state(name: &str, s: &Value) -> Result<State, String> {
    let kind = text(s, "Type", name)?;
    match kind.as_str() {
        "Pass" => Ok(State::Pass {
            parameters: s.get("Parameters").cloned(),
            result: s.get("Result").cloned(),
            result_path: opt_text(s, "ResultPath"),
            next: text(s, "Next", name)?,
        }),
        "Task" => {
            if let Some(obj) = s.as_object() {
                if let Some(k) = obj.keys().find(|k| !KNOWN_TASK_KEYS.contains(&k.as_str())) {
                    return Err(format!(
                        "state {name}: the simulator does not model Task field {k}"
                    ));
                }
            }
            let parameters = s.get("Parameters").cloned().unwrap_or(Value::Null);
            let function = parameters
                .get("FunctionName")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let retry = s
                .get("Retry")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|r| {
                    Ok(Retrier {
                        errors: errors(r, name)?,
                        interval_seconds: r
                            .get("IntervalSeconds")
                            .and_then(Value::as_f64)
                            .unwrap_or(1.0),
                        backoff_rate: r.get("BackoffRate").and_then(Value::as_f64).unwrap_or(2.0),
                        max_attempts: r
                            .get("MaxAttempts")
                            .and_then(Value::as_u64)
                            .map_or(3, |n| u32::try_from(n).unwrap_or(u32::MAX)),
                        max_delay_seconds: r.get("MaxDelaySeconds").and_then(Value::as_f64),
                        full_jitter: r.get("JitterStrategy").and_then(Value::as_str)
                            == Some("FULL"),
                    })
                })
                .collect::<Result<Vec<_>, String>>()?;
            let catch = s
                .get("Catch")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|c| {
                    Ok(Catcher {
                        errors: errors(c, name)?,
                        result_path: opt_text(c, "ResultPath"),
                        next: text(c, "Next", name)?,
                    })
                })
                .collect::<Result<Vec<_>, String>>()?;
            Ok(State::Task(Box::new(Task {
                resource: text(s, "Resource", name)?,
                function,
                parameters,
                result_selector: s.get("ResultSelector").cloned(),
                result_path: opt_text(s, "ResultPath"),
                output_path: opt_text(s, "OutputPath"),
                timeout_seconds: s.get("TimeoutSeconds").and_then(Value::as_u64),
                timeout_seconds_path: opt_text(s, "TimeoutSecondsPath"),
                retry,
                catch,
                next: opt_text(s, "Next"),
            })))
        }
        "Choice" => {
            let choices = s
                .get("Choices")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|c| Ok((c.clone(), text(c, "Next", name)?)))
                .collect::<Result<Vec<_>, String>>()?;
            Ok(State::Choice {
                choices,
                default: opt_text(s, "Default"),
            })
        }
        "Wait" => Ok(State::Wait {
            seconds_path: text(s, "SecondsPath", name)?,
            next: text(s, "Next", name)?,
        }),
        "Succeed" => Ok(State::Succeed),
        "Fail" => Ok(State::Fail {
            error: opt_text(s, "Error"),
            error_path: opt_text(s, "ErrorPath"),
            cause: opt_text(s, "Cause"),
            cause_path: opt_text(s, "CausePath"),
        }),
        other => Err(format!(
            "state {name}: the simulator does not model states of type {other}"
        )),
    }
}

/// Does `error` match a rule's ErrorEquals (`States.ALL` matches every error but
/// `States.Runtime`, as in Step Functions)?
pub fn matches(rule: &[String], error: &str) -> bool {
    rule.iter()
        .any(|e| e == error || (e == "States.ALL" && error != "States.Runtime"))
}

/// What a `$$` path may read.
#[derive(Debug, Clone)]
pub struct Context {
    pub execution_id: String,
    pub execution_name: String,
    pub start_time: String,
    pub task_token: Option<String>,
}

/// Reads a reference path: `$`, `$.a.b`, `$$.Execution.Id`, ... None: the path is absent.
pub fn read_path(input: &Value, path: &str, ctx: &Context) -> Option<Value> {
    if let Some(rest) = path.strip_prefix("$$.") {
        return match rest {
            "Execution.Id" => Some(Value::from(ctx.execution_id.clone())),
            "Execution.Name" => Some(Value::from(ctx.execution_name.clone())),
            "Execution.StartTime" => Some(Value::from(ctx.start_time.clone())),
            "Task.Token" => ctx.task_token.clone().map(Value::from),
            _ => None,
        };
    }
    if path == "$" {
        return Some(input.clone());
    }
    let mut at = input;
    for key in path.strip_prefix("$.")?.split('.') {
        at = at.get(key)?;
    }
    Some(at.clone())
}

/// Fills a Parameters / ResultSelector template: keys ending in `.$` take a path's value. A
/// path that is absent is a States.Runtime error in Step Functions; here too.
pub fn fill(template: &Value, input: &Value, ctx: &Context) -> Result<Value, String> {
    match template {
        Value::Object(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                match (k.strip_suffix(".$"), v.as_str()) {
                    (Some(key), Some(path)) => {
                        let value = read_path(input, path, ctx)
                            .ok_or_else(|| format!("path {path} (for {key}) is absent"))?;
                        out.insert(key.to_owned(), value);
                    }
                    _ => {
                        out.insert(k.clone(), fill(v, input, ctx)?);
                    }
                }
            }
            Ok(Value::Object(out))
        }
        other => Ok(other.clone()),
    }
}

/// Applies a ResultPath: `$` replaces the input, `$.a.b` sets that field (creating objects on
/// the way), absent means `$`.
pub fn put_result(input: &Value, path: Option<&str>, result: Value) -> Result<Value, String> {
    let Some(path) = path.filter(|p| *p != "$") else {
        return Ok(result);
    };
    let keys: Vec<&str> = path
        .strip_prefix("$.")
        .ok_or_else(|| format!("unsupported ResultPath {path}"))?
        .split('.')
        .collect();
    let mut out = input.clone();
    if !out.is_object() {
        return Err(format!(
            "ResultPath {path} on an input that is not an object"
        ));
    }
    let mut at = &mut out;
    for (i, key) in keys.iter().enumerate() {
        let Some(obj) = at.as_object_mut() else {
            return Err(format!("ResultPath {path}: {key} is inside a non-object"));
        };
        if i + 1 == keys.len() {
            obj.insert((*key).to_owned(), result);
            break;
        }
        at = obj
            .entry((*key).to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    Ok(out)
}

/// Evaluates one Choice rule against the state's input.
pub fn choice_matches(rule: &Value, input: &Value, ctx: &Context) -> Result<bool, String> {
    if let Some(inner) = rule.get("Not") {
        return Ok(!choice_matches(inner, input, ctx)?);
    }
    let variable = rule
        .get("Variable")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("a Choice rule without Variable: {rule}"))?;
    let value = read_path(input, variable, ctx);
    if let Some(present) = rule.get("IsPresent").and_then(Value::as_bool) {
        return Ok(value.is_some() == present);
    }
    if let Some(want) = rule.get("StringEquals").and_then(Value::as_str) {
        return Ok(value.as_ref().and_then(Value::as_str) == Some(want));
    }
    if let Some(want) = rule.get("BooleanEquals").and_then(Value::as_bool) {
        return Ok(value.as_ref().and_then(Value::as_bool) == Some(want));
    }
    Err(format!(
        "a Choice rule the simulator does not model: {rule}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ctx() -> Context {
        Context {
            execution_id: "arn:x".into(),
            execution_name: "x".into(),
            start_time: "2026-01-01T00:00:00Z".into(),
            task_token: Some("tok".into()),
        }
    }

    #[test]
    fn the_gate_workflow_parses() {
        let w = Workflow::load(&default_path()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(w.start_at, "Accept");
        assert!(matches!(w.state("Poll"), Ok(State::Task(_))));
    }

    #[test]
    fn paths_parameters_and_result_paths() {
        let input = json!({"a": {"b": 1}});
        assert_eq!(read_path(&input, "$.a.b", &ctx()), Some(json!(1)));
        assert_eq!(read_path(&input, "$.a.c", &ctx()), None);
        let filled = fill(
            &json!({"x.$": "$.a", "y": {"t.$": "$$.Task.Token"}, "z": 3}),
            &input,
            &ctx(),
        );
        assert_eq!(
            filled,
            Ok(json!({"x": {"b": 1}, "y": {"t": "tok"}, "z": 3}))
        );
        assert!(fill(&json!({"x.$": "$.nope"}), &input, &ctx()).is_err());
        assert_eq!(
            put_result(&input, Some("$.r.s"), json!(2)),
            Ok(json!({"a": {"b": 1}, "r": {"s": 2}}))
        );
        assert_eq!(put_result(&input, None, json!(2)), Ok(json!(2)));
    }

    #[test]
    fn error_matching_and_choices() {
        assert!(matches(&["States.ALL".into()], "Lambda.Unknown"));
        assert!(!matches(&["States.ALL".into()], "States.Runtime"));
        assert!(!matches(&["States.Timeout".into()], "Sandbox.Timedout"));
        let input = json!({"action": "wait"});
        let rule = json!({"Variable": "$.action", "StringEquals": "wait"});
        assert_eq!(choice_matches(&rule, &input, &ctx()), Ok(true));
        let absent = json!({"Not": {"Variable": "$.action", "IsPresent": true}});
        assert_eq!(choice_matches(&absent, &input, &ctx()), Ok(false));
    }
}
