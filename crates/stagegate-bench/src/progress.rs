//! Progress lines on stderr, so a run of several minutes says what it is doing (stdout carries
//! the report). One place, so every line has the same prefix.

/// Prints `stagegate-bench: {msg}` to stderr.
pub fn say(msg: impl AsRef<str>) {
    eprintln!("stagegate-bench: {}", msg.as_ref());
}
