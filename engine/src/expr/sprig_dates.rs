//! sprig's date functions (`date`, `dateInZone`, `htmlDate`, `htmlDateInZone`, `unixEpoch`,
//! `dateModify`) with Go's reference-time layouts (`2006-01-02 15:04:05`).
//!
//! Times are values Argo's expressions hold: RFC 3339 strings, `workflow.creationTimestamp`
//! (a map of its forms in expressions), or Unix times in seconds. (Go's sprig formats the current time
//! when given a string; the engine has no clock, and the string is what the user meant.)

use chrono::{DateTime, Datelike as _, FixedOffset, TimeZone as _, Timelike as _, Utc};

use super::args::{arity, go_string};
use super::ctx::Ctx;
use super::error::Fail;
use super::format::sprint;
use super::sprig::Func;
use super::value::Value;

/// The date function `name`, if it is one.
pub(crate) fn lookup(name: &str) -> Option<Func> {
    Some(match name {
        "date" => |n, a, _| {
            arity(n, a, 2, 2)?;
            Ok(Value::str(format_in(n, go_string(n, a, 0)?, &a[1], "UTC")?))
        },
        "dateInZone" => |n, a, _| {
            arity(n, a, 3, 3)?;
            let zone = go_string(n, a, 2)?;
            Ok(Value::str(format_in(n, go_string(n, a, 0)?, &a[1], zone)?))
        },
        "htmlDate" => |n, a, _| {
            arity(n, a, 1, 1)?;
            Ok(Value::str(format_in(n, "2006-01-02", &a[0], "UTC")?))
        },
        "htmlDateInZone" => |n, a, _| {
            arity(n, a, 2, 2)?;
            let zone = go_string(n, a, 1)?;
            Ok(Value::str(format_in(n, "2006-01-02", &a[0], zone)?))
        },
        "unixEpoch" => |n, a, _| {
            arity(n, a, 1, 1)?;
            Ok(Value::str(time_of(n, &a[0])?.timestamp().to_string()))
        },
        "dateModify" => date_modify,
        _ => return None,
    })
}

/// `dateModify(modifier, t)`: `t` moved by a Go duration (`-1.5h`, `30m`), as RFC 3339.
fn date_modify(name: &str, args: &[Value], _: &mut Ctx) -> Result<Value, Fail> {
    arity(name, args, 2, 2)?;
    let modifier = go_string(name, args, 0)?;
    let nanos =
        crate::values::parse_go_duration(modifier.trim()).map_err(|e| format!("{name}: {e}"))?;
    let nanos = i64::try_from(nanos).map_err(|_| format!("{name}: {modifier:?} is too long"))?;
    let moved = time_of(name, &args[1])?
        .checked_add_signed(chrono::Duration::nanoseconds(nanos))
        .ok_or_else(|| format!("{name}: the result is out of range"))?;
    Ok(Value::str(
        moved.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
    ))
}

/// The time a value stands for: an RFC 3339 string or a Unix time in seconds.
fn time_of(name: &str, v: &Value) -> Result<DateTime<Utc>, Fail> {
    let t = match v {
        Value::Int(secs) => Utc.timestamp_opt(*secs, 0).single(),
        Value::Float(secs) if secs.is_finite() => {
            let whole = secs.floor();
            let nanos = ((secs - whole) * 1e9) as u32;
            if whole.abs() < 1e15 {
                Utc.timestamp_opt(whole as i64, nanos).single()
            } else {
                None
            }
        }
        Value::Str(s) => DateTime::parse_from_rfc3339(s.trim())
            .ok()
            .map(|t| t.with_timezone(&Utc)),
        // `workflow.creationTimestamp` in an expression: its `.RFC3339` and `.s` forms make it
        // a map.
        Value::Map(m) => match m.get("RFC3339") {
            Some(inner @ Value::Str(_)) => return time_of(name, inner),
            _ => None,
        },
        _ => None,
    };
    t.ok_or_else(|| {
        Fail::from(format!(
            "{name}: cannot read {} as a time; give an RFC 3339 time such as \
             workflow.creationTimestamp, or a Unix time in seconds",
            sprint(v)
        ))
    })
}

/// Formats the time `v` with a Go `layout` in the IANA `zone` (`UTC`, `Local` = UTC).
fn format_in(name: &str, layout: &str, v: &Value, zone: &str) -> Result<String, Fail> {
    let t = time_of(name, v)?;
    let (fixed, abbreviation) = match zone {
        "" | "UTC" | "Local" => (t.fixed_offset(), "UTC".to_owned()),
        other => {
            let tz: chrono_tz::Tz = other.parse().map_err(|_| {
                format!(
                    "{name}: unknown time zone {other:?}; use an IANA name such as Europe/Paris"
                )
            })?;
            let local = t.with_timezone(&tz);
            (local.fixed_offset(), local.format("%Z").to_string())
        }
    };
    Ok(go_format(&fixed, &abbreviation, layout))
}

/// Month names, January first.
pub(crate) const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// Go's `Time.Format`: every element of the reference time `Mon Jan 2 15:04:05 MST 2006` in
/// `layout` is replaced by that element of `t`; anything else is copied.
pub(crate) fn go_format(t: &DateTime<FixedOffset>, zone: &str, layout: &str) -> String {
    let mut out = String::with_capacity(layout.len() + 8);
    let mut rest = layout;
    while let Some(c) = rest.chars().next() {
        if let Some((text, used)) = element(t, zone, rest) {
            out.push_str(&text);
            rest = &rest[used..];
        } else {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

/// Formats one element from the time, its 12-hour clock hour, month index and weekday index.
type Element = fn(&DateTime<FixedOffset>, u32, usize, usize) -> String;

/// The element of the reference time `rest` starts with, formatted, and its length in `rest`.
fn element(t: &DateTime<FixedOffset>, zone: &str, rest: &str) -> Option<(String, usize)> {
    let hour12 = match t.hour() % 12 {
        0 => 12,
        h => h,
    };
    let month = t.month0() as usize;
    let weekday = t.weekday().num_days_from_monday() as usize;
    let simple: &[(&str, Element)] = &[
        ("January", |_, _, m, _| MONTHS[m].to_owned()),
        ("Jan", |_, _, m, _| MONTHS[m][..3].to_owned()),
        ("Monday", |_, _, _, w| WEEKDAYS[w].to_owned()),
        ("Mon", |_, _, _, w| WEEKDAYS[w][..3].to_owned()),
        ("2006", |t, _, _, _| format!("{:04}", t.year())),
        ("002", |t, _, _, _| format!("{:03}", t.ordinal())),
        ("__2", |t, _, _, _| format!("{:>3}", t.ordinal())),
        ("_2", |t, _, _, _| format!("{:>2}", t.day())),
        ("01", |t, _, _, _| format!("{:02}", t.month())),
        ("02", |t, _, _, _| format!("{:02}", t.day())),
        ("03", |_, h, _, _| format!("{h:02}")),
        ("04", |t, _, _, _| format!("{:02}", t.minute())),
        ("05", |t, _, _, _| format!("{:02}", t.second())),
        ("06", |t, _, _, _| {
            format!("{:02}", t.year().rem_euclid(100))
        }),
        ("15", |t, _, _, _| format!("{:02}", t.hour())),
        ("1", |t, _, _, _| t.month().to_string()),
        ("2", |t, _, _, _| t.day().to_string()),
        ("3", |_, h, _, _| h.to_string()),
        ("4", |t, _, _, _| t.minute().to_string()),
        ("5", |t, _, _, _| t.second().to_string()),
        ("PM", |t, _, _, _| {
            if t.hour() < 12 { "AM" } else { "PM" }.to_owned()
        }),
        ("pm", |t, _, _, _| {
            if t.hour() < 12 { "am" } else { "pm" }.to_owned()
        }),
    ];
    if let Some(zoned) = zone_element(t, zone, rest) {
        return Some(zoned);
    }
    if let Some(fraction) = fraction_element(t, rest) {
        return Some(fraction);
    }
    simple
        .iter()
        .find(|(token, _)| rest.starts_with(token))
        .map(|(token, f)| (f(t, hour12, month, weekday), token.len()))
}

/// `MST` and the numeric zone elements (`-07:00`, `Z0700`, …).
fn zone_element(t: &DateTime<FixedOffset>, zone: &str, rest: &str) -> Option<(String, usize)> {
    if rest.starts_with("MST") {
        return Some((zone.to_owned(), 3));
    }
    const NUMERIC: [&str; 10] = [
        "Z07:00:00",
        "-07:00:00",
        "Z070000",
        "-070000",
        "Z07:00",
        "-07:00",
        "Z0700",
        "-0700",
        "Z07",
        "-07",
    ];
    let token = NUMERIC.iter().find(|token| rest.starts_with(**token))?;
    let offset = t.offset().local_minus_utc();
    if offset == 0 && token.starts_with('Z') {
        return Some(("Z".to_owned(), token.len()));
    }
    let sign = if offset < 0 { '-' } else { '+' };
    let (h, m, s) = (
        offset.abs() / 3600,
        offset.abs() / 60 % 60,
        offset.abs() % 60,
    );
    let colon = token.contains(':');
    let sep = if colon { ":" } else { "" };
    let text = match token.len() - usize::from(colon) * token.matches(':').count() {
        7 => format!("{sign}{h:02}{sep}{m:02}{sep}{s:02}"),
        5 => format!("{sign}{h:02}{sep}{m:02}"),
        _ => format!("{sign}{h:02}"),
    };
    Some((text, token.len()))
}

/// `.000` (fixed digits) and `.999` (trailing zeros dropped) fractional seconds, also after `,`.
fn fraction_element(t: &DateTime<FixedOffset>, rest: &str) -> Option<(String, usize)> {
    let mut chars = rest.chars();
    let separator = chars.next().filter(|c| *c == '.' || *c == ',')?;
    let digit = chars.next().filter(|c| *c == '0' || *c == '9')?;
    let count = 1 + rest[2..].chars().take_while(|c| *c == digit).count();
    if rest[1 + count..].starts_with(|c: char| c.is_ascii_digit()) || count > 9 {
        return None;
    }
    let nanos = format!("{:09}", t.nanosecond() % 1_000_000_000);
    let digits = &nanos[..count];
    let text = if digit == '0' {
        format!("{separator}{digits}")
    } else {
        let trimmed = digits.trim_end_matches('0');
        if trimmed.is_empty() {
            String::new()
        } else {
            format!("{separator}{trimmed}")
        }
    };
    Some((text, 1 + count))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(rfc3339: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(rfc3339).unwrap()
    }

    #[test]
    fn go_layouts() {
        let t = at("2026-03-05T14:07:09.120+01:00");
        for (layout, expected) in [
            ("2006", "2026"),
            ("2006-01-02", "2026-03-05"),
            (
                "Mon Jan _2 15:04:05 MST 2006",
                "Thu Mar  5 14:07:09 CET 2026",
            ),
            ("Monday, January 2", "Thursday, March 5"),
            ("3:04PM", "2:07PM"),
            ("03:04:05 pm", "02:07:09 pm"),
            ("06/1/2", "26/3/5"),
            ("15:04:05.000", "14:07:09.120"),
            ("15:04:05.999", "14:07:09.12"),
            ("05,00", "09,12"),
            ("-07:00", "+01:00"),
            ("Z0700", "+0100"),
            ("002", "064"),
            ("year: 2006!", "year: 2026!"),
            ("été 2006", "été 2026"),
        ] {
            assert_eq!(go_format(&t, "CET", layout), expected, "{layout}");
        }
        let utc = at("2026-12-31T00:00:00Z");
        assert_eq!(go_format(&utc, "UTC", "Z07:00 -07 3PM"), "Z +00 12AM");
        assert_eq!(go_format(&utc, "UTC", "2006.9"), "2026");
    }

    fn call(name: &str, args: Vec<Value>) -> Result<Value, Fail> {
        lookup(name).expect(name)(&format!("sprig.{name}"), &args, &mut Ctx::default())
    }

    #[test]
    fn date_functions() {
        let created = Value::str("2026-11-22T09:30:00Z");
        let date = call("date", vec![Value::str("2006"), created.clone()]).unwrap();
        assert_eq!(date, Value::str("2026"));
        let zoned = call(
            "dateInZone",
            vec![
                Value::str("15:04 MST"),
                created.clone(),
                Value::str("Asia/Tokyo"),
            ],
        )
        .unwrap();
        assert_eq!(zoned, Value::str("18:30 JST"));
        assert_eq!(
            call("htmlDate", vec![Value::Int(0)]).unwrap(),
            Value::str("1970-01-01")
        );
        assert_eq!(
            call("unixEpoch", vec![created.clone()]).unwrap(),
            Value::str("1795339800")
        );
        assert_eq!(
            call("dateModify", vec![Value::str("-1h30m"), created.clone()]).unwrap(),
            Value::str("2026-11-22T08:00:00Z")
        );
        let bad = call("date", vec![Value::str("2006"), Value::str("yesterday")]).unwrap_err();
        assert!(
            format!("{bad:?}").contains("cannot read yesterday as a time"),
            "{bad:?}"
        );
        let zone = call(
            "dateInZone",
            vec![Value::str("2006"), created, Value::str("Mars/Base")],
        )
        .unwrap_err();
        assert!(
            format!("{zone:?}").contains("unknown time zone"),
            "{zone:?}"
        );
    }
}
