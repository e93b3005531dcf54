//! Whether a stage's decision records are whole: each record names the one before it and the
//! SHA-256 of its bytes, so a record edited after it was written no longer hashes to what its
//! successor says, and a record deleted from the middle is named by a successor that finds
//! nothing under its key. `verify` reads only the keys and bytes it is given (`stagegate audit
//! verify` lists and reads the stage's prefix) and names every problem, not the first.
//!
//! What the chain cannot detect:
//!
//! - **Deleting the newest record(s).** Nothing names the newest record, so removing it (or the
//!   last few) leaves a shorter chain that is whole. Mitigations: the run's SNS message carries
//!   the key and SHA-256 of the record it wrote (`Message::record`), so a subscriber that keeps
//!   the messages holds the head outside the bucket; and the bucket keeps versions (a delete
//!   leaves a delete marker) and can hold records under Object Lock, which refuses deletes and
//!   overwrites for the retention period, to the account's root user too in compliance mode.
//! - **Rewriting a record and every record after it**, each successor's `previous.sha256`
//!   recomputed: the chain is whole again. The same mitigations apply (the newest hash is in the
//!   subscribers' messages, and Object Lock refuses the overwrites).
//! - **Two runs racing on a stage.** The 0.33 S3 client has no conditional writes (If-None-Match),
//!   so two runs ending together may both name the same previous record. This cannot be
//!   prevented, only reported: a fork.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::record::{sha256_hex, DecisionRecord};

/// One thing wrong with a stage's records, naming the record at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The bytes under `key` are not a decision record.
    Unparsable { key: String, why: String },
    /// `key`'s bytes do not hash to what its successor `named_by` recorded: edited after it was
    /// written (or replaced).
    Altered {
        key: String,
        named_by: String,
        expected: String,
        found: String,
    },
    /// `named_by` names a previous record `key` that is not there: deleted.
    Missing { key: String, named_by: String },
    /// Two or more records name the same previous record: runs raced on the stage, or a record
    /// was inserted beside another.
    Fork {
        previous: String,
        records: Vec<String>,
    },
    /// More than one record names no previous record: the chain was started again (the records
    /// before were deleted, or a second chain was written beside the first).
    Restarted { records: Vec<String> },
    /// A record says it belongs under another key: moved or copied.
    Misplaced { key: String, says: String },
}

impl Problem {
    /// The stable name scripts read (`--output json`).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Unparsable { .. } => "UNPARSABLE",
            Self::Altered { .. } => "ALTERED",
            Self::Missing { .. } => "MISSING",
            Self::Fork { .. } => "FORK",
            Self::Restarted { .. } => "RESTARTED",
            Self::Misplaced { .. } => "MISPLACED",
        }
    }

    /// The records at fault (a fork's are all its branches).
    pub fn keys(&self) -> Vec<&str> {
        match self {
            Self::Unparsable { key, .. }
            | Self::Altered { key, .. }
            | Self::Missing { key, .. }
            | Self::Misplaced { key, .. } => vec![key.as_str()],
            Self::Fork { records, .. } | Self::Restarted { records } => {
                records.iter().map(String::as_str).collect()
            }
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unparsable { key, why } => {
                write!(f, "{key}: not a decision record ({why})")
            }
            Self::Altered {
                key,
                named_by,
                expected,
                found,
            } => write!(
                f,
                "{key}: altered: its bytes hash to {found}, but {named_by} recorded {expected}"
            ),
            Self::Missing { key, named_by } => {
                write!(
                    f,
                    "{key}: missing (deleted): {named_by} names it as its previous record"
                )
            }
            Self::Fork { previous, records } => write!(
                f,
                "fork: {} all name {previous} as their previous record (runs raced on the stage)",
                records.join(", ")
            ),
            Self::Restarted { records } => write!(
                f,
                "restarted: {} each start a chain (no previous record)",
                records.join(", ")
            ),
            Self::Misplaced { key, says } => {
                write!(
                    f,
                    "{key}: moved or copied: the record says its key is {says}"
                )
            }
        }
    }
}

/// What `verify` found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Report {
    /// How many keys were given.
    pub records: usize,
    /// The newest key (the greatest), the one the next record would name.
    pub newest: Option<String>,
    pub problems: Vec<Problem>,
}

impl Report {
    pub fn is_whole(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Checks a stage's records, given as `(key, stored bytes)`, and names every problem: in key order,
/// so two runs of `verify` over the same bucket print the same report.
pub fn verify(records: &[(String, Vec<u8>)]) -> Report {
    let hashes: BTreeMap<&str, String> = records
        .iter()
        .map(|(key, bytes)| (key.as_str(), sha256_hex(bytes)))
        .collect();
    let mut problems = Vec::new();
    // previous key (None: a chain's start) -> the records that name it
    let mut successors: BTreeMap<Option<&str>, BTreeSet<&str>> = BTreeMap::new();
    let mut sorted: Vec<&(String, Vec<u8>)> = records.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let parsed: Vec<(&str, DecisionRecord)> = sorted
        .into_iter()
        .filter_map(|(key, bytes)| match DecisionRecord::parse(bytes) {
            Ok(record) => Some((key.as_str(), record)),
            Err(why) => {
                problems.push(Problem::Unparsable {
                    key: key.clone(),
                    why,
                });
                None
            }
        })
        .collect();
    for (key, record) in &parsed {
        if record.key != *key {
            problems.push(Problem::Misplaced {
                key: (*key).to_owned(),
                says: record.key.clone(),
            });
        }
        let previous = record.previous.as_ref();
        successors
            .entry(previous.map(|p| p.key.as_str()))
            .or_default()
            .insert(key);
        let Some(previous) = previous else { continue };
        match hashes.get(previous.key.as_str()) {
            None => problems.push(Problem::Missing {
                key: previous.key.clone(),
                named_by: (*key).to_owned(),
            }),
            Some(found) if !found.eq_ignore_ascii_case(&previous.sha256) => {
                problems.push(Problem::Altered {
                    key: previous.key.clone(),
                    named_by: (*key).to_owned(),
                    expected: previous.sha256.clone(),
                    found: found.clone(),
                })
            }
            Some(_) => {}
        }
    }
    for (previous, named_by) in successors {
        if named_by.len() < 2 {
            continue;
        }
        let records = named_by.into_iter().map(str::to_owned).collect();
        problems.push(match previous {
            Some(previous) => Problem::Fork {
                previous: previous.to_owned(),
                records,
            },
            None => Problem::Restarted { records },
        });
    }
    Report {
        records: records.len(),
        newest: hashes.keys().max().map(|k| (*k).to_owned()),
        problems,
    }
}

#[cfg(test)]
mod tests;
