//! Consent records in the shape of ISO/IEC TS 27560:2023, as W3C DPV's
//! profile of it describes (https://w3id.org/dpv/schema/dpv-27560 and the
//! guide "consent-27560"): JSON-LD with DPV terms, so that a regulator or a
//! partner reads them without our documentation. The field-by-field
//! mapping is in docs/src/proof.md; `static/schemas/consent-iso27560.json`
//! is the JSON Schema both the export and the receipt follow.
//!
//! What a site's configuration says (controller, categories, purposes,
//! cookies, the notice and its hash in the publication log) is the
//! `notice`; one consent record fills in the event (`record`). The banner
//! receives the notice of its language and version and fills it in the
//! browser the same way for the receipt a visitor downloads
//! (static/consent/banner.js, `receipt`).

use super::log::Log;
use crate::config::Config;
use serde_json::{json, Map, Value};

/// The profile the records conform to.
pub const RECORD_PROFILE: &str = "https://w3id.org/dpv/schema/dpv-27560#record";
pub const RECEIPT_PROFILE: &str = "https://w3id.org/dpv/schema/dpv-27560#receipt";
/// Where the schema is published on every site.
pub const SCHEMA_PATH: &str = "schemas/consent-iso27560.json";

/// The terms the records use, and ours (`ps:`) for what DPV has no term for.
fn context(site: &str) -> Value {
    json!({
        "dpv": "https://w3id.org/dpv#",
        "dct": "http://purl.org/dc/terms/",
        "schema": "https://schema.org/",
        "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
        "eu-gdpr": "https://w3id.org/dpv/legal/eu/gdpr#",
        "ps": format!("{site}/{SCHEMA_PATH}#"),
    })
}

/// Everything a record in `lang` about `policy`'s version `version` holds
/// before the event: the controller, the privacy notice (its page and, when
/// the publication log records it, the hash of its text), and one process
/// per cookie category with its purpose, legal basis, cookies, recipients
/// and durations. `None` when the site has no cookie inventory.
pub fn notice(
    config: &Config,
    log: Option<&Log>,
    policy: &str,
    version: &str,
    lang: &str,
) -> Option<Value> {
    let consent = config.consent.as_ref()?;
    let site = config.base_url_trimmed();
    let local = |text: &crate::vocabulary::Localized| {
        text.get(lang)
            .or_else(|| text.get(config.default_language()))
            .cloned()
            .unwrap_or_default()
    };
    let controller_name = config
        .controller
        .as_ref()
        .map(|c| c.name.clone())
        .unwrap_or_else(|| local(&config.title));
    let mut controller = json!({
        "@id": format!("{site}/"),
        "@type": "dpv:DataController",
        "dpv:hasName": controller_name,
        "dpv:hasIdentifier": format!("{site}/"),
        "schema:url": format!("{site}/"),
    });
    if let Some(c) = &config.controller {
        if let Some(contact) = &c.contact {
            controller["schema:contactPoint"] = json!(contact);
        }
        if let Some(address) = &c.address {
            controller["schema:address"] = json!(address);
        }
    }
    let page = format!("{site}/{}", super::page_path(lang, policy, version));
    let mut privacy = json!({
        "@id": page,
        "@type": "dpv:PrivacyNotice",
        "dct:identifier": format!("{policy} {version}"),
        "dct:hasVersion": version,
        "dct:language": lang,
        "schema:url": page,
    });
    if let Some(entry) = log.and_then(|l| l.find(policy, version)) {
        if let Some(text) = entry.text.get(lang) {
            privacy["ps:textSha256"] = json!(text.sha256);
        }
        privacy["ps:publicationLogEntry"] = json!(entry.hash);
    }
    let processes: Vec<Value> = consent
        .categories
        .iter()
        .map(|category| {
            let cookies: Vec<Value> = category
                .services
                .iter()
                .flat_map(|s| {
                    s.cookies.iter().map(move |c| {
                        json!({
                            "@type": "dpv:PersonalData",
                            "dct:title": c.name,
                            "dct:description": local(&c.purpose),
                            "ps:party": match c.party { crate::consent::Party::First => "first", crate::consent::Party::Third => "third" },
                            "ps:service": s.name,
                        })
                    })
                })
                .collect();
            let durations: Vec<Value> = category
                .services
                .iter()
                .flat_map(|s| s.cookies.iter())
                .map(|c| json!({ "@type": "dpv:StorageDuration", "dct:title": c.name, "dct:description": local(&c.duration) }))
                .collect();
            let mut providers: Vec<String> = category
                .services
                .iter()
                .map(|s| s.provider.clone().unwrap_or_else(|| s.name.clone()))
                .collect();
            providers.sort();
            providers.dedup();
            json!({
                "@type": "dpv:Process",
                "dct:identifier": category.id,
                "dct:title": local(&category.label),
                "dpv:hasPurpose": { "@type": "dpv:Purpose", "dct:description": local(&category.description) },
                // Strictly necessary storage needs no consent (ePrivacy
                // Directive, art. 5(3)); the rest is consent's.
                "dpv:hasLegalBasis": if category.required { "dpv:LegitimateInterest" } else { "eu-gdpr:A6-1-a" },
                "dpv:hasPersonalData": cookies,
                "dpv:hasStorageCondition": durations,
                "dpv:hasRecipient": providers.into_iter().map(|p| json!({ "@type": "dpv:Recipient", "dpv:hasName": p })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let policy_page = format!("{site}/{lang}/{policy}/");
    Some(json!({
        "@context": context(site),
        "@type": "dpv:ConsentRecord",
        "dct:conformsTo": RECORD_PROFILE,
        "dpv:hasDataController": controller,
        "dpv:hasNotice": [privacy],
        "dpv:hasProcess": processes,
        "dpv:hasConsentControl": {
            "@type": ["dpv:ProvideConsent", "dpv:WithdrawConsent"],
            "dpv:isExercisedAt": policy_page,
        },
        "dpv:hasRight": [{
            "@type": ["dpv:DataSubjectRight", "eu-gdpr:A7-3"],
            "dct:title": "Withdraw consent at any time",
            "dpv:isExercisedAt": policy_page,
        }],
        "ps:consentLifetimeDays": consent.lifetime_days,
    }))
}

/// How each action of the banner was expressed.
fn method(action: &str) -> &'static str {
    match action {
        "accept_all" => "Accept all button of the cookie banner",
        "reject_all" => "Reject all button of the cookie banner",
        "customize" => "Switches saved in the cookie settings",
        "withdraw" => "Consent taken back in the cookie settings",
        "gpc" => "Global Privacy Control signal sent by the browser",
        _ => "Cookie banner",
    }
}

/// One stored record (`consent-record.v1`) in the standard's shape, from
/// the notice of its language and version; `created` is when the endpoint
/// received it.
pub fn record(notice: &Value, stored: &Value, created: &str) -> Value {
    let mut record = notice.clone();
    let text = |key: &str| stored[key].as_str().unwrap_or_default().to_string();
    let action = text("action");
    let time = text("time");
    let site = notice["dpv:hasDataController"]["@id"]
        .as_str()
        .unwrap_or_default()
        .trim_end_matches('/')
        .to_string();
    record["@id"] = json!(format!("urn:uuid:{}", text("record_id")));
    record["dct:identifier"] = json!(text("record_id"));
    record["dct:created"] = json!(created);
    record["dpv:hasDataSubject"] =
        json!({ "@type": "dpv:DataSubject", "dct:identifier": text("consent_id") });
    if let Some(notices) = record["dpv:hasNotice"].as_array_mut() {
        notices.push(json!({
            "@type": "dpv:ConsentNotice",
            "dct:language": text("lang"),
            "schema:url": format!("{site}{}", text("page")),
            "ps:bannerSha256": text("banner_hash"),
            "ps:inventoryRevision": text("revision"),
        }));
    }
    let lifetime = notice["ps:consentLifetimeDays"].as_u64().unwrap_or(182);
    let none = Map::new();
    let granted = stored["categories"].as_object().unwrap_or(&none);
    if let Some(processes) = record["dpv:hasProcess"].as_array_mut() {
        for process in processes.iter_mut() {
            if process["dpv:hasLegalBasis"] == "dpv:LegitimateInterest" {
                continue;
            }
            let id = process["dct:identifier"].as_str().unwrap_or_default();
            let given = granted.get(id).and_then(Value::as_bool).unwrap_or(false);
            let status = match (given, action.as_str()) {
                (true, _) => "dpv:ConsentGiven",
                (false, "withdraw") => "dpv:ConsentWithdrawn",
                (false, _) => "dpv:ConsentRefused",
            };
            process["dpv:hasConsentStatus"] = json!({
                "@type": [status, "dpv:ExpressedConsent"],
                "dpv:isIndicatedAtTime": time,
                "dpv:isIndicatedBy": "dpv:DataSubject",
                "dpv:hasIndicationMethod": method(&action),
                "dpv:hasDuration": { "@type": "dpv:TemporalDuration", "rdf:value": format!("P{lifetime}D") },
            });
        }
    }
    if let Some(object) = record.as_object_mut() {
        object.remove("ps:consentLifetimeDays");
    }
    record["ps:action"] = json!(action);
    record["ps:gpc"] = json!(stored["gpc"].as_bool().unwrap_or(false));
    record["ps:recordSchema"] = json!(text("schema"));
    record
}

/// Records (the site's configuration, its log) in the standard's shape, for
/// `consents export --format iso27560`: one notice per language and
/// version, made once.
pub struct Exporter<'a> {
    config: &'a Config,
    log: Option<&'a Log>,
    notices: std::collections::BTreeMap<(String, String, String), Option<Value>>,
}

impl<'a> Exporter<'a> {
    pub fn new(config: &'a Config, log: Option<&'a Log>) -> Exporter<'a> {
        Exporter {
            config,
            log,
            notices: Default::default(),
        }
    }

    /// `None` when the site has no cookie inventory to describe it with.
    pub fn record(&mut self, stored: &Value, created: &str) -> Option<Value> {
        let field = |k: &str| stored[k].as_str().unwrap_or_default().to_string();
        let key = (field("policy"), field("version"), field("lang"));
        let (config, log) = (self.config, self.log);
        let notice = self
            .notices
            .entry(key)
            .or_insert_with_key(|(p, v, l)| notice(config, log, p, v, l))
            .as_ref()?;
        Some(record(notice, stored, created))
    }
}
