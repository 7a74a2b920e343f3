//! The one place that parses YAML (configuration, `policy.yaml`,
//! `version.yaml`, front matter). Swapping the YAML crate means editing this
//! file only; everything else sees serde types and `Diagnostic`s.

use crate::error::Diagnostic;
use serde::de::DeserializeOwned;
use std::path::Path;

/// Parses `text` from `file`; `first_line` is the line of `file` where `text`
/// starts (front matter starts on line 2), so errors point at the real line.
pub fn parse<T: DeserializeOwned>(
    text: &str,
    file: &Path,
    first_line: usize,
) -> Result<T, Diagnostic> {
    // An empty document is an empty mapping, so that all-optional files work.
    let text = if text.trim().is_empty() { "{}" } else { text };
    serde_yaml::from_str(text).map_err(|err| {
        let line = err.location().map(|l| l.line() + first_line - 1);
        let message = explain(&err.to_string());
        let mut d = Diagnostic::new(file, message).with_hint(
            "YAML needs `key: value` pairs, nested by indentation with spaces; quote text that contains a colon",
        );
        if let Some(line) = line {
            d = d.at_line(line);
        }
        d
    })
}

/// serde_yaml's messages end with " at line X column Y"; the line is already
/// in the diagnostic's place, so drop it and name unknown keys plainly.
fn explain(message: &str) -> String {
    let message = match message.find(" at line ") {
        Some(i) => &message[..i],
        None => message,
    };
    message
        .replacen("unknown field", "unknown key", 1)
        .replacen("missing field", "missing key", 1)
}

/// Serialises a value back to YAML (used by the commands that write sources).
pub fn to_string<T: serde::Serialize>(value: &T) -> String {
    serde_yaml::to_string(value).expect("plain data serialises to YAML")
}
