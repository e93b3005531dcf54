//! The figures the docs may quote, each counted from its source: the e2e cases, the test
//! command's tiers, the handlers' ports, the outcomes, the error types, the demo's scenarios, the
//! functions, the least-privilege mutations, the checkov skips. A noun not counted here is not
//! checked (`counts::UNCHECKED_COUNTS` is for figures of a counted noun that mean something else).

use std::collections::{BTreeMap, BTreeSet};

use crate::sources::{read, repo_root};

/// The figures a doc may quote, each counted from its source.
pub fn counts() -> BTreeMap<&'static str, BTreeSet<usize>> {
    let mut out: BTreeMap<&'static str, BTreeSet<usize>> = BTreeMap::new();
    let mut put = |noun: &'static str, n: usize| {
        out.entry(noun).or_default().insert(n);
    };
    // The e2e tier's cases: one `Case::new` each in the harness's list.
    put("cases", read("tests/e2e.rs").matches("Case::new(").count());
    // The test command's tiers.
    let xtask = read("xtask/src/main.rs");
    let tiers = xtask
        .split("const TIERS")
        .nth(1)
        .and_then(|rest| rest.split("\n];").next())
        .unwrap_or_default();
    put("tiers", tiers.matches("Tier {").count());
    // The handlers' ports.
    put(
        "ports",
        read("crates/stagegate/src/ports.rs")
            .matches("pub trait ")
            .count(),
    );
    put("outcomes", stagegate::verdict::Verdict::ALL.len());
    put("verdicts", stagegate::verdict::Verdict::ALL.len());
    put("error types", stagegate::errortype::ALL.len());
    // The demo's scenarios: those it runs by default, and all `--scenario` accepts.
    let demo = read("xtask/src/demo.rs");
    put("scenarios", demo.matches("by_default: true").count());
    put("scenarios", demo.matches("    Scenario {").count());
    // The Lambda functions: one crate each under functions/.
    let functions = std::fs::read_dir(repo_root().join("functions"))
        .map(|d| {
            d.flatten()
                .filter(|e| e.path().join("Cargo.toml").is_file())
                .count()
        })
        .unwrap_or_default();
    put("functions", functions);
    // The ways least_privilege_test.py breaks the template: one tuple per mutation, each opening
    // with its description at four spaces in.
    let mutations = read("infra/least_privilege_test.py");
    let list = mutations
        .split("\nMUTATIONS = [")
        .nth(1)
        .and_then(|rest| rest.split("\n]").next())
        .unwrap_or_default();
    let n = list.lines().filter(|l| l.starts_with("    (\"")).count();
    put("mutations", n);
    put("ways", n);
    // The checks checkov is told to skip, each with its reason, in the template.
    put(
        "checkov skips",
        read("infra/template.yaml").matches("- id: CKV_").count(),
    );
    out
}
