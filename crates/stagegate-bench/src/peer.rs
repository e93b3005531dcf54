//! The Python peer's own virtualenv (`bench/.venv-peer`), created from
//! `bench/peer/requirements.txt` when missing or when the requirements changed. It is separate
//! from the repository's `.venv`, which pins a newer boto3 for moto and checkov.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{Context, Result};
use crate::process::ChildGuard;

/// A copy of the requirements the venv was built from, to notice edits.
const STAMP: &str = ".stagegate-bench-requirements.txt";

#[derive(Debug, Clone)]
pub struct Peer {
    pub dir: PathBuf,
    pub python: PathBuf,
    pub created: bool,
}

pub fn ensure(workspace: &Path, python: &str, log: &Path) -> Result<Peer> {
    let dir = workspace.join("bench/peer");
    let requirements = dir.join("requirements.txt");
    let venv = workspace.join("bench/.venv-peer");
    let venv_python = venv.join("bin/python");
    let wanted = std::fs::read_to_string(&requirements)
        .context(format!("reading {}", requirements.display()))?;
    let stamp = venv.join(STAMP);
    let current = std::fs::read_to_string(&stamp).ok();
    if venv_python.is_file() && current.as_deref() == Some(wanted.as_str()) {
        return Ok(Peer {
            dir,
            python: venv_python,
            created: false,
        });
    }
    eprintln!(
        "stagegate-bench: creating the Python peer's venv {} from {}",
        venv.display(),
        requirements.display()
    );
    run(
        "python -m venv",
        Command::new(python)
            .args(["-m", "venv", "--clear"])
            .arg(&venv),
        log,
        &format!("is {python} a Python 3 with the venv module? (set --python)"),
    )?;
    run(
        "pip install",
        Command::new(&venv_python)
            .args(["-m", "pip", "install", "--disable-pip-version-check", "-q", "-r"])
            .arg(&requirements),
        log,
        "pip could not install the peer's pinned requirements (PyPI reachable? awslambdaric needs a wheel for this Python or a C++ toolchain)",
    )?;
    std::fs::write(&stamp, wanted).context(format!("writing {}", stamp.display()))?;
    Ok(Peer {
        dir,
        python: venv_python,
        created: true,
    })
}

fn run(what: &str, cmd: &mut Command, log: &Path, hint: &str) -> Result<()> {
    let (_, mut child) = ChildGuard::spawn(what, cmd, Some(log))?;
    let status = child.wait()?;
    if !status.success() {
        crate::bail!("{what} failed ({status}): {hint}; {}", child.log_tail(20));
    }
    Ok(())
}
