//! The docs tier's checker: one function over a document's text and the code's `Facts`, so the
//! real docs and the planted-mismatch fixtures go through the same code. It extracts by pattern
//! (where a word stands decides what it is: a `--flag` after `stagegate status`, a SCREAMING word
//! in a code span, a `policy.x` path, a JSON example, a parameter table, "N cases") and reports each
//! thing the code does not have, by file, line and kind.

use std::collections::BTreeSet;
use std::fmt;

use serde_json::Value;

use crate::facts::{is_env_name, is_screaming, Facts};
use crate::markdown::{self, Line};

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
}

impl Kind {
    pub const ALL: [Kind; 10] = [
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

/// Figures in the docs that no source in the repository holds, each with why (a phrase of the
/// line, matched case-insensitively).
pub const UNCHECKED_COUNTS: &[(&str, &str)] = &[];

/// Programs other than `stagegate` whose flags a doc shows (their flags are theirs).
const OTHER_PROGRAMS: &[&str] = &[
    "cargo",
    "xtask",
    "sam",
    "aws",
    "git",
    "python",
    "python3",
    "npm",
    "npx",
    "gamesparks-local",
    "stagegate-local",
    "stagegate-sim",
    "stagegate-bench",
    "cfn-lint",
    "checkov",
    "credential_process",
    "curl",
];

/// Prose words that say the flags around them belong to another tool of the workspace.
const OTHER_TOOLS_IN_PROSE: &[&str] = &[
    "emulator",
    "demo",
    "simulator",
    "soak",
    "mutants",
    "cargo-mutants",
    "sam",
];

const NUMBER_WORDS: &[&str] = &[
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
];

#[derive(Clone, Debug, PartialEq)]
enum Program {
    /// `stagegate`, with the subcommand when the text names one.
    Ours(Option<String>),
    Other,
}

struct Checker<'a> {
    file: &'a str,
    facts: &'a Facts,
    found: Vec<Mismatch>,
}

impl Checker<'_> {
    fn report(&mut self, line: usize, kind: Kind, detail: String) {
        self.found.push(Mismatch {
            file: self.file.to_owned(),
            line,
            kind,
            detail,
        });
    }
}

pub fn check(file: &str, text: &str, facts: &Facts) -> Vec<Mismatch> {
    let lines = markdown::lines(text);
    let mut checker = Checker {
        file,
        facts,
        found: Vec::new(),
    };
    flags(&mut checker, &lines);
    flag_values(&mut checker, &lines);
    env_vars(&mut checker, &lines);
    outcomes(&mut checker, &lines);
    fields(&mut checker, &lines);
    json_examples(&mut checker, &lines);
    parameters(&mut checker, &lines);
    counts(&mut checker, &lines);
    let mut found = checker.found;
    found.sort();
    found.dedup();
    found
}

// ---- flags

fn flags(c: &mut Checker, lines: &[Line]) {
    // Whose flags a section shows: the last program its prose or spans named (a heading starts
    // a new section).
    let mut section: Option<Program> = None;
    let mut shell: Option<Program> = None;
    let mut continued = false;
    for line in lines {
        if line.block.is_none() && line.text.starts_with('#') {
            section = None;
        }
        if line.fence {
            continued = false;
            continue;
        }
        if let Some(info) = &line.block {
            // A shell line: its own program, or the one of the line it continues. In a console
            // transcript only the `$ ` lines are commands.
            let mut text = line.text.trim_start();
            if info == "console" {
                match text.strip_prefix("$ ") {
                    Some(command) => text = command,
                    None => continue,
                }
            }
            let mut current = if continued { shell.clone() } else { None };
            command_line(c, line.number, text, &mut current);
            continued = text.trim_end().ends_with('\\');
            shell = current;
            continue;
        }
        let prose = markdown::prose(&line.text).to_lowercase();
        if markdown::words(&prose)
            .iter()
            .any(|(_, w)| OTHER_TOOLS_IN_PROSE.contains(w))
        {
            section = Some(Program::Other);
        }
        for span in line.spans() {
            // A span alone (`--json`) is the section's program's, on no particular command; a
            // span that names `stagegate status` is that command's.
            let mut current = match &section {
                Some(Program::Ours(_)) => None,
                other => other.clone(),
            };
            command_line(c, line.number, &span, &mut current);
            if current.is_some() {
                section = current;
            }
        }
    }
}

/// One code span or shell line: who is the program, and are its flags its own.
fn command_line(c: &mut Checker, number: usize, text: &str, program: &mut Option<Program>) {
    let commands: Vec<&str> = text
        .split(" | ")
        .flat_map(|t| t.split("; "))
        .flat_map(|t| t.split(" && "))
        .collect();
    for (i, command) in commands.into_iter().enumerate() {
        if i > 0 {
            *program = None;
        }
        if command.trim_start().starts_with('$') {
            // `$I start-deployment ...`: a program held in a shell variable.
            *program = Some(Program::Other);
        }
        one_command(c, number, command, program);
    }
}

fn one_command(c: &mut Checker, number: usize, text: &str, program: &mut Option<Program>) {
    let mut expect_subcommand = false;
    for raw in text.split_whitespace() {
        let token = raw.trim_matches(|ch: char| "[]()\"',;`".contains(ch));
        if token == "stagegate" || token.ends_with("/stagegate") {
            *program = Some(Program::Ours(None));
            expect_subcommand = true;
            continue;
        }
        if expect_subcommand && !token.starts_with('-') {
            expect_subcommand = false;
            if c.facts.commands.contains_key(token) && !token.is_empty() {
                *program = Some(Program::Ours(Some(token.to_owned())));
                continue;
            }
        }
        if OTHER_PROGRAMS.contains(&token) {
            *program = Some(Program::Other);
            continue;
        }
        for part in token.split(['/', '|']) {
            let Some(name) = part.strip_prefix("--") else {
                continue;
            };
            let name: String = name
                .split('=')
                .next()
                .unwrap_or_default()
                .chars()
                .take_while(|ch| ch.is_ascii_alphanumeric() || *ch == '-')
                .collect();
            if name.is_empty() {
                continue;
            }
            flag(c, number, &name, program.as_ref());
        }
    }
}

fn flag(c: &mut Checker, number: usize, name: &str, program: Option<&Program>) {
    let anywhere = c.facts.commands.values().any(|f| f.contains(name));
    match program {
        Some(Program::Other) => {}
        Some(Program::Ours(Some(command))) => {
            let here = c
                .facts
                .commands
                .get(command)
                .is_some_and(|f| f.contains(name));
            if !here && anywhere {
                let on: Vec<&str> = c
                    .facts
                    .commands
                    .iter()
                    .filter(|(_, f)| f.contains(name))
                    .map(|(cmd, _)| cmd.as_str())
                    .collect();
                c.report(
                    number,
                    Kind::FlagOnWrongCommand,
                    format!(
                        "`stagegate {command}` has no --{name} (it is an option of: {})",
                        on.join(", ")
                    ),
                );
            } else if !here {
                c.report(
                    number,
                    Kind::UnknownFlag,
                    format!("--{name}: no such option of `stagegate {command}` or any command"),
                );
            }
        }
        Some(Program::Ours(None)) => {
            if !anywhere {
                c.report(
                    number,
                    Kind::UnknownFlag,
                    format!("--{name}: no `stagegate` command has this option"),
                );
            }
        }
        None => {
            // Whose it is the text does not say: the workspace's other programs' flags pass.
            if !anywhere && !c.facts.other_flags.contains(name) {
                c.report(
                    number,
                    Kind::UnknownFlag,
                    format!("--{name}: no `stagegate` command has this option"),
                );
            }
        }
    }
}

/// `--scenario success|alert|rollback` lists a flag's values: all of them, and only those; a
/// single lowercase value (`--scenario abort`) must be one of them.
fn flag_values(c: &mut Checker, lines: &[Line]) {
    for line in lines.iter().filter(|l| !l.fence) {
        let units: Vec<String> = match line.block {
            Some(_) => vec![line.text.clone()],
            None => line.spans(),
        };
        for unit in units {
            let unit = unit.replace("\\|", "|");
            let tokens: Vec<&str> = unit.split_whitespace().collect();
            for (i, token) in tokens.iter().enumerate() {
                let Some(flag) = token.strip_prefix("--") else {
                    continue;
                };
                let (flag, inline) = match flag.split_once('=') {
                    Some((f, v)) => (f, Some(v)),
                    None => (flag, tokens.get(i + 1).copied()),
                };
                let (Some(known), Some(given)) = (c.facts.values.get(flag), inline) else {
                    continue;
                };
                let given = given.trim_matches(|ch: char| "[]()`'\",".contains(ch));
                let listed: BTreeSet<String> = given.split('|').map(str::to_owned).collect();
                let plain = |v: &String| {
                    !v.is_empty()
                        && v.chars().all(|ch| {
                            ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-' || ch == '_'
                        })
                };
                if !listed.iter().all(plain) {
                    // A placeholder (`--time-scale X`, `--input @FILE`), not a value.
                    continue;
                }
                let unknown: Vec<&str> = listed.difference(known).map(String::as_str).collect();
                let left_out: Vec<&str> = known.difference(&listed).map(String::as_str).collect();
                if !unknown.is_empty() {
                    c.report(
                        line.number,
                        Kind::WrongValues,
                        format!("--{flag} has no value {}", unknown.join(", ")),
                    );
                } else if listed.len() > 1 && !left_out.is_empty() {
                    c.report(
                        line.number,
                        Kind::WrongValues,
                        format!("--{flag}'s list leaves out {}", left_out.join(", ")),
                    );
                }
            }
        }
    }
}

// ---- environment variables

fn env_vars(c: &mut Checker, lines: &[Line]) {
    for line in lines.iter().filter(|l| !l.fence) {
        for (at, word) in markdown::words(&line.text) {
            let shell_variable = line.text[..at].ends_with('$');
            // `<ENDPOINT_URL>`: a placeholder for a value, not a variable.
            let placeholder =
                line.text[..at].ends_with('<') && line.text[at + word.len()..].starts_with('>');
            let assigned = line.block.is_some()
                && line.text[at + word.len()..].starts_with('=')
                && is_screaming(word)
                && word.contains('_');
            if shell_variable || placeholder || !(is_env_name(word) || assigned) {
                continue;
            }
            let known = match word.strip_suffix('_') {
                // `AWS_ENDPOINT_URL_<SERVICE>`, `STAGEGATE_*`: a family of variables.
                Some(prefix) => c.facts.env_vars.iter().any(|v| v.starts_with(prefix)),
                None => c.facts.env_vars.contains(word),
            };
            if !known {
                c.report(
                    line.number,
                    Kind::UnknownEnvVar,
                    format!("{word}: no code in the workspace reads this variable"),
                );
            }
        }
    }
}

// ---- outcomes

fn outcomes(c: &mut Checker, lines: &[Line]) {
    for line in lines.iter().filter(|l| l.block.is_none() && !l.fence) {
        let mut candidates: Vec<String> = Vec::new();
        for span in line.spans() {
            // A command line's capitals are placeholders (`--input JSON`, `<VALUE>`).
            if span.contains("--") || span.contains('<') {
                continue;
            }
            // A capitalised word alone is an outcome only as the whole span (`FROZEN`; not the
            // `AREA` of a path or the `ALL` of `Verdict::ALL`); one with `_` anywhere.
            candidates.extend(
                markdown::words(&span)
                    .into_iter()
                    .map(|(_, w)| w.to_owned())
                    .filter(|w| is_screaming(w) && w.len() >= 3 && (w.contains('_') || *w == span)),
            );
        }
        candidates.extend(
            markdown::words(&markdown::prose(&line.text))
                .into_iter()
                .map(|(_, w)| w.to_owned())
                .filter(|w| is_screaming(w) && w.contains('_') && !w.ends_with('_')),
        );
        for word in candidates {
            if is_env_name(&word)
                || word.ends_with('_')
                || c.facts.env_vars.contains(&word)
                || c.facts.constants.contains(&word)
            {
                continue;
            }
            if !c.facts.verdicts.contains(&word) && !c.facts.states.contains(&word) {
                c.report(
                    line.number,
                    Kind::UnknownOutcome,
                    format!(
                        "{word}: not an outcome of the gate (Verdict), nor a state of Step \
                         Functions, GameSparks or CloudWatch, nor a value of the contracts"
                    ),
                );
            }
        }
    }
}

// ---- input fields

/// `policy.timeoutSeconds`, `wave.stages[i].passed`, `timeoutGraceSeconds`: a span that is one
/// field name or path.
fn field_path(span: &str) -> Option<&str> {
    let ok = span.split('.').all(|segment| {
        let name = segment.split('[').next().unwrap_or_default();
        name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
            && name.chars().all(|c| c.is_ascii_alphanumeric())
    });
    (ok && (span.contains('.') || span.chars().any(|c| c.is_ascii_uppercase()))).then_some(span)
}

fn top_level(schema: &Value) -> BTreeSet<String> {
    schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

fn fields(c: &mut Checker, lines: &[Line]) {
    let input_top = top_level(&c.facts.input_schema);
    let message_top = top_level(&c.facts.message_schema);
    // The headings above a line, by level: a section about the input names input fields alone
    // (`timeoutGraceSeconds`); elsewhere a lone camelCase name may be anything's (an API
    // parameter, a gate state member), and only paths from the input's root are checked.
    let mut headings: Vec<(usize, String)> = Vec::new();
    for line in lines {
        if line.block.is_none() && !line.fence && line.text.starts_with('#') {
            let level = line.text.chars().take_while(|c| *c == '#').count();
            headings.retain(|(l, _)| *l < level);
            headings.push((level, line.text.to_lowercase()));
        }
        let about_input = headings.iter().any(|(_, h)| h.contains("input"));
        for span in line.spans() {
            let Some(path) = field_path(&span) else {
                continue;
            };
            let file = ["rs", "md", "json", "py", "sh", "yaml", "toml", "txt"]
                .iter()
                .any(|ext| path.ends_with(&format!(".{ext}")));
            if file || (!path.contains('.') && !about_input) {
                continue;
            }
            let path = path.strip_prefix("input.").unwrap_or(path);
            let first = path.split(['.', '[']).next().unwrap_or_default();
            let known = if path.contains('.') {
                // A path is checked when it starts at the input's or the message's root.
                !(input_top.contains(first) || message_top.contains(first))
                    || c.facts.resolves(path)
            } else {
                c.facts.input_fields.contains(path) || c.facts.message_fields.contains(path)
            };
            if !known {
                c.report(
                    line.number,
                    Kind::UnknownInputField,
                    format!(
                        "`{path}`: not a field of the execution input (schemas/\
                         execution-input.schema.json) or of the message"
                    ),
                );
            }
        }
    }
}

/// JSON examples: one that is an execution input must pass the gate's own parser (what
/// `stagegate validate` runs); a fragment (`"freezeWindows": [...]`) must use only input fields.
fn json_examples(c: &mut Checker, lines: &[Line]) {
    let input_top = top_level(&c.facts.input_schema);
    for (info, first_line, text) in markdown::blocks(lines) {
        if !(info == "json" || (info.is_empty() && text.trim_start().starts_with('{'))) {
            continue;
        }
        let line_of = |needle: &str| {
            text.lines()
                .position(|l| l.contains(needle))
                .map_or(first_line, |i| first_line + i)
        };
        // One value, several one after another, or a fragment of an object's members.
        let stream: Result<Vec<Value>, _> = serde_json::Deserializer::from_str(&text)
            .into_iter::<Value>()
            .collect();
        let (values, fragment) = match stream {
            Ok(values) => (values, false),
            Err(e) => match serde_json::from_str::<Value>(&format!("{{{text}}}")) {
                Ok(v) => (vec![v], true),
                Err(_) if text.contains("\"gameName\"") => {
                    c.report(
                        first_line,
                        Kind::InvalidInputExample,
                        format!("an execution input that is not JSON: {e}"),
                    );
                    continue;
                }
                Err(_) => continue,
            },
        };
        for value in &values {
            let Ok(one) = serde_json::to_string(value) else {
                continue;
            };
            json_value(c, value, &one, fragment, &line_of, first_line, &input_top);
        }
    }
}

fn json_value(
    c: &mut Checker,
    value: &Value,
    text: &str,
    fragment: bool,
    line_of: &dyn Fn(&str) -> usize,
    first_line: usize,
    input_top: &BTreeSet<String>,
) {
    {
        let Some(object) = value.as_object() else {
            return;
        };
        let unknown_top: Vec<&String> = object.keys().filter(|k| !input_top.contains(*k)).collect();
        if fragment {
            let mut keys = BTreeSet::new();
            collect_keys(value, &mut keys);
            for key in keys.iter().filter(|k| !c.facts.input_fields.contains(*k)) {
                c.report(
                    line_of(&format!("\"{key}\"")),
                    Kind::UnknownInputField,
                    format!("\"{key}\": not a field of the execution input"),
                );
            }
        } else if object.contains_key("gameName") && unknown_top.len() < 3 {
            // A typo gives one or two unknown members; a gate state or a message has many.
            if let Err(e) = stagegate_cli::validate::check(text) {
                let at = unknown_top
                    .first()
                    .map_or(first_line, |k| line_of(&format!("\"{k}\"")));
                c.report(
                    at,
                    Kind::InvalidInputExample,
                    format!("the gate's parser rejects this input: {e}"),
                );
            }
        }
    }
}

fn collect_keys(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                out.insert(k.clone());
                collect_keys(v, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_keys(v, out)),
        _ => {}
    }
}

// ---- template parameters

fn parameters(c: &mut Checker, lines: &[Line]) {
    let mut table: Option<(usize, BTreeSet<String>)> = None;
    let mut in_table = false;
    for line in lines {
        let cells = line.cells();
        let Some(cells) = cells else {
            if let Some((header, listed)) = table.take() {
                missing(c, header, &listed);
            }
            in_table = false;
            overrides(c, line);
            continue;
        };
        let first = cells.first().cloned().unwrap_or_default();
        if !in_table {
            in_table = true;
            if first.to_lowercase().starts_with("parameter") {
                table = Some((line.number, BTreeSet::new()));
            }
            continue;
        }
        let Some((_, listed)) = table.as_mut() else {
            continue;
        };
        for span in markdown::code_spans(&first) {
            for name in span.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                listed.insert(name.to_owned());
                if !c.facts.parameters.iter().any(|p| p == name) {
                    c.report(
                        line.number,
                        Kind::UnknownParameter,
                        format!("{name}: infra/template.yaml has no such parameter"),
                    );
                }
            }
        }
    }
    if let Some((header, listed)) = table {
        missing(c, header, &listed);
    }
}

fn missing(c: &mut Checker, header: usize, listed: &BTreeSet<String>) {
    let absent: Vec<&String> = c
        .facts
        .parameters
        .iter()
        .filter(|p| !listed.contains(*p))
        .collect();
    for name in absent {
        c.report(
            header,
            Kind::MissingParameter,
            format!("{name}: a parameter of infra/template.yaml this parameter table leaves out"),
        );
    }
}

/// `sam deploy --parameter-overrides Name=value ...`
fn overrides(c: &mut Checker, line: &Line) {
    let Some((_, after)) = line.text.split_once("--parameter-overrides") else {
        return;
    };
    for token in after.split_whitespace() {
        let Some((name, _)) = token.trim_matches(['"', '\'']).split_once('=') else {
            continue;
        };
        let name = name.strip_prefix("ParameterKey=").unwrap_or(name);
        if !name.is_empty() && !c.facts.parameters.iter().any(|p| p == name) {
            c.report(
                line.number,
                Kind::UnknownParameter,
                format!("{name}: infra/template.yaml has no such parameter"),
            );
        }
    }
}

// ---- counts

fn number(word: &str) -> Option<usize> {
    let digits = word.replace(',', "");
    if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) {
        return digits.parse().ok();
    }
    NUMBER_WORDS.iter().position(|w| *w == word)
}

fn counts(c: &mut Checker, lines: &[Line]) {
    // Prose, and the diagrams of `text` blocks (not commands or data).
    let counted =
        |l: &&Line| !l.fence && matches!(l.block.as_deref(), None | Some("text") | Some(""));
    for line in lines.iter().filter(counted) {
        let prose = markdown::prose(&line.text).to_lowercase();
        let lower = line.text.to_lowercase();
        if UNCHECKED_COUNTS
            .iter()
            .any(|(phrase, _)| lower.contains(phrase))
        {
            continue;
        }
        for clause in prose
            .split(['(', ')', ';', ':'])
            .flat_map(|c| c.split(". "))
        {
            count_clause(c, line.number, clause);
        }
    }
}

/// Words a figure and its noun may have between them ("33 e2e cases"), unless they end the phrase.
const NOT_QUALIFIERS: &[&str] = &[
    "the", "of", "for", "in", "on", "to", "and", "or", "a", "an", "s", "ms", "with", "by", "per",
    "at", "from", "than", "times",
];

fn count_clause(c: &mut Checker, number_at: usize, clause: &str) {
    {
        let words: Vec<&str> = clause
            .split(|ch: char| !(ch.is_ascii_alphanumeric() || ch == ',' || ch == '-'))
            .map(|w| w.trim_matches(','))
            .filter(|w| !w.is_empty())
            .collect();
        for (i, word) in words.iter().enumerate() {
            let Some(n) = number(word) else {
                continue;
            };
            // The noun right after the figure, or after one qualifying word ("33 e2e cases").
            for skip in [1, 2] {
                let noun = words.get(i + skip).copied().unwrap_or_default();
                let two = format!("{noun} {}", words.get(i + skip + 1).copied().unwrap_or(""));
                let (name, figures) = match (
                    c.facts.counts.get_key_value(two.as_str()),
                    c.facts.counts.get_key_value(noun),
                ) {
                    (Some(found), _) | (None, Some(found)) => found,
                    (None, None) => continue,
                };
                if skip == 2
                    && (number(words[i + 1]).is_some() || NOT_QUALIFIERS.contains(&words[i + 1]))
                {
                    break;
                }
                if !figures.contains(&n) {
                    let true_figures: Vec<String> = figures.iter().map(usize::to_string).collect();
                    c.report(
                        number_at,
                        Kind::WrongCount,
                        format!(
                            "\"{word} ... {name}\": the code has {}",
                            true_figures.join(" or ")
                        ),
                    );
                }
                break;
            }
        }
    }
}
