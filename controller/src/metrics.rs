//! Prometheus metrics in the text exposition format, without a metrics library: counters and
//! histograms that update with atomics, keyed by label values, and rendered on request.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Bucket bounds (seconds) for step durations: a second to a day.
pub const STEP_BUCKETS: &[f64] = &[1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0, 21600.0, 86400.0];
/// Bucket bounds (seconds) for API latencies: a millisecond to ten seconds.
pub const LATENCY_BUCKETS: &[f64] = &[0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 2.5, 10.0];

/// One histogram: counts per bucket, the sum and the count of observations.
#[derive(Debug)]
struct Series {
    buckets: Vec<AtomicU64>,
    /// The sum in microseconds (fractions below are dropped).
    sum_micros: AtomicU64,
    count: AtomicU64,
}

impl Series {
    fn new(n: usize) -> Self {
        Self {
            buckets: (0..n).map(|_| AtomicU64::new(0)).collect(),
            sum_micros: AtomicU64::new(0),
            count: AtomicU64::new(0),
        }
    }
}

/// A histogram family: one series per set of label values.
#[derive(Debug)]
pub struct Histogram {
    name: &'static str,
    help: &'static str,
    labels: &'static [&'static str],
    bounds: &'static [f64],
    series: Mutex<BTreeMap<Vec<String>, Series>>,
}

impl Histogram {
    /// A histogram named `name` with these label names and bucket bounds.
    pub const fn new(
        name: &'static str,
        help: &'static str,
        labels: &'static [&'static str],
        bounds: &'static [f64],
    ) -> Self {
        Self {
            name,
            help,
            labels,
            bounds,
            series: Mutex::new(BTreeMap::new()),
        }
    }

    /// Records one observation of `seconds` for these label values (in `labels`' order).
    pub fn observe(&self, values: &[&str], seconds: f64) {
        let Ok(mut map) = self.series.lock() else {
            return;
        };
        let key: Vec<String> = values.iter().map(|v| v.to_string()).collect();
        let s = map
            .entry(key)
            .or_insert_with(|| Series::new(self.bounds.len()));
        for (b, bound) in s.buckets.iter().zip(self.bounds) {
            if seconds <= *bound {
                b.fetch_add(1, Ordering::Relaxed);
            }
        }
        let micros = (seconds.max(0.0) * 1e6) as u64;
        s.sum_micros.fetch_add(micros, Ordering::Relaxed);
        s.count.fetch_add(1, Ordering::Relaxed);
    }

    /// Appends the family in the text format.
    pub fn render(&self, out: &mut String) {
        let _ = writeln!(out, "# HELP {} {}", self.name, self.help);
        let _ = writeln!(out, "# TYPE {} histogram", self.name);
        let Ok(map) = self.series.lock() else {
            return;
        };
        for (values, s) in map.iter() {
            let base = label_text(self.labels, values);
            let with = |extra: &str| match (base.is_empty(), extra.is_empty()) {
                (true, true) => String::new(),
                (true, false) => format!("{{{extra}}}"),
                (false, true) => format!("{{{base}}}"),
                (false, false) => format!("{{{base},{extra}}}"),
            };
            for (b, bound) in s.buckets.iter().zip(self.bounds) {
                let le = format!("le=\"{bound}\"");
                let _ = writeln!(
                    out,
                    "{}_bucket{} {}",
                    self.name,
                    with(&le),
                    b.load(Ordering::Relaxed)
                );
            }
            let count = s.count.load(Ordering::Relaxed);
            let _ = writeln!(out, "{}_bucket{} {count}", self.name, with("le=\"+Inf\""));
            let sum = s.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
            let _ = writeln!(out, "{}_sum{} {sum}", self.name, with(""));
            let _ = writeln!(out, "{}_count{} {count}", self.name, with(""));
        }
    }
}

/// `a="x",b="y"` with values escaped as the format requires.
pub fn label_text(names: &[&str], values: &[String]) -> String {
    names
        .iter()
        .zip(values)
        .map(|(n, v)| {
            let v = v
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n");
            format!("{n}=\"{v}\"")
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Appends a gauge family with one sample per label value set.
pub fn render_gauge(
    out: &mut String,
    name: &str,
    help: &str,
    labels: &[&str],
    samples: &[(Vec<String>, f64)],
) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} gauge");
    for (values, v) in samples {
        let l = label_text(labels, values);
        if l.is_empty() {
            let _ = writeln!(out, "{name} {v}");
        } else {
            let _ = writeln!(out, "{name}{{{l}}} {v}");
        }
    }
}

/// How long the steps of the local backend took, by template and phase.
pub static STEP_DURATION: Histogram = Histogram::new(
    "trellis_step_duration_seconds",
    "Duration of finished steps, by phase.",
    &["phase"],
    STEP_BUCKETS,
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_render_cumulative_buckets_sum_and_count() {
        static H: Histogram = Histogram::new("t_seconds", "Test.", &["route"], &[0.1, 1.0]);
        H.observe(&["/a"], 0.05);
        H.observe(&["/a"], 0.5);
        H.observe(&["/a"], 5.0);
        H.observe(&["/b\"x"], 0.2);
        let mut out = String::new();
        H.render(&mut out);
        for line in [
            "# TYPE t_seconds histogram",
            "t_seconds_bucket{route=\"/a\",le=\"0.1\"} 1",
            "t_seconds_bucket{route=\"/a\",le=\"1\"} 2",
            "t_seconds_bucket{route=\"/a\",le=\"+Inf\"} 3",
            "t_seconds_sum{route=\"/a\"} 5.55",
            "t_seconds_count{route=\"/a\"} 3",
            "t_seconds_count{route=\"/b\\\"x\"} 1",
        ] {
            assert!(out.lines().any(|l| l == line), "missing {line:?} in\n{out}");
        }
        let mut g = String::new();
        render_gauge(
            &mut g,
            "w",
            "Workflows.",
            &["phase"],
            &[(vec!["Running".into()], 2.0)],
        );
        assert!(g.contains("w{phase=\"Running\"} 2\n"), "{g}");
    }
}
