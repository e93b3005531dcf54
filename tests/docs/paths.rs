//! Paths in the docs against the repository: a path from a top-level directory in a span or a
//! layout, and a link, must exist; a layout of the repository must name every crate and top-level
//! directory, so moving or adding one shows up in the docs.

use std::collections::BTreeSet;

use crate::markdown::{self, Line};
use crate::mismatch::{Checker, Kind};

/// A path from the repository root (`crates/stagegate/src/ports.rs`, `functions/*`,
/// `crates/gamesparks-local/src/{api,server}.rs`) names something that exists.
fn exists(root: &std::path::Path, path: &str) -> bool {
    if let Some((before, rest)) = path.split_once('{') {
        if let Some((choices, after)) = rest.split_once('}') {
            return choices
                .split(',')
                .all(|choice| exists(root, &format!("{before}{choice}{after}")));
        }
    }
    let mut candidates = vec![root.to_path_buf()];
    for part in path.trim_end_matches('/').split('/') {
        candidates = candidates
            .into_iter()
            .flat_map(|dir| -> Vec<std::path::PathBuf> {
                if let Some((prefix, suffix)) = part.split_once('*') {
                    // `*`, `*.json`, `schema*`: one wildcard within a part.
                    std::fs::read_dir(&dir)
                        .map(|d| {
                            d.flatten()
                                .map(|e| e.path())
                                .filter(|p| {
                                    p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                                        n.len() >= prefix.len() + suffix.len()
                                            && n.starts_with(prefix)
                                            && n.ends_with(suffix)
                                    })
                                })
                                .collect()
                        })
                        .unwrap_or_default()
                } else {
                    vec![dir.join(part)]
                }
            })
            .filter(|p| p.exists())
            .collect();
    }
    !candidates.is_empty()
}

/// Code spans, the first word of a `text` block's lines (a layout), and links: what starts at a
/// top-level directory of the repository (or, for a link, at the document) must exist.
pub fn paths(c: &mut Checker, lines: &[Line]) {
    let doc_dir = std::path::Path::new(c.file)
        .parent()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    for line in lines.iter().filter(|l| !l.fence) {
        let mut named: Vec<String> = Vec::new();
        match line.block.as_deref() {
            Some("text") => named.extend(line.text.split_whitespace().next().map(str::to_owned)),
            Some(_) => {}
            None => {
                named.extend(
                    line.spans()
                        .iter()
                        .filter_map(|s| s.split_whitespace().next().map(str::to_owned)),
                );
                for target in links(&line.text) {
                    let joined = if doc_dir.is_empty() {
                        target.clone()
                    } else {
                        format!("{doc_dir}/{target}")
                    };
                    if let Some(path) = normalise(&joined) {
                        if !exists(&c.facts.root, &path) {
                            c.report(
                                line.number,
                                Kind::MissingPath,
                                format!("link to {target}: no such file in the repository"),
                            );
                        }
                    }
                }
            }
        }
        for path in named {
            let path = path.trim_end_matches([',', '.', ':', ';', ')']);
            let top = path.split('/').next().unwrap_or_default();
            let rooted = path.contains('/') && c.facts.top_dirs.iter().any(|d| d == top);
            // `<name>`, `AREA`: a placeholder in the path.
            let placeholder = path.contains('<')
                || path
                    .split('/')
                    .any(|p| p.len() > 1 && p.chars().all(|ch| ch.is_ascii_uppercase()));
            if rooted && !placeholder && !exists(&c.facts.root, path) {
                c.report(
                    line.number,
                    Kind::MissingPath,
                    format!("{path}: no such file or directory in the repository"),
                );
            }
        }
    }
}

/// `[text](target)` targets that are files of the repository (not URLs or anchors), anchors cut.
fn links(text: &str) -> Vec<String> {
    text.split("](")
        .skip(1)
        .filter_map(|rest| rest.split(')').next())
        .map(|t| t.split('#').next().unwrap_or_default().to_owned())
        .filter(|t| !t.is_empty() && !t.contains("://") && !t.starts_with("mailto:"))
        .collect()
}

/// `docs/../README.md` -> `README.md`; None when it leaves the repository.
fn normalise(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            _ => parts.push(part),
        }
    }
    Some(parts.join("/"))
}

/// A `text` block that lays out the repository (lines starting `crates/...`) names every crate
/// and every top-level directory.
pub fn layout(c: &mut Checker, lines: &[Line]) {
    for (info, first_line, text) in markdown::blocks(lines) {
        let firsts: Vec<&str> = text
            .lines()
            .filter_map(|l| l.split_whitespace().next())
            .collect();
        let crates_listed = firsts.iter().filter(|w| w.starts_with("crates/")).count();
        if info != "text" || crates_listed < 2 || firsts.contains(&"|") {
            continue;
        }
        let words: BTreeSet<&str> = text
            .split(|ch: char| ch.is_whitespace() || ch == ',' || ch == ';')
            .map(|w| w.trim_end_matches('/'))
            .collect();
        for name in &c.facts.crate_dirs {
            let path = format!("crates/{name}");
            if !words.contains(path.as_str()) {
                c.report(
                    first_line,
                    Kind::MissingFromLayout,
                    format!("{path}: a crate of the workspace this layout leaves out"),
                );
            }
        }
        for dir in &c.facts.top_dirs {
            let listed = words.contains(dir.as_str())
                || words.iter().any(|w| w.starts_with(&format!("{dir}/")));
            if !listed {
                c.report(
                    first_line,
                    Kind::MissingFromLayout,
                    format!("{dir}/: a directory of the repository this layout leaves out"),
                );
            }
        }
    }
}
