//! Figures in the docs against their sources: "N cases", "N tiers", "three ports", "15 checkov
//! skips"... each noun has a count taken from the code (`figures::counts`); a figure for a noun
//! nothing counts is not checked.

use crate::markdown::{self, Line};
use crate::mismatch::{Checker, Kind};

/// Figures in the docs that no source in the repository holds, each with why (a phrase of the
/// line, matched case-insensitively).
pub const UNCHECKED_COUNTS: &[(&str, &str)] = &[];

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

fn number(word: &str) -> Option<usize> {
    let digits = word.replace(',', "");
    if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) {
        return digits.parse().ok();
    }
    NUMBER_WORDS.iter().position(|w| *w == word)
}

pub fn counts(c: &mut Checker, lines: &[Line]) {
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
