//! Lines of coloured text: cut to a terminal's width, then painted with ANSI escapes.

/// The colours the renderer uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Color {
    Green,
    Red,
    Yellow,
    Blue,
    Grey,
}

impl Color {
    /// The ANSI SGR code.
    fn code(self) -> &'static str {
        match self {
            Color::Green => "32",
            Color::Red => "31",
            Color::Yellow => "33",
            Color::Blue => "34",
            Color::Grey => "90",
        }
    }
}

/// A run of text in one colour (or none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Span {
    text: String,
    color: Option<Color>,
}

/// One output line.
pub(super) type Line = Vec<Span>;

/// Uncoloured text.
pub(super) fn plain(text: impl Into<String>) -> Span {
    Span {
        text: text.into(),
        color: None,
    }
}

/// Text in a colour.
pub(super) fn colored(text: impl Into<String>, color: Color) -> Span {
    Span {
        text: text.into(),
        color: Some(color),
    }
}

/// How many characters a line takes on screen.
pub(super) fn width_of(line: &[Span]) -> usize {
    line.iter().map(|s| s.text.chars().count()).sum()
}

/// Drops the spaces at the end of a line.
pub(super) fn trim_end(mut line: Line) -> Line {
    while let Some(last) = line.last_mut() {
        let kept = last.text.trim_end().len();
        last.text.truncate(kept);
        if !last.text.is_empty() {
            break;
        }
        line.pop();
    }
    line
}

/// Cuts a line to `width` characters, the last of them `…`, when it is wider.
pub(super) fn fit(line: Line, width: Option<usize>) -> Line {
    let Some(width) = width else { return line };
    if width_of(&line) <= width {
        return line;
    }
    let mut budget = width.saturating_sub(1);
    let mut out = Vec::new();
    for span in line {
        let n = span.text.chars().count();
        if budget == 0 {
            break;
        } else if n <= budget {
            budget -= n;
            out.push(span);
        } else {
            let text: String = span.text.chars().take(budget).collect();
            out.push(Span { text, ..span });
            budget = 0;
        }
    }
    if width > 0 {
        out.push(plain("…"));
    }
    out
}

/// Joins a line's spans, with ANSI colours when asked.
pub(super) fn paint(line: Line, color: bool) -> String {
    line.into_iter()
        .map(|span| match span.color {
            Some(c) if color => format!("\x1b[{}m{}\x1b[0m", c.code(), span.text),
            _ => span.text,
        })
        .collect()
}
