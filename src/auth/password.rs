//! Console passwords: argon2id hashes in PHC format. Hashing is CPU-heavy on purpose, so it
//! runs through [`Hasher`]: on the blocking pool, never while a database connection is held
//! (a flood of logins would otherwise hold the connections the officers' sign-ins need), and
//! no more hashes at once than there are cores.

use std::sync::Arc;
use std::time::Duration;

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use tokio::sync::Semaphore;

use crate::error::{AppError, ErrorCode};

/// The longest a request waits for a turn to hash before a 503.
const WAIT_FOR_TURN: Duration = Duration::from_secs(10);

/// Runs argon2 off the async workers and outside the database pool, one hash per core.
#[derive(Clone)]
pub struct Hasher {
    turns: Arc<Semaphore>,
}

impl Default for Hasher {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self {
            turns: Arc::new(Semaphore::new(cores)),
        }
    }
}

impl Hasher {
    /// [`verify`] on the blocking pool.
    pub async fn verify(&self, password: String, stored: Option<String>) -> Result<bool, AppError> {
        self.run(move || Ok(verify(&password, stored.as_deref()))).await
    }

    /// [`hash`] on the blocking pool.
    pub async fn hash(&self, password: String) -> Result<String, AppError> {
        check_length(&password)?;
        self.run(move || hash(&password)).await
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, AppError> + Send + 'static,
    ) -> Result<T, AppError> {
        let _turn = tokio::time::timeout(WAIT_FOR_TURN, self.turns.acquire())
            .await
            .map_err(|_| AppError::Unavailable {
                code: ErrorCode::AuthBusy,
            })?
            .map_err(|e| AppError::Internal(anyhow::anyhow!("password turns closed: {e}")))?;
        actix_web::web::block(work)
            .await
            .map_err(|e| AppError::Internal(anyhow::anyhow!("hashing task failed: {e}")))?
    }
}

fn check_length(password: &str) -> Result<(), AppError> {
    let length = password.chars().count();
    if !(MIN_LENGTH..=MAX_LENGTH).contains(&length) {
        return Err(AppError::new(
            ErrorCode::PasswordTooWeak,
            format!("密码长度应为{MIN_LENGTH}到{MAX_LENGTH}个字符"),
        ));
    }
    Ok(())
}

pub const MIN_LENGTH: usize = 8;
pub const MAX_LENGTH: usize = 128;

/// Checks the length rules and hashes a new password.
pub fn hash(password: &str) -> Result<String, AppError> {
    check_length(password)?;
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
            Err(AppError::Refused {
                code: ErrorCode::PasswordTooWeak,
                ..
            })
        ));
    }
}
