//! Snapshots: two runs against the same server are byte-identical, and a server that changes
//! one cookie attribute or one error code shows exactly that change in `diff`.

mod mutating_proxy;

use std::path::PathBuf;
use std::process::Command;

use mutating_proxy::{BrokenReference, Flaw};

const TAGS: &str = "@email-password or @session-cookie or @errors or @jwt or @oauth-discovery";

fn temp_dir(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "ba-harness-snap-{}-{}-{name}",
        std::process::id(),
        rand::random::<u32>()
    ))
}

/// Runs `snapshot` against the reference behind a proxy with `flaw`, into a fresh folder.
async fn snapshot(flaw: Flaw, name: &str) -> PathBuf {
    let broken = BrokenReference::start(flaw, &[]).await;
    let out = temp_dir(name);
    let mut args = vec![
        "snapshot".to_string(),
        "--out".into(),
        out.display().to_string(),
    ];
    args.extend(broken.target_args());
    args.extend(["--tags".into(), TAGS.into()]);
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_ba-harness"))
        .args(&args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(text.contains("exchanges written to"), "{text}");
    broken.server.stop().await;
    out
}

fn diff(a: &PathBuf, b: &PathBuf) -> (Option<i32>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_ba-harness"))
        .args(["diff", "--color", "never"])
        .arg(a)
        .arg(b)
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

fn files(dir: &PathBuf) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((
                    p.strip_prefix(dir).unwrap().display().to_string(),
                    std::fs::read(&p).unwrap(),
                ));
            }
        }
    }
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_runs_against_the_same_server_are_byte_identical_and_hold_no_secret() {
    let a = snapshot(Flaw::none(), "a").await;
    let b = snapshot(Flaw::none(), "b").await;
    let (fa, fb) = (files(&a), files(&b));
    assert!(fa.len() > 30, "too few snapshots: {}", fa.len());
    assert_eq!(fa.len(), fb.len());
    for ((na, ca), (nb, cb)) in fa.iter().zip(&fb) {
        assert_eq!(na, nb);
        assert_eq!(ca, cb, "{na} differs between two runs");
    }
    let (code, text) = diff(&a, &b);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains(", 0 changed,") || text.starts_with("diff: 0 changed"),
        "{text}"
    );
    // Passwords the harness generates start with "Pw-"; tokens are placeholders.
    for (name, content) in &fa {
        let content = String::from_utf8_lossy(content);
        assert!(!content.contains("Pw-"), "a password in {name}");
        assert!(!content.contains("eyJ"), "a raw JWT in {name}");
    }
    let _ = std::fs::remove_dir_all(a);
    let _ = std::fs::remove_dir_all(b);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_changed_cookie_attribute_and_one_error_code_show_exactly() {
    let before = snapshot(Flaw::none(), "before").await;
    let flaw = Flaw::response(|request, response| {
        response.map_set_cookies(|line| Some(line.replace("SameSite=Lax", "SameSite=Strict")));
        if request.path_only().ends_with("/sign-in/email") && response.status == 401 {
            response.set_json(&serde_json::json!({"code": "INVALID_CREDENTIALS", "message": "Invalid email or password"}));
        }
    });
    let after = snapshot(flaw, "after").await;
    let (code, text) = diff(&before, &after);
    assert_eq!(code, Some(1), "{text}");
    let changed: Vec<&str> = text
        .lines()
        .filter(|l| {
            (l.starts_with('+') || l.starts_with('-'))
                && !l.starts_with("+++")
                && !l.starts_with("---")
        })
        .collect();
    assert!(!changed.is_empty(), "{text}");
    for line in &changed {
        assert!(
            line.contains("SameSite")
                || line.contains("INVALID_CREDENTIALS")
                || line.contains("INVALID_EMAIL_OR_PASSWORD"),
            "an unexpected difference: {line}\n{text}"
        );
    }
    assert!(
        changed
            .iter()
            .any(|l| l.contains("\"SameSite\": \"Strict\"")),
        "{text}"
    );
    assert!(
        changed.iter().any(|l| l.contains("INVALID_CREDENTIALS")),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(before);
    let _ = std::fs::remove_dir_all(after);
}
