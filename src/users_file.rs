//! `--users-file`: existing accounts on the target, for a deployment whose sign-up is closed.
//! One `email,password` per line; blank lines and lines starting with `#` are skipped. The
//! password is everything after the first comma, as written (an email has no comma). Pure: the
//! caller reads the file. Passwords never appear in an error message.

use std::fmt;

/// One account of a users file.
#[derive(Clone, PartialEq, Eq)]
pub struct UserAccount {
    pub email: String,
    pub password: String,
}

impl fmt::Debug for UserAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserAccount")
            .field("email", &self.email)
            .field("password", &crate::redact::REDACTED)
            .finish()
    }
}

/// Parses a users file's text. `Err` names the line and what is wrong with it, never its
/// password.
pub fn parse_users_file(text: &str) -> Result<Vec<UserAccount>, String> {
    let mut accounts: Vec<UserAccount> = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let number = index + 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let trimmed = line.trim_start();
        if trimmed.trim_end().is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let Some((email, password)) = trimmed.split_once(',') else {
            return Err(format!(
                "line {number}: expected `email,password` (no comma on the line)"
            ));
        };
        let email = email.trim();
        if email.is_empty() || !email.contains('@') || email.contains(char::is_whitespace) {
            return Err(format!(
                "line {number}: `{email}` is not an email address (expected `email,password`)"
            ));
        }
        if password.is_empty() {
            return Err(format!("line {number}: {email} has an empty password"));
        }
        if accounts.iter().any(|a| a.email.eq_ignore_ascii_case(email)) {
            return Err(format!("line {number}: {email} is listed twice"));
        }
        accounts.push(UserAccount {
            email: email.to_string(),
            password: password.to_string(),
        });
    }
    if accounts.is_empty() {
        return Err("no `email,password` line in the file".into());
    }
    Ok(accounts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_comments_and_commas_in_passwords() {
        let text = "# staging accounts\n\na@x.test,pw1\r\n  b@x.test , p,w 2 \n";
        let accounts = parse_users_file(text).unwrap();
        assert_eq!(accounts.len(), 2);
        assert_eq!(accounts[0].email, "a@x.test");
        assert_eq!(accounts[0].password, "pw1");
        assert_eq!(accounts[1].email, "b@x.test");
        // Everything after the first comma, as written.
        assert_eq!(accounts[1].password, " p,w 2 ");
    }

    #[test]
    fn errors_name_the_line_and_never_the_password() {
        for (text, expected) in [
            ("a@x.test secret-one", "line 1"),
            ("ok@x.test,pw\nnot-an-email,secret-two", "line 2"),
            ("a@x.test,", "empty password"),
            ("a@x.test,secret-three\nA@X.test,secret-four", "twice"),
            ("# only a comment\n", "no `email,password`"),
        ] {
            let e = parse_users_file(text).unwrap_err();
            assert!(e.contains(expected), "{text:?}: {e}");
            assert!(!e.contains("secret"), "a password leaked: {e}");
        }
    }

    #[test]
    fn debug_hides_the_password() {
        let a = &parse_users_file("a@x.test,hunter2").unwrap()[0];
        assert!(!format!("{a:?}").contains("hunter2"));
    }
}
