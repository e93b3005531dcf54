//! What must hold after every fleet run, computed from the run's log (which game started and
//! which result arrived when, the decisions, the summary) against how each game's gate truly
//! ended. Never from the fleet's own tally: a fleet that miscounts consistently in its decisions
//! and its summary is still caught by the games it started.
//!
//! The batches, the allowance and which endings count are worked out here again, plainly, rather
//! than read from the core, so a change to `batches`, `Budget::allowed`, `next` or
//! `counts_as_failure` shows up as a broken invariant instead of moving the check along with it.
//! What counts is `Verdict::needs_person`, the decision behind paging (the core derives its
//! budget classes from it; `fleet-counts` checks that they agree for every verdict).

use std::collections::{BTreeMap, BTreeSet};

use stagegate::verdict::Verdict;
use stagegate_core::budget::{counts_as_failure, Budget, Next};
use stagegate_core::fleet::DEFAULT_BATCH_SIZE;

use crate::fleet::drive::{FleetRecord, Step};
use crate::fleet::scenario::{game_name, FleetScenario};
use crate::invariants::Violation;

/// The fleet invariants, by name, with what each says (printed by `cargo xtask sim`).
pub const FLEET_INVARIANTS: &[(&str, &str)] = &[
    ("fleet-budget", "the allowance is floor(games x percent / 100); Done only when the failures stayed within it and the canaries' within canaryMaxFailures; Stopped only when they did not, reporting the failures and allowance of its games"),
    ("fleet-stop-point", "batch by batch, canaries first: each batch ends whole before the next starts; Stopped right after the first batch that put the failures past the budget (the canary wave for a canary breach), no game of a later batch started, not_started their games; nothing started is left running; Done started every game"),
    ("fleet-canary-gate", "no game other than a canary starts before every canary ended, and none at all when more canaries failed than canaryMaxFailures"),
    ("fleet-once", "every game starts at most once; the fleet ends with exactly one decision, Done or Stopped, and exactly one summary"),
    ("fleet-counts", "a game counts by its ending alone, once, however often its result arrives: a success or a refusal (FROZEN, REJECTED, UNCHANGED, ABORTED...) never, a failure or a result nobody can read (as ERROR) always; the summary counts every ended game once and names the failed ones"),
];

/// Whether a gate's ending counts against the budget, by the paging decision.
fn fails(verdict: Verdict) -> bool {
    verdict.needs_person()
}

/// The batches as the workflow must run them: the canaries in the order given, then the others
/// in item order, `size` at a time.
fn expected_plan(games: usize, canaries: &[usize], size: usize) -> Vec<Vec<usize>> {
    let mut plan = vec![];
    if !canaries.is_empty() {
        plan.push(canaries.to_vec());
    }
    let mut current = vec![];
    for item in (0..games).filter(|i| !canaries.contains(i)) {
        current.push(item);
        if current.len() == size {
            plan.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        plan.push(current);
    }
    plan
}

pub fn check(s: &FleetScenario, rec: &FleetRecord) -> Vec<Violation> {
    let mut v = vec![];
    let mut fail =
        |invariant: &'static str, detail: String| v.push(Violation { invariant, detail });
    if let Some(why) = &rec.refused {
        fail(
            "fleet-once",
            format!("the fleet input was refused, nothing decided: {why}"),
        );
        return v;
    }
    if let Some(why) = &rec.stuck {
        fail("fleet-once", format!("the fleet never ended: {why}"));
    }
    let games = s.games.len();
    let truth: Vec<Verdict> = s.games.iter().map(|g| g.truth()).collect();
    let failing = |item: usize| truth.get(item).copied().is_some_and(fails);
    let has_canaries = !s.canaries.is_empty();
    let plan = expected_plan(
        games,
        &s.canaries,
        s.batch_size.unwrap_or(DEFAULT_BATCH_SIZE),
    );
    let batch_of: BTreeMap<usize, usize> = plan
        .iter()
        .enumerate()
        .flat_map(|(k, b)| b.iter().map(move |&i| (i, k)))
        .collect();
    let allowed = u64::try_from(games).unwrap_or(u64::MAX) * u64::from(s.percent) / 100;
    let allowed = usize::try_from(allowed).unwrap_or(usize::MAX);
    let canary_failures = s.canaries.iter().filter(|&&i| failing(i)).count();
    let canary_allowed = usize::try_from(s.canary_max_failures).unwrap_or(usize::MAX);
    let canary_breach = has_canaries && canary_failures > canary_allowed;

    // What the log shows.
    let mut starts: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    let mut first_result: BTreeMap<usize, usize> = BTreeMap::new();
    let mut decisions: Vec<(usize, &Next)> = vec![];
    let mut summaries: Vec<usize> = vec![];
    for (at, step) in rec.steps.iter().enumerate() {
        match step {
            Step::Start(item) => starts.entry(*item).or_default().push(at),
            Step::Result(item) => {
                first_result.entry(*item).or_insert(at);
            }
            Step::Decision(n) => decisions.push((at, n)),
            Step::Summary { .. } => summaries.push(at),
        }
    }
    let terminal: Vec<(usize, &Next)> = decisions
        .iter()
        .copied()
        .filter(|(_, n)| !matches!(n, Next::Batch { .. }))
        .collect();
    let ended: BTreeSet<usize> = first_result.keys().copied().collect();
    let ended_failures = ended.iter().filter(|&&i| failing(i)).count();

    // The first batch after which the fleet must stop, from the games' true endings.
    let mut stop_after = None;
    let mut running = 0;
    for (k, batch) in plan.iter().enumerate() {
        running += batch.iter().filter(|&&i| failing(i)).count();
        if (k == 0 && canary_breach) || running > allowed {
            stop_after = Some(k);
            break;
        }
    }

    // fleet-once
    for (item, at) in &starts {
        if at.len() > 1 {
            fail(
                "fleet-once",
                format!("{} started {} times", game_name(*item), at.len()),
            );
        }
    }
    if terminal.len() != 1 {
        fail(
            "fleet-once",
            format!(
                "{} endings (Done or Stopped) instead of one: {:?}",
                terminal.len(),
                terminal.iter().map(|(_, n)| n).collect::<Vec<_>>()
            ),
        );
    } else if decisions.last().map(|(at, _)| *at) != terminal.first().map(|(at, _)| *at) {
        fail(
            "fleet-once",
            "a decision was taken after the fleet ended".into(),
        );
    }
    if summaries.len() != 1 {
        fail(
            "fleet-once",
            format!("{} summaries instead of one", summaries.len()),
        );
    } else if let (Some(sum), Some((end, _))) = (summaries.first(), terminal.first()) {
        if sum < end {
            fail(
                "fleet-once",
                "the summary was published before the fleet's ending".into(),
            );
        }
    }
    let ending = terminal.first().map(|(_, n)| *n);

    // fleet-budget
    let core_allowed = Budget {
        max_failure_percent: s.percent,
        canary_max_failures: s.canary_max_failures,
    }
    .allowed(games);
    if core_allowed != allowed {
        fail(
            "fleet-budget",
            format!(
                "{}% of {games} games allows {allowed} failures, the budget says {core_allowed}",
                s.percent
            ),
        );
    }
    match ending {
        Some(Next::Done) if ended_failures > allowed || canary_breach => {
            fail(
                "fleet-budget",
                format!(
                    "Done with {ended_failures} failures of {allowed} allowed, {canary_failures} canary failures of {canary_allowed}"
                ),
            );
        }
        Some(Next::Stopped {
            failed,
            allowed: said,
            ..
        }) => {
            // The canary wave is judged first: a breach there is reported as the canaries'.
            let fits = if canary_breach {
                (*failed, *said) == (canary_failures, canary_allowed)
            } else {
                (*failed, *said) == (ended_failures, allowed) && ended_failures > allowed
            };
            if !fits {
                let should = if canary_breach {
                    format!(
                        "the canary wave's {canary_failures} failures of {canary_allowed} allowed"
                    )
                } else if ended_failures > allowed {
                    format!("its games' {ended_failures} failures of {allowed} allowed")
                } else {
                    format!("nothing: its games had {ended_failures} failures of {allowed} allowed, the canaries {canary_failures} of {canary_allowed}")
                };
                fail(
                    "fleet-budget",
                    format!("Stopped reporting {failed} failed of {said} allowed; it should report {should}"),
                );
            }
        }
        _ => {}
    }

    // fleet-stop-point
    for (item, at) in &starts {
        let Some(&start) = at.first() else { continue };
        match first_result.get(item) {
            None => fail(
                "fleet-stop-point",
                format!("{} started and was left running", game_name(*item)),
            ),
            Some(&end) if end < start => fail(
                "fleet-stop-point",
                format!("{} ended before it started", game_name(*item)),
            ),
            Some(_) => {}
        }
    }
    // Each batch ends whole before the next starts, and batches start in order.
    let mut last_end_of: BTreeMap<usize, usize> = BTreeMap::new();
    for (item, &end) in &first_result {
        if let Some(&k) = batch_of.get(item) {
            let e = last_end_of.entry(k).or_insert(end);
            *e = (*e).max(end);
        }
    }
    let mut batches_run: BTreeSet<usize> = BTreeSet::new();
    for (item, at) in &starts {
        let Some(&start) = at.first() else { continue };
        let Some(&k) = batch_of.get(item) else {
            fail(
                "fleet-stop-point",
                format!("item {item} is not a game of the fleet"),
            );
            continue;
        };
        batches_run.insert(k);
        if let Some(earlier) = (0..k).find(|j| last_end_of.get(j).is_none_or(|&e| e > start)) {
            fail(
                "fleet-stop-point",
                format!(
                    "{} of batch {k} started before batch {earlier} ended",
                    game_name(*item)
                ),
            );
        }
    }
    let ran = batches_run.len();
    if batches_run.iter().copied().ne(0..ran) {
        fail(
            "fleet-stop-point",
            format!("the batches that ran are {batches_run:?}, not the first {ran}"),
        );
    }
    for k in &batches_run {
        if let Some(batch) = plan.get(*k) {
            if let Some(missing) = batch.iter().find(|i| !starts.contains_key(i)) {
                fail(
                    "fleet-stop-point",
                    format!(
                        "batch {k} ran without {} (a batch runs whole)",
                        game_name(*missing)
                    ),
                );
            }
        }
    }
    match ending {
        Some(Next::Done) if ran != plan.len() || stop_after.is_some() => {
            fail(
                "fleet-stop-point",
                format!(
                    "Done after {ran} of {} batches; it should have stopped after batch {stop_after:?}",
                    plan.len()
                ),
            );
        }
        Some(Next::Stopped { not_started, .. }) => {
            let later: usize = plan.iter().skip(ran).map(Vec::len).sum();
            if stop_after.map(|k| k + 1) != Some(ran) {
                fail(
                    "fleet-stop-point",
                    format!(
                        "Stopped after {ran} batches; the failures passed the budget after batch {}",
                        stop_after.map_or("none (it never should have stopped)".into(), |k| format!("{k} (so {} batches)", k + 1))
                    ),
                );
            }
            if *not_started != later {
                fail(
                    "fleet-stop-point",
                    format!(
                        "Stopped says {not_started} games not started, the batches not run hold {later}"
                    ),
                );
            }
        }
        _ => {}
    }

    // fleet-canary-gate
    if has_canaries {
        let canaries_ended = s
            .canaries
            .iter()
            .map(|i| first_result.get(i).copied())
            .collect::<Option<Vec<usize>>>()
            .map(|ends| ends.into_iter().max().unwrap_or(0));
        let first_other = starts
            .iter()
            .filter(|(i, _)| !s.canaries.contains(i))
            .filter_map(|(i, at)| at.first().map(|&a| (a, *i)))
            .min();
        if let Some((at, item)) = first_other {
            match canaries_ended {
                None => fail(
                    "fleet-canary-gate",
                    format!("{} started though some canary never ended", game_name(item)),
                ),
                Some(end) if at < end => fail(
                    "fleet-canary-gate",
                    format!("{} started before every canary ended", game_name(item)),
                ),
                Some(_) => {}
            }
            if canary_breach {
                fail(
                    "fleet-canary-gate",
                    format!(
                        "{} started after {canary_failures} canary failures (canaryMaxFailures {canary_allowed})",
                        game_name(item)
                    ),
                );
            }
        }
    }

    // fleet-counts
    for verdict in Verdict::ALL {
        if verdict != Verdict::AwaitingApproval && counts_as_failure(verdict) != fails(verdict) {
            fail(
                "fleet-counts",
                format!(
                    "{} {} against the budget, but it {} a person",
                    verdict.as_str(),
                    if counts_as_failure(verdict) {
                        "counts"
                    } else {
                        "does not count"
                    },
                    if fails(verdict) {
                        "needs"
                    } else {
                        "does not need"
                    }
                ),
            );
        }
    }
    if let Some(Step::Summary { counts, failed }) =
        summaries.last().and_then(|&at| rec.steps.get(at))
    {
        let mut want: BTreeMap<String, usize> = BTreeMap::new();
        for &i in &ended {
            if let Some(t) = truth.get(i) {
                *want.entry(t.as_str().to_owned()).or_default() += 1;
            }
        }
        if *counts != want {
            fail(
                "fleet-counts",
                format!("the summary counts {counts:?}, the ended games were {want:?}"),
            );
        }
        let mut named: Vec<(String, &'static str)> = failed
            .iter()
            .map(|f| (f.game_name.clone(), f.verdict.as_str()))
            .collect();
        named.sort();
        let mut truly: Vec<(String, &'static str)> = ended
            .iter()
            .filter(|&&i| failing(i))
            .filter_map(|&i| truth.get(i).map(|t| (game_name(i), t.as_str())))
            .collect();
        truly.sort();
        if named != truly {
            fail(
                "fleet-counts",
                format!("the summary names {named:?} as failed, the failed games were {truly:?}"),
            );
        }
    }
    if let Some(Next::Stopped { failed, .. }) = ending {
        let counted_canaries = canary_breach && *failed == canary_failures;
        if *failed != ended_failures && !counted_canaries {
            fail(
                "fleet-counts",
                format!(
                    "Stopped counted {failed} failures; the games that ended had {ended_failures}"
                ),
            );
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_expected_plan_puts_the_canaries_first_in_their_order() {
        assert_eq!(
            expected_plan(7, &[5, 2], 2),
            vec![vec![5, 2], vec![0, 1], vec![3, 4], vec![6]]
        );
        assert_eq!(expected_plan(3, &[], 5), vec![vec![0, 1, 2]]);
        assert_eq!(expected_plan(4, &[], 2), vec![vec![0, 1], vec![2, 3]]);
    }
}
