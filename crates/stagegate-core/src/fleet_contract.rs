//! The contract between the core and the fleet workflow (`infra/statemachine/fleet.asl.json`):
//! its Choices read only what fleet-step computed (`route`, `completed`) with the core's own
//! names; no game's failure can fail a batch's Map (every child caught, no item tolerated
//! below 100%); every Lambda task retries the transient errors with jitter and catches the rest
//! into a summary; and the transitions the summary bills are the states a game and a batch pass.

use serde_json::Value;

use crate::fleet_run::Route;
use crate::fleet_summary::{
    FLEET_REFUSED, FLEET_STOPPED, TRANSITIONS_PER_BATCH, TRANSITIONS_PER_GAME,
};

const ASL: &str = include_str!("../../../infra/statemachine/fleet.asl.json");

fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("fleet.asl.json: {e}"))
}

fn check(asl: &Value) -> Vec<String> {
    let mut problems = vec![];
    let top = &asl["States"];
    // State names are one namespace over the whole machine, nested ones included (AWS refuses a
    // definition that repeats one; moto does not).
    let mut seen = std::collections::BTreeSet::new();
    for states in [
        top,
        &top["RunBatch"]["ItemProcessor"]["States"],
        &top["RunRollback"]["ItemProcessor"]["States"],
    ] {
        for name in states
            .as_object()
            .map(|m| m.keys().collect::<Vec<_>>())
            .unwrap_or_default()
        {
            if !seen.insert(name.clone()) {
                problems.push(format!("the state name {name} is used twice"));
            }
        }
    }
    let processor = &top["RunBatch"]["ItemProcessor"]["States"];
    let route_names: Vec<String> = [Route::Batch, Route::Rollback, Route::Summary]
        .iter()
        .filter_map(|r| serde_json::to_value(r).ok())
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    let mut all: Vec<(String, &Value)> = vec![];
    for states in [
        top,
        processor,
        &top["RunRollback"]["ItemProcessor"]["States"],
    ] {
        if let Some(map) = states.as_object() {
            all.extend(map.iter().map(|(k, v)| (k.clone(), v)));
        }
    }
    for (name, state) in &all {
        match state["Type"].as_str() {
            Some("Choice") => {
                for choice in state["Choices"]
                    .as_array()
                    .map(Vec::as_slice)
                    .unwrap_or_default()
                {
                    let variable = choice["Variable"].as_str().unwrap_or_default();
                    match variable {
                        "$.fleet.route" => {
                            let value = choice["StringEquals"].as_str().unwrap_or_default();
                            if !route_names.iter().any(|r| r == value) {
                                problems.push(format!("{name} routes on route {value:?}, which the core never computes"));
                            }
                        }
                        "$.summary.completed" => {}
                        other => problems.push(format!(
                            "{name} routes on {other}, which fleet-step does not compute"
                        )),
                    }
                }
            }
            Some("Task") if state["Resource"] == "arn:aws:states:::lambda:invoke" => {
                let jittered = state["Retry"].as_array().is_some_and(|r| {
                    r.iter().any(|r| {
                        r["JitterStrategy"] == "FULL"
                            && r["ErrorEquals"].as_array().is_some_and(|e| {
                                e.iter().any(|e| e == "StageGate.Retryable")
                                    && e.iter().any(|e| e == "Lambda.TooManyRequestsException")
                            })
                    })
                });
                if !jittered {
                    problems.push(format!(
                        "{name} does not retry the transient errors with full jitter"
                    ));
                }
                let catches_all = state["Catch"].as_array().is_some_and(|c| {
                    c.iter().any(|c| {
                        c["ErrorEquals"]
                            .as_array()
                            .is_some_and(|e| e.iter().any(|e| e == "States.ALL"))
                    })
                });
                if !catches_all {
                    problems.push(format!(
                        "{name} lets an error end the fleet without a summary"
                    ));
                }
            }
            _ => {}
        }
    }
    for (map, prefix) in [("RunBatch", ""), ("RunRollback", "Rollback")] {
        let m = &top[map];
        let (gate, ending) = (format!("{prefix}Gate"), format!("{prefix}Ending"));
        if m["ToleratedFailurePercentage"].as_f64() != Some(100.0) {
            problems.push(format!(
                "{map}: a failed item could fail the Map Run, which stops the gates still running"
            ));
        }
        let gate = &m["ItemProcessor"]["States"][&gate];
        if gate["Resource"] != "arn:aws:states:::states:startExecution.sync:2" {
            problems.push(format!(
                "{map}: Gate does not run the gate to its end (.sync:2)"
            ));
        }
        if gate["Parameters"]["Name.$"] != "$.name" {
            problems.push(format!(
                "{map}: Gate's child is not named by the plan (a retry could start it twice)"
            ));
        }
        let caught = gate["Catch"].as_array().is_some_and(|c| {
            c.iter().any(|c| {
                c["ErrorEquals"]
                    .as_array()
                    .is_some_and(|e| e.iter().any(|e| e == "States.ALL"))
                    && c["Next"] == ending.as_str()
            })
        });
        if !caught {
            problems.push(format!(
                "{map}: a failed gate is not caught into its item's ending"
            ));
        }
        if m["ItemProcessor"]["ProcessorConfig"]["ExecutionType"] != "STANDARD" {
            problems.push(format!(
                "{map}: children must be STANDARD (Express cannot wait on .sync)"
            ));
        }
    }
    // The transitions the summary bills: a game passes Stagger, Gate and Ending; a batch Route,
    // the Map and its tally.
    let path = ["Stagger", "Gate", "Ending"];
    let per_game = path.iter().filter(|s| processor.get(**s).is_some()).count() as u64;
    if per_game != TRANSITIONS_PER_GAME
        || processor["Stagger"]["Next"] != "Gate"
        || processor["Ending"]["End"] != true
    {
        problems.push(format!(
            "a game passes {path:?}, billed as {TRANSITIONS_PER_GAME}"
        ));
    }
    let per_batch = ["Route", "RunBatch", "Tally"]
        .iter()
        .filter(|s| top.get(**s).is_some())
        .count() as u64;
    if per_batch != TRANSITIONS_PER_BATCH
        || top["RunBatch"]["Next"] != "Tally"
        || top["Tally"]["Next"] != "Route"
    {
        problems.push(format!(
            "a batch passes Route, RunBatch and Tally, billed as {TRANSITIONS_PER_BATCH}"
        ));
    }
    if top["Stopped"]["ErrorPath"] != "$.summary.error" {
        problems.push(format!(
            "Stopped does not end with fleet-step's error ({FLEET_STOPPED} or {FLEET_REFUSED})"
        ));
    }
    problems
}

#[test]
fn the_fleet_workflow_routes_only_on_what_the_core_decides() {
    let problems = check(&parse(ASL));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// What a broken copy must be reported for, and how to break it.
type Break = (&'static str, fn(&mut Value));

#[test]
fn each_rule_bites() {
    let base = parse(ASL);
    let breaks: [Break; 9] = [
        ("used twice", |a| {
            let states = &mut a["States"]["RunRollback"]["ItemProcessor"]["States"];
            states["Gate"] = states["RollbackGate"].clone();
        }),
        ("never computes", |a| {
            a["States"]["Route"]["Choices"][0]["StringEquals"] = "Batch".into()
        }),
        ("does not compute", |a| {
            a["States"]["Route"]["Choices"][0]["Variable"] = "$.fleet.next.next".into()
        }),
        ("full jitter", |a| {
            a["States"]["Tally"]["Retry"][0]["JitterStrategy"] = "NONE".into()
        }),
        ("without a summary", |a| {
            a["States"]["Plan"]["Catch"] = Value::Array(vec![])
        }),
        ("stops the gates", |a| {
            a["States"]["RunBatch"]["ToleratedFailurePercentage"] = 5.into()
        }),
        ("start it twice", |a| {
            a["States"]["RunRollback"]["ItemProcessor"]["States"]["RollbackGate"]["Parameters"]
                ["Name.$"] = "$$.Execution.Name".into()
        }),
        ("not caught", |a| {
            a["States"]["RunBatch"]["ItemProcessor"]["States"]["Gate"]["Catch"] =
                Value::Array(vec![])
        }),
        ("billed as", |a| {
            a["States"]["RunBatch"]["ItemProcessor"]["States"]["Stagger"]["Next"] = "Ending".into()
        }),
    ];
    for (expected, break_it) in breaks {
        let mut asl = base.clone();
        break_it(&mut asl);
        let problems = check(&asl);
        assert!(
            problems.iter().any(|p| p.contains(expected)),
            "{expected}: {problems:?}"
        );
    }
}
