//! The catalogue of data-subject rights whose request forms the site embeds:
//! a default catalogue ships in the binary (`catalogue.yaml`, English and
//! French); `rights:` in `policy-site.yaml` trims it or adds rights.

use crate::vocabulary::Localized;
use crate::yaml;
use serde::{Deserialize, Serialize};
use std::path::Path;

const DEFAULT_CATALOGUE: &str = include_str!("catalogue.yaml");

/// Names the request itself uses in both encodings: no field may take them.
pub const RESERVED_FIELDS: &[&str] = &[
    "schema",
    "request_id",
    "right",
    "policy",
    "version",
    "lang",
    "return_to",
    "website",
    "submitted_at",
    "fields",
];

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RightsConfig {
    /// Keep only these rights of the catalogue (all of them when absent).
    #[serde(default)]
    pub include: Option<Vec<String>>,
    /// Rights added to the catalogue, or replacing one with the same id.
    #[serde(default)]
    pub custom: Vec<Right>,
    /// Fields shown on every form, replacing the catalogue's when given.
    #[serde(default)]
    pub common_fields: Option<Vec<Field>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalogue {
    pub common_fields: Vec<Field>,
    pub rights: Vec<Right>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Right {
    pub id: String,
    pub label: Localized,
    #[serde(default)]
    pub summary: Localized,
    #[serde(default)]
    pub help: Localized,
    /// The response time the policy promises, in days.
    pub response_days: u32,
    #[serde(default)]
    pub fields: Vec<Field>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Field {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: FieldKind,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub maxlength: Option<u32>,
    #[serde(default)]
    pub minlength: Option<u32>,
    #[serde(default)]
    pub autocomplete: Option<String>,
    pub label: Localized,
    #[serde(default)]
    pub help: Localized,
    #[serde(default)]
    pub options: Vec<FieldOption>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum FieldKind {
    Text,
    Email,
    Textarea,
    Select,
    Date,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldOption {
    pub value: String,
    pub label: Localized,
}

impl RightsConfig {
    /// Problems as (text to find the line by, message).
    pub fn problems(&self, languages: &[String]) -> Vec<(String, String)> {
        let mut found = Vec::new();
        let catalogue = self.catalogue();
        if let Some(include) = &self.include {
            for id in include {
                if !catalogue.rights.iter().any(|r| &r.id == id) {
                    found.push((
                        id.clone(),
                        format!("rights.include names `{id}`, which is not in the catalogue"),
                    ));
                }
            }
        }
        for right in &catalogue.rights {
            for field in catalogue.common_fields.iter().chain(&right.fields) {
                if RESERVED_FIELDS.contains(&field.name.as_str()) {
                    found.push((
                        field.name.clone(),
                        format!(
                            "right `{}`: the field name `{}` is reserved for the request itself",
                            right.id, field.name
                        ),
                    ));
                }
            }
            let mut missing = |what: String, text: &Localized| {
                for lang in languages
                    .iter()
                    .filter(|l| text.get(*l).is_none_or(|t| t.trim().is_empty()))
                {
                    found.push((right.id.clone(), format!("{what} has no `{lang}` text")));
                }
            };
            missing(format!("right `{}`: label", right.id), &right.label);
            for f in catalogue.common_fields.iter().chain(&right.fields) {
                missing(
                    format!("right `{}`, field `{}`: label", right.id, f.name),
                    &f.label,
                );
                for o in &f.options {
                    missing(
                        format!(
                            "right `{}`, field `{}`, option `{}`",
                            right.id, f.name, o.value
                        ),
                        &o.label,
                    );
                }
            }
        }
        found
    }

    /// The catalogue this site uses: the default one, trimmed and extended.
    pub fn catalogue(&self) -> Catalogue {
        let mut catalogue = default_catalogue();
        for custom in &self.custom {
            match catalogue.rights.iter_mut().find(|r| r.id == custom.id) {
                Some(existing) => *existing = custom.clone(),
                None => catalogue.rights.push(custom.clone()),
            }
        }
        if let Some(include) = &self.include {
            catalogue.rights.retain(|r| include.contains(&r.id));
        }
        if let Some(common) = &self.common_fields {
            catalogue.common_fields = common.clone();
        }
        catalogue
    }
}

/// The bundled catalogue, parsed once per process: pages ask for it once
/// per form, and parsing the YAML each time made up most of a rebuild.
pub fn default_catalogue() -> Catalogue {
    static PARSED: std::sync::OnceLock<Catalogue> = std::sync::OnceLock::new();
    PARSED
        .get_or_init(|| {
            yaml::parse(DEFAULT_CATALOGUE, Path::new("src/rights/catalogue.yaml"), 1)
                .expect("the bundled rights catalogue is valid")
        })
        .clone()
}

impl Catalogue {
    pub fn get(&self, id: &str) -> Option<&Right> {
        self.rights.iter().find(|r| r.id == id)
    }

    pub fn ids(&self) -> Vec<&str> {
        self.rights.iter().map(|r| r.id.as_str()).collect()
    }
}

/// A field as templates receive it, in one language.
pub fn field_view(field: &Field, lang: &str) -> serde_json::Value {
    let text = |l: &Localized| l.get(lang).cloned().unwrap_or_default();
    let options: Vec<_> = field
        .options
        .iter()
        .map(|o| serde_json::json!({"value": o.value, "label": text(&o.label)}))
        .collect();
    serde_json::json!({
        "name": field.name,
        "type": field.kind,
        "required": field.required,
        "maxlength": field.maxlength,
        "minlength": field.minlength,
        "autocomplete": field.autocomplete,
        "label": text(&field.label),
        "help": text(&field.help),
        "options": options,
    })
}

/// A right as templates receive it, in one language.
pub fn right_view(right: &Right, lang: &str) -> serde_json::Value {
    let text = |l: &Localized| l.get(lang).cloned().unwrap_or_default();
    let fields: Vec<_> = right.fields.iter().map(|f| field_view(f, lang)).collect();
    serde_json::json!({
        "id": right.id,
        "label": text(&right.label),
        "summary": text(&right.summary),
        "help": text(&right.help),
        "response_days": right.response_days,
        "fields": fields,
    })
}
