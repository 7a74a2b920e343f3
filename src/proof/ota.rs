//! The Open Terms Archive service declaration the build publishes as
//! `/open-terms-archive.json`, so that OTA (and any watcher reading its
//! format) collects every version of the site's policies from the right
//! element, without guessing: `name`, and `terms` keyed by OTA's terms
//! types, each with the URL that always shows the version in force
//! (`fetch`), the policy text (`select`) and the site's parts inside it
//! (`remove`).
//!
//! The format is the engine's since 5.0.0 (`terms`, formerly `documents`);
//! `check` validates the declaration against a JSON Schema written from
//! the engine's service declaration schema, with the `jsonschema` crate.

use super::text::{CHROME_ATTRIBUTE, TEXT_ATTRIBUTE};
use serde_json::{json, Value};
use std::sync::LazyLock;

/// OTA's terms types, as `@opentermsarchive/terms-types` 2.2.0 lists them.
pub const TERMS_TYPES: &[&str] = &[
    "Terms of Service",
    "Privacy Policy",
    "Imprint",
    "Trackers Policy",
    "Developer Terms",
    "Community Guidelines",
    "Deceased Users",
    "Acceptable Use Policy",
    "Restricted Use Policy",
    "Commercial Terms",
    "Copyright Claims Policy",
    "Law Enforcement Guidelines",
    "Human Rights Policy",
    "In-App Purchases Policy",
    "Review Guidelines",
    "Brand Guidelines",
    "Quality Guidelines",
    "Data Controller Agreement",
    "Data Processor Agreement",
    "User Consent Policy",
    "Closed Captioning Policy",
    "Seller Warranty",
    "Single Sign-On Policy",
    "Vulnerability Disclosure Policy",
    "Live Policy",
    "Complaints Policy",
    "Conditions of Carriage",
    "General Conditions of Sale",
    "Marketplace Buyers Conditions",
    "Marketplace Sellers Conditions",
    "Ranking Parameters Description",
    "Premium Partner Conditions",
    "Platform to Business Notice",
    "Business Mediation Policy",
    "Business Privacy Policy",
    "Editorial Policy",
    "Anti-corruption Policy",
    "Accessibility Statement",
    "Hyperlinks Policy",
    "Whistleblower Policy",
    "Affiliate Agreement",
    "Service Level Agreement",
    "Content Monetisation Policy",
    "Advertising Content Policy",
];

/// One tracked policy: its terms type and the URL that shows the version
/// in force.
pub struct Tracked {
    pub terms_type: String,
    pub fetch: String,
}

/// The declaration of `name`'s tracked policies.
pub fn declaration(name: &str, tracked: &[Tracked]) -> Value {
    let terms: serde_json::Map<String, Value> = tracked
        .iter()
        .map(|t| {
            (
                t.terms_type.clone(),
                json!({
                    "fetch": t.fetch,
                    "select": format!("[{TEXT_ATTRIBUTE}]"),
                    "remove": format!("[{CHROME_ATTRIBUTE}]"),
                }),
            )
        })
        .collect();
    json!({ "name": name, "terms": terms })
}

/// The engine's declaration schema (its `documents` renamed `terms`, as
/// engine 5 reads it).
static SCHEMA: LazyLock<jsonschema::Validator> = LazyLock::new(|| {
    let selector = json!({ "type": "string", "pattern": "^.+$" });
    let range = json!({
        "type": "object",
        "properties": {
            "startBefore": selector, "startAfter": selector,
            "endBefore": selector, "endAfter": selector,
        },
        "oneOf": [
            { "required": ["startBefore", "endBefore"] },
            { "required": ["startBefore", "endAfter"] },
            { "required": ["startAfter", "endBefore"] },
            { "required": ["startAfter", "endAfter"] },
        ],
    });
    let selectors = json!({
        "oneOf": [
            selector, range,
            { "type": "array", "items": { "oneOf": [selector, range] } },
        ],
    });
    let filters = json!({ "type": "array", "items": { "type": "string", "pattern": "^.+$" } });
    let source = json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["fetch"],
        "properties": {
            "fetch": { "type": "string", "format": "uri" },
            "select": selectors, "remove": selectors, "filter": filters,
            "executeClientScripts": { "type": "boolean" },
        },
    });
    let single = json!({ "allOf": [source, { "required": ["fetch", "select"] }] });
    let combined = json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["combine"],
        "properties": {
            "combine": { "type": "array", "items": source },
            "select": selectors, "remove": selectors, "filter": filters,
            "executeClientScripts": { "type": "boolean" },
        },
    });
    let pdf = json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["fetch"],
        "properties": { "fetch": { "type": "string", "pattern": "^https?://.+.[pP][dD][fF](\\?.+)?$" } },
    });
    let schema = json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["name", "terms"],
        "properties": {
            "name": { "type": "string" },
            "terms": {
                "type": "object",
                "propertyNames": { "enum": TERMS_TYPES },
                "additionalProperties": { "oneOf": [single, combined, pdf] },
            },
            "importedFrom": { "type": "string" },
        },
    });
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the schema is valid")
});

/// What the declaration's schema finds wrong with `declaration`.
pub fn problems(declaration: &Value) -> Vec<String> {
    SCHEMA
        .iter_errors(declaration)
        .map(|e| {
            let at = e.instance_path().to_string();
            if at.is_empty() {
                e.to_string()
            } else {
                format!("{at}: {e}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_declaration_passes_the_engines_schema_and_a_wrong_one_does_not() {
        let ours = declaration(
            "Iconnek",
            &[Tracked {
                terms_type: "Privacy Policy".into(),
                fetch: "https://iconnek.io/en/privacy/".into(),
            }],
        );
        assert_eq!(problems(&ours), Vec::<String>::new());
        assert_eq!(
            ours["terms"]["Privacy Policy"]["select"],
            "[data-policy-text]"
        );

        let mut unknown_key = ours.clone();
        unknown_key["terms"]["Privacy Policy"]["selector"] = json!("main");
        assert!(!problems(&unknown_key).is_empty());

        let mut old_format = json!({ "name": "Iconnek", "documents": ours["terms"].clone() });
        assert!(!problems(&old_format).is_empty());
        old_format = json!({ "name": "Iconnek", "terms": { "Privacy Notice": ours["terms"]["Privacy Policy"].clone() } });
        assert!(!problems(&old_format).is_empty());
    }
}
