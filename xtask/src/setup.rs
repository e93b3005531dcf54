//! Installs the pinned local tools into the repository: a Python venv (`.venv`) from
//! `requirements-dev.txt` (moto, cargo-lambda, ziglang, cfn-lint, checkov), the npm packages of
//! `package-lock.json` (asl-validator) and, for the test tiers, AWS SAM CLI in its own venv
//! (`.venv-sam` from `requirements-sam.txt`: its boto3 pins clash with checkov's). Nothing is
//! installed globally. A stamp of what was installed makes a second run a no-op until a pin
//! changes.

use std::fs;
use std::path::Path;
use std::process::Command;

/// What a task needs installed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Tools {
    /// The local AWS, cargo-lambda and the static checks (demo, bench, soak).
    Local,
    /// Those and SAM CLI, which only the `sam` test tier runs.
    Tests,
}

pub fn run(root: &Path, tools: Tools) -> Result<(), String> {
    python_venv(root, ".venv", "requirements-dev.txt")?;
    if tools == Tools::Tests {
        python_venv(root, ".venv-sam", "requirements-sam.txt")?;
    }
    node_tools(root)
}

fn python_venv(root: &Path, dir: &str, requirements_file: &str) -> Result<(), String> {
    let venv = root.join(dir);
    let requirements = read(&root.join(requirements_file))?;
    let stamp = venv.join(".stagegate-requirements");
    if fs::read_to_string(&stamp).ok().as_deref() == Some(requirements.as_str())
        && venv.join("bin/python").exists()
    {
        println!("setup: Python tools up to date ({dir})");
        return Ok(());
    }
    if !venv.join("bin/python").exists() {
        let python = which(&["python3", "python"]).ok_or(
            "python3 not found: install Python 3.11+ (e.g. `apt-get install python3 python3-venv`)",
        )?;
        println!("setup: creating {dir} with {python}");
        run_command(
            Command::new(&python).args(["-m", "venv"]).arg(&venv),
            &format!("python3 -m venv {dir}"),
        )?;
    }
    println!("setup: installing {requirements_file} into {dir} (a minute or two the first time)");
    run_command(
        Command::new(venv.join("bin/pip"))
            .args(["install", "--disable-pip-version-check", "-q", "-r"])
            .arg(root.join(requirements_file)),
        &format!("pip install -r {requirements_file}"),
    )?;
    fs::write(&stamp, requirements).map_err(|e| format!("{}: {e}", stamp.display()))
}

fn node_tools(root: &Path) -> Result<(), String> {
    let lock = read(&root.join("package-lock.json"))?;
    let stamp = root.join("node_modules/.stagegate-package-lock");
    if fs::read_to_string(&stamp).ok().as_deref() == Some(lock.as_str()) {
        println!("setup: npm tools up to date (node_modules)");
        return Ok(());
    }
    let npm = which(&["npm"]).ok_or("npm not found: install Node.js 18+ with npm")?;
    println!("setup: npm ci (asl-validator)");
    run_command(
        Command::new(npm)
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(root),
        "npm ci",
    )?;
    fs::write(&stamp, lock).map_err(|e| format!("{}: {e}", stamp.display()))
}

fn read(path: &Path) -> Result<String, String> {
    fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn run_command(command: &mut Command, what: &str) -> Result<(), String> {
    match command.status() {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(format!("{what} failed ({status})")),
        Err(e) => Err(format!("{what} could not start: {e}")),
    }
}

fn which(names: &[&str]) -> Option<String> {
    let path = std::env::var_os("PATH")?;
    names.iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
            .map(|_| (*name).to_owned())
    })
}
