//! What operators do to a request, whether from `policy-site requests` or
//! the console: record a status (a refusal with its reason) and extend the
//! deadline once, as the request's jurisdiction allows. The requester is
//! told of a refusal or an extension by mail, queued in the outbox in the
//! change's own transaction, in the request's language.

use super::store::{self, Backend, NewDelivery, StoredRequest, STATUSES};
use super::{due, notify};

/// Why a change cannot be made, in words for the operator.
#[derive(Debug)]
pub struct Problem {
    pub message: String,
    pub hint: Option<String>,
}

impl From<String> for Problem {
    fn from(message: String) -> Problem {
        Problem {
            message,
            hint: None,
        }
    }
}

/// What a change did.
pub struct Done {
    pub at: String,
    /// The due date after an extension.
    pub due_on: Option<String>,
    pub was_due: Option<String>,
    /// Whether a mail to the requester was queued.
    pub told: bool,
}

/// The words mails are written in: the built-in strings, or a site's.
pub struct Words<'a> {
    pub strings: &'a std::collections::BTreeMap<String, crate::i18n::Strings>,
    pub catalogue: &'a crate::rights::Catalogue,
    /// The operators' language.
    pub operators: &'a str,
}

fn found(
    db: &mut dyn Backend,
    key: &str,
    today: &str,
) -> Result<(StoredRequest, Vec<store::StatusChange>), Problem> {
    store::request(db, key, today)?
        .ok_or_else(|| Problem::from(format!("no request has the reference `{key}`")))
}

/// Records `status` for the request `key`; a refusal needs its reason,
/// which the requester is told.
pub fn set_status(
    db: &mut dyn Backend,
    key: &str,
    status: &str,
    note: &str,
    actor: &str,
    words: &Words,
) -> Result<Done, Problem> {
    if !STATUSES.contains(&status) {
        return Err(format!(
            "`{status}` is not a status; use one of {}",
            STATUSES.join(", ")
        )
        .into());
    }
    if status == "refused" && note.trim().is_empty() {
        return Err(Problem {
            message: "a refusal needs its reason: the requester is told it".into(),
            hint: Some("add --reason \"…\" (for instance, why the request is manifestly unfounded or excessive)".into()),
        });
    }
    let at = due::now().0;
    let (request, _) = found(db, key, &at[..10])?;
    // Once is enough: the same status again would repeat its history (and
    // a second refusal its mail); a closed request is not refused again.
    if request.status == status {
        return Err(format!("{key} is {status} already").into());
    }
    if status == "refused" && request.status == "completed" {
        return Err(format!("{key} is completed already: it cannot be refused now").into());
    }
    let tell = (status == "refused")
        .then(|| tell("refused", &request, note, &at, words))
        .flatten();
    store::set_status(db, key, actor, status, &at, note, tell.as_ref())?;
    Ok(Done {
        at,
        due_on: None,
        was_due: None,
        told: tell.is_some(),
    })
}

/// Moves the due date of `key` once by the period its jurisdiction allows,
/// before the first one ends, with the reason.
pub fn extend(
    db: &mut dyn Backend,
    key: &str,
    reason: &str,
    actor: &str,
    words: &Words,
) -> Result<Done, Problem> {
    if reason.trim().is_empty() {
        return Err(Problem::from(
            "an extension needs its reason: the requester is told it".to_string(),
        ));
    }
    let at = due::now().0;
    let today = &at[..10];
    let (request, history) = found(db, key, today)?;
    if let Some(done) = history.iter().find(|c| c.status == "extended") {
        return Err(format!(
            "{key} was extended already, on {}: the law allows one extension",
            &done.at[..10]
        )
        .into());
    }
    if !matches!(request.status.as_str(), "received" | "identity_verified") {
        return Err(format!(
            "{key} is {} already: there is nothing to extend",
            request.status
        )
        .into());
    }
    if request.due_on.as_str() < today {
        return Err(format!(
            "{key} was due on {}: an extension must be announced before the first period ends",
            request.due_on
        )
        .into());
    }
    let Some(period) = due::extension(&request.jurisdiction) else {
        return Err(format!(
            "no extension is known for the jurisdiction `{}` (GDPR: two months; California: 45 days)",
            request.jurisdiction
        )
        .into());
    };
    let due_on: crate::date::Date = request.due_on.parse()?;
    let new_due = period.due(due_on).to_string();
    let extended = StoredRequest {
        due_on: new_due.clone(),
        ..request.clone()
    };
    let tell = tell("extended", &extended, reason, &at, words);
    let note = format!(
        "due date moved from {} to {new_due}: {reason}",
        request.due_on
    );
    store::extend(
        db,
        &request.request_id,
        actor,
        &at,
        &new_due,
        &note,
        tell.as_ref(),
    )?;
    Ok(Done {
        at,
        due_on: Some(new_due),
        was_due: Some(request.due_on),
        told: tell.is_some(),
    })
}

/// The requester's mail about `kind` (`refused`, `extended`), in the
/// request's language, to the address the form gave.
fn tell(
    kind: &str,
    request: &StoredRequest,
    reason: &str,
    at: &str,
    words: &Words,
) -> Option<NewDelivery> {
    let text = |lang: &str, key: &str| {
        [lang, words.operators, "en"]
            .iter()
            .find_map(|l| words.strings.get(*l)?.get("receive")?.get(key).cloned())
            .unwrap_or_else(|| key.to_string())
    };
    let right = |lang: &str| {
        words
            .catalogue
            .get(&request.right)
            .and_then(|r| r.label.get(lang).or_else(|| r.label.get("en")).cloned())
            .unwrap_or_else(|| request.right.clone())
    };
    let wording = notify::Wording {
        text: &text,
        right: &right,
        operators: words.operators,
    };
    let address = request.payload["fields"]["email"].as_str();
    notify::requester_mail(kind, &request.into(), address, reason, at, &wording)
}
