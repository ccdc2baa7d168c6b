//! Parsers for the small languages inside manifests: Go durations and cron schedules.

use std::fmt;

/// Parses a Go duration (`1h30m`, `10s`, `1.5h`, `300ms`, `-1m`) into nanoseconds.
pub fn parse_go_duration(text: &str) -> Result<i128, String> {
    let bad = || {
        format!("`{text}` is not a duration; write a number with a unit, e.g. `30s`, `5m`, `1h30m`")
    };
    let (sign, mut rest) = match text.strip_prefix('-') {
        Some(r) => (-1, r),
        None => (1, text.strip_prefix('+').unwrap_or(text)),
    };
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() || rest.contains(char::is_whitespace) {
        return Err(bad());
    }
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| {
                format!("`{text}` has a number without a unit; add one, e.g. `{text}s`")
            })?;
        let number: f64 = rest[..num_len].parse().map_err(|_| bad())?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            unit => {
                return Err(format!(
                    "`{text}` has an unknown unit `{unit}`; use ns, us, ms, s, m or h"
                ));
            }
        };
        total += number * scale;
        rest = &rest[unit_len..];
    }
    if total > 9.2e18 {
        return Err(format!("`{text}` is too long a duration"));
    }
    Ok(sign * total as i128)
}

/// Parses a duration that Argo also accepts as a bare number of seconds (e.g. `suspend.duration: 20`).
pub fn parse_seconds_or_duration(text: &str) -> Result<i128, String> {
    match text.parse::<i64>() {
        Ok(seconds) => Ok(i128::from(seconds) * 1_000_000_000),
        Err(_) => parse_go_duration(text),
    }
}

/// A parsed cron schedule, standard five fields or a descriptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CronSchedule {
    /// Minute, hour, day of month, month and day of week, each as a bit set.
    Fields {
        /// Bit n set: minute n matches.
        minutes: u64,
        /// Bit n set: hour n matches.
        hours: u32,
        /// Bit n set: day n of the month matches (1–31).
        days_of_month: u32,
        /// Bit n set: month n matches (1–12).
        months: u16,
        /// Bit n set: weekday n matches (0 = Sunday).
        days_of_week: u8,
        /// Whether the day-of-month field was `*` (cron then matches on the weekday alone).
        dom_any: bool,
        /// Whether the day-of-week field was `*`.
        dow_any: bool,
    },
    /// `@every <duration>`: a fixed interval, in nanoseconds.
    Every(i128),
}

/// A cron schedule that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronError(pub String);

impl fmt::Display for CronError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

/// Parses a cron schedule the way Argo's CronWorkflows read them: five fields (minute hour
/// day-of-month month day-of-week, with names like `MON` and `JAN`), a descriptor (`@hourly`, `@daily`,
/// `@weekly`, `@monthly`, `@yearly`) or `@every 1h30m`, optionally prefixed with `CRON_TZ=Zone `.
/// Returns the schedule and the time zone of the prefix, if any.
pub fn parse_cron(text: &str) -> Result<(CronSchedule, Option<&str>), CronError> {
    let text = text.trim();
    let (zone, body) = match text
        .strip_prefix("CRON_TZ=")
        .or_else(|| text.strip_prefix("TZ="))
    {
        Some(rest) => match rest.split_once(char::is_whitespace) {
            Some((zone, body)) => (Some(zone), body.trim()),
            None => {
                return Err(CronError(
                    "a time zone prefix must be followed by a schedule".into(),
                ));
            }
        },
        None => (None, text),
    };
    if let Some(descriptor) = body.strip_prefix('@') {
        return descriptor_schedule(descriptor).map(|s| (s, zone));
    }
    let fields: Vec<&str> = body.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(CronError(format!(
            "expected 5 fields (minute hour day-of-month month day-of-week), found {}",
            fields.len()
        )));
    }
    let minutes = parse_field(fields[0], "minute", 0, 59, &[])?;
    let hours = parse_field(fields[1], "hour", 0, 23, &[])?;
    let days_of_month = parse_field(fields[2], "day-of-month", 1, 31, &[])?;
    let months = parse_field(fields[3], "month", 1, 12, &MONTHS)?;
    let mut days_of_week = parse_field(fields[4], "day-of-week", 0, 7, &DAYS)?;
    if days_of_week & (1 << 7) != 0 {
        days_of_week = (days_of_week | 1) & 0x7f;
    }
    let is_any = |f: &str| f == "*" || f == "?";
    Ok((
        CronSchedule::Fields {
            minutes,
            hours: hours as u32,
            days_of_month: days_of_month as u32,
            months: months as u16,
            days_of_week: days_of_week as u8,
            dom_any: is_any(fields[2]),
            dow_any: is_any(fields[4]),
        },
        zone,
    ))
}

fn descriptor_schedule(descriptor: &str) -> Result<CronSchedule, CronError> {
    let five = |s: &str| parse_cron(s).map(|(schedule, _)| schedule);
    match descriptor {
        "yearly" | "annually" => five("0 0 1 1 *"),
        "monthly" => five("0 0 1 * *"),
        "weekly" => five("0 0 * * 0"),
        "daily" | "midnight" => five("0 0 * * *"),
        "hourly" => five("0 * * * *"),
        other => match other.strip_prefix("every") {
            Some(interval) if interval.starts_with(char::is_whitespace) => {
                let nanos = parse_go_duration(interval.trim()).map_err(CronError)?;
                if nanos <= 0 {
                    return Err(CronError("`@every` needs a positive interval".into()));
                }
                Ok(CronSchedule::Every(nanos))
            }
            _ => Err(CronError(format!(
                "unknown descriptor `@{other}`; use @yearly, @monthly, @weekly, @daily, @hourly or @every <duration>"
            ))),
        },
    }
}

fn parse_field(
    field: &str,
    what: &str,
    min: u32,
    max: u32,
    names: &[&str],
) -> Result<u64, CronError> {
    let mut bits = 0u64;
    for part in field.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => {
                let step: u32 = s.parse().map_err(|_| {
                    CronError(format!("{what}: step `{s}` is not a positive number"))
                })?;
                if step == 0 {
                    return Err(CronError(format!("{what}: a step of 0 never matches")));
                }
                (r, step)
            }
            None => (part, 1),
        };
        let (lo, hi) = if range == "*" || range == "?" {
            (min, max)
        } else if let Some((a, b)) = range.split_once('-') {
            (
                value(a, what, min, max, names)?,
                value(b, what, min, max, names)?,
            )
        } else {
            let v = value(range, what, min, max, names)?;
            (v, if part.contains('/') { max } else { v })
        };
        if lo > hi {
            return Err(CronError(format!("{what}: range `{range}` runs backwards")));
        }
        let mut v = lo;
        while v <= hi {
            bits |= 1 << v;
            v += step;
        }
    }
    Ok(bits)
}

fn value(text: &str, what: &str, min: u32, max: u32, names: &[&str]) -> Result<u32, CronError> {
    let lower = text.to_ascii_lowercase();
    if let Some(i) = names.iter().position(|n| *n == lower) {
        return Ok(i as u32 + if names.len() == 12 { 1 } else { 0 });
    }
    let v: u32 = text
        .parse()
        .map_err(|_| CronError(format!("{what}: `{text}` is not a number")))?;
    if v < min || v > max {
        return Err(CronError(format!(
            "{what}: {v} is out of range ({min}–{max})"
        )));
    }
    Ok(v)
}

/// Whether `name` is an IANA time zone (e.g. `Europe/Paris`, `UTC`).
pub fn is_time_zone(name: &str) -> bool {
    name.parse::<chrono_tz::Tz>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("10s"), Ok(10_000_000_000));
        assert_eq!(parse_go_duration("1h30m"), Ok(5_400_000_000_000));
        assert_eq!(parse_go_duration("1.5m"), Ok(90_000_000_000));
        assert_eq!(parse_go_duration("300ms"), Ok(300_000_000));
        assert_eq!(parse_go_duration("0"), Ok(0));
        assert!(
            parse_go_duration("10")
                .unwrap_err()
                .contains("without a unit")
        );
        assert!(
            parse_go_duration("5d")
                .unwrap_err()
                .contains("unknown unit `d`")
        );
        assert!(parse_go_duration("").is_err());
        assert!(parse_go_duration("h").is_err());
        assert_eq!(parse_seconds_or_duration("20"), Ok(20_000_000_000));
    }

    #[test]
    fn cron_schedules() {
        assert!(parse_cron("* * * * *").is_ok());
        assert!(parse_cron("*/15 9-17 * * MON-FRI").is_ok());
        assert!(parse_cron("0 0 1 jan,jul ?").is_ok());
        assert!(parse_cron("@daily").is_ok());
        assert_eq!(
            parse_cron("@every 1h").unwrap().0,
            CronSchedule::Every(3_600_000_000_000)
        );
        assert_eq!(
            parse_cron("CRON_TZ=Asia/Tokyo 0 9 * * *").unwrap().1,
            Some("Asia/Tokyo")
        );
        assert!(
            parse_cron("60 * * * *")
                .unwrap_err()
                .0
                .contains("out of range")
        );
        assert!(parse_cron("* * * *").unwrap_err().0.contains("5 fields"));
        assert!(
            parse_cron("@sometimes")
                .unwrap_err()
                .0
                .contains("unknown descriptor")
        );
        assert!(parse_cron("*/0 * * * *").is_err());
        assert!(parse_cron("5-1 * * * *").is_err());
        let (CronSchedule::Fields { days_of_week, .. }, _) = parse_cron("0 0 * * 7").unwrap()
        else {
            panic!("fields")
        };
        assert_eq!(days_of_week, 1, "7 is Sunday too");
    }

    #[test]
    fn time_zones() {
        assert!(is_time_zone("Europe/Paris"));
        assert!(is_time_zone("UTC"));
        assert!(!is_time_zone("Mars/Olympus"));
    }
}
