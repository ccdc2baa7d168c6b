//! A cron schedule in words, for people: `0 2 * * *` in `Europe/Paris` is "every day at 02:00
//! Europe/Paris". The common shapes get a sentence; anything else is quoted as written.

use crate::expr::sprig_dates::MONTHS;

const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// `schedule` (five fields, a macro like `@daily`, or `@every 90s`, optionally after
/// `CRON_TZ=`) in words, in time zone `zone` (the CronWorkflow's `timezone`; UTC when `None`).
pub fn describe(schedule: &str, zone: Option<&str>) -> String {
    let mut text = schedule.trim();
    let mut zone = zone.filter(|z| !z.is_empty()).unwrap_or("UTC").to_string();
    if let Some(rest) = text
        .strip_prefix("CRON_TZ=")
        .or_else(|| text.strip_prefix("TZ="))
    {
        let (z, rest) = rest.split_once(' ').unwrap_or((rest, ""));
        zone = z.to_string();
        text = rest.trim();
    }
    if let Some(every) = text.strip_prefix("@every ") {
        return format!("every {}", every.trim());
    }
    let expanded = match text {
        "@yearly" | "@annually" => "0 0 1 1 *",
        "@monthly" => "0 0 1 * *",
        "@weekly" => "0 0 * * 0",
        "@daily" | "@midnight" => "0 0 * * *",
        "@hourly" => "0 * * * *",
        other => other,
    };
    let fields: Vec<&str> = expanded.split_whitespace().collect();
    match fields.as_slice() {
        [m, h, dom, mon, dow] => {
            fields_in_words(m, h, dom, mon, dow, &zone).unwrap_or_else(|| quoted(text, &zone))
        }
        _ => quoted(text, &zone),
    }
}

fn quoted(text: &str, zone: &str) -> String {
    format!("on the schedule “{text}” ({zone})")
}

fn number(s: &str, max: u32) -> Option<u32> {
    s.parse().ok().filter(|n| *n <= max)
}

/// `*/N` as N.
fn step(s: &str) -> Option<u32> {
    s.strip_prefix("*/")
        .and_then(|n| n.parse().ok())
        .filter(|n| *n > 0)
}

/// A day-of-week field: `1`, `1-5`, `1,3,5`, `MON`, `MON-FRI`.
fn weekdays(s: &str) -> Option<String> {
    let day = |t: &str| -> Option<usize> {
        let t = t.to_ascii_lowercase();
        let by_name = DAYS.iter().position(|d| d[..3].eq_ignore_ascii_case(&t));
        by_name.or_else(|| t.parse::<usize>().ok().filter(|n| *n <= 7).map(|n| n % 7))
    };
    if let Some((a, b)) = s.split_once('-') {
        let (a, b) = (day(a)?, day(b)?);
        if (a, b) == (1, 5) {
            return Some("every weekday (Monday to Friday)".into());
        }
        return Some(format!("every {} to {}", DAYS[a], DAYS[b]));
    }
    let days: Vec<&str> = s
        .split(',')
        .map(|d| day(d).map(|i| DAYS[i]))
        .collect::<Option<_>>()?;
    Some(format!("every {}", join(&days)))
}

fn join(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

fn ordinal(n: u32) -> String {
    let suffix = match (n % 10, n % 100) {
        (1, 11) | (2, 12) | (3, 13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

fn fields_in_words(
    m: &str,
    h: &str,
    dom: &str,
    mon: &str,
    dow: &str,
    zone: &str,
) -> Option<String> {
    let any_day = dom == "*" && mon == "*" && dow == "*";
    if any_day {
        if m == "*" && h == "*" {
            return Some("every minute".into());
        }
        if let (Some(n), "*") = (step(m), h) {
            return Some(format!("every {n} minutes"));
        }
        if let (Some(n), "*") = (number(m, 59), h) {
            return Some(format!("every hour at minute {n}"));
        }
        if let (Some(n), Some(every)) = (number(m, 59), step(h)) {
            return Some(format!("every {every} hours at minute {n}"));
        }
    }
    let (mm, hh) = (number(m, 59)?, number(h, 23)?);
    let at = format!("at {hh:02}:{mm:02} {zone}");
    match (dom, mon, dow) {
        ("*", "*", "*") => Some(format!("every day {at}")),
        ("*", "*", d) => Some(format!("{} {at}", weekdays(d)?)),
        (d, "*", "*") => Some(format!(
            "on the {} of every month {at}",
            ordinal(number(d, 31)?)
        )),
        (d, mo, "*") => {
            let month = MONTHS.get(number(mo, 12)?.checked_sub(1)? as usize)?;
            Some(format!("every year on {month} {} {at}", number(d, 31)?))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_schedules_read_as_sentences() {
        let cases = [
            (
                "0 2 * * *",
                Some("Europe/Paris"),
                "every day at 02:00 Europe/Paris",
            ),
            (
                "30 9 * * 1-5",
                None,
                "every weekday (Monday to Friday) at 09:30 UTC",
            ),
            ("0 9 * * MON", None, "every Monday at 09:00 UTC"),
            (
                "0 9 * * 1,3,5",
                None,
                "every Monday, Wednesday and Friday at 09:00 UTC",
            ),
            ("0 9 * * 6-0", None, "every Saturday to Sunday at 09:00 UTC"),
            ("*/15 * * * *", None, "every 15 minutes"),
            ("5 * * * *", None, "every hour at minute 5"),
            ("0 */6 * * *", None, "every 6 hours at minute 0"),
            ("0 3 1 * *", None, "on the 1st of every month at 03:00 UTC"),
            (
                "0 3 22 * *",
                None,
                "on the 22nd of every month at 03:00 UTC",
            ),
            (
                "0 0 25 12 *",
                None,
                "every year on December 25 at 00:00 UTC",
            ),
            ("@daily", None, "every day at 00:00 UTC"),
            ("@hourly", None, "every hour at minute 0"),
            ("@every 90s", None, "every 90s"),
            (
                "CRON_TZ=Asia/Tokyo 0 8 * * *",
                Some("UTC"),
                "every day at 08:00 Asia/Tokyo",
            ),
            ("* * * * *", None, "every minute"),
        ];
        for (schedule, zone, words) in cases {
            assert_eq!(describe(schedule, zone), words, "{schedule}");
        }
    }

    #[test]
    fn unusual_schedules_are_quoted() {
        assert_eq!(
            describe("0 9-17 * * *", None),
            "on the schedule “0 9-17 * * *” (UTC)"
        );
        assert_eq!(
            describe("0 9 1 * 1", None),
            "on the schedule “0 9 1 * 1” (UTC)"
        );
        assert_eq!(
            describe("nonsense", Some("Europe/Paris")),
            "on the schedule “nonsense” (Europe/Paris)"
        );
    }
}
