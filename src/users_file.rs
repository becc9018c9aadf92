//! `--users-file`: existing accounts on the target, for a deployment whose sign-up is closed.
//! One `email,password` per line; blank lines and lines starting with `#` are skipped. The
//! password is everything after the first comma, as written (an email has no comma). Pure: the
//! caller reads the file. Passwords never appear in an error message. `load` parses the lines
//! here ([`parse_users_file`]); `conform` reads the same lines with its own rules
//! (crate::target::parse_users).

use std::fmt;

/// An account that exists on the target: one line of a users file, or `--user-email` with
/// its password.
#[derive(Clone, PartialEq, Eq)]
pub struct Account {
    pub email: String,
    pub password: String,
}

impl fmt::Debug for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Account")
            .field("email", &self.email)
            .field("password", &crate::redact::REDACTED)
            .finish()
    }
}

/// The account lines of a users file's text: (line number, email, password), split at the
/// first comma, the password as written after it. Blank lines and `#` comments are skipped.
/// `Err` names the line, never its password.
pub fn account_lines(text: &str) -> Result<Vec<(usize, &str, &str)>, String> {
    let mut lines = Vec::new();
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
        lines.push((number, email, password));
    }
    if lines.is_empty() {
        return Err("no `email,password` line in the file".into());
    }
    Ok(lines)
}

/// Parses a users file's text for `load`: the email must look like one and be listed once.
/// `Err` names the line and what is wrong with it, never its password.
pub fn parse_users_file(text: &str) -> Result<Vec<Account>, String> {
    let mut accounts: Vec<Account> = Vec::new();
    for (number, email, password) in account_lines(text)? {
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
        accounts.push(Account {
            email: email.to_string(),
            password: password.to_string(),
        });
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
