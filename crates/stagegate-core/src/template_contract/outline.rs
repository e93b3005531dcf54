//! Reads the subset of YAML `infra/template.yaml` is written in (block mappings and sequences,
//! plain, quoted and block scalars, CloudFormation's short tags such as `!Ref X` kept as text),
//! so the core's tests can hold the template to the core's decisions without a YAML crate: the
//! serde YAML crates are unmaintained, none reads CloudFormation's tags, and a dependency would be
//! supply-chain surface for one test. Flow collections (`[a, b]`) stay text. Not a YAML parser:
//! anything the template does not use is out of scope, and a test that needs it fails visibly
//! (a path that is not found), never silently.

/// A node of the template: a scalar's text, a mapping's entries in order, or a sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Scalar(String),
    Map(Vec<(String, Node)>),
    Seq(Vec<Node>),
}

impl Node {
    pub fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn path(&self, keys: &[&str]) -> Option<&Node> {
        keys.iter().try_fold(self, |node, key| node.get(key))
    }

    pub fn text(&self) -> Option<&str> {
        match self {
            Node::Scalar(s) => Some(s),
            _ => None,
        }
    }

    pub fn items(&self) -> &[Node] {
        match self {
            Node::Seq(items) => items,
            _ => &[],
        }
    }

    pub fn entries(&self) -> &[(String, Node)] {
        match self {
            Node::Map(entries) => entries,
            _ => &[],
        }
    }
}

pub fn parse(text: &str) -> Node {
    let mut parser = Parser {
        lines: text.lines().collect(),
        at: 0,
    };
    parser.block(0)
}

struct Parser<'a> {
    lines: Vec<&'a str>,
    at: usize,
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

fn blank_or_comment(line: &str) -> bool {
    let t = line.trim();
    t.is_empty() || t.starts_with('#')
}

fn is_item(content: &str) -> bool {
    content == "-" || content.starts_with("- ")
}

/// `key: rest` or `key:` of a mapping entry; None for anything else (a scalar item).
fn split_entry(content: &str) -> Option<(&str, &str)> {
    if content.starts_with(['"', '\'', '[', '{', '!', '|', '>']) {
        return None;
    }
    if let Some(key) = content.strip_suffix(':') {
        return (!key.contains(": ")).then_some((key, ""));
    }
    content.split_once(": ")
}

/// A scalar's text: quotes removed (with their escapes), or a plain scalar without its comment.
fn scalar(raw: &str) -> String {
    let raw = raw.trim();
    if let Some(inner) = raw.strip_prefix('\'') {
        let end = inner.rfind('\'').unwrap_or(inner.len());
        return inner[..end].replace("''", "'");
    }
    if let Some(inner) = raw.strip_prefix('"') {
        let mut out = String::new();
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            match c {
                '"' => break,
                '\\' => match chars.next() {
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some(other) => out.push(other),
                    None => {}
                },
                c => out.push(c),
            }
        }
        return out;
    }
    match raw.find(" #") {
        Some(i) => raw[..i].trim_end().to_owned(),
        None => raw.to_owned(),
    }
}

impl<'a> Parser<'a> {
    /// The next line that is neither blank nor a comment: its indentation and content.
    fn peek(&self) -> Option<(usize, &'a str)> {
        self.lines[self.at.min(self.lines.len())..]
            .iter()
            .copied()
            .find(|l| !blank_or_comment(l))
            .map(|l| (indent(l), l.trim()))
    }

    fn skip_to_next(&mut self) {
        while self.at < self.lines.len() && blank_or_comment(self.lines[self.at]) {
            self.at += 1;
        }
    }

    /// The block starting at the next line, if it is indented at least `min`.
    fn block(&mut self, min: usize) -> Node {
        match self.peek() {
            Some((ind, content)) if ind >= min => {
                if is_item(content) {
                    self.seq(ind)
                } else {
                    self.map(ind, Vec::new())
                }
            }
            _ => Node::Scalar(String::new()),
        }
    }

    fn map(&mut self, ind: usize, mut entries: Vec<(String, Node)>) -> Node {
        while let Some((i, content)) = self.peek() {
            if i != ind || is_item(content) {
                break;
            }
            let Some((key, rest)) = split_entry(content) else {
                break;
            };
            let (key, rest) = (scalar(key), rest.to_owned());
            self.skip_to_next();
            self.at += 1;
            let value = self.value(&rest, ind);
            entries.push((key, value));
        }
        Node::Map(entries)
    }

    fn seq(&mut self, ind: usize) -> Node {
        let mut items = Vec::new();
        while let Some((i, content)) = self.peek() {
            if i != ind || !is_item(content) {
                break;
            }
            self.skip_to_next();
            let line = self.lines[self.at];
            self.at += 1;
            let after = content.strip_prefix('-').unwrap_or_default().trim_start();
            // The item's first entry sits on the dash's line, at the column its text starts.
            let column = line.len() - after.len();
            let item = match split_entry(after) {
                _ if after.is_empty() => self.block(ind + 1),
                Some((key, rest)) => {
                    let (key, rest) = (scalar(key), rest.to_owned());
                    let first = self.value(&rest, column);
                    self.map(column, vec![(key, first)])
                }
                None => self.value(after, ind),
            };
            items.push(item);
        }
        Node::Seq(items)
    }

    /// The value after `key:` on a line indented `ind`: inline, a block scalar, or a nested block.
    fn value(&mut self, rest: &str, ind: usize) -> Node {
        let rest = rest.trim();
        let nested = matches!(self.peek(), Some((i, c)) if i > ind || (i == ind && is_item(c)));
        if rest.is_empty() || (rest.starts_with('!') && !rest.contains(' ') && nested) {
            // An empty value, or a tag alone (`!If`) whose arguments follow as a block.
            return match self.peek() {
                Some((i, c)) if i == ind && is_item(c) => self.seq(ind),
                _ => self.block(ind + 1),
            };
        }
        // `!Sub |`: the tag is dropped, the block is the text.
        let untagged = match rest.strip_prefix('!') {
            Some(tagged) => tagged.split_once(' ').map_or("", |(_, r)| r.trim()),
            None => rest,
        };
        if let Some(style) = untagged.chars().next().filter(|c| matches!(c, '|' | '>')) {
            return Node::Scalar(self.block_scalar(ind, style == '|'));
        }
        let mut text = scalar(rest);
        // A plain scalar continued on more indented lines is folded into one.
        while let Some((i, c)) = self.peek() {
            if i <= ind || rest.starts_with(['"', '\'']) {
                break;
            }
            text.push(' ');
            text.push_str(&scalar(c));
            self.skip_to_next();
            self.at += 1;
        }
        Node::Scalar(text)
    }

    /// The lines of a `|` (kept) or `>` (folded) block scalar: everything indented past `ind`.
    fn block_scalar(&mut self, ind: usize, literal: bool) -> String {
        let mut lines = Vec::new();
        while self.at < self.lines.len() {
            let line = self.lines[self.at];
            if !line.trim().is_empty() && indent(line) <= ind {
                break;
            }
            lines.push(line);
            self.at += 1;
        }
        let strip = lines
            .iter()
            .filter(|l| !l.trim().is_empty())
            .map(|l| indent(l))
            .min()
            .unwrap_or(0);
        let body: Vec<&str> = lines
            .iter()
            .map(|l| l.get(strip..).unwrap_or_default())
            .collect();
        let joined = if literal {
            body.join("\n")
        } else {
            body.join(" ")
        };
        joined.trim_end().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shapes_the_template_uses() {
        let doc = parse(
            "\
# a comment
Parameters:
  Name:
    Type: String # inline comment
    MaxLength: 36
    AllowedPattern: \"^[a-z]+$\"
    Description: >-
      folded
      text
Resources:
  Alarm:
    Properties:
      Metrics:
        - Id: failed
          ReturnData: false
          MetricStat:
            Metric:
              Dimensions:
                - Name: Outcome
                  Value: FROZEN
        - Id: sum
          Expression: FILL(failed, 0)
      Input: !If
        - HasInput
        - !Ref Input
      Actions: [!Ref Topic]
      Body: !Sub |
        {
          \"a\": 1
        }
      Quoted: 'it''s'
",
        );
        let name = doc.path(&["Parameters", "Name"]);
        let text = |keys: &[&str]| doc.path(keys).and_then(Node::text).map(str::to_owned);
        assert_eq!(
            name.and_then(|n| n.get("Type")).and_then(Node::text),
            Some("String")
        );
        assert_eq!(
            text(&["Parameters", "Name", "AllowedPattern"]).as_deref(),
            Some("^[a-z]+$")
        );
        assert_eq!(
            text(&["Parameters", "Name", "Description"]).as_deref(),
            Some("folded text")
        );
        let props = ["Resources", "Alarm", "Properties"];
        let metrics = doc.path(&[&props[..], &["Metrics"]].concat());
        let metrics = metrics.map(Node::items).unwrap_or_default();
        assert_eq!(metrics.len(), 2);
        assert_eq!(
            metrics[0]
                .path(&["MetricStat", "Metric", "Dimensions"])
                .map(Node::items)
                .and_then(|d| d.first())
                .and_then(|d| d.get("Value"))
                .and_then(Node::text),
            Some("FROZEN")
        );
        assert_eq!(
            metrics[1].get("Expression").and_then(Node::text),
            Some("FILL(failed, 0)")
        );
        let input = doc.path(&[&props[..], &["Input"]].concat());
        assert_eq!(input.map(|i| i.items().len()), Some(2));
        assert_eq!(
            text(&[&props[..], &["Actions"]].concat()).as_deref(),
            Some("[!Ref Topic]")
        );
        assert_eq!(
            text(&[&props[..], &["Body"]].concat()).as_deref(),
            Some("{\n  \"a\": 1\n}")
        );
        assert_eq!(
            text(&[&props[..], &["Quoted"]].concat()).as_deref(),
            Some("it's")
        );
    }
}
