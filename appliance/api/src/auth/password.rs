//! Passwords: argon2id with the crate's default (OWASP-recommended) parameters.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;

pub const PASSWORD_CHARS: (usize, usize) = (10, 128);

pub fn hash(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

pub fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A password's problem, if any, for the `password` field error.
pub fn check(password: &str) -> Option<String> {
    let n = password.chars().count();
    (n < PASSWORD_CHARS.0 || n > PASSWORD_CHARS.1).then(|| {
        format!(
            "must be {} to {} characters",
            PASSWORD_CHARS.0, PASSWORD_CHARS.1
        )
    })
}

/// A dummy hash verified when the user does not exist, so a login for an unknown name takes as
/// long as one with a wrong password (no user enumeration by timing).
pub fn burn_time(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let phc = DUMMY.get_or_init(|| hash("not-a-real-password").unwrap_or_default());
    let _ = verify(password, phc);
}

#[cfg(test)]
mod tests {
    #[test]
    fn argon2id_round_trip() {
        let h = super::hash("correct horse battery").expect("hash");
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(super::verify("correct horse battery", &h));
        assert!(!super::verify("wrong horse battery", &h));
    }
}
