//! Just enough Markdown for the docs tier to know where a word stands: in a fenced code block (and
//! which language), in a code span, in a table row, or in prose. The checks differ by place: a
//! SCREAMING word in prose is an acronym, in a code span it names an outcome; a `--flag` in a
//! code block after `sam deploy` is not the CLI's. No Markdown library: the docs use a small,
//! regular subset, and this stays a few lines the tier's fixtures exercise.

/// One line of a document with what the scanner knows about its place.
#[derive(Debug, Clone)]
pub struct Line {
    /// 1-based, as editors show it.
    pub number: usize,
    pub text: String,
    /// Inside a fenced code block: its info string (`json`, `sh`, or empty).
    pub block: Option<String>,
    /// The fence line itself (opening or closing).
    pub fence: bool,
}

impl Line {
    /// The code spans of a prose line (none inside code blocks: there all of it is code).
    pub fn spans(&self) -> Vec<String> {
        if self.block.is_some() || self.fence {
            return Vec::new();
        }
        code_spans(&self.text)
    }

    /// A table row: the cells between the pipes (escaped `\|` stays in its cell).
    pub fn cells(&self) -> Option<Vec<String>> {
        let trimmed = self.text.trim();
        if self.block.is_some() || !trimmed.starts_with('|') {
            return None;
        }
        let mut cells = Vec::new();
        let mut cell = String::new();
        let mut chars = trimmed[1..].chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' if chars.peek() == Some(&'|') => {
                    cell.push('|');
                    chars.next();
                }
                '|' => cells.push(std::mem::take(&mut cell).trim().to_owned()),
                _ => cell.push(c),
            }
        }
        Some(cells)
    }
}

pub fn lines(text: &str) -> Vec<Line> {
    let mut block: Option<String> = None;
    let mut out = Vec::new();
    for (index, text) in text.lines().enumerate() {
        let trimmed = text.trim_start();
        let fence = trimmed.starts_with("```");
        let here = if fence {
            match block.take() {
                Some(_) => None,
                None => {
                    block = Some(trimmed.trim_start_matches('`').trim().to_owned());
                    None
                }
            }
        } else {
            block.clone()
        };
        out.push(Line {
            number: index + 1,
            text: text.to_owned(),
            block: here,
            fence,
        });
    }
    out
}

/// The fenced code blocks: info string, first content line's number, content.
pub fn blocks(lines: &[Line]) -> Vec<(String, usize, String)> {
    let mut out: Vec<(String, usize, String)> = Vec::new();
    let mut current: Option<(String, usize, String)> = None;
    for line in lines {
        match (&line.block, current.as_mut()) {
            (Some(info), None) => {
                current = Some((info.clone(), line.number, format!("{}\n", line.text)))
            }
            (Some(_), Some((_, _, text))) => {
                text.push_str(&line.text);
                text.push('\n');
            }
            (None, Some(_)) => out.extend(current.take()),
            (None, None) => {}
        }
    }
    out.extend(current);
    out
}

/// Code spans: text between equal runs of backticks (``a `b` c`` holds a backtick).
pub fn code_spans(text: &str) -> Vec<String> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'`' {
            i += 1;
            continue;
        }
        let run = bytes[i..].iter().take_while(|&&b| b == b'`').count();
        let start = i + run;
        let mut j = start;
        let mut closed = None;
        while j < bytes.len() {
            if bytes[j] == b'`' {
                let other = bytes[j..].iter().take_while(|&&b| b == b'`').count();
                if other == run {
                    closed = Some(j);
                    break;
                }
                j += other;
            } else {
                j += 1;
            }
        }
        match closed {
            Some(end) => {
                spans.push(text[start..end].trim().to_owned());
                i = end + run;
            }
            None => i = start,
        }
    }
    spans
}

/// The text of a prose line with its code spans removed (acronyms and prose counts live here).
pub fn prose(text: &str) -> String {
    let mut out = text.to_owned();
    for span in code_spans(text) {
        out = out.replacen(&span, " ", 1);
    }
    out
}

/// Words of a text split at anything but letters, digits, `_` and `-`: what identifiers are made
/// of, with their byte offsets.
pub fn words(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        let part = c.is_ascii_alphanumeric() || c == '_' || c == '-';
        match (part, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push((s, &text[s..i]));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, &text[s..]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_blocks_spans_and_tables_are_told_apart() {
        let doc = "a `x` and ``y `z` w``\n```json\n{\"a\": 1}\n```\n| `P` | b \\| c |\n";
        let lines = lines(doc);
        assert_eq!(lines[0].spans(), ["x", "y `z` w"]);
        assert_eq!(lines[2].block.as_deref(), Some("json"));
        assert!(lines[1].fence && lines[3].fence && lines[3].block.is_none());
        assert!(lines[2].spans().is_empty(), "no spans inside a code block");
        assert_eq!(lines[4].cells(), Some(vec!["`P`".into(), "b | c".into()]));
        assert_eq!(blocks(&lines), [("json".into(), 3, "{\"a\": 1}\n".into())]);
        assert_eq!(prose("see `x` here"), "see ` ` here");
        let found: Vec<&str> = words("`--dry-run`, AWS_REGION=x")
            .iter()
            .map(|w| w.1)
            .collect();
        assert_eq!(found, ["--dry-run", "AWS_REGION", "x"]);
    }
}
