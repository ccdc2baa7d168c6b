//! ANSI colours in log lines, rendered safely: a line becomes styled text spans (never HTML), SGR
//! colour and bold codes map to classes, every other escape sequence is dropped.

/// A run of text in one style.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    /// The text, without escape sequences.
    pub text: String,
    /// The foreground colour, 0–15 (8–15 are the bright ones).
    pub fg: Option<u8>,
    /// Whether it is bold.
    pub bold: bool,
}

/// The Tailwind text class of an ANSI colour (the classes must be written out for the stylesheet).
pub fn colour_class(fg: u8) -> &'static str {
    const CLASSES: [&str; 16] = [
        "text-slate-500",
        "text-red-400",
        "text-green-400",
        "text-yellow-300",
        "text-blue-400",
        "text-fuchsia-400",
        "text-cyan-300",
        "text-slate-200",
        "text-slate-400",
        "text-red-300",
        "text-green-300",
        "text-yellow-200",
        "text-blue-300",
        "text-fuchsia-300",
        "text-cyan-200",
        "text-white",
    ];
    CLASSES[usize::from(fg % 16)]
}

#[derive(Clone, Copy, Default)]
struct Style {
    fg: Option<u8>,
    bold: bool,
}

impl Style {
    fn apply(&mut self, params: &str) {
        let codes: Vec<u32> = if params.is_empty() {
            vec![0]
        } else {
            params
                .split(';')
                .map(|p| p.parse().unwrap_or(u32::MAX))
                .collect()
        };
        let mut i = 0;
        while i < codes.len() {
            match codes[i] {
                0 => *self = Style::default(),
                1 => self.bold = true,
                22 => self.bold = false,
                c @ 30..=37 => self.fg = Some((c - 30) as u8),
                c @ 90..=97 => self.fg = Some((c - 90 + 8) as u8),
                39 => self.fg = None,
                // 256-colour and RGB forms: skip their arguments.
                38 | 48 => i += if codes.get(i + 1) == Some(&5) { 2 } else { 4 },
                _ => {}
            }
            i += 1;
        }
    }
}

/// The spans of one log line.
pub fn spans(line: &str) -> Vec<Span> {
    let mut out: Vec<Span> = Vec::new();
    let mut style = Style::default();
    let mut text = String::new();
    let mut chars = line.chars().peekable();
    let flush = |text: &mut String, style: Style, out: &mut Vec<Span>| {
        if !text.is_empty() {
            out.push(Span {
                text: std::mem::take(text),
                fg: style.fg,
                bold: style.bold,
            });
        }
    };
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            if !c.is_control() || c == '\t' {
                text.push(c);
            }
            continue;
        }
        if chars.peek() != Some(&'[') {
            chars.next();
            continue;
        }
        chars.next();
        let mut params = String::new();
        let mut end = None;
        for p in chars.by_ref() {
            if ('@'..='~').contains(&p) {
                end = Some(p);
                break;
            }
            params.push(p);
        }
        if end == Some('m') {
            flush(&mut text, style, &mut out);
            style.apply(&params);
        }
    }
    flush(&mut text, style, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(text: &str, fg: Option<u8>, bold: bool) -> Span {
        Span {
            text: text.into(),
            fg,
            bold,
        }
    }

    #[test]
    fn colours_and_bold_become_spans() {
        assert_eq!(
            spans("\u{1b}[1;31merror\u{1b}[0m: disk \u{1b}[92mok"),
            [
                span("error", Some(1), true),
                span(": disk ", None, false),
                span("ok", Some(10), false)
            ]
        );
        assert_eq!(spans("plain"), [span("plain", None, false)]);
        assert!(spans("").is_empty());
    }

    #[test]
    fn other_escapes_and_control_characters_are_dropped() {
        assert_eq!(
            spans("a\u{1b}[2Kb\u{1b}]c\u{7}d\r"),
            [span("abcd", None, false)]
        );
        assert_eq!(
            spans("x\u{1b}[38;5;196my\u{1b}[38;2;1;2;3mz"),
            [
                span("x", None, false),
                span("y", None, false),
                span("z", None, false)
            ]
        );
        assert_eq!(colour_class(1), "text-red-400");
    }

    #[test]
    fn markup_stays_text() {
        let s = spans("<script>alert(1)</script>");
        assert_eq!(s[0].text, "<script>alert(1)</script>");
    }
}
