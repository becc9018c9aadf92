//! Load profiles: `scenarios/<scenario>.toml` holds named profiles (`[smoke]`, `[soak]`, ...)
//! that `--profile NAME` picks. A profile gives defaults; flags on the command line win.
//!
//! Parsing is pure (text in, profile out) so it is unit-tested here; only [`load_profile`]
//! touches the file system.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::HarnessError;

/// One named profile. Every field is optional: what it leaves out comes from the command line
/// or the built-in defaults.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// What the profile is for, printed at the start of a run.
    pub description: Option<String>,
    /// Virtual users.
    pub users: Option<u64>,
    /// Virtual users started per second (the ramp).
    pub hatch_rate: Option<f64>,
    /// How long to hold all users once started, e.g. "30s", "10m", "1h".
    pub run_time: Option<String>,
    /// Requests per virtual user, instead of a run time.
    pub iterations: Option<u64>,
    /// Threshold: the 95th percentile of the measured request, in milliseconds.
    pub max_p95_ms: Option<f64>,
    /// Threshold: failed requests over all requests, as a fraction (0.01) or a percentage ("1%").
    pub max_error_rate: Option<RateValue>,
    /// Coordinated-omission mitigation: disabled, average, maximum or minimum.
    pub co_mitigation: Option<String>,
    /// The bundled reference's cookie cache, "on" or "off" (ignored with --target).
    pub cookie_cache: Option<String>,
    /// The bundled reference's JWT algorithm (ignored with --target).
    pub jwt_alg: Option<String>,
}

/// An error rate written as a number (0.01) or a string ("1%", "0.01").
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum RateValue {
    Number(f64),
    Text(String),
}

impl RateValue {
    pub fn to_fraction(&self) -> Result<f64, String> {
        match self {
            RateValue::Number(n) => check_fraction(*n, &n.to_string()),
            RateValue::Text(t) => parse_rate(t),
        }
    }
}

/// Parses an error rate: a fraction between 0 and 1 (`0.01`) or a percentage (`1%`).
pub fn parse_rate(text: &str) -> Result<f64, String> {
    let trimmed = text.trim();
    let (number, scale) = match trimmed.strip_suffix('%') {
        Some(n) => (n.trim(), 100.0),
        None => (trimmed, 1.0),
    };
    let value: f64 = number.parse().map_err(|_| {
        format!(
            "{text:?} is not an error rate: give a fraction such as 0.01 or a percentage such as 1%"
        )
    })?;
    check_fraction(value / scale, text)
}

fn check_fraction(value: f64, shown: &str) -> Result<f64, String> {
    if value.is_finite() && (0.0..=1.0).contains(&value) {
        Ok(value)
    } else {
        Err(format!(
            "error rate {shown} is out of range: between 0 and 1 (or 0% and 100%)"
        ))
    }
}

/// Parses a duration: whole seconds (`30`), or hours, minutes and seconds in that order
/// (`30s`, `10m`, `1h`, `2m30s`). Zero is refused: a run is always bounded and never empty.
pub fn parse_run_time(text: &str) -> Result<u64, String> {
    let bad = || format!("{text:?} is not a run time: give seconds (30), or e.g. 30s, 10m, 1h30m");
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(bad());
    }
    let secs = if trimmed.bytes().all(|b| b.is_ascii_digit()) {
        trimmed.parse::<u64>().map_err(|_| bad())?
    } else {
        let mut total: u64 = 0;
        let mut digits = String::new();
        let mut last_unit = 0u8; // 0 none, 3 h, 2 m, 1 s: units must come in descending order
        for c in trimmed.chars() {
            if c.is_ascii_digit() {
                digits.push(c);
                continue;
            }
            let (unit, scale) = match c {
                'h' => (3, 3600),
                'm' => (2, 60),
                's' => (1, 1),
                _ => return Err(bad()),
            };
            if digits.is_empty() || (last_unit != 0 && unit >= last_unit) {
                return Err(bad());
            }
            let n: u64 = digits.parse().map_err(|_| bad())?;
            total = n
                .checked_mul(scale)
                .and_then(|v| total.checked_add(v))
                .ok_or_else(bad)?;
            digits.clear();
            last_unit = unit;
        }
        if !digits.is_empty() {
            return Err(bad());
        }
        total
    };
    if secs == 0 {
        return Err(format!(
            "run time {text:?} is zero: a load run needs a positive run time"
        ));
    }
    Ok(secs)
}

/// Parses a profile file: a TOML table of named profiles.
pub fn parse_profiles(text: &str) -> Result<BTreeMap<String, Profile>, String> {
    toml::from_str::<BTreeMap<String, Profile>>(text).map_err(|e| e.to_string())
}

/// Reads profile `name` of `<scenario>.toml` from `dir` (--profiles-dir), else from
/// `$BA_HARNESS_PROFILES_DIR` when set, else from the profiles embedded in the binary. A usage
/// error (exit 2) names what is wrong: a missing file, bad TOML, an unknown key, or a profile
/// that is not there.
pub fn load_profile(
    dir: Option<&Path>,
    scenario: &str,
    name: &str,
) -> Result<Profile, HarnessError> {
    let file = format!("{scenario}.toml");
    let from_env = std::env::var_os("BA_HARNESS_PROFILES_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from);
    let (source, text) = match dir.map(Path::to_path_buf).or(from_env) {
        Some(dir) => {
            let path = dir.join(&file);
            let text = std::fs::read_to_string(&path).map_err(|e| {
                HarnessError::Usage(format!(
                    "--profile {name}: cannot read {} ({e}); profiles for scenario {scenario} live there",
                    path.display()
                ))
            })?;
            (path.display().to_string(), text)
        }
        None => {
            let source = format!("embedded scenarios/{file}");
            let text = crate::assets::profile_file(&file).ok_or_else(|| {
                HarnessError::Usage(format!(
                    "--profile {name}: there is no {source}; give a folder with --profiles-dir DIR"
                ))
            })?;
            (source, text)
        }
    };
    parse_named(&source, &text, name)
}

fn parse_named(source: &str, text: &str, name: &str) -> Result<Profile, HarnessError> {
    let mut profiles =
        parse_profiles(text).map_err(|e| HarnessError::Usage(format!("{source}: {e}")))?;
    let known = profiles.keys().cloned().collect::<Vec<_>>().join(", ");
    profiles.remove(name).ok_or_else(|| {
        HarnessError::Usage(format!(
            "--profile {name}: {source} has no profile [{name}] (it has: {known})"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_parse_with_every_field() {
        let profiles = parse_profiles(
            r#"
            [smoke]
            description = "quick"
            users = 4
            hatch_rate = 4
            run_time = "5s"
            max_p95_ms = 250
            max_error_rate = 0
            co_mitigation = "average"
            cookie_cache = "off"

            [soak]
            users = 16
            hatch_rate = 2.5
            iterations = 1000
            max_error_rate = "0.1%"
            jwt_alg = "RS256"
            "#,
        )
        .unwrap();
        let smoke = &profiles["smoke"];
        assert_eq!(smoke.users, Some(4));
        assert_eq!(smoke.hatch_rate, Some(4.0));
        assert_eq!(smoke.run_time.as_deref(), Some("5s"));
        assert_eq!(smoke.max_p95_ms, Some(250.0));
        assert_eq!(
            smoke.max_error_rate.as_ref().unwrap().to_fraction(),
            Ok(0.0)
        );
        let soak = &profiles["soak"];
        assert_eq!(soak.iterations, Some(1000));
        assert_eq!(
            soak.max_error_rate.as_ref().unwrap().to_fraction(),
            Ok(0.001)
        );
        assert_eq!(soak.jwt_alg.as_deref(), Some("RS256"));
    }

    #[test]
    fn unknown_keys_and_bad_types_are_refused() {
        let e = parse_profiles("[smoke]\nuser = 4\n").unwrap_err();
        assert!(e.contains("user"), "{e}");
        assert!(parse_profiles("[smoke]\nusers = \"four\"\n").is_err());
        assert!(parse_profiles("users = 4\n").is_err());
    }

    #[test]
    fn the_shipped_profiles_parse() {
        // cargo runs unit tests in the package root.
        let dir = PathBuf::from("scenarios");
        for scenario in ["get-session", "jwt-verification"] {
            for name in ["smoke", "soak"] {
                let embedded = load_profile(None, scenario, name).unwrap();
                let profile = load_profile(Some(&dir), scenario, name)
                    .unwrap_or_else(|e| panic!("{scenario}/{name}: {e}"));
                assert!(profile.description.is_some(), "{scenario}/{name}");
                assert!(
                    profile.run_time.is_some() != profile.iterations.is_some(),
                    "{scenario}/{name} must bound the run one way"
                );
                if let Some(t) = &profile.run_time {
                    parse_run_time(t).unwrap();
                }
                profile
                    .max_error_rate
                    .as_ref()
                    .unwrap()
                    .to_fraction()
                    .unwrap();
                assert_eq!(
                    embedded, profile,
                    "{scenario}/{name}: the embedded profile is the file"
                );
            }
        }
        assert!(matches!(
            load_profile(Some(&dir), "get-session", "nope"),
            Err(HarnessError::Usage(m)) if m.contains("smoke")
        ));
        assert!(matches!(
            load_profile(None, "get-session", "nope"),
            Err(HarnessError::Usage(m)) if m.contains("embedded scenarios/get-session.toml")
        ));
    }

    #[test]
    fn run_times() {
        assert_eq!(parse_run_time("30"), Ok(30));
        assert_eq!(parse_run_time("30s"), Ok(30));
        assert_eq!(parse_run_time("10m"), Ok(600));
        assert_eq!(parse_run_time("1h30m"), Ok(5400));
        assert_eq!(parse_run_time("2m30s"), Ok(150));
        for bad in ["", "0", "0s", "s", "10x", "30s10m", "1m1m", "-5", "1.5s"] {
            assert!(parse_run_time(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn error_rates() {
        assert_eq!(parse_rate("0"), Ok(0.0));
        assert_eq!(parse_rate("0.01"), Ok(0.01));
        assert_eq!(parse_rate("1%"), Ok(0.01));
        assert_eq!(parse_rate("100%"), Ok(1.0));
        for bad in ["", "x", "1.5", "-0.1", "101%", "NaN"] {
            assert!(parse_rate(bad).is_err(), "{bad:?}");
        }
    }
}
