//! A fleet's failure budget: which games start in which batch (canaries first), and after each
//! batch whether the fleet starts the next one.
//!
//! A breach never stops a gate that runs: a stopped execution ends with no cleanup and no message.
//! So the fleet goes batch by batch, and this decides between batches, from the endings of the
//! gates that finished (`Verdict::ending`, the same classes the CLI's exit codes and paging use):
//! a rolled-back or a needs-a-person ending counts against the budget; a refusal (a freeze, a
//! rejection, an abort) and a success do not.

use serde::{Deserialize, Serialize};

use crate::verdict::{Ending, Verdict};

/// How many failures a fleet tolerates, and how it starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Budget {
    /// Failures tolerated, in percent of the fleet's games (0-100): 5 lets 10 of 200 fail.
    pub max_failure_percent: u8,
    /// Failures tolerated among the canaries before anything else starts (default 0).
    #[serde(default)]
    pub canary_max_failures: u32,
}

impl Budget {
    /// Failures tolerated in a fleet of `games`: rounded down, so a budget never tolerates more
    /// than it says.
    pub fn allowed(&self, games: usize) -> usize {
        games.saturating_mul(usize::from(self.max_failure_percent.min(100))) / 100
    }
}

/// Whether an ending counts against a fleet's budget.
pub fn counts_as_failure(verdict: Verdict) -> bool {
    matches!(verdict.ending(), Ending::RolledBack | Ending::NeedsPerson)
}

/// The batches a fleet runs, by item position: the canaries (in the order given) first, then the
/// others in item order, `batch_size` at a time.
pub fn batches(items: usize, canaries: &[usize], batch_size: usize) -> Vec<Vec<usize>> {
    let size = batch_size.max(1);
    let mut out = vec![];
    let canaries: Vec<usize> = canaries.iter().copied().filter(|&i| i < items).collect();
    if !canaries.is_empty() {
        out.push(canaries.clone());
    }
    let rest: Vec<usize> = (0..items).filter(|i| !canaries.contains(i)).collect();
    out.extend(rest.chunks(size).map(<[usize]>::to_vec));
    out
}

/// One game's ending, as the fleet tallies it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct GameEnding {
    /// Its position in the fleet's items.
    pub item: usize,
    pub verdict: Verdict,
}

/// What the fleet does after a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    tag = "next"
)]
pub enum Next {
    /// Start batch `batch`.
    Batch { batch: usize },
    /// Every batch ran within the budget.
    Done,
    /// The budget is spent: no further game starts. `failed` of `allowed` (or of the canaries'
    /// allowance); `not_started` games never began.
    Stopped {
        reason: String,
        failed: usize,
        allowed: usize,
        not_started: usize,
    },
}

/// Decides after `done` batches (0: before the first) from the endings so far.
pub fn next(
    batches: &[Vec<usize>],
    done: usize,
    endings: &[GameEnding],
    budget: &Budget,
    has_canaries: bool,
) -> Next {
    let failed = |items: &[usize]| {
        endings
            .iter()
            .filter(|e| items.contains(&e.item) && counts_as_failure(e.verdict))
            .count()
    };
    let canaries = batches.first().map_or(&[][..], Vec::as_slice);
    let all: Vec<usize> = batches.iter().take(done).flatten().copied().collect();
    next_from_counts(
        &Counted {
            games: batches.iter().map(Vec::len).sum(),
            batches: batches.len(),
            done,
            not_started: batches.iter().skip(done).map(Vec::len).sum(),
            canaries: has_canaries.then(|| (canaries.len(), failed(canaries))),
            failed: failed(&all),
        },
        budget,
    )
}

/// What a fleet run has counted so far: all `next` needs, so a run carries counts between
/// batches, not every game's ending (10,000 endings would not fit a workflow's state).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counted {
    pub games: usize,
    pub batches: usize,
    /// Batches run so far.
    pub done: usize,
    pub not_started: usize,
    /// The canary wave's size and failures, when the fleet has one (it is the first batch).
    pub canaries: Option<(usize, usize)>,
    /// Failures among the games of the batches run.
    pub failed: usize,
}

/// `next`, from counts.
pub fn next_from_counts(c: &Counted, budget: &Budget) -> Next {
    if let Some((size, failed)) = c.canaries.filter(|_| c.done >= 1) {
        let allowed = usize::try_from(budget.canary_max_failures).unwrap_or(usize::MAX);
        if failed > allowed {
            return Next::Stopped {
                reason: format!(
                    "{failed} of {size} canary game(s) failed, more than the {allowed} the canary wave tolerates: no other game was started"
                ),
                failed,
                allowed,
                not_started: c.not_started,
            };
        }
    }
    let allowed = budget.allowed(c.games);
    if c.failed > allowed {
        return Next::Stopped {
            reason: format!(
                "{} of {} games failed, more than the {allowed} a {}% budget tolerates: {} game(s) not started",
                c.failed, c.games, budget.max_failure_percent, c.not_started
            ),
            failed: c.failed,
            allowed,
            not_started: c.not_started,
        };
    }
    if c.done >= c.batches {
        Next::Done
    } else {
        Next::Batch { batch: c.done }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(percent: u8) -> Budget {
        Budget {
            max_failure_percent: percent,
            canary_max_failures: 0,
        }
    }

    /// `failing` items end FAILED, the others SUCCEEDED; the fleet runs batch by batch until
    /// `next` says otherwise. Returns the decision that ended it and how many batches ran.
    fn run(
        items: usize,
        canaries: &[usize],
        size: usize,
        failing: &[usize],
        b: &Budget,
    ) -> (Next, usize) {
        let plan = batches(items, canaries, size);
        let mut endings = vec![];
        let mut done = 0;
        loop {
            match next(&plan, done, &endings, b, !canaries.is_empty()) {
                Next::Batch { batch } => {
                    for &item in &plan[batch] {
                        let verdict = if failing.contains(&item) {
                            Verdict::Failed
                        } else {
                            Verdict::Succeeded
                        };
                        endings.push(GameEnding { item, verdict });
                    }
                    done += 1;
                }
                other => return (other, done),
            }
        }
    }

    #[test]
    fn the_budget_rounds_down() {
        assert_eq!(budget(5).allowed(200), 10);
        assert_eq!(budget(5).allowed(19), 0);
        assert_eq!(budget(100).allowed(7), 7);
        assert_eq!(budget(0).allowed(1000), 0);
    }

    #[test]
    fn canaries_go_first_then_the_rest_in_batches() {
        assert_eq!(
            batches(7, &[5, 2], 2),
            vec![vec![5, 2], vec![0, 1], vec![3, 4], vec![6]]
        );
        assert_eq!(batches(3, &[], 5), vec![vec![0, 1, 2]]);
        assert_eq!(batches(0, &[], 5), Vec::<Vec<usize>>::new());
    }

    #[test]
    fn three_percent_under_a_five_percent_budget_completes() {
        // 200 games, 6 failures (3%) at fixed positions, batches of 20.
        let failing = [3, 40, 77, 120, 150, 199];
        let (end, ran) = run(200, &[], 20, &failing, &budget(5));
        assert_eq!((end, ran), (Next::Done, 10));
    }

    #[test]
    fn six_percent_stops_at_the_batch_that_passes_the_budget() {
        // 12 failures (6%): the 11th is in item 110's batch (the sixth), so batches 7-10 never
        // start; the games of the sixth batch all finished (nothing running is stopped).
        let failing = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 110, 180];
        let (end, ran) = run(200, &[], 20, &failing, &budget(5));
        assert_eq!(ran, 6);
        match end {
            Next::Stopped {
                failed,
                allowed,
                not_started,
                reason,
            } => {
                assert_eq!((failed, allowed, not_started), (11, 10, 80));
                assert!(reason.contains("11 of 200 games failed"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_failed_canary_stops_everything_else() {
        let (end, ran) = run(50, &[0, 1], 10, &[1], &budget(50));
        assert_eq!(ran, 1);
        assert!(
            matches!(
                end,
                Next::Stopped {
                    not_started: 48,
                    ..
                }
            ),
            "{end:?}"
        );
        // Within the canary allowance it goes on.
        let lenient = Budget {
            max_failure_percent: 50,
            canary_max_failures: 1,
        };
        assert_eq!(run(50, &[0, 1], 10, &[1], &lenient).0, Next::Done);
    }

    #[test]
    fn refusals_do_not_count_against_the_budget_but_rollbacks_do() {
        assert!(!counts_as_failure(Verdict::Frozen));
        assert!(!counts_as_failure(Verdict::Rejected));
        assert!(!counts_as_failure(Verdict::Unchanged));
        assert!(counts_as_failure(Verdict::RolledBack));
        assert!(counts_as_failure(Verdict::TimedOut));
        assert!(counts_as_failure(Verdict::Error));
        // Every verdict is one or the other, by its class alone.
        for v in Verdict::ALL {
            let class = v.ending();
            assert_eq!(
                counts_as_failure(v),
                matches!(class, Ending::RolledBack | Ending::NeedsPerson),
                "{}",
                v.as_str()
            );
        }
    }
}
