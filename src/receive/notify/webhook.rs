//! Webhooks: one JSON POST per delivery, signed so that the receiving end
//! can check it came from this receiver and reject a replay, as Stripe's
//! and GitHub's webhooks are: `Policy-Site-Signature: t=<unix seconds>,
//! v1=<hex HMAC-SHA256(secret, "<t>." + body)>`, and the delivery's id in
//! `Policy-Site-Delivery`. Sent with hyper's client, over rustls for https
//! (the Mozilla roots of webpki-roots), with a deadline per attempt.

use super::store::Delivery;
use hmac::{Hmac, Mac};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use sha2::Sha256;
use std::time::Duration;

/// One attempt's deadline, connecting included.
const ATTEMPT: Duration = Duration::from_secs(10);

use crate::server::Https;

pub struct Sender {
    secret: Vec<u8>,
    client: Client<Https, Full<Bytes>>,
    runtime: tokio::runtime::Runtime,
}

/// The `Policy-Site-Signature` value for `body` sent at `t`.
pub fn signature(secret: &[u8], t: u64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(format!("{t}.").as_bytes());
    mac.update(body.as_bytes());
    format!(
        "t={t},v1={}",
        crate::vocabulary::hex(&mac.finalize().into_bytes())
    )
}

impl Sender {
    pub fn new(secret: Vec<u8>) -> Result<Sender, String> {
        // Several sending threads block on it at once (see `send_all`).
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        let client = crate::server::client();
        Ok(Sender {
            secret,
            client,
            runtime,
        })
    }

    /// One attempt: `Ok` once the receiving end answered 2xx.
    pub fn send(&self, delivery: &Delivery) -> Result<(), String> {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let request = hyper::Request::post(&delivery.target)
            .header("content-type", "application/json")
            .header(
                "user-agent",
                concat!("policy-site/", env!("CARGO_PKG_VERSION")),
            )
            .header("policy-site-delivery", &delivery.delivery_id)
            .header(
                "policy-site-signature",
                signature(&self.secret, t, &delivery.body),
            )
            .body(Full::new(Bytes::from(delivery.body.clone())))
            .map_err(|e| e.to_string())?;
        self.runtime.block_on(async {
            let answer = tokio::time::timeout(ATTEMPT, async {
                let response = self
                    .client
                    .request(request)
                    .await
                    .map_err(|e| e.to_string())?;
                let status = response.status();
                // Read the answer to its end, so the connection can be reused.
                let _ = response.into_body().collect().await;
                Ok::<_, String>(status)
            })
            .await
            .map_err(|_| format!("no answer within {} s", ATTEMPT.as_secs()))??;
            if answer.is_success() {
                Ok(())
            } else {
                Err(format!("answered {}", answer.as_u16()))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_signature_is_hmac_sha256_of_the_time_and_the_body() {
        let got = super::signature(b"Jefe", 1, " what do ya want for nothing?");
        // HMAC-SHA256("Jefe", "1. what do ya want for nothing?") computed by
        // Python's hmac module: an independent implementation.
        assert_eq!(
            got,
            "t=1,v1=13e1c0963c23024bb070bdb14d7d9d6f13f4953a7769054ace2638964c3d228e"
        );
        assert_ne!(
            got,
            super::signature(b"Jefe", 2, " what do ya want for nothing?")
        );
        assert_ne!(
            got,
            super::signature(b"Jefe", 1, " what do ya want for nothing!")
        );
    }
}
