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
        let raw = err.to_string();
        let hint = suggest_key(&raw).unwrap_or_else(|| match raw.contains("invalid type") || raw.contains("invalid value") {
            true => "give the key a value of the kind it takes (the manual's Configuration chapter lists them)".into(),
            false => "YAML needs `key: value` pairs, nested by indentation with spaces; quote text that contains a colon".into(),
        });
        let key = err.location().and_then(|l| key_on_line(text, l.line()));
        let mut d = Diagnostic::new(file, explain(&raw, key)).with_hint(hint);
        if let Some(line) = line {
            d = d.at_line(line);
        }
        d
    })
}

/// serde_yaml's messages end with " at line X column Y"; the line is already
/// in the diagnostic's place, so drop it and name unknown keys plainly. A
/// value of the wrong kind is explained first in plain words, naming the key
/// (`key`, read from the line the error points at), then what YAML saw.
fn explain(message: &str, key: Option<&str>) -> String {
    let message = match message.find(" at line ") {
        Some(i) => &message[..i],
        None => message,
    };
    let Some(i) = message.find("invalid type: ") else {
        return message
            .replacen("unknown field", "unknown key", 1)
            .replacen("missing field", "missing key", 1);
    };
    let found = &message[i..];
    let key = key.map_or("this value".to_string(), |k| format!("`{k}`"));
    let wanted = if found.contains("expected a string") {
        format!("{key} must be text")
    } else if found.contains("expected a boolean") {
        format!("{key} must be `true` or `false`")
    } else {
        format!("{key} holds the wrong kind of value")
    };
    // Say what YAML saw in words that make sense without knowing YAML.
    let seen = if found.starts_with("invalid type: sequence") {
        "a value that starts with `[` is read as a list; put the text in quotes"
    } else if found.starts_with("invalid type: map") {
        "a value that starts with `{` or holds `: ` is read as a set of keys; put the text in quotes"
    } else {
        return format!("{wanted} ({found})");
    };
    format!("{wanted}; {seen}")
}

/// The key written on 1-based `line` of `text` (`title` in `  title: [x`).
fn key_on_line(text: &str, line: usize) -> Option<&str> {
    let (key, _) = text.lines().nth(line.checked_sub(1)?)?.split_once(':')?;
    let key = key.trim().trim_start_matches("- ");
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-');
    plain.then_some(key)
}

/// For "unknown field `tittle`, expected one of `title`, `id`": the allowed
/// key closest to the typo, and the others.
fn suggest_key(message: &str) -> Option<String> {
    // Nested keys come prefixed with their path ("receive: unknown field …").
    let (_, rest) = message.split_once("unknown field `")?;
    let (typo, rest) = rest.split_once('`')?;
    let expected: Vec<&str> = rest.split('`').skip(1).step_by(2).collect();
    if expected.is_empty() {
        return None;
    }
    let closest = expected
        .iter()
        .min_by_key(|k| edit_distance(typo, k))
        // Two edits for keys of four letters or more: a swap is two.
        .filter(|k| edit_distance(typo, k) <= (k.len() / 3).max(1 + usize::from(k.len() >= 4)));
    let allowed = expected
        .iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ");
    Some(match closest {
        Some(key) => format!("did you mean `{key}`? The keys allowed here are {allowed}"),
        None => format!("the keys allowed here are {allowed}"),
    })
}

/// Levenshtein distance, for short keys and names.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(previous + 1);
        }
    }
    row[b.len()]
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
        assert_eq!(
            err.message,
            "`title` must be text; a value that starts with `[` is read as a list; put the text in quotes"
        );
        let err = parse::<Front>("title: [broken\n", Path::new("s.md"), 2).unwrap_err();
        assert!(
            err.message.starts_with("`title` must be text"),
            "{}",
            err.message
        );
        let err = parse::<Front>("title: {a: b}\n", Path::new("s.md"), 2).unwrap_err();
        assert!(
            err.message.starts_with("`title` must be text; "),
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
    fn an_unknown_key_suggests_the_closest_allowed_one() {
        #[derive(serde::Deserialize, Debug)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Version {
            material: bool,
            summary: String,
        }
        let err = parse::<Version>("materiel: true\n", Path::new("version.yaml"), 1).unwrap_err();
        assert_eq!(
            err.hint.as_deref(),
            Some("did you mean `material`? The keys allowed here are `material`, `summary`")
        );
        let err = parse::<Version>("colour: red\n", Path::new("version.yaml"), 1).unwrap_err();
        assert_eq!(
            err.hint.as_deref(),
            Some("the keys allowed here are `material`, `summary`")
        );
        assert_eq!(edit_distance("tittle", "title"), 1);
    }

    #[test]
    fn an_empty_document_is_an_empty_mapping() {
        let map: BTreeMap<String, String> = parse("", Path::new("x.yaml"), 1).unwrap();
        assert!(map.is_empty());
    }
}
