//! The Markdown of template descriptions (`workflows.argoproj.io/description`), parsed into a
//! small tree that the UI renders as elements, never as HTML: paragraphs, headings, bullet lists,
//! code blocks, and inline code, bold, italics and links. Links go only to `http(s)://`, `/` or
//! `#` addresses; anything else (`javascript:`, `data:`…) stays plain text.

/// A piece of inline text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inline {
    /// Plain text.
    Text(String),
    /// `code`.
    Code(String),
    /// **bold**.
    Strong(String),
    /// *italics*.
    Emphasis(String),
    /// [text](address), with a safe address.
    Link {
        /// What to show.
        text: String,
        /// Where it goes.
        href: String,
    },
}

/// A block of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// A paragraph.
    Paragraph(Vec<Inline>),
    /// A heading of level 1–3.
    Heading(u8, Vec<Inline>),
    /// A bullet list.
    List(Vec<Vec<Inline>>),
    /// A fenced code block.
    Code(String),
}

/// Whether a link address may be followed.
pub fn safe_href(href: &str) -> bool {
    let h = href.trim().to_ascii_lowercase();
    h.starts_with("https://")
        || h.starts_with("http://")
        || h.starts_with('/')
        || h.starts_with('#')
}

/// Parses `text` into blocks.
pub fn parse(text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut para: Vec<&str> = Vec::new();
    let mut list: Vec<Vec<Inline>> = Vec::new();
    let mut code: Option<Vec<&str>> = None;
    let flush = |para: &mut Vec<&str>, list: &mut Vec<Vec<Inline>>, blocks: &mut Vec<Block>| {
        if !para.is_empty() {
            blocks.push(Block::Paragraph(inline(&para.join(" "))));
            para.clear();
        }
        if !list.is_empty() {
            blocks.push(Block::List(std::mem::take(list)));
        }
    };
    for line in text.lines() {
        let t = line.trim();
        if let Some(c) = code.as_mut() {
            if t.starts_with("```") {
                blocks.push(Block::Code(c.join("\n")));
                code = None;
            } else {
                c.push(line);
            }
            continue;
        }
        if t.starts_with("```") {
            flush(&mut para, &mut list, &mut blocks);
            code = Some(Vec::new());
        } else if t.is_empty() {
            flush(&mut para, &mut list, &mut blocks);
        } else if let Some(item) = t.strip_prefix("- ").or_else(|| t.strip_prefix("* ")) {
            if !para.is_empty() {
                flush(&mut para, &mut list, &mut blocks);
            }
            list.push(inline(item));
        } else if let Some((level, rest)) = heading(t) {
            flush(&mut para, &mut list, &mut blocks);
            blocks.push(Block::Heading(level, inline(rest)));
        } else {
            if !list.is_empty() {
                flush(&mut para, &mut list, &mut blocks);
            }
            para.push(t);
        }
    }
    if let Some(c) = code {
        blocks.push(Block::Code(c.join("\n")));
    }
    flush(&mut para, &mut list, &mut blocks);
    blocks
}

fn heading(t: &str) -> Option<(u8, &str)> {
    let level = t.chars().take_while(|c| *c == '#').count();
    let rest = t[level..].strip_prefix(' ')?;
    (1..=6).contains(&level).then(|| (level.min(3) as u8, rest))
}

/// Parses inline markup.
pub fn inline(text: &str) -> Vec<Inline> {
    let mut out = Vec::new();
    let mut plain = String::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let piece = match c {
            '`' => delimited(rest, "`", "`").map(|(s, n)| (Inline::Code(s.into()), n)),
            '*' if rest.starts_with("**") => {
                delimited(rest, "**", "**").map(|(s, n)| (Inline::Strong(s.into()), n))
            }
            '*' | '_' => {
                let d = &rest[..1];
                delimited(rest, d, d).map(|(s, n)| (Inline::Emphasis(s.into()), n))
            }
            '[' => link(rest),
            _ => None,
        };
        match piece {
            Some((node, used)) => {
                if !plain.is_empty() {
                    out.push(Inline::Text(std::mem::take(&mut plain)));
                }
                out.push(node);
                rest = &rest[used..];
            }
            None => {
                plain.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    if !plain.is_empty() {
        out.push(Inline::Text(plain));
    }
    out
}

/// The text between `open` and `close` at the start of `s`, and the bytes used.
fn delimited<'a>(s: &'a str, open: &str, close: &str) -> Option<(&'a str, usize)> {
    let body = s.strip_prefix(open)?;
    let end = body.find(close)?;
    (end > 0).then(|| (&body[..end], open.len() + end + close.len()))
}

/// `[text](href)` at the start of `s`: a link when the address is safe, else its text.
fn link(s: &str) -> Option<(Inline, usize)> {
    let close = s.find("](")?;
    let text = &s[1..close];
    let after = &s[close + 2..];
    let end = after.find(')')?;
    let href = &after[..end];
    let used = close + 2 + end + 1;
    let node = if safe_href(href) {
        Inline::Link {
            text: text.to_string(),
            href: href.trim().to_string(),
        }
    } else {
        Inline::Text(text.to_string())
    };
    Some((node, used))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Inline {
        Inline::Text(s.into())
    }

    #[test]
    fn blocks_paragraphs_lists_headings_and_code() {
        let doc =
            parse("# Build\n\nCompiles the\nbackend.\n\n- one\n- two `x`\n\n```\nmake all\n```");
        assert_eq!(
            doc,
            [
                Block::Heading(1, vec![text("Build")]),
                Block::Paragraph(vec![text("Compiles the backend.")]),
                Block::List(vec![
                    vec![text("one")],
                    vec![text("two "), Inline::Code("x".into())]
                ]),
                Block::Code("make all".into()),
            ]
        );
    }

    #[test]
    fn inline_markup_and_safe_links() {
        assert_eq!(
            inline("**bold** and *it* see [docs](https://example.com/a)"),
            [
                Inline::Strong("bold".into()),
                text(" and "),
                Inline::Emphasis("it".into()),
                text(" see "),
                Inline::Link {
                    text: "docs".into(),
                    href: "https://example.com/a".into()
                },
            ]
        );
        assert_eq!(inline("[x](javascript:alert(1))"), [text("x"), text(")")]);
        assert_eq!(inline("[x]( JavaScript:alert(1))")[0], text("x"));
        assert_eq!(
            inline("<script>alert(1)</script>"),
            [text("<script>alert(1)</script>")]
        );
        assert_eq!(inline("a * b"), [text("a * b")]);
        assert!(!safe_href("data:text/html,x") && safe_href("/runs") && safe_href("HTTPS://x"));
    }
}
