//! Under `cargo run` / `cargo test`, cargo sets CARGO_MANIFEST_DIR and friends for the running
//! binary. Build scripts (ring's) track some of them, so a nested cargo build that inherits them
//! rebuilds the whole SDK tree, and again for the next ordinary build. Tools that start cargo (or
//! cargo lambda) from such a binary remove them first.

use std::process::Command;

/// Removes the variables cargo sets for a running binary from `command`'s environment.
pub fn without_cargo_run_env(command: &mut Command) -> &mut Command {
    for (name, _) in std::env::vars_os() {
        if let Some(name) = name.to_str() {
            if set_by_cargo(name) {
                command.env_remove(name);
            }
        }
    }
    command
}

fn set_by_cargo(name: &str) -> bool {
    name == "OUT_DIR"
        || name == "CARGO_PRIMARY_PACKAGE"
        || [
            "CARGO_MANIFEST_",
            "CARGO_PKG_",
            "CARGO_CRATE_",
            "CARGO_BIN_",
            "CARGO_TARGET_TMPDIR",
        ]
        .iter()
        .any(|prefix| name.starts_with(prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_cargos_run_variables() {
        for name in [
            "CARGO_MANIFEST_DIR",
            "CARGO_PKG_NAME",
            "CARGO_CRATE_NAME",
            "OUT_DIR",
            "CARGO_BIN_EXE_x",
        ] {
            assert!(set_by_cargo(name), "{name}");
        }
        for name in [
            "CARGO",
            "CARGO_HOME",
            "CARGO_TARGET_DIR",
            "PATH",
            "RUSTFLAGS",
        ] {
            assert!(!set_by_cargo(name), "{name}");
        }
    }
}
