//! The bench reads each function's init phases back from one log line (`stagegate::startup`:
//! `phase=microseconds` pairs joined by commas), so a phase named with a comma or an `=` makes
//! that function's `+phases` cold starts unreadable and stops the whole run, after the builds,
//! minutes in. The names are literals in each function's `main.rs`; this reads them there and
//! checks each one survives the round trip, so such a name fails here instead.
//!
//! An integration test rather than a unit test of `breakdown`: it reads sources, not the bench's
//! code, and editing it leaves the release bench binary as it was.

use std::path::Path;

use stagegate_bench::fixtures::Function;

/// The literals passed to `startup.mark(..)` in `source`.
fn marks(source: &str) -> Vec<&str> {
    const CALL: &str = "startup.mark(\"";
    source
        .match_indices(CALL)
        .filter_map(|(at, _)| {
            let rest = &source[at + CALL.len()..];
            rest.find("\")").map(|end| &rest[..end])
        })
        .collect()
}

#[test]
fn every_functions_init_phases_read_back_as_the_bench_parses_them() {
    let functions = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../functions");
    let mut unreadable = vec![];
    let mut read = 0;
    let mut dirs: Vec<_> = std::fs::read_dir(&functions)
        .unwrap_or_else(|e| panic!("{}: {e}", functions.display()))
        .filter_map(|d| d.ok().map(|d| d.path()))
        .collect();
    dirs.sort();
    for dir in dirs {
        let main = dir.join("src/main.rs");
        let Ok(source) = std::fs::read_to_string(&main) else {
            continue;
        };
        let name = dir.file_name().map(|n| n.to_string_lossy().into_owned());
        let names = marks(&source);
        // Every benchmarked function marks its phases: none found means this reads them wrong.
        if Function::ALL
            .iter()
            .any(|f| Some(f.binary()) == name.as_deref())
        {
            assert!(!names.is_empty(), "no startup.mark in {}", main.display());
        }
        for phase in names {
            read += 1;
            let line = format!("main=1,{phase}=2");
            let back = stagegate::startup::parse(&line);
            let wanted = vec![("main".to_owned(), 1), (phase.to_owned(), 2)];
            if back.as_ref() != Some(&wanted) {
                unreadable.push(format!(
                    "{}: {phase:?} reads back as {back:?}",
                    main.display()
                ));
            }
        }
    }
    assert!(read >= Function::ALL.len(), "only {read} phase names found");
    assert!(
        unreadable.is_empty(),
        "init phase names the bench cannot read back (no ',' or '=' in a name):\n{}",
        unreadable.join("\n")
    );
}
