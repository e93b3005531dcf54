//! Child processes that never outlive their owner: each runs in its own process group, its output
//! goes to a log file, and dropping the handle stops the whole group (cargo lambda watch starts
//! the functions as its own children).

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::Error;

pub struct Service {
    pub name: String,
    pub log: PathBuf,
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Service {
    pub fn spawn(name: &str, mut command: Command, log_dir: &Path) -> Result<Self, Error> {
        let log = log_dir.join(format!("{name}.log"));
        let mut file =
            File::create(&log).map_err(|e| Error::new(format!("{}: {e}", log.display())))?;
        let stderr = file
            .try_clone()
            .map_err(|e| Error::new(format!("{}: {e}", log.display())))?;
        let mut child = command
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .map_err(|e| {
                Error::new(format!(
                    "could not start {name} ({:?}): {e}",
                    command.get_program()
                ))
            })?;
        let (tx, lines) = mpsc::channel();
        if let Some(stdout) = child.stdout.take() {
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    let _ = writeln!(file, "{line}");
                    let _ = tx.send(line);
                }
            });
        }
        Ok(Self {
            name: name.to_owned(),
            log,
            child,
            lines,
        })
    }

    /// Waits for a stdout line containing `needle` (a server's "listening" line).
    pub fn wait_for_line(&mut self, needle: &str, timeout: Duration) -> Result<String, Error> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self
                .lines
                .recv_timeout(left.min(Duration::from_millis(200)))
            {
                Ok(line) if line.contains(needle) => return Ok(line),
                Ok(_) | Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(self.failure(&format!("exited before printing {needle:?}")))
                }
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(self.failure(&format!("exited ({status}) before printing {needle:?}")));
            }
            if Instant::now() >= deadline {
                return Err(self.failure(&format!("did not print {needle:?} within {timeout:?}")));
            }
        }
    }

    /// Waits until something accepts connections on `addr`.
    pub fn wait_for_port(&mut self, addr: SocketAddr, timeout: Duration) -> Result<(), Error> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(self.failure(&format!("exited ({status}) before listening on {addr}")));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(self.failure(&format!("was not listening on {addr} within {timeout:?}")))
    }

    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    fn failure(&self, what: &str) -> Error {
        let tail = std::fs::read_to_string(&self.log)
            .map(|text| {
                let lines: Vec<&str> = text.lines().collect();
                lines[lines.len().saturating_sub(15)..].join("\n")
            })
            .unwrap_or_default();
        Error::new(format!(
            "{} {what}; last lines of {}:\n{tail}",
            self.name,
            self.log.display()
        ))
    }

    fn signal_group(&self, signal: &str) {
        let _ = Command::new("kill")
            .args([signal, "--", &format!("-{}", self.child.id())])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.signal_group("-TERM");
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // The group leader may be gone while its children (the functions) are not.
        self.signal_group("-KILL");
        let _ = self.child.wait();
    }
}

/// A free loopback port. Another process could take it before it is used; the services print or
/// open their port right away, so the window is milliseconds.
pub fn free_port() -> Result<u16, Error> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| Error::new(format!("no free loopback port: {e}")))
}

/// Says whether `port` is free, for options that name one.
pub fn check_port_free(port: u16) -> Result<(), Error> {
    TcpListener::bind(("127.0.0.1", port))
        .map(|_| ())
        .map_err(|e| {
            Error::new(format!(
                "port {port} is taken ({e}): stop what uses it or pick another port"
            ))
        })
}
