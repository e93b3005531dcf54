//! The modules of this crate, and of `stagegate` on top of it, form no cycle: no module imports
//! one that imports it back (test code aside). A cycle hides which decision depends on which and keeps modules from moving into crates
//! of their own; this test names the modules of any cycle that appears.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The non-test source files under `src`: a module's `tests.rs` child file and `tests/` folders
/// are test code, and `lib.rs` / `main.rs` only declare and re-export.
fn sources(src: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut dirs = vec![src.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            if name == "tests" || name == "tests.rs" || name == "lib.rs" || name == "main.rs" {
                continue;
            }
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                found.push(path);
            }
        }
    }
    found
}

/// A file's module name: its stem, or its folder's name for a `mod.rs`.
fn module_name(path: &Path) -> String {
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    if stem == "mod" {
        let parent = path.parent().and_then(|p| p.file_name());
        return parent
            .and_then(|p| p.to_str())
            .unwrap_or_default()
            .to_owned();
    }
    stem.to_owned()
}

/// Module name -> the crate modules its non-test code refers to. A path names the innermost
/// module it goes through (`crate::state::deployment::X` is `deployment`; `crate::classify::X`,
/// the root re-export, is `classify`), wherever the module's file sits.
fn graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let files = sources(src);
    let known: BTreeSet<String> = files.iter().map(|f| module_name(f)).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for path in &files {
        let me = module_name(path);
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        let deps = graph.entry(me.clone()).or_default();
        for (i, _) in code.match_indices("crate::") {
            let path: String = code[i + 7..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_' || *c == ':')
                .collect();
            let target = path
                .split("::")
                .filter(|segment| known.contains(*segment))
                .last();
            if let Some(target) = target.filter(|t| *t != me) {
                deps.insert(target.to_owned());
            }
        }
    }
    graph
}

/// Every edge a -> b where b reaches a again.
fn cycle_edges(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<(String, String)> {
    let reaches = |from: &str, to: &str| {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.to_owned()];
        while let Some(m) = stack.pop() {
            for next in graph.get(&m).into_iter().flatten() {
                if next == to {
                    return true;
                }
                if seen.insert(next.clone()) {
                    stack.push(next.clone());
                }
            }
        }
        false
    };
    graph
        .iter()
        .flat_map(|(a, deps)| deps.iter().map(move |b| (a.clone(), b.clone())))
        .filter(|(a, b)| reaches(b, a))
        .collect()
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let core = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let graph = graph(&core);
    for module in ["state", "policy", "deployment", "notification", "fields"] {
        assert!(graph.contains_key(module), "{module} missing: {graph:?}");
    }
    assert_eq!(
        cycle_edges(&graph),
        vec![],
        "module cycles in stagegate-core"
    );
    let adapters = core.join("../../stagegate/src");
    let graph = self::graph(&adapters);
    for module in ["ports", "start", "sns", "handlers", "aws"] {
        assert!(graph.contains_key(module), "{module} missing: {graph:?}");
    }
    assert_eq!(cycle_edges(&graph), vec![], "module cycles in stagegate");
}

#[test]
fn a_cycle_is_named() {
    let mut graph = BTreeMap::new();
    graph.insert("a".to_owned(), BTreeSet::from(["b".to_owned()]));
    graph.insert(
        "b".to_owned(),
        BTreeSet::from(["a".to_owned(), "c".to_owned()]),
    );
    graph.insert("c".to_owned(), BTreeSet::new());
    assert_eq!(
        cycle_edges(&graph),
        vec![("a".into(), "b".into()), ("b".into(), "a".into())]
    );
}
