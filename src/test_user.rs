//! Accounts the harness makes up: a random user per scenario (and for discovery's probe
//! sign-up), so scenarios run concurrently and reruns never collide.

use rand::Rng;
use rand::distr::Alphanumeric;

use crate::redact::SecretRegistry;

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
    /// A fresh random user, so scenarios can run concurrently and reruns never collide. The
    /// password is registered as a secret before it is ever sent.
    pub fn random() -> Self {
        let suffix = random_string(12).to_lowercase();
        let password = format!("Pw-{}-{}", random_string(20), random_string(4));
        SecretRegistry::global().register(&password);
        TestUser {
            email: format!("conform-{suffix}@ba-harness.test"),
            password,
            name: format!("Conform User {suffix}"),
            id: None,
        }
    }
}

pub fn random_string(len: usize) -> String {
    let value: String = rand::rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect();
    // Snapshots replace made-up values with placeholders (no-op unless recording).
    crate::snapshot::note_made_up(&value);
    crate::snapshot::note_made_up(&value.to_lowercase());
    value
}
