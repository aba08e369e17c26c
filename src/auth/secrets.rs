//! Random one-time secrets handed to people (invite codes) or clients (refresh tokens), and
//! the digests we store instead of them.

use rand::distributions::{Alphanumeric, DistString};
use rand::Rng;
use sha2::{Digest, Sha256};

/// Letters and digits that cannot be mistaken for one another when read aloud or typed.
const INVITE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
const INVITE_LENGTH: usize = 10;

/// A fresh invite code, 10 characters (50 bits) from an unambiguous alphabet.
pub fn new_invite_code() -> String {
    let mut rng = rand::thread_rng();
    (0..INVITE_LENGTH)
        .map(|_| INVITE_ALPHABET[rng.gen_range(0..INVITE_ALPHABET.len())] as char)
        .collect()
}

/// The digest stored for an invite code; case, spaces and dashes as typed do not matter.
pub fn invite_digest(code: &str) -> String {
    let normalised: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    sha256_hex(&normalised)
}

/// A fresh refresh token: 48 random alphanumerics (~285 bits).
pub fn new_refresh_token() -> String {
    Alphanumeric.sample_string(&mut rand::thread_rng(), 48)
}

pub fn sha256_hex(value: &str) -> String {
    sha256_hex_bytes(value.as_bytes())
}

pub fn sha256_hex_bytes(value: &[u8]) -> String {
    hex::encode(Sha256::digest(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invite_codes_use_the_unambiguous_alphabet() {
        let code = new_invite_code();
        assert_eq!(code.len(), INVITE_LENGTH);
        assert!(code.bytes().all(|c| INVITE_ALPHABET.contains(&c)));
    }

    #[test]
    fn invite_digests_ignore_case_and_separators() {
        assert_eq!(invite_digest("abcde-23456"), invite_digest("ABCDE23456"));
        assert_ne!(invite_digest("ABCDE23456"), invite_digest("ABCDE23457"));
    }
}
