//! Robot webhooks and secrets at rest: AES-256-GCM under a key derived from the server's
//! secret (`JWT_SECRET`), a fresh nonce per value stored in front of it. A database dump alone
//! does not give the groups' webhooks away.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

const NONCE_LEN: usize = 12;

#[derive(Clone)]
pub struct Sealer {
    cipher: Aes256Gcm,
}

impl Sealer {
    /// The key is HMAC-SHA256(server secret, "zhuqi robot secrets"): changing `JWT_SECRET`
    /// means registering the robots again.
    pub fn new(server_secret: &str) -> Self {
        let key = derive_key(server_secret);
        Self {
            cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&key)),
        }
    }

    pub fn seal(&self, plain: &str) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::thread_rng().fill_bytes(&mut nonce);
        let mut out = nonce.to_vec();
        // Encryption fails only for inputs of gigabytes.
        out.extend(
            self.cipher
                .encrypt(Nonce::from_slice(&nonce), plain.as_bytes())
                .unwrap_or_default(),
        );
        out
    }

    /// `None` when the value was sealed under another key or altered.
    pub fn open(&self, sealed: &[u8]) -> Option<String> {
        if sealed.len() <= NONCE_LEN {
            return None;
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let plain = self.cipher.decrypt(Nonce::from_slice(nonce), body).ok()?;
        String::from_utf8(plain).ok()
    }
}

const LABEL: &[u8] = b"zhuqi robot secrets";

fn derive_key(server_secret: &str) -> [u8; 32] {
    use sha2::Digest;
    // HMAC takes a key of any length, so the first arm is the one taken.
    match <Hmac<Sha256> as Mac>::new_from_slice(server_secret.as_bytes()) {
        Ok(mut mac) => {
            mac.update(LABEL);
            mac.finalize().into_bytes().into()
        }
        Err(_) => Sha256::digest([server_secret.as_bytes(), LABEL].concat()).into(),
    }
}

/// What an admin sees of a webhook: its host and the last four characters of its key.
pub fn webhook_hint(webhook: &str) -> String {
    let host = reqwest::Url::parse(webhook)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_default();
    let tail: String = webhook
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("{host}/…{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_their_key_and_differ_each_time() {
        let sealer = Sealer::new("a-server-secret-of-at-least-32-bytes!");
        let webhook = "https://oapi.dingtalk.com/robot/send?access_token=abcdef123456";
        let a = sealer.seal(webhook);
        let b = sealer.seal(webhook);
        assert_ne!(a, b);
        assert!(!String::from_utf8_lossy(&a).contains("abcdef"));
        assert_eq!(sealer.open(&a).as_deref(), Some(webhook));
        assert_eq!(
            Sealer::new("another-secret-of-at-least-32-bytes!!").open(&a),
            None
        );
        let mut altered = a.clone();
        let last = altered.len() - 1;
        altered[last] ^= 1;
        assert_eq!(sealer.open(&altered), None);
    }

    #[test]
    fn the_hint_shows_the_host_and_four_characters() {
        assert_eq!(
            webhook_hint(
                "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
            ),
            "qyapi.weixin.qq.com/…5aaa"
        );
    }
}
