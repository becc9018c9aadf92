//! Which release changed it: pure logic for `releases` (a range of published Better Auth
//! releases, from the registry's version list) and `bisect` (the first release in a range where
//! a scenario's verdict changes). No I/O here: the version list and the verdict oracle are given,
//! so both are unit-tested over made-up lists and oracles.

use std::cmp::Ordering;
use std::fmt;
use std::future::Future;

/// A release number as npm publishes it: `1.7.25`, `1.7.0-beta.6`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Version {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
    /// The pre-release suffix after `-` (`beta.6`), if any.
    pub pre: Option<String>,
}

impl Version {
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim().trim_start_matches('v');
        let (core, pre) = match text.split_once('-') {
            Some((core, pre)) if !pre.is_empty() => (core, Some(pre.to_string())),
            Some(_) => return None,
            None => (text, None),
        };
        let mut parts = core.split('.');
        let mut number = || -> Option<u64> {
            let p = parts.next()?;
            (!p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
                .then(|| p.parse().ok())
                .flatten()
        };
        let (major, minor, patch) = (number()?, number()?, number()?);
        if parts.next().is_some() {
            return None;
        }
        if let Some(pre) = &pre
            && !pre
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        {
            return None;
        }
        Some(Version {
            major,
            minor,
            patch,
            pre,
        })
    }

    pub fn is_prerelease(&self) -> bool {
        self.pre.is_some()
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        if let Some(pre) = &self.pre {
            write!(f, "-{pre}")?;
        }
        Ok(())
    }
}

/// SemVer precedence: a pre-release sorts before its release; pre-release identifiers compare
/// numerically when both are numbers, else as text, and a shorter list sorts first.
impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(other.major, other.minor, other.patch))
            .then_with(|| match (&self.pre, &other.pre) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Greater,
                (Some(_), None) => Ordering::Less,
                (Some(a), Some(b)) => compare_pre(a, b),
            })
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

fn compare_pre(a: &str, b: &str) -> Ordering {
    let mut left = a.split('.');
    let mut right = b.split('.');
    loop {
        match (left.next(), right.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let order = match (x.parse::<u64>(), y.parse::<u64>()) {
                    (Ok(x), Ok(y)) => x.cmp(&y),
                    (Ok(_), Err(_)) => Ordering::Less,
                    (Err(_), Ok(_)) => Ordering::Greater,
                    (Err(_), Err(_)) => x.cmp(y),
                };
                if order != Ordering::Equal {
                    return order;
                }
            }
        }
    }
}

/// Which releases to run: a range, the last N, or both (the last N of the range).
#[derive(Clone, Debug, Default)]
pub struct RangeSpec {
    pub from: Option<String>,
    pub to: Option<String>,
    pub last: Option<usize>,
    /// Keep pre-releases (left out unless asked for, or named as an end of the range).
    pub include_prereleases: bool,
}

/// The releases of `published` that `spec` selects, oldest first. Unparseable entries are
/// ignored; an end of the range that is not published is an error naming it.
pub fn select(published: &[String], spec: &RangeSpec) -> Result<Vec<Version>, String> {
    let mut all: Vec<Version> = published.iter().filter_map(|v| Version::parse(v)).collect();
    all.sort();
    all.dedup();
    let bound = |name: &str, text: &Option<String>| -> Result<Option<Version>, String> {
        match text {
            None => Ok(None),
            Some(t) => {
                let v = Version::parse(t).ok_or_else(|| {
                    format!("--{name} `{t}` is not a release number (e.g. 1.7.5)")
                })?;
                if !all.contains(&v) {
                    return Err(format!(
                        "--{name} {v} is not a published release (the registry lists {} releases, newest {})",
                        all.len(),
                        all.last().map(ToString::to_string).unwrap_or_default()
                    ));
                }
                Ok(Some(v))
            }
        }
    };
    let from = bound("from", &spec.from)?;
    let to = bound("to", &spec.to)?;
    if let (Some(f), Some(t)) = (&from, &to)
        && f > t
    {
        return Err(format!("--from {f} is newer than --to {t}"));
    }
    let mut chosen: Vec<Version> = all
        .into_iter()
        .filter(|v| from.as_ref().is_none_or(|f| v >= f))
        .filter(|v| to.as_ref().is_none_or(|t| v <= t))
        .filter(|v| {
            spec.include_prereleases
                || !v.is_prerelease()
                || Some(v) == from.as_ref()
                || Some(v) == to.as_ref()
        })
        .collect();
    if let Some(n) = spec.last {
        if n == 0 {
            return Err("--last must be at least 1".into());
        }
        let skip = chosen.len().saturating_sub(n);
        chosen.drain(..skip);
    }
    if chosen.is_empty() {
        return Err("no published release falls in the range given".into());
    }
    Ok(chosen)
}

/// A scenario's verdict on one release, as the matrix and bisect see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    Fail,
    /// Failed in the way the deviation list documents.
    Deviation,
    Skipped,
    /// No verdict: the release could not be installed or booted, or did not run the scenario.
    Unknown(String),
}

impl Outcome {
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "FAIL",
            Outcome::Deviation => "deviation",
            Outcome::Skipped => "skipped",
            Outcome::Unknown(_) => "?",
        }
    }

    /// Pass and fail are what bisect compares; a deviation is a failure the list names.
    fn class(&self) -> Option<bool> {
        match self {
            Outcome::Pass => Some(true),
            Outcome::Fail | Outcome::Deviation => Some(false),
            Outcome::Skipped | Outcome::Unknown(_) => None,
        }
    }
}

/// What bisect found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BisectResult {
    /// Every release tried, in the order tried, with its verdict.
    pub trail: Vec<(Version, Outcome)>,
    /// The first release (oldest first) whose verdict differs from the older end's.
    pub first_changed: Option<Version>,
    /// The newest release before it that still had the older end's verdict.
    pub last_unchanged: Option<Version>,
    /// Whether the change is a fix (fail → pass) rather than a regression.
    pub fixed: bool,
}

/// Finds the first release in `versions` (oldest first, both ends included) where the verdict
/// differs from the verdict at the older of `a` and `b`. The two ends must have different
/// pass/fail verdicts. Releases without a verdict (skipped, unknown) are stepped over, as
/// `git bisect skip` does; the answer is then the first release with a verdict after the last
/// unchanged one. Assumes one change in the range (the usual bisect premise).
pub async fn bisect<F, Fut>(
    versions: &[Version],
    a: &Version,
    b: &Version,
    mut oracle: F,
) -> Result<BisectResult, String>
where
    F: FnMut(Version) -> Fut,
    Fut: Future<Output = Outcome>,
{
    let (old, new) = if a <= b { (a, b) } else { (b, a) };
    let lo_index = versions
        .iter()
        .position(|v| v == old)
        .ok_or_else(|| format!("{old} is not among the releases searched"))?;
    let hi_index = versions
        .iter()
        .position(|v| v == new)
        .ok_or_else(|| format!("{new} is not among the releases searched"))?;
    let mut trail = Vec::new();
    let old_outcome = oracle(old.clone()).await;
    trail.push((old.clone(), old_outcome.clone()));
    let new_outcome = oracle(new.clone()).await;
    trail.push((new.clone(), new_outcome.clone()));
    let (Some(old_class), Some(new_class)) = (old_outcome.class(), new_outcome.class()) else {
        return Err(format!(
            "both ends need a pass or fail verdict: {old} is {}, {new} is {}",
            describe(&old_outcome),
            describe(&new_outcome)
        ));
    };
    if old_class == new_class {
        return Err(format!(
            "{old} and {new} have the same verdict ({}): nothing to bisect",
            old_outcome.label()
        ));
    }
    // Invariant: versions[lo] has the old verdict, versions[hi] the new one; in between,
    // `unknown` marks releases already tried without a verdict.
    let (mut lo, mut hi) = (lo_index, hi_index);
    let mut unknown = vec![false; versions.len()];
    while hi - lo > 1 {
        let candidates: Vec<usize> = (lo + 1..hi).filter(|i| !unknown[*i]).collect();
        if candidates.is_empty() {
            break;
        }
        let mid = candidates[candidates.len() / 2];
        let outcome = oracle(versions[mid].clone()).await;
        trail.push((versions[mid].clone(), outcome.clone()));
        match outcome.class() {
            Some(class) if class == old_class => lo = mid,
            Some(_) => hi = mid,
            None => unknown[mid] = true,
        }
    }
    Ok(BisectResult {
        trail,
        first_changed: Some(versions[hi].clone()),
        last_unchanged: Some(versions[lo].clone()),
        fixed: new_class && !old_class,
    })
}

fn describe(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Unknown(why) => format!("unknown ({why})"),
        other => other.label().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> Version {
        Version::parse(text).unwrap()
    }

    fn list(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn versions_parse_and_order_as_semver() {
        assert_eq!(v("1.7.25").to_string(), "1.7.25");
        assert_eq!(v("v1.7.0-beta.6").to_string(), "1.7.0-beta.6");
        for bad in ["1.7", "1.7.x", "latest", "1.7.5; rm -rf /", "1.7.5-", ""] {
            assert!(Version::parse(bad).is_none(), "{bad}");
        }
        let mut all: Vec<Version> = [
            "1.7.0",
            "1.6.34",
            "1.7.0-beta.10",
            "1.7.0-beta.2",
            "1.7.0-rc.1",
            "1.10.0",
            "1.7.0-beta",
        ]
        .iter()
        .map(|s| v(s))
        .collect();
        all.sort();
        let sorted: Vec<String> = all.iter().map(ToString::to_string).collect();
        assert_eq!(
            sorted,
            [
                "1.6.34",
                "1.7.0-beta",
                "1.7.0-beta.2",
                "1.7.0-beta.10",
                "1.7.0-rc.1",
                "1.7.0",
                "1.10.0"
            ]
        );
    }

    /// The releases `spec` selects, as text.
    fn selected(published: &[String], spec: &RangeSpec) -> Vec<String> {
        select(published, spec)
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn ranges_leave_pre_releases_out_unless_asked_or_named() {
        let published = list(&[
            "1.6.33",
            "1.6.34",
            "1.7.0-beta.1",
            "1.7.0",
            "1.7.1",
            "1.7.2-rc.1",
            "1.7.2",
            "junk",
        ]);
        let spec = RangeSpec {
            from: Some("1.6.34".into()),
            to: Some("1.7.2".into()),
            ..Default::default()
        };
        let got = selected(&published, &spec);
        assert_eq!(got, ["1.6.34", "1.7.0", "1.7.1", "1.7.2"]);
        let with_pre = RangeSpec {
            include_prereleases: true,
            ..spec.clone()
        };
        assert_eq!(select(&published, &with_pre).unwrap().len(), 6);
        let named_pre = RangeSpec {
            from: Some("1.7.0-beta.1".into()),
            to: None,
            ..Default::default()
        };
        let got = select(&published, &named_pre).unwrap();
        assert_eq!(got.first().unwrap().to_string(), "1.7.0-beta.1");
        assert!(!got.iter().any(|v| v.to_string() == "1.7.2-rc.1"));
    }

    #[test]
    fn last_n_takes_the_newest_and_bad_ranges_are_refused() {
        let published = list(&["1.6.33", "1.6.34", "1.7.0", "1.7.1", "1.7.2"]);
        let last = RangeSpec {
            last: Some(2),
            ..Default::default()
        };
        let got = selected(&published, &last);
        assert_eq!(got, ["1.7.1", "1.7.2"]);
        let unpublished = RangeSpec {
            from: Some("1.5.0".into()),
            ..Default::default()
        };
        assert!(
            select(&published, &unpublished)
                .unwrap_err()
                .contains("not a published release")
        );
        let reversed = RangeSpec {
            from: Some("1.7.2".into()),
            to: Some("1.6.33".into()),
            ..Default::default()
        };
        assert!(select(&published, &reversed).unwrap_err().contains("newer"));
        let zero = RangeSpec {
            last: Some(0),
            ..Default::default()
        };
        assert!(select(&published, &zero).is_err());
    }

    fn releases(n: usize) -> Vec<Version> {
        (0..n)
            .map(|i| v(&format!("1.{}.{}", i / 10, i % 10)))
            .collect()
    }

    fn run<F: Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(future)
    }

    #[test]
    fn bisect_finds_the_fix_in_log_steps_and_names_both_sides() {
        let all = releases(40);
        let fixed_at = v("1.2.7");
        let (good, bad) = (all[39].clone(), all[0].clone());
        let result = run(bisect(&all, &good, &bad, |r| {
            let outcome = if r >= fixed_at {
                Outcome::Pass
            } else {
                Outcome::Fail
            };
            async move { outcome }
        }))
        .unwrap();
        assert_eq!(result.first_changed, Some(fixed_at));
        assert_eq!(result.last_unchanged, Some(v("1.2.6")));
        assert!(result.fixed);
        // Two ends plus at most ceil(log2(38)) = 6 probes.
        assert!(result.trail.len() <= 8, "{:?}", result.trail);
    }

    #[test]
    fn bisect_finds_a_regression_and_steps_over_releases_without_a_verdict() {
        let all = releases(12);
        let broke_at = v("1.0.8");
        let result = run(bisect(&all, &all[0].clone(), &all[11].clone(), |r| {
            let outcome = if r == v("1.0.8") || r == v("1.0.6") {
                Outcome::Unknown("install failed".into())
            } else if r >= broke_at {
                Outcome::Fail
            } else {
                Outcome::Pass
            };
            async move { outcome }
        }))
        .unwrap();
        // 1.0.8 has no verdict, so the first release seen failing after the last pass is 1.0.9.
        assert_eq!(result.last_unchanged, Some(v("1.0.7")));
        assert_eq!(result.first_changed, Some(v("1.0.9")));
        assert!(!result.fixed);
    }

    #[test]
    fn bisect_refuses_ends_with_the_same_or_no_verdict() {
        let all = releases(5);
        let same = run(bisect(&all, &all[0].clone(), &all[4].clone(), |_| async {
            Outcome::Pass
        }));
        assert!(same.unwrap_err().contains("same verdict"));
        let none = run(bisect(&all, &all[0].clone(), &all[4].clone(), |_| async {
            Outcome::Skipped
        }));
        assert!(none.unwrap_err().contains("pass or fail"));
        let missing = run(bisect(&all, &v("9.9.9"), &all[4].clone(), |_| async {
            Outcome::Pass
        }));
        assert!(missing.unwrap_err().contains("not among"));
    }
}
