//! The CI recipes in examples/ci/ stay in step with the command line: every `ba-harness …`
//! command in them parses with the harness's own argument parser (a renamed or removed flag
//! fails here in a second, without a CI run), and each recipe keeps what CI tools need.
//! scripts/ci-recipes.sh goes further and runs every step against the bundled reference.

use std::path::Path;

use ba_harness::cli::Cli;
use clap::Parser as _;

fn recipe(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples/ci")
            .join(name),
    )
    .unwrap()
}

/// Splits a shell command line into words: spaces separate, double or single quotes group,
/// `$BA_TARGET` and `"$BA_TARGET"` become a loopback URL.
fn words(line: &str) -> Vec<String> {
    let line = line.replace("$BA_TARGET", "http://127.0.0.1:3000");
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut in_word = false;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

/// The `ba-harness …` command lines of a recipe (YAML list items and block lines alike).
fn harness_commands(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .map(|l| {
            l.trim()
                .trim_start_matches("- ")
                .trim_start_matches("run: ")
                .trim()
        })
        .filter(|l| l.starts_with("ba-harness "))
        .map(words)
        .collect()
}

#[test]
fn every_harness_command_in_the_recipes_parses() {
    for name in ["github-actions.yml", "gitlab-ci.yml"] {
        let commands = harness_commands(&recipe(name));
        assert!(!commands.is_empty(), "{name} runs ba-harness");
        for command in commands {
            if let Err(e) = Cli::try_parse_from(&command) {
                panic!("{name}: `{}` does not parse:\n{e}", command.join(" "));
            }
            let has = |flag: &str| command.iter().any(|w| w == flag);
            assert!(has("conform") && has("--target"), "{name}: {command:?}");
            assert!(has("--junit") && has("--report"), "{name}: {command:?}");
        }
    }
}

#[test]
fn the_recipes_keep_what_ci_needs() {
    let github = recipe("github-actions.yml");
    for needed in [
        "cargo install --locked --git",
        "$GITHUB_STEP_SUMMARY",
        "actions/upload-artifact",
        "actions/cache",
        "~/.cache/ba-harness",
        "Start the server under test",
    ] {
        assert!(github.contains(needed), "github-actions.yml lacks {needed}");
    }
    let gitlab = recipe("gitlab-ci.yml");
    for needed in [
        "cargo install --locked --git",
        "junit: reports/ba-harness.xml",
        "BA_HARNESS_CACHE_DIR",
        "start-your-server",
    ] {
        assert!(gitlab.contains(needed), "gitlab-ci.yml lacks {needed}");
    }
    // The script replaces the placeholder steps by these names; renaming one would make it run
    // the placeholder instead of the bundled reference.
    let script = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/ci-recipes.sh"),
    )
    .unwrap();
    assert!(script.contains("Start the server under test") && script.contains("start-your-server"));
}

#[test]
fn shell_words() {
    assert_eq!(
        words(r#"ba-harness conform --target "$BA_TARGET" --tags 'a and b'"#),
        [
            "ba-harness",
            "conform",
            "--target",
            "http://127.0.0.1:3000",
            "--tags",
            "a and b"
        ]
    );
}
