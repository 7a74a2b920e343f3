//! The cookie inventory as the comparison reads it: each declared name (or
//! `prefix*`) with its category, its declared duration in days where the
//! text says one, and the line of policy-site.yaml that declares it.

use crate::consent::ConsentConfig;

/// One declared cookie or storage key.
#[derive(Debug, Clone)]
pub struct Declared {
    /// A name, or a prefix ending in `*`.
    pub name: String,
    pub category: String,
    pub required: bool,
    /// The duration as written in the default language.
    pub duration: String,
    /// That duration in days, when it is a number of days, weeks, months or years.
    pub days: Option<f64>,
    /// Its line in policy-site.yaml (0 when not found).
    pub line: usize,
}

impl Declared {
    pub fn matches(&self, name: &str) -> bool {
        match self.name.strip_suffix('*') {
            Some(prefix) => name.starts_with(prefix),
            None => self.name == name,
        }
    }
}

/// Every declared name, in the inventory's order; `yaml` is the
/// configuration's text, read for the lines.
pub fn declared(consent: &ConsentConfig, yaml: &str, lang: &str) -> Vec<Declared> {
    let mut found = Vec::new();
    for category in &consent.categories {
        for service in &category.services {
            for cookie in &service.cookies {
                let duration = cookie
                    .duration
                    .get(lang)
                    .or_else(|| cookie.duration.values().next())
                    .cloned()
                    .unwrap_or_default();
                let days = cookie.duration.values().find_map(|text| days(text));
                found.push(Declared {
                    name: cookie.name.clone(),
                    category: category.id.clone(),
                    required: category.required,
                    duration,
                    days,
                    line: line_of(yaml, &cookie.name),
                });
            }
        }
    }
    found
}

/// The first declaration that covers `name`: an exact name before a prefix.
pub fn lookup<'a>(declared: &'a [Declared], name: &str) -> Option<&'a Declared> {
    declared
        .iter()
        .find(|d| d.name == name)
        .or_else(|| declared.iter().find(|d| d.matches(name)))
}

/// The line of `name: <name>` in the configuration, else 0.
pub fn line_of(yaml: &str, name: &str) -> usize {
    yaml.lines()
        .position(|line| {
            let line = line.trim_start().trim_start_matches("- ").trim();
            line.strip_prefix("name:")
                .is_some_and(|value| value.trim().trim_matches(|c| c == '"' || c == '\'') == name)
        })
        .map_or(0, |i| i + 1)
}

/// The line of the first `key:` in the configuration, else 0.
pub fn key_line(yaml: &str, key: &str) -> usize {
    let key = format!("{key}:");
    yaml.lines()
        .position(|line| line.trim_start().starts_with(&key))
        .map_or(0, |i| i + 1)
}

/// Days in "6 months", "1 year", "30 days", "2 ans", "3 mois", "1 jour";
/// `None` for words such as "session" or "until our server confirms".
pub fn days(text: &str) -> Option<f64> {
    let words: Vec<String> = text
        .to_lowercase()
        .split(|c: char| c.is_whitespace() || c == '(' || c == ')' || c == ',')
        .filter(|w| !w.is_empty())
        .map(String::from)
        .collect();
    let number = words.first()?.parse::<f64>().ok()?;
    let unit = words.get(1)?;
    let per = match unit.trim_end_matches('s') {
        "minute" => 1.0 / 1440.0,
        "hour" | "heure" => 1.0 / 24.0,
        "day" | "jour" => 1.0,
        "week" | "semaine" => 7.0,
        "month" | "moi" => 30.44,
        "year" | "an" | "année" => 365.25,
        _ => return None,
    };
    Some(number * per)
}

#[cfg(test)]
mod tests {
    use super::{days, key_line, line_of};

    #[test]
    fn durations_in_english_and_french_are_read_as_days() {
        assert_eq!(days("30 days"), Some(30.0));
        assert_eq!(days("1 year"), Some(365.25));
        assert_eq!(days("2 ans"), Some(730.5));
        assert_eq!(days("6 mois").map(f64::round), Some(183.0));
        assert_eq!(days("1 jour"), Some(1.0));
        assert_eq!(days("Until our server confirms receipt"), None);
        assert_eq!(days("session"), None);
    }

    #[test]
    fn a_declaration_is_found_by_its_name_line() {
        let yaml = "consent:\n  cookies:\n    - name: _ga\n      x: 1\n    - name: \"_ga_*\"\n";
        assert_eq!(line_of(yaml, "_ga"), 3);
        assert_eq!(line_of(yaml, "_ga_*"), 5);
        assert_eq!(line_of(yaml, "gone"), 0);
        assert_eq!(key_line(yaml, "cookies"), 2);
    }
}
