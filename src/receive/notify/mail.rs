//! E-mail over SMTP with lettre: the operators told of each request, the
//! requester acknowledged. The server is given in lettre's URL form
//! (`smtp://host:port` plain, for a relay on loopback; `smtps://host` TLS;
//! `smtp://host?tls=required` STARTTLS); user and password come from the
//! environment. A mail's Message-ID is its delivery's id, the key by which
//! a repeat (at least once) can be recognised.

use super::store::Delivery;
use lettre::message::{header::ContentType, Mailbox};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{Message, SmtpTransport, Transport};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Settings {
    /// The SMTP server, in lettre's URL form.
    pub smtp: String,
    /// `POLICY_SITE_SMTP_USER` and `POLICY_SITE_SMTP_PASSWORD`, when set.
    pub credentials: Option<(String, String)>,
    /// `--mail-from`: who the mails come from.
    pub from: String,
    /// `--notify`: the operators told of each request.
    pub operators: Vec<String>,
    /// Whether the requester gets an acknowledgment at the address given.
    pub acknowledge: bool,
    /// `--public-url`: where the receiver is reached from outside; the
    /// acknowledgment then carries a link confirming the address.
    pub public_url: Option<url::Url>,
    /// How long a verification link works.
    pub link_lifetime: std::time::Duration,
}

/// Whether `text` is one e-mail address a mail can go to.
pub fn is_address(text: &str) -> bool {
    text.parse::<Mailbox>().is_ok()
}

/// Checks the settings as `receive` starts: an unusable URL or address is
/// said at once, not on the first request.
pub fn check(settings: &Settings) -> Result<(), String> {
    transport(settings)?;
    settings
        .from
        .parse::<Mailbox>()
        .map_err(|e| format!("--mail-from `{}` is not an address: {e}", settings.from))?;
    if let Some(bad) = settings.operators.iter().find(|a| !is_address(a)) {
        return Err(format!("--notify `{bad}` is not an address"));
    }
    Ok(())
}

fn transport(settings: &Settings) -> Result<SmtpTransport, String> {
    let mut builder = SmtpTransport::from_url(&settings.smtp)
        .map_err(|e| format!("--smtp is not an SMTP URL (smtp://host:port, smtps://host, smtp://host?tls=required): {e}"))?
        .timeout(Some(Duration::from_secs(10)));
    if let Some((user, password)) = &settings.credentials {
        builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
    }
    Ok(builder.build())
}

pub struct Sender {
    transport: SmtpTransport,
    from: Mailbox,
}

impl Sender {
    pub fn new(settings: Settings) -> Result<Sender, String> {
        check(&settings)?;
        Ok(Sender {
            transport: transport(&settings)?,
            from: settings.from.parse().map_err(|e| format!("{e}"))?,
        })
    }

    /// One attempt: `Ok` once the server accepted the message.
    pub fn send(&self, delivery: &Delivery) -> Result<(), String> {
        let body: serde_json::Value =
            serde_json::from_str(&delivery.body).map_err(|e| e.to_string())?;
        let text = |key: &str| body[key].as_str().unwrap_or("").to_string();
        let to: Mailbox = text("to")
            .parse()
            .map_err(|_| "not an address".to_string())?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(text("subject"))
            .message_id(Some(format!("<{}@policy-site>", delivery.delivery_id)))
            .header(ContentType::TEXT_PLAIN)
            .body(text("text"))
            .map_err(|e| e.to_string())?;
        // The server's answer may quote the address: say only its code.
        self.transport
            .send(&message)
            .map(|_| ())
            .map_err(|e| match e.status() {
                Some(code) => format!("the SMTP server answered {code}"),
                None if e.is_transient() => "the SMTP server refused for now".into(),
                None => "the SMTP server could not be reached or refused".into(),
            })
    }
}
