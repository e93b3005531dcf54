//! What the docs tier reports: a mismatch between a doc and the code, by file, line and kind,
//! and the `Checker` each rule reports into. Apart from the rules so that they share one vocabulary
//! and the fixtures can be named after the kinds.

use std::fmt;

use crate::facts::Facts;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    UnknownFlag,
    FlagOnWrongCommand,
    WrongValues,
    UnknownEnvVar,
    UnknownInputField,
    InvalidInputExample,
    UnknownOutcome,
    UnknownParameter,
    MissingParameter,
    WrongCount,
    MissingPath,
    MissingFromLayout,
    UnlistedCrate,
    WrongVersion,
    IncompleteOutcomes,
}

impl Kind {
    pub const ALL: [Kind; 15] = [
        Kind::UnknownFlag,
        Kind::FlagOnWrongCommand,
        Kind::WrongValues,
        Kind::UnknownEnvVar,
        Kind::UnknownInputField,
        Kind::InvalidInputExample,
        Kind::UnknownOutcome,
        Kind::UnknownParameter,
        Kind::MissingParameter,
        Kind::WrongCount,
        Kind::MissingPath,
        Kind::MissingFromLayout,
        Kind::UnlistedCrate,
        Kind::WrongVersion,
        Kind::IncompleteOutcomes,
    ];

    /// The fixtures are named after these.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::UnknownFlag => "unknown-flag",
            Kind::FlagOnWrongCommand => "flag-on-wrong-command",
            Kind::WrongValues => "wrong-values",
            Kind::UnknownEnvVar => "unknown-env-var",
            Kind::UnknownInputField => "unknown-input-field",
            Kind::InvalidInputExample => "invalid-input-example",
            Kind::UnknownOutcome => "unknown-outcome",
            Kind::UnknownParameter => "unknown-parameter",
            Kind::MissingParameter => "missing-parameter",
            Kind::WrongCount => "wrong-count",
            Kind::MissingPath => "missing-path",
            Kind::MissingFromLayout => "missing-from-layout",
            Kind::UnlistedCrate => "unlisted-crate",
            Kind::WrongVersion => "wrong-version",
            Kind::IncompleteOutcomes => "incomplete-outcomes",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Mismatch {
    pub file: String,
    pub line: usize,
    pub kind: Kind,
    pub detail: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}: {}",
            self.file,
            self.line,
            self.kind.as_str(),
            self.detail
        )
    }
}

pub struct Checker<'a> {
    pub file: &'a str,
    pub facts: &'a Facts,
    pub found: Vec<Mismatch>,
}

impl Checker<'_> {
    pub fn report(&mut self, line: usize, kind: Kind, detail: String) {
        self.found.push(Mismatch {
            file: self.file.to_owned(),
            line,
            kind,
            detail,
        });
    }
}
