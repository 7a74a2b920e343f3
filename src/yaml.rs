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
    let message = message
        .replacen("unknown field", "unknown key", 1)
        .replacen("missing field", "missing key", 1);
    // Say what YAML saw in words that make sense without knowing YAML.
    if message.contains("invalid type: sequence") {
        format!("{message}: a value that starts with `[` is read as a list; put the text in quotes")
    } else if message.contains("invalid type: map") {
        format!("{message}: a value that starts with `{{` or holds `: ` is read as a set of keys; put the text in quotes")
    } else {
        message
    }
}

/// Serialises a value back to YAML (used by the commands that write sources).
pub fn to_string<T: serde::Serialize>(value: &T) -> String {
    serde_yaml::to_string(value).expect("plain data serialises to YAML")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Front {
        title: String,
    }

    #[test]
    fn errors_point_at_the_line_in_the_file_and_speak_plainly() {
        let err = parse::<Front>("title: [Draft] Cookies\n", Path::new("s.md"), 2).unwrap_err();
        assert_eq!(err.line, Some(2));
        assert!(
            err.message
                .contains("starts with `[` is read as a list; put the text in quotes"),
            "{}",
            err.message
        );
        let err = parse::<Front>("title: A\ntitel: B\n", Path::new("s.md"), 2).unwrap_err();
        assert_eq!(err.line, Some(3));
        assert!(
            err.message.starts_with("unknown key `titel`"),
            "{}",
            err.message
        );
    }

    #[test]
    fn an_empty_document_is_an_empty_mapping() {
        let map: BTreeMap<String, String> = parse("", Path::new("x.yaml"), 1).unwrap();
        assert!(map.is_empty());
    }
}
