//! Signing the publication log with the site owner's minisign key, and
//! checking a signature, with the `minisign` crate (the format the
//! `minisign` tool reads and writes, so anyone can check with that tool).
//!
//! The secret key comes from `POLICY_SITE_SIGNING_KEY_FILE` (a path) or
//! `POLICY_SITE_SIGNING_KEY` (the key file's contents, for a CI secret),
//! and its password, when it has one, from
//! `POLICY_SITE_SIGNING_KEY_PASSWORD`: never from the command line, and
//! never asked for on a terminal (a build must not wait for one).

use minisign::{PublicKey, PublicKeyBox, SecretKey, SecretKeyBox, SignatureBox};
use std::io::Cursor;

pub const KEY_FILE_ENV: &str = "POLICY_SITE_SIGNING_KEY_FILE";
pub const KEY_ENV: &str = "POLICY_SITE_SIGNING_KEY";
pub const PASSWORD_ENV: &str = "POLICY_SITE_SIGNING_KEY_PASSWORD";

/// The secret key the environment holds, if it names one.
pub fn key_from_env() -> Result<Option<SecretKey>, String> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let (text, from) = match (env(KEY_FILE_ENV), env(KEY_ENV)) {
        (Some(path), _) => (
            std::fs::read_to_string(&path)
                .map_err(|e| format!("{KEY_FILE_ENV} names `{path}`, which cannot be read: {e}"))?,
            KEY_FILE_ENV,
        ),
        (None, Some(text)) => (text, KEY_ENV),
        (None, None) => return Ok(None),
    };
    let text = with_checksum(text.trim_start());
    let secret = SecretKeyBox::from_string(&text).map_err(|e| e.to_string());
    let secret = match env(PASSWORD_ENV) {
        Some(password) => {
            secret.and_then(|b| b.into_secret_key(Some(password)).map_err(|e| e.to_string()))
        }
        None => secret.and_then(|b| b.into_unencrypted_secret_key().map_err(|e| e.to_string())),
    };
    secret.map(Some).map_err(|e| {
        format!(
            "the key in {from} is not a minisign secret key that can be used ({e}); a key made with a password needs {PASSWORD_ENV}"
        )
    })
}

/// The `minisign` tool (0.11) writes a key made without a password (`-W`)
/// with its checksum left empty, which the crate takes for a corrupted key:
/// such a key gets its checksum (BLAKE2b-256 of the signature algorithm,
/// key id and secret key, as minisign defines it). Any other key is left
/// as it is.
fn with_checksum(text: &str) -> String {
    use base64::Engine;
    use blake2::digest::{Update, VariableOutput};
    let engine = base64::engine::general_purpose::STANDARD;
    let mut lines: Vec<&str> = text.lines().collect();
    let Some(mut bytes) = lines.get(1).and_then(|l| engine.decode(l.trim()).ok()) else {
        return text.to_string();
    };
    // sig_alg 2, kdf_alg 2, chk_alg 2, salt 32, limits 16, key id 8, key 64, checksum 32.
    let unencrypted = bytes.len() == 158 && bytes[2..4] == [0, 0];
    if !unencrypted || bytes[126..].iter().any(|b| *b != 0) {
        return text.to_string();
    }
    let mut hasher = blake2::Blake2bVar::new(32).expect("a valid length");
    hasher.update(&bytes[0..2]);
    hasher.update(&bytes[54..126]);
    hasher
        .finalize_variable(&mut bytes[126..])
        .expect("the length asked for");
    let line = engine.encode(&bytes);
    lines[1] = &line;
    lines.join("\n") + "\n"
}

/// The public key from its key line (the second line of a minisign `.pub`
/// file), as `signing: public_key:` gives it.
pub fn public_key(line: &str) -> Result<PublicKey, String> {
    PublicKey::from_base64(line.trim()).map_err(|e| {
        format!(
            "`{}` is not a minisign public key ({e}): give the second line of the key's .pub file",
            line.trim()
        )
    })
}

/// The public key as a minisign `.pub` file, which `minisign -p` reads.
pub fn public_key_file(key: &PublicKey) -> String {
    key.to_box()
        .map(PublicKeyBox::into_string)
        .expect("a decoded key encodes")
}

/// A minisign signature of `data`, its trusted comment naming what it
/// covers (so a reader of the `.minisig` knows, and it cannot be altered).
pub fn sign(
    key: &SecretKey,
    public: Option<&PublicKey>,
    data: &[u8],
    covers: &str,
) -> Result<String, String> {
    let signature = minisign::sign(
        public,
        key,
        Cursor::new(data),
        Some(covers),
        Some("signature of a policy-site publication log"),
    )
    .map_err(|e| match public {
        Some(_) => format!("the signing key does not match `signing: public_key` ({e})"),
        None => format!("cannot sign: {e}"),
    })?;
    Ok(signature.into_string())
}

/// Whether `signature` (a `.minisig` file's text) is `key`'s over `data`.
pub fn verify(key: &PublicKey, data: &[u8], signature: &str) -> Result<(), String> {
    let signature = SignatureBox::from_string(signature)
        .map_err(|e| format!("not a minisign signature: {e}"))?;
    minisign::verify(key, &signature, Cursor::new(data), true, false, false)
        .map_err(|e| e.to_string())
}

/// The signature's trusted comment, when it reads.
pub fn trusted_comment(signature: &str) -> Option<String> {
    SignatureBox::from_string(signature)
        .ok()?
        .trusted_comment()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_for_its_data_and_key_only() {
        let pair = minisign::KeyPair::generate_unencrypted_keypair().unwrap();
        let line = pair.pk.to_base64();
        let key = public_key(&line).unwrap();
        let signature = sign(&pair.sk, Some(&key), b"the log", "covers 3 entries").unwrap();
        assert!(verify(&key, b"the log", &signature).is_ok());
        assert!(verify(&key, b"the log!", &signature).is_err());
        assert_eq!(trusted_comment(&signature).unwrap(), "covers 3 entries");
        let other = minisign::KeyPair::generate_unencrypted_keypair().unwrap();
        assert!(verify(&other.pk, b"the log", &signature).is_err());
        assert!(sign(&pair.sk, Some(&other.pk), b"x", "c").is_err());
        assert!(public_key_file(&key).ends_with(&format!("{line}\n")));
    }
}
