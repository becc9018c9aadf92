//! The HTML report: one self-contained file, readable offline. No script and nothing fetched:
//! the charts are inline SVG drawn here (hand-written rather than the plotters crate: five
//! simple line and bar charts are a few dozen lines of SVG, and plotters would add a dependency
//! tree to every build for them). The verdict and the thresholds come first.

use std::fmt::Write as _;

use super::{Row, Summary};
use crate::load::live::Sample;

/// `&`, `<`, `>`, `"` escaped for HTML text and attributes.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 240.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 30.0;
const BOTTOM: f64 = 40.0;

/// A "nice" tick step for a range: 1, 2 or 5 times a power of ten, about 5 ticks. Pure.
pub fn nice_step(range: f64) -> f64 {
    if !(range.is_finite() && range > 0.0) {
        return 1.0;
    }
    let raw = range / 5.0;
    let power = 10f64.powf(raw.log10().floor());
    let unit = raw / power;
    let nice = if unit <= 1.0 {
        1.0
    } else if unit <= 2.0 {
        2.0
    } else if unit <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * power
}

fn tick_label(v: f64, step: f64) -> String {
    if step >= 1.0 {
        format!("{v:.0}")
    } else if step >= 0.1 {
        format!("{v:.1}")
    } else if step >= 0.01 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

/// One series of a chart.
pub struct Series<'a> {
    pub name: &'a str,
    pub color: &'a str,
    pub values: Vec<f64>,
}

#[derive(Clone, Copy, PartialEq)]
pub enum Kind {
    Lines,
    Bars,
}

/// An SVG chart of `series` over `xs` (seconds), with the measured window shaded. Pure.
pub fn chart(
    title: &str,
    y_label: &str,
    xs: &[f64],
    series: &[Series<'_>],
    kind: Kind,
    window: Option<(f64, f64)>,
) -> String {
    let mut svg = svg_open(title);
    let (plot_w, plot_h) = (WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM);
    if xs.is_empty() || series.iter().all(|s| s.values.is_empty()) {
        let _ = write!(
            svg,
            r##"<text x="{}" y="{}" font-size="13" fill="#666">no samples (the run was shorter than a second)</text></svg>"##,
            LEFT + 10.0,
            TOP + plot_h / 2.0
        );
        return svg;
    }
    let x_min = xs.iter().cloned().fold(f64::INFINITY, f64::min).min(0.0);
    let x_max = xs
        .iter()
        .cloned()
        .fold(f64::NEG_INFINITY, f64::max)
        .max(x_min + 1.0);
    let y_max_data = series
        .iter()
        .flat_map(|s| s.values.iter().cloned())
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    // All zero (no failure at all): an axis of 0 to 5 rather than of fractions.
    let y_step = nice_step(if y_max_data > 0.0 { y_max_data } else { 5.0 });
    let y_max = (y_max_data / y_step).ceil().max(1.0) * y_step;
    let px = |x: f64| LEFT + (x - x_min) / (x_max - x_min) * plot_w;
    let py = |y: f64| TOP + plot_h - (y / y_max) * plot_h;

    if let Some((from, to)) = window {
        let (a, b) = (px(from.max(x_min)), px(to.min(x_max)));
        if b > a {
            let _ = write!(
                svg,
                r##"<rect x="{a:.1}" y="{TOP}" width="{:.1}" height="{plot_h}" fill="#e8f3e8"/><text x="{:.1}" y="{:.1}" font-size="10" fill="#4a7a4a">measured window</text>"##,
                b - a,
                a + 3.0,
                TOP + 11.0
            );
        }
    }
    // Grid and y ticks.
    let mut y = 0.0;
    while y <= y_max + y_step / 2.0 {
        let _ = write!(
            svg,
            r##"<line x1="{LEFT}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" font-size="10" text-anchor="end" fill="#444">{}</text>"##,
            LEFT + plot_w,
            py(y),
            py(y),
            LEFT - 4.0,
            py(y) + 3.0,
            tick_label(y, y_step)
        );
        y += y_step;
    }
    let x_step = nice_step(x_max - x_min);
    let mut x = (x_min / x_step).ceil() * x_step;
    while x <= x_max + 1e-9 {
        let _ = write!(
            svg,
            r##"<line x1="{:.1}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="#888"/><text x="{:.1}" y="{:.1}" font-size="10" text-anchor="middle" fill="#444">{}</text>"##,
            px(x),
            px(x),
            TOP + plot_h,
            TOP + plot_h + 4.0,
            px(x),
            TOP + plot_h + 15.0,
            tick_label(x, x_step)
        );
        x += x_step;
    }
    let _ = write!(
        svg,
        r##"<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{:.1}" stroke="#888"/><line x1="{LEFT}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="#888"/>"##,
        TOP + plot_h,
        LEFT + plot_w,
        TOP + plot_h,
        TOP + plot_h
    );
    let _ = write!(
        svg,
        r##"<text x="{:.1}" y="{:.1}" font-size="10" text-anchor="middle" fill="#444">seconds since the load started</text><text x="12" y="{:.1}" font-size="10" text-anchor="middle" fill="#444" transform="rotate(-90 12 {:.1})">{}</text>"##,
        LEFT + plot_w / 2.0,
        HEIGHT - 6.0,
        TOP + plot_h / 2.0,
        TOP + plot_h / 2.0,
        escape(y_label)
    );
    let slot = plot_w / xs.len().max(1) as f64;
    for (k, s) in series.iter().enumerate() {
        match kind {
            Kind::Lines => {
                let points: Vec<String> = xs
                    .iter()
                    .zip(&s.values)
                    .filter(|(_, v)| v.is_finite())
                    .map(|(x, v)| format!("{:.1},{:.1}", px(*x), py(*v)))
                    .collect();
                let _ = write!(
                    svg,
                    r#"<polyline fill="none" stroke="{}" stroke-width="1.8" points="{}"/>"#,
                    s.color,
                    points.join(" ")
                );
            }
            Kind::Bars => {
                let w = (slot / series.len() as f64 * 0.8).max(1.0);
                for (x, v) in xs.iter().zip(&s.values) {
                    if *v > 0.0 {
                        let _ = write!(
                            svg,
                            r#"<rect x="{:.1}" y="{:.1}" width="{w:.1}" height="{:.1}" fill="{}"/>"#,
                            px(*x) - slot / 2.0 + k as f64 * w,
                            py(*v),
                            TOP + plot_h - py(*v),
                            s.color
                        );
                    }
                }
            }
        }
        // Legend.
        let lx = LEFT + plot_w - 150.0;
        let ly = TOP + 6.0 + k as f64 * 14.0;
        let _ = write!(
            svg,
            r##"<rect x="{lx:.1}" y="{ly:.1}" width="10" height="10" fill="{}"/><text x="{:.1}" y="{:.1}" font-size="11" fill="#222">{}</text>"##,
            s.color,
            lx + 14.0,
            ly + 9.0,
            escape(s.name)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// An open chart: the `<svg>` element with its accessible title, and the title drawn on top.
fn svg_open(title: &str) -> String {
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" xmlns="http://www.w3.org/2000/svg"><title>{}</title>"#,
        escape(title)
    );
    let _ = write!(
        svg,
        r##"<text x="{LEFT}" y="18" font-size="14" font-weight="bold" fill="#222">{}</text>"##,
        escape(title)
    );
    svg
}

/// The latency distribution of the measured request: count per bucket, on a log time axis,
/// with p50, p95 and p99 marked. `buckets` are (µs, count). Pure.
pub fn distribution(title: &str, buckets: &[(u64, u64)], marks: &[(&str, f64)]) -> String {
    let mut svg = svg_open(title);
    let (plot_w, plot_h) = (WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM);
    let nonzero: Vec<(u64, u64)> = buckets.iter().copied().filter(|(_, c)| *c > 0).collect();
    if nonzero.is_empty() {
        svg.push_str(r##"<text x="80" y="120" font-size="13" fill="#666">no requests measured</text></svg>"##);
        return svg;
    }
    let lo = (nonzero.first().map(|b| b.0).unwrap_or(1).max(1) as f64)
        .log10()
        .floor();
    let hi = (nonzero.last().map(|b| b.0).unwrap_or(10).max(2) as f64 * 1.01)
        .log10()
        .ceil()
        .max(lo + 1.0);
    let px = |us: f64| LEFT + ((us.max(1.0)).log10() - lo) / (hi - lo) * plot_w;
    // Counts are grouped into 60 columns per decade so that the bars are visible.
    let columns = ((hi - lo) * 60.0) as usize;
    let mut grouped = vec![0u64; columns.max(1)];
    for (us, c) in &nonzero {
        let at = (((*us as f64).max(1.0).log10() - lo) / (hi - lo) * columns as f64) as usize;
        grouped[at.min(columns.saturating_sub(1))] += c;
    }
    let max = grouped.iter().copied().max().unwrap_or(1).max(1) as f64;
    let bar_w = plot_w / grouped.len() as f64;
    for (i, c) in grouped.iter().enumerate() {
        if *c > 0 {
            let h = *c as f64 / max * plot_h;
            let _ = write!(
                svg,
                r##"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{h:.1}" fill="#4c78a8"/>"##,
                LEFT + i as f64 * bar_w,
                TOP + plot_h - h,
                bar_w.max(1.0)
            );
        }
    }
    let mut decade = lo;
    while decade <= hi + 1e-9 {
        let us = 10f64.powf(decade);
        let label = if us >= 1000.0 {
            format!("{} ms", us / 1000.0)
        } else {
            format!("{us} µs")
        };
        let _ = write!(
            svg,
            r##"<line x1="{x:.1}" x2="{x:.1}" y1="{:.1}" y2="{:.1}" stroke="#888"/><text x="{x:.1}" y="{:.1}" font-size="10" text-anchor="middle" fill="#444">{label}</text>"##,
            TOP + plot_h,
            TOP + plot_h + 4.0,
            TOP + plot_h + 15.0,
            x = px(us)
        );
        decade += 1.0;
    }
    for (k, (name, ms)) in marks.iter().enumerate() {
        let x = px(ms * 1000.0);
        let _ = write!(
            svg,
            r##"<line x1="{x:.1}" x2="{x:.1}" y1="{TOP}" y2="{:.1}" stroke="#d62728" stroke-dasharray="4 3"/><text x="{:.1}" y="{:.1}" font-size="10" fill="#d62728">{} {:.3} ms</text>"##,
            TOP + plot_h,
            x + 3.0,
            TOP + 10.0 + k as f64 * 12.0,
            escape(name),
            ms
        );
    }
    let _ = write!(
        svg,
        r##"<line x1="{LEFT}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="#888"/><text x="{:.1}" y="{:.1}" font-size="10" text-anchor="middle" fill="#444">response time (log scale); bar height: requests</text></svg>"##,
        LEFT + plot_w,
        TOP + plot_h,
        TOP + plot_h,
        LEFT + plot_w / 2.0,
        HEIGHT - 6.0
    );
    svg
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#222;max-width:1100px}\
h1{font-size:22px}h2{font-size:17px;margin-top:28px}\
.verdict{font-size:18px;padding:12px 16px;border-radius:6px;margin:12px 0}\
.passed{background:#e3f4e3;border:1px solid #8c8}.failed{background:#fbe3e3;border:1px solid #d88}.interrupted{background:#fff4d6;border:1px solid #db8}\
.ratelimited{background:#fff4d6;border:1px solid #db8;padding:8px 12px;border-radius:6px;font-weight:bold}\
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:4px 8px;font-size:13px}th{background:#f3f3f3;text-align:left}\
td.n{text-align:right;font-variant-numeric:tabular-nums}.ok{color:#1a7f1a;font-weight:bold}.missed{color:#b00;font-weight:bold}\
.chart{display:block;margin:10px 0;border:1px solid #eee;max-width:100%;height:auto}.muted{color:#666;font-size:13px}";

/// The whole report. Pure.
pub fn render(s: &Summary) -> String {
    let mut h = String::new();
    let state = if s.interrupted {
        "interrupted"
    } else if s.passed {
        "passed"
    } else {
        "failed"
    };
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>ba-harness load: {} ({state})</title><style>{STYLE}</style></head><body>",
        escape(&s.scenario)
    );
    let _ = write!(
        h,
        "<h1>ba-harness load: {} against {}</h1>",
        escape(&s.scenario),
        escape(&s.target)
    );
    let _ = write!(
        h,
        "<div class=\"verdict {state}\"><strong>{}</strong></div>",
        escape(&s.verdict())
    );
    if let Some(line) = s.rate_limited_line() {
        let _ = write!(h, "<p class=\"ratelimited\">{}</p>", escape(&line));
    }
    table(
        &mut h,
        "Thresholds",
        ["check", "limit", "observed", "result"],
        s.checks.iter().map(|c| {
            let (result, class) = if c.passed {
                ("ok", "ok")
            } else {
                ("MISSED", "missed")
            };
            [
                (c.metric.clone(), ""),
                (c.limit.clone(), ""),
                (c.observed.clone(), ""),
                (result.to_string(), class),
            ]
        }),
    );
    for c in s.checks.iter().filter(|c| !c.passed) {
        let _ = write!(h, "<p class=\"missed\">{}</p>", escape(&c.message));
    }

    h.push_str("<h2>Run</h2><table>");
    let mut row = |k: &str, v: String| {
        let _ = write!(h, "<tr><th>{}</th><td>{}</td></tr>", escape(k), escape(&v));
    };
    row("target", s.target.clone());
    if let Some(p) = &s.profile {
        row("profile", p.clone());
    }
    row(
        "virtual users",
        format!("{} (started at {}/s)", s.users, s.hatch_rate),
    );
    if let Some(w) = &s.worker {
        row("worker", format!("{} of {}", w.index, w.count));
    }
    if s.merged_from > 1 {
        row("merged from", format!("{} worker reports", s.merged_from));
    }
    if let Some(bound) = s.bound() {
        row("bound", bound);
    }
    row("measured", format!("{:.1} s", s.measured_secs));
    row(
        "coordinated-omission mitigation",
        format!("{}{}", s.co_mitigation, s.synthetic_note()),
    );
    if let Some(cache) = s.cookie_cache() {
        row("cookie cache (reference)", cache.into());
    }
    row("sign-in phase", s.sign_in.line());
    h.push_str("</table>");

    // The request's name, then its figures.
    table(
        &mut h,
        "Requests (every response checked)",
        Row::HEADINGS,
        s.rows.iter().map(|r| {
            r.cells()
                .into_iter()
                .enumerate()
                .map(|(i, cell)| (cell, if i == 0 { "" } else { "n" }))
        }),
    );

    h.push_str("<h2>Charts</h2>");
    h.push_str(&charts(s));

    if !s.errors.is_empty() {
        table(
            &mut h,
            "Failed requests, by reason",
            ["request", "reason", "count"],
            s.errors.iter().map(|e| {
                [
                    (e.request.clone(), ""),
                    (e.error.clone(), ""),
                    (e.occurrences.to_string(), "n"),
                ]
            }),
        );
    }
    if !s.workers.is_empty() {
        table(
            &mut h,
            "Workers",
            [
                "worker",
                "users",
                "requests",
                "failed",
                "429",
                "p95 ms",
                "measured window (UTC)",
            ],
            s.workers.iter().map(|w| {
                [
                    (w.name.clone(), ""),
                    (w.users.to_string(), "n"),
                    (w.requests.to_string(), "n"),
                    (w.failures.to_string(), "n"),
                    (w.rate_limited.to_string(), "n"),
                    (format!("{:.3}", w.p95_ms), "n"),
                    (w.window.clone(), ""),
                ]
            }),
        );
    }
    let _ = write!(
        h,
        "<p class=\"muted\">ba-harness {}. Every response is checked; a response that fails its check is a failed request. A 429 is counted apart: the target refused the load rather than answering it wrongly. Percentiles come from log-linear histograms (each bucket 1/64 of a power of two wide, under 0.8% off).</p></body></html>",
        escape(&s.version)
    );
    h
}

/// A table under its `<h2>` title: the headings, then one row per item of `rows`. A cell is
/// its text (escaped here) and its class: "n" for a figure (right-aligned), "" for none.
fn table<'a, R: IntoIterator<Item = (String, &'a str)>>(
    h: &mut String,
    title: &str,
    headings: impl IntoIterator<Item = &'a str>,
    rows: impl IntoIterator<Item = R>,
) {
    let _ = write!(h, "<h2>{title}</h2><table><tr>");
    for heading in headings {
        let _ = write!(h, "<th>{}</th>", escape(heading));
    }
    h.push_str("</tr>");
    for row in rows {
        h.push_str("<tr>");
        for (text, class) in row {
            let text = escape(&text);
            let _ = if class.is_empty() {
                write!(h, "<td>{text}</td>")
            } else {
                write!(h, "<td class=\"{class}\">{text}</td>")
            };
        }
        h.push_str("</tr>");
    }
    h.push_str("</table>");
}

/// The charts: requests/s, latency percentiles, failures and 429s, virtual users (each per
/// second), and the measured request's latency distribution.
fn charts(s: &Summary) -> String {
    let timeline: &[Sample] = &s.timeline;
    let t0 = timeline
        .first()
        .map(|f| f.at_unix_ms - (f.t * 1000.0) as i64)
        .unwrap_or_default();
    let xs: Vec<f64> = timeline
        .iter()
        .map(|p| (p.at_unix_ms - t0) as f64 / 1000.0)
        .collect();
    let window = (s.window_start_unix_ms > 0 && s.window_end_unix_ms > s.window_start_unix_ms)
        .then(|| {
            (
                (s.window_start_unix_ms - t0) as f64 / 1000.0,
                (s.window_end_unix_ms - t0) as f64 / 1000.0,
            )
        });
    let of = |f: fn(&Sample) -> f64| timeline.iter().map(f).collect::<Vec<f64>>();
    let mut out = String::new();
    out.push_str(&chart(
        "Checked requests per second",
        "requests/s",
        &xs,
        &[Series {
            name: "requests/s",
            color: "#4c78a8",
            values: of(|p| p.requests_per_sec),
        }],
        Kind::Lines,
        window,
    ));
    out.push_str(&chart(
        &format!("Latency of {} per second", s.measured_request),
        "ms",
        &xs,
        &[
            Series {
                name: "p50",
                color: "#54a24b",
                values: of(|p| p.p50_ms),
            },
            Series {
                name: "p95",
                color: "#f58518",
                values: of(|p| p.p95_ms),
            },
            Series {
                name: "p99",
                color: "#e45756",
                values: of(|p| p.p99_ms),
            },
        ],
        Kind::Lines,
        window,
    ));
    out.push_str(&chart(
        "Failed and rate-limited (429) requests per second",
        "requests",
        &xs,
        &[
            Series {
                name: "failed",
                color: "#e45756",
                values: of(|p| p.failures as f64),
            },
            Series {
                name: "rate-limited (429)",
                color: "#eeca3b",
                values: of(|p| p.rate_limited as f64),
            },
        ],
        Kind::Bars,
        window,
    ));
    out.push_str(&chart(
        "Virtual users running",
        "users",
        &xs,
        &[Series {
            name: "users",
            color: "#72b7b2",
            values: of(|p| p.users as f64),
        }],
        Kind::Lines,
        window,
    ));
    let main = s
        .rows
        .iter()
        .find(|r| r.request == s.measured_request)
        .or_else(|| s.rows.first());
    let buckets: Vec<(u64, u64)> = s
        .histograms
        .get(&s.measured_request)
        .map(|h| {
            h.raw
                .times_us
                .iter()
                .map(|(us, c)| (*us, *c as u64))
                .collect()
        })
        .unwrap_or_default();
    let marks: Vec<(&str, f64)> = main
        .map(|r| vec![("p50", r.p50_ms), ("p95", r.p95_ms), ("p99", r.p99_ms)])
        .unwrap_or_default();
    out.push_str(&distribution(
        &format!(
            "Latency distribution of {} (measured window)",
            s.measured_request
        ),
        &buckets,
        &marks,
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_steps() {
        assert_eq!(nice_step(10.0), 2.0);
        assert_eq!(nice_step(4500.0), 1000.0);
        assert_eq!(nice_step(0.9), 0.2);
        assert_eq!(nice_step(0.0), 1.0);
    }

    #[test]
    fn a_chart_is_inline_svg_with_its_series() {
        let xs = [1.0, 2.0, 3.0];
        let svg = chart(
            "Requests <per> second",
            "req/s",
            &xs,
            &[Series {
                name: "requests/s",
                color: "#4c78a8",
                values: vec![100.0, 250.0, 240.0],
            }],
            Kind::Lines,
            Some((1.5, 3.0)),
        );
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.ends_with("</svg>"));
        assert!(svg.contains("<polyline"));
        assert!(svg.contains("measured window"));
        assert!(svg.contains("Requests &lt;per&gt; second"));
        let bars = chart(
            "f",
            "n",
            &xs,
            &[Series {
                name: "failed",
                color: "#e45756",
                values: vec![0.0, 3.0, 0.0],
            }],
            Kind::Bars,
            None,
        );
        assert_eq!(bars.matches("<rect").count(), 2, "one bar, one legend box");
        let empty = chart("e", "n", &[], &[], Kind::Lines, None);
        assert!(empty.contains("no samples"));
    }

    #[test]
    fn the_distribution_marks_its_percentiles() {
        let svg = distribution(
            "d",
            &[(900, 10), (1000, 50), (5000, 3)],
            &[("p50", 1.0), ("p95", 5.0)],
        );
        assert!(svg.contains("p95 5.000 ms"), "{svg}");
        assert!(svg.contains("1 ms"), "{svg}");
    }
}
