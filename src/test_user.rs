//! Accounts and values the harness makes up: a random user per scenario (and for discovery's
//! probe sign-up), so scenarios run concurrently and reruns never collide; random names, states
//! and nonces, noted in the run's [`MadeUp`] so that snapshots can replace them.

use std::sync::Mutex;

use rand::Rng;
use rand::distr::Alphanumeric;

use crate::redact::Secrets;

/// A test user made for one scenario.
#[derive(Clone)]
pub struct TestUser {
    pub email: String,
    pub password: String,
    pub name: String,
    /// The id the server gave the user at sign-up.
    pub id: Option<String>,
}

impl TestUser {
    /// A fresh random user, so scenarios can run concurrently and reruns never collide. Its
    /// random parts are noted in `made_up`; the password is registered with the run's
    /// redaction before it is ever sent.
    pub fn random(made_up: &MadeUp, secrets: &Secrets) -> Self {
        let suffix = made_up.random_string(12).to_lowercase();
        let password = format!(
            "Pw-{}-{}",
            made_up.random_string(20),
            made_up.random_string(4)
        );
        secrets.register(&password);
        TestUser {
            email: format!("conform-{suffix}@ba-harness.test"),
            password,
            name: format!("Conform User {suffix}"),
            id: None,
        }
    }
}

/// The values one run made up (random names, states, nonces): a snapshot replaces them with
/// placeholders wherever they turn up, since they are not all long or mixed enough to look
/// random. Owned by the run (the target carries it; a snapshot run's recorder reads it).
#[derive(Debug, Default)]
pub struct MadeUp(Mutex<Vec<String>>);

impl MadeUp {
    /// A random alphanumeric string of `len` characters, noted (as made and lowercased).
    pub fn random_string(&self, len: usize) -> String {
        let value = random_string(len);
        self.note(&value);
        self.note(&value.to_lowercase());
        value
    }

    /// Notes a made-up value (8 characters or more: shorter ones would clobber ordinary text).
    /// A run makes a few hundred; the cap bounds a long-lived run.
    pub fn note(&self, value: &str) {
        const CAP: usize = 100_000;
        if value.len() >= 8 {
            let mut made_up = self.0.lock().unwrap_or_else(|e| e.into_inner());
            if made_up.len() < CAP {
                made_up.push(value.to_string());
            }
        }
    }

    /// Every value noted so far, in the order made.
    pub fn values(&self) -> Vec<String> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// A random alphanumeric string, noted nowhere: for values no snapshot sees (load's virtual
/// users, bundled servers' secrets and run folders). What a conform run makes up goes through
/// [`MadeUp::random_string`].
pub fn random_string(len: usize) -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}
