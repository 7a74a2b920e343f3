//! Telling people a request arrived: the outbox and its senders. Intake
//! queues a delivery per configured webhook, an e-mail per operator and an
//! acknowledgment to the requester in the request's own transaction
//! (`deliveries`, below); a sender thread per receiver claims what is due,
//! sends it, and records the outcome, trying again with a growing delay
//! until the receiving end answers 2xx. A queued delivery survives a crash
//! or `kill -9` and is sent at least once; each carries its id, the
//! idempotency key, so that a receiving end can drop a repeat. Several
//! receivers on one PostgreSQL share the outbox: a claim leases the rows.

pub mod mail;
pub mod webhook;

use super::database;
use super::due;
use super::store::{self, Backend, Delivery, NewDelivery, NewRequest, NewVerification};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::time::Duration;

/// Where notifications go, as `receive`'s options set it.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Webhook URLs (http or https), each sent every new request.
    pub webhooks: Vec<url::Url>,
    /// Whether a webhook's body carries the request's answers (off: only
    /// what an operator needs to find the request, no personal data).
    pub include_answers: bool,
    /// The webhooks' signing secret (`POLICY_SITE_WEBHOOK_SECRET`).
    pub secret: Vec<u8>,
    /// E-mail over SMTP, when `--smtp` is given.
    pub mail: Option<mail::Settings>,
    /// Days before a request's due date the operators are reminded (each
    /// once); they are told again once it is overdue.
    pub remind_before: Vec<u32>,
}

/// What the e-mails say, in a language: the receiver's strings.
pub struct Wording<'a> {
    /// `receive.<key>` in a language.
    pub text: &'a dyn Fn(&str, &str) -> String,
    /// The request's right as a reader knows it, in a language.
    pub right: &'a dyn Fn(&str) -> String,
    /// The operators' language: the site's default one.
    pub operators: &'a str,
}

/// What a mail says of its request.
pub struct Facts<'a> {
    pub request_id: &'a str,
    pub reference: &'a str,
    pub policy: &'a str,
    pub lang: &'a str,
    pub received_at: &'a str,
    pub due_on: &'a str,
}

impl<'a> From<&'a NewRequest> for Facts<'a> {
    fn from(r: &'a NewRequest) -> Facts<'a> {
        Facts {
            request_id: &r.request_id,
            reference: &r.reference,
            policy: &r.policy,
            lang: &r.lang,
            received_at: &r.received_at,
            due_on: &r.due_on,
        }
    }
}

impl<'a> From<&'a store::StoredRequest> for Facts<'a> {
    fn from(r: &'a store::StoredRequest) -> Facts<'a> {
        Facts {
            request_id: &r.request_id,
            reference: &r.reference,
            policy: &r.policy,
            lang: &r.lang,
            received_at: &r.received_at,
            due_on: &r.due_on,
        }
    }
}

impl Wording<'_> {
    /// `receive.<key>` in `lang`, its `{…}` filled in from the request.
    fn fill(&self, key: &str, lang: &str, request: &Facts) -> String {
        (self.text)(lang, key)
            .replace("{reference}", request.reference)
            .replace("{right}", &(self.right)(lang))
            .replace("{policy}", request.policy)
            .replace("{language}", request.lang)
            .replace("{received}", request.received_at.get(..10).unwrap_or(""))
            .replace("{due}", request.due_on)
    }
}

/// The strings and right labels the sender words reminders with, owned
/// (the sender runs on a thread of its own).
#[derive(Clone)]
pub struct Texts {
    pub strings: std::collections::BTreeMap<String, crate::i18n::Strings>,
    pub catalogue: crate::rights::Catalogue,
    pub operators: String,
}

impl Texts {
    fn text(&self, lang: &str, key: &str) -> String {
        [lang, "en"]
            .iter()
            .find_map(|l| self.strings.get(*l)?.get("receive")?.get(key).cloned())
            .unwrap_or_else(|| key.to_string())
    }

    fn right(&self, right: &str, lang: &str) -> String {
        self.catalogue
            .get(right)
            .and_then(|r| r.label.get(lang).or_else(|| r.label.get("en")).cloned())
            .unwrap_or_else(|| right.to_string())
    }
}

/// The reminders due today for `request`, to every operator and webhook:
/// `request.due_soon` the day its due date is `days` away (each of
/// `before`), `request.overdue` once it has passed. Their ids make each one
/// once per request.
fn reminders(
    settings: &Settings,
    texts: &Texts,
    request: &store::StoredRequest,
    today: &str,
) -> Vec<NewDelivery> {
    let Ok(due_on) = request.due_on.parse::<crate::date::Date>() else {
        return Vec::new();
    };
    let Ok(now) = today.parse::<crate::date::Date>() else {
        return Vec::new();
    };
    let left = due_on.days_since_epoch() - now.days_since_epoch();
    let (event, key) = if left < 0 {
        ("request.overdue".to_string(), "overdue")
    } else if let Some(days) = settings
        .remind_before
        .iter()
        .filter(|d| i64::from(**d) >= left)
        .min()
    {
        (format!("request.due_soon.{days}d"), "due_soon")
    } else {
        return Vec::new();
    };
    let facts: Facts = request.into();
    let text = |lang: &str, k: &str| texts.text(lang, k);
    let right = |lang: &str| texts.right(&request.right, lang);
    let wording = Wording {
        text: &text,
        right: &right,
        operators: &texts.operators,
    };
    let lang = texts.operators.as_str();
    let days_left = left.max(0).to_string();
    let fill = |k: &str| {
        wording
            .fill(&format!("mail_{key}_{k}"), lang, &facts)
            .replace("{days}", &days_left)
    };
    let mut out = Vec::new();
    if let Some(mail) = &settings.mail {
        for to in &mail.operators {
            out.push(NewDelivery {
                delivery_id: delivery_id(&request.request_id, &event, to),
                request_id: request.request_id.clone(),
                channel: "mail".into(),
                target: to.clone(),
                event: event.clone(),
                body: json!({"to": to, "subject": fill("subject"), "text": fill("text")})
                    .to_string(),
            });
        }
    }
    for target in &settings.webhooks {
        let id = delivery_id(
            &request.request_id,
            &format!("webhook\n{event}"),
            target.as_str(),
        );
        let body = json!({
            "event": format!("request.{key}"),
            "days_left": left,
            "delivery_id": id,
            "reference": request.reference,
            "right": request.right,
            "policy": request.policy,
            "language": request.lang,
            "received_at": request.received_at,
            "due": request.due_on,
            "status": request.status,
        });
        out.push(NewDelivery {
            delivery_id: id,
            request_id: request.request_id.clone(),
            channel: "webhook".into(),
            target: target.to_string(),
            event: event.clone(),
            body: body.to_string(),
        });
    }
    out
}

/// How often the sender looks for reminders to queue.
const REMINDER_SCAN: Duration = Duration::from_secs(600);

/// Queues the reminders due today (each once).
fn queue_reminders(
    db: &mut dyn Backend,
    settings: &Settings,
    texts: &Texts,
) -> Result<usize, String> {
    let (now, today) = due::now();
    let today = today.to_string();
    let horizon = settings.remind_before.iter().max().copied().unwrap_or(0);
    let until = due::timestamp(due::now_millis() + i64::from(horizon) * 86_400_000).0;
    let requests = store::open_requests_due(db, &until[..10], &today)?;
    let deliveries: Vec<NewDelivery> = requests
        .iter()
        .flat_map(|r| reminders(settings, texts, r, &today))
        .collect();
    store::queue_once(db, &deliveries, &now)
}

/// A mail to the requester about their request (an extension, a refusal):
/// `<kind>` names the strings `mail_<kind>_subject` and `mail_<kind>_text`,
/// `{reason}` in them is `reason`; none when they gave no valid address.
pub fn requester_mail(
    kind: &str,
    request: &Facts,
    address: Option<&str>,
    reason: &str,
    at: &str,
    wording: &Wording,
) -> Option<NewDelivery> {
    let to = address.filter(|a| mail::is_address(a))?;
    let lang = request.lang;
    let fill = |key: &str| {
        wording
            .fill(&format!("mail_{kind}_{key}"), lang, request)
            .replace("{reason}", reason)
    };
    let event = format!("request.{kind}");
    Some(NewDelivery {
        delivery_id: delivery_id(request.request_id, &format!("{event}\n{at}"), to),
        request_id: request.request_id.into(),
        channel: "mail".into(),
        target: to.into(),
        body: json!({"to": to, "subject": fill("subject"), "text": fill("text")}).to_string(),
        event,
    })
}

impl Settings {
    pub fn is_empty(&self) -> bool {
        self.webhooks.is_empty() && self.mail.is_none()
    }

    /// The deliveries a newly stored request owes, one per webhook. Each id
    /// is derived from the request and the target, so that it is the same
    /// however often intake is retried.
    /// With the acknowledgment, the link that confirms the requester's
    /// address when `--public-url` is set: its token goes in the mail, its
    /// hash in the store.
    pub fn deliveries(
        &self,
        request: &NewRequest,
        body: &Value,
        wording: &Wording,
    ) -> (Vec<NewDelivery>, Option<NewVerification>) {
        let mut deliveries = self.webhook_deliveries(request, body);
        let mut verification = None;
        if let Some(mail) = &self.mail {
            let mut message = |event: &str, to: &str, lang: &str, subject: &str, text: String| {
                let delivery_id = delivery_id(&request.request_id, event, to);
                let body = json!({
                    "to": to,
                    "subject": wording.fill(subject, lang, &request.into()),
                    "text": text,
                });
                deliveries.push(NewDelivery {
                    delivery_id,
                    request_id: request.request_id.clone(),
                    channel: "mail".into(),
                    target: to.into(),
                    event: event.into(),
                    body: body.to_string(),
                });
            };
            for operator in &mail.operators {
                let lang = wording.operators;
                let text = wording.fill("mail_notify_text", lang, &request.into());
                message(
                    "request.received",
                    operator,
                    lang,
                    "mail_notify_subject",
                    text,
                );
            }
            let requester = body["fields"]["email"]
                .as_str()
                .filter(|a| mail::is_address(a));
            if let Some(address) = requester.filter(|_| mail.acknowledge) {
                let lang = request.lang.as_str();
                let mut text = wording.fill("mail_ack_text", lang, &request.into());
                if let Some((link, new)) = verification_link(mail, address) {
                    let expires = new.expires_at.get(..10).unwrap_or("").to_string();
                    let verify = (wording.text)(lang, "mail_ack_verify")
                        .replace("{link}", &link)
                        .replace("{expires}", &expires);
                    text = format!("{text}\n\n{verify}");
                    verification = Some(new);
                }
                message(
                    "request.acknowledged",
                    address,
                    lang,
                    "mail_ack_subject",
                    text,
                );
            }
        }
        (deliveries, verification)
    }

    fn webhook_deliveries(&self, request: &NewRequest, body: &Value) -> Vec<NewDelivery> {
        self.webhooks
            .iter()
            .map(|target| {
                let delivery_id = delivery_id(&request.request_id, "webhook", target.as_str());
                let mut event = json!({
                    "event": "request.received",
                    "delivery_id": delivery_id,
                    "reference": request.reference,
                    "right": request.right,
                    "policy": request.policy,
                    "language": request.lang,
                    "received_at": request.received_at,
                    "due": request.due_on,
                });
                if self.include_answers {
                    event["answers"] = body["fields"].clone();
                }
                NewDelivery {
                    request_id: request.request_id.clone(),
                    delivery_id,
                    channel: "webhook".into(),
                    target: target.to_string(),
                    event: "request.received".into(),
                    body: event.to_string(),
                }
            })
            .collect()
    }
}

/// A fresh link under `--public-url` (`…/verify/<token>`), and what the
/// store keeps of it; none without a public URL or a source of randomness.
fn verification_link(mail: &mail::Settings, address: &str) -> Option<(String, NewVerification)> {
    let public = mail.public_url.as_ref()?;
    let mut token = [0u8; 32];
    getrandom::fill(&mut token).ok()?;
    let token = crate::vocabulary::hex(&token);
    let link = public.join(&format!("verify/{token}")).ok()?;
    let expires = due::now_millis() + mail.link_lifetime.as_millis() as i64;
    Some((
        link.to_string(),
        NewVerification {
            token_hash: token_hash(&token),
            address: address.into(),
            expires_at: due::timestamp(expires).0,
        },
    ))
}

/// What the store keeps of a verification token.
pub fn token_hash(token: &str) -> String {
    crate::vocabulary::hex(&Sha256::digest(token.as_bytes()))
}

/// Derived from the request, what the delivery is (`webhook`, or a mail's
/// event) and where it goes.
fn delivery_id(request_id: &str, kind: &str, target: &str) -> String {
    let digest = Sha256::digest(format!("{request_id}\n{kind}\n{target}"));
    format!("dlv_{}", &crate::vocabulary::hex(&digest)[..32])
}

/// How long a claim holds a delivery: longer than a batch can take, whose
/// threads each make CLAIM / SENDING_AT_ONCE attempts of at most 10 s.
const LEASE: Duration = Duration::from_secs(120);
/// How often the sender looks for deliveries when it found none.
const IDLE: Duration = Duration::from_millis(250);
/// Deliveries claimed at a time, and how many of them are sent at once.
const CLAIM: usize = 64;
const SENDING_AT_ONCE: usize = 8;

/// The delay before attempt `n + 1` after `n` failed ones: 1 s, doubling,
/// at most an hour.
pub fn backoff(failed: u32) -> Duration {
    Duration::from_secs(1u64 << failed.saturating_sub(1).min(12)).min(Duration::from_secs(3600))
}

/// Starts the sender on its own connection to `db`; it runs until the
/// process ends (what it had claimed is claimed again once the lease ends).
pub fn start(db: &str, settings: Settings, texts: Texts) -> Result<(), String> {
    let backend = database::connect(db)?;
    let senders = Senders {
        webhook: webhook::Sender::new(settings.secret.clone())?,
        mail: settings.mail.clone().map(mail::Sender::new).transpose()?,
    };
    std::thread::Builder::new()
        .name("notifications".into())
        .spawn(move || send_loop(backend, senders, settings, texts))
        .map_err(|e| format!("cannot start the notification sender: {e}"))?;
    Ok(())
}

/// One sender per channel.
struct Senders {
    webhook: webhook::Sender,
    mail: Option<mail::Sender>,
}

impl Senders {
    /// The channels this receiver sends by: mail only with `--smtp`.
    fn channels(&self) -> Vec<&'static str> {
        let mut channels = vec!["webhook"];
        if self.mail.is_some() {
            channels.push("mail");
        }
        channels
    }

    /// Sends a claimed batch, several at once (each channel's client is
    /// shared by the threads); the outcomes in the batch's order.
    fn send_all(&self, claimed: &[Delivery]) -> Vec<Result<(), String>> {
        let per = claimed.len().div_ceil(SENDING_AT_ONCE).max(1);
        std::thread::scope(|scope| {
            let running: Vec<_> = claimed
                .chunks(per)
                .map(|chunk| {
                    scope.spawn(move || chunk.iter().map(|d| self.send(d)).collect::<Vec<_>>())
                })
                .collect();
            running
                .into_iter()
                .flat_map(|thread| {
                    thread
                        .join()
                        .unwrap_or_else(|_| vec![Err("the sending thread failed".into()); per])
                })
                .collect()
        })
    }

    fn send(&self, delivery: &Delivery) -> Result<(), String> {
        match (delivery.channel.as_str(), &self.mail) {
            ("webhook", _) => self.webhook.send(delivery),
            ("mail", Some(mail)) => mail.send(delivery),
            ("mail", None) => Err("no --smtp is set to send e-mail with".into()),
            (other, _) => Err(format!("no sender for `{other}`")),
        }
    }
}

fn send_loop(mut db: Box<dyn Backend>, sender: Senders, settings: Settings, texts: Texts) {
    let mut scanned: Option<std::time::Instant> = None;
    loop {
        if scanned.is_none_or(|at| at.elapsed() >= REMINDER_SCAN) {
            scanned = Some(std::time::Instant::now());
            if let Err(e) = queue_reminders(db.as_mut(), &settings, &texts) {
                eprintln!("notifications: cannot queue the reminders ({e}); trying again later");
            }
        }
        let now = due::now_millis();
        let lease = now + LEASE.as_millis() as i64;
        let claimed = store::claim_deliveries(
            db.as_mut(),
            &due::timestamp(now).0,
            &due::timestamp(lease).0,
            CLAIM,
            &sender.channels(),
        );
        let claimed = match claimed {
            Ok(claimed) => claimed,
            Err(e) => {
                eprintln!("notifications: cannot read the outbox ({e}); trying again");
                std::thread::sleep(IDLE * 4);
                continue;
            }
        };
        if claimed.is_empty() {
            std::thread::sleep(IDLE);
            continue;
        }
        let outcomes = sender.send_all(&claimed);
        record(db.as_mut(), &claimed, outcomes);
    }
}

/// Stores what the attempts came to; says so in the log without personal
/// data (the delivery's id and a webhook's host; never a mail's address).
fn record(db: &mut dyn Backend, claimed: &[Delivery], outcomes: Vec<Result<(), String>>) {
    let now = due::now_millis();
    let attempts: Vec<_> = claimed
        .iter()
        .zip(outcomes)
        .map(|(delivery, outcome)| match outcome {
            Ok(()) => (delivery, store::Attempt::Delivered),
            Err(error) => {
                let wait = backoff(delivery.attempts + 1);
                let host = match delivery.channel.as_str() {
                    "webhook" => url::Url::parse(&delivery.target)
                        .ok()
                        .and_then(|u| u.host_str().map(str::to_string))
                        .unwrap_or_default(),
                    channel => channel.to_string(),
                };
                eprintln!(
                    "notifications: {} to {host} failed ({error}); attempt {} again in {} s",
                    delivery.delivery_id,
                    delivery.attempts + 2,
                    wait.as_secs()
                );
                let next_at = due::timestamp(now + wait.as_millis() as i64).0;
                (delivery, store::Attempt::Failed { error, next_at })
            }
        })
        .collect();
    if let Err(e) = store::record_attempts(db, &attempts, &due::timestamp(now).0) {
        // The lease runs out and the deliveries are claimed again: at least once.
        eprintln!(
            "notifications: cannot record {} attempt(s) ({e}); they will be made again",
            attempts.len()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_wait_longer_each_time_up_to_an_hour() {
        let waits: Vec<u64> = (1..=15).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(&waits[..5], &[1, 2, 4, 8, 16]);
        assert_eq!(waits[14], 3600);
    }

    #[test]
    fn a_delivery_id_is_the_same_for_the_same_request_and_target_only() {
        let a = delivery_id("r1", "webhook", "https://a.example/hook");
        assert_eq!(a, delivery_id("r1", "webhook", "https://a.example/hook"));
        assert_ne!(a, delivery_id("r2", "webhook", "https://a.example/hook"));
        assert_ne!(a, delivery_id("r1", "webhook", "https://b.example/hook"));
        assert!(a.starts_with("dlv_") && a.len() == 36);
    }
}
