//! Formatting of durations and times for display. Pure and deterministic, so the server's HTML
//! and the browser's hydration agree.

/// A duration in seconds as people read it: `45s`, `3m 05s`, `2h 04m`, `3d 4h`.
pub fn duration(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        0..=59 => format!("{s}s"),
        60..=3_599 => format!("{}m {:02}s", s / 60, s % 60),
        3_600..=86_399 => format!("{}h {:02}m", s / 3_600, (s % 3_600) / 60),
        _ => format!("{}d {}h", s / 86_400, (s % 86_400) / 3_600),
    }
}

/// An optional duration, or an en dash.
pub fn maybe_duration(seconds: Option<i64>) -> String {
    seconds.map_or_else(|| "–".to_string(), duration)
}

/// An RFC 3339 time as `2026-12-01 14:05:09` (UTC as stored), or an en dash.
pub fn time(rfc3339: Option<&str>) -> String {
    let Some(t) = rfc3339.filter(|t| t.len() >= 19) else {
        return "–".to_string();
    };
    let (date, rest) = t.split_at(10);
    format!("{date} {}", &rest[1..9])
}

/// The text of a health indicator's icon class: sunny when all passed, cloudy when some, stormy
/// when none.
pub fn health_slug(passed: usize, of: usize) -> &'static str {
    match (passed, of) {
        (_, 0) => "none",
        (p, n) if p == n => "good",
        (0, _) => "bad",
        (p, n) if p * 2 >= n => "fair",
        _ => "poor",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_people_write_them() {
        assert_eq!(duration(0), "0s");
        assert_eq!(duration(59), "59s");
        assert_eq!(duration(65), "1m 05s");
        assert_eq!(duration(3_600 * 2 + 240), "2h 04m");
        assert_eq!(duration(86_400 * 3 + 3_600 * 4), "3d 4h");
        assert_eq!(duration(-5), "0s");
        assert_eq!(maybe_duration(None), "–");
    }

    #[test]
    fn times_drop_the_t_and_the_zone() {
        assert_eq!(time(Some("2026-12-01T14:05:09Z")), "2026-12-01 14:05:09");
        assert_eq!(
            time(Some("2026-12-01T14:05:09.123+00:00")),
            "2026-12-01 14:05:09"
        );
        assert_eq!(time(Some("bad")), "–");
        assert_eq!(time(None), "–");
    }

    #[test]
    fn health_has_five_levels() {
        assert_eq!(health_slug(5, 5), "good");
        assert_eq!(health_slug(3, 5), "fair");
        assert_eq!(health_slug(1, 5), "poor");
        assert_eq!(health_slug(0, 5), "bad");
        assert_eq!(health_slug(0, 0), "none");
    }
}
