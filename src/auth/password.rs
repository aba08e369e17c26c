//! Console passwords: argon2id hashes in PHC format. Both functions are CPU-heavy on purpose
//! and must run on the blocking pool (inside `db::run`), never on an async worker.

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

use crate::error::AppError;

pub const MIN_LENGTH: usize = 8;
pub const MAX_LENGTH: usize = 128;

/// Checks the length rules and hashes a new password.
pub fn hash(password: &str) -> Result<String, AppError> {
    let length = password.chars().count();
    if !(MIN_LENGTH..=MAX_LENGTH).contains(&length) {
        return Err(AppError::unprocessable(
            "password.too_weak",
            format!("密码长度应为{MIN_LENGTH}到{MAX_LENGTH}个字符"),
        ));
    }
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(anyhow::anyhow!("hashing a password: {e}")))
}

/// `true` when `password` matches `stored`. With no stored hash a dummy one is checked, so an
/// unknown username costs the same time as a wrong password.
pub fn verify(password: &str, stored: Option<&str>) -> bool {
    // A valid argon2id hash of a random string nobody knows.
    const DUMMY: &str =
        "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$W2/0VbzBq6Ux3JSkTGDcLdVfi7X/6fBCxiGyhwQ0FWc";
    let Ok(parsed) = PasswordHash::new(stored.unwrap_or(DUMMY)) else {
        return false;
    };
    let matches = Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok();
    matches && stored.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hashed_password_verifies_and_a_wrong_one_does_not() {
        let stored = hash("正确的密码horse").expect("hash");
        assert!(verify("正确的密码horse", Some(&stored)));
        assert!(!verify("wrong password", Some(&stored)));
        assert!(!verify("anything", None));
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(matches!(
            hash("short"),
            Err(AppError::Unprocessable {
                code: "password.too_weak",
                ..
            })
        ));
    }
}
