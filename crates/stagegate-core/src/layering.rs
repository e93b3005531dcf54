//! The modules of every library crate in the workspace form no cycle: no module imports one that
//! imports it back (test code aside). A cycle hides which decision depends on which and keeps
//! modules from moving into crates of their own; this test names the modules of any cycle that
//! appears. The crates are found from the workspace's `members`, not listed here, so a new crate is
//! scanned from its first commit.

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

/// The workspace's root, two levels above this crate.
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The quoted strings of the first `key = [...]` array in a manifest (the workspace's `members`):
/// a line-level reading is enough for the manifests of this repository, and the test below fails
/// if it finds nothing.
fn array(manifest: &str, key: &str) -> Vec<String> {
    let Some(start) = manifest.find(&format!("{key} = [")) else {
        return Vec::new();
    };
    let rest = &manifest[start..];
    let list = &rest[..rest.find(']').unwrap_or(rest.len())];
    list.split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

/// The value of `key = "..."` in a manifest's `[section]`.
fn value(manifest: &str, section: &str, key: &str) -> Option<String> {
    let body = manifest.split(&format!("[{section}]\n")).nth(1)?;
    let body = body.split("\n[").next()?;
    body.lines()
        .filter_map(|line| line.split_once('='))
        .find(|(k, _)| k.trim() == key)
        .map(|(_, v)| v.trim().trim_matches('"').to_owned())
}

/// Every library crate of the workspace: (package name, folder of its `lib.rs`). A member is a
/// library when its manifest has a `[lib] path` or it has `src/lib.rs`, as cargo decides.
fn library_crates(root: &Path) -> Vec<(String, PathBuf)> {
    let manifest = std::fs::read_to_string(root.join("Cargo.toml"))
        .unwrap_or_else(|e| panic!("the workspace manifest: {e}"));
    let mut members = Vec::new();
    for member in array(&manifest, "members") {
        match member.strip_suffix("/*") {
            Some(parent) => {
                let entries = std::fs::read_dir(root.join(parent))
                    .unwrap_or_else(|e| panic!("members folder {parent}: {e}"));
                let mut found: Vec<PathBuf> = entries
                    .flatten()
                    .map(|e| e.path())
                    .filter(|p| p.join("Cargo.toml").is_file())
                    .collect();
                found.sort();
                members.extend(found);
            }
            None => members.push(root.join(member)),
        }
    }
    members
        .into_iter()
        .filter_map(|dir| {
            let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).ok()?;
            let name = value(&manifest, "package", "name")?;
            let lib = value(&manifest, "lib", "path")
                .map(|p| dir.join(p))
                .unwrap_or_else(|| dir.join("src/lib.rs"));
            let src = lib.parent()?.to_path_buf();
            lib.is_file().then_some((name, src))
        })
        .collect()
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let crates = library_crates(&workspace_root());
    let names: Vec<&str> = crates.iter().map(|(n, _)| n.as_str()).collect();
    // The discovery must find the crates whose layering matters most, and the test crate whose
    // library sits outside `src`: a reading of the manifest that finds nothing passes nothing.
    for must in [
        "stagegate-core",
        "stagegate",
        "stagegate-http",
        "stagegate-cli",
        "stagegate-tests",
    ] {
        assert!(names.contains(&must), "{must} not found among {names:?}");
    }
    let mut cycles = Vec::new();
    for (name, src) in &crates {
        for edge in cycle_edges(&graph(src)) {
            cycles.push(format!("{name}: {} -> {}", edge.0, edge.1));
        }
    }
    let core = graph(&workspace_root().join("crates/stagegate-core/src"));
    for module in ["state", "policy", "deployment", "notification", "fields"] {
        assert!(core.contains_key(module), "{module} missing: {core:?}");
    }
    let adapters = graph(&workspace_root().join("crates/stagegate/src"));
    for module in ["ports", "start", "sns", "handlers", "aws"] {
        assert!(
            adapters.contains_key(module),
            "{module} missing: {adapters:?}"
        );
    }
    assert_eq!(cycles, Vec::<String>::new(), "module cycles in {names:?}");
}

#[test]
fn every_member_with_a_library_is_found() {
    let root = std::env::temp_dir().join(format!("stagegate-layering-{}", std::process::id()));
    let write = |path: &str, text: &str| {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap_or(&root))
            .unwrap_or_else(|e| panic!("{path:?}: {e}"));
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    };
    write(
        "Cargo.toml",
        "[workspace]\nmembers = [\"crates/*\", \"tests\", \"tool\"]\n",
    );
    write("crates/a/Cargo.toml", "[package]\nname = \"a\"\n");
    write("crates/a/src/lib.rs", "");
    write("crates/bin/Cargo.toml", "[package]\nname = \"bin\"\n");
    write("crates/bin/src/main.rs", "");
    write(
        "tests/Cargo.toml",
        "[package]\nname = \"t\"\n\n[lib]\npath = \"support/lib.rs\"\n",
    );
    write("tests/support/lib.rs", "");
    write("tool/Cargo.toml", "[package]\nname = \"tool\"\n");
    write("tool/src/lib.rs", "");
    let found = library_crates(&root);
    // Cleanup of a temporary folder: a leftover does not change what was asserted.
    let _ = std::fs::remove_dir_all(&root);
    assert_eq!(
        found,
        vec![
            ("a".to_owned(), root.join("crates/a/src")),
            ("t".to_owned(), root.join("tests/support")),
            ("tool".to_owned(), root.join("tool/src")),
        ]
    );
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
