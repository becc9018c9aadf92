//! Colour on the terminal: `--color auto|always|never` and NO_COLOR (no-color.org), for every
//! subcommand.

use std::ffi::OsString;

/// When to colour output (`--color`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorWhen {
    /// When the output is a terminal, NO_COLOR is unset or empty and TERM is not `dumb`.
    #[default]
    Auto,
    /// Always, even into a pipe or a file, and whatever NO_COLOR says (an explicit flag wins).
    Always,
    /// Never.
    Never,
}

impl ColorWhen {
    /// Whether to colour a stream that is (`is_terminal`) or is not a terminal, with this
    /// process's NO_COLOR and TERM.
    pub fn enabled(self, is_terminal: bool) -> bool {
        self.decide(
            is_terminal,
            std::env::var_os("NO_COLOR"),
            std::env::var_os("TERM"),
        )
    }

    /// The decision, given the environment (pure, for tests).
    pub fn decide(
        self,
        is_terminal: bool,
        no_color: Option<OsString>,
        term: Option<OsString>,
    ) -> bool {
        match self {
            ColorWhen::Always => true,
            ColorWhen::Never => false,
            ColorWhen::Auto => {
                // no-color.org: present and not empty disables colour.
                let no_color = no_color.is_some_and(|v| !v.is_empty());
                let dumb = term.is_some_and(|t| t == "dumb");
                is_terminal && !no_color && !dumb
            }
        }
    }
}

/// ANSI styling, or none.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Style {
    pub color: bool,
}

impl Style {
    pub fn new(color: bool) -> Self {
        Style { color }
    }

    fn paint(self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    pub fn red(self, text: &str) -> String {
        self.paint("1;31", text)
    }

    pub fn green(self, text: &str) -> String {
        self.paint("1;32", text)
    }

    pub fn yellow(self, text: &str) -> String {
        self.paint("1;33", text)
    }

    pub fn magenta(self, text: &str) -> String {
        self.paint("1;35", text)
    }

    pub fn cyan(self, text: &str) -> String {
        self.paint("36", text)
    }

    pub fn dim(self, text: &str) -> String {
        self.paint("2", text)
    }

    pub fn bold(self, text: &str) -> String {
        self.paint("1", text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_color_and_dumb_terminals_turn_auto_off_but_not_always() {
        let set = Some(OsString::from("1"));
        assert!(ColorWhen::Auto.decide(true, None, None));
        assert!(!ColorWhen::Auto.decide(false, None, None));
        assert!(!ColorWhen::Auto.decide(true, set.clone(), None));
        // An empty NO_COLOR does not count (no-color.org).
        assert!(ColorWhen::Auto.decide(true, Some(OsString::new()), None));
        assert!(!ColorWhen::Auto.decide(true, None, Some("dumb".into())));
        assert!(ColorWhen::Always.decide(false, set.clone(), None));
        assert!(!ColorWhen::Never.decide(true, None, None));
    }

    #[test]
    fn plain_style_adds_no_control_codes() {
        assert_eq!(Style::new(false).red("FAIL"), "FAIL");
        assert_eq!(Style::new(true).red("FAIL"), "\x1b[1;31mFAIL\x1b[0m");
    }
}
