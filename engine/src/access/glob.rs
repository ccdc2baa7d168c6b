//! The globs of a policy's scopes, compiled once and matched without allocating.
//!
//! `*` matches any run of characters except `/`, `?` one character except `/`, and `**`, which must be
//! a whole path segment, any number of segments: `ci/**` matches `ci`, `ci/backend` and
//! `ci/backend/go`; `**/deploy` matches `deploy` and `a/b/deploy`; `**` alone matches everything,
//! the empty string included. Matching is by segments, each segment by the classic greedy wildcard
//! algorithm, so it takes time linear in the product of the lengths, never exponential.

use std::fmt;

use serde::Serialize;

/// What a glob is matched against, which decides what it may contain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GlobKind {
    /// A namespace or a template name: no `/`, never empty.
    Name,
    /// A folder path such as `ci/backend`: `/`-separated segments; `""` alone means the top level.
    Path,
}

/// Why a pattern is not a glob.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GlobError {
    /// The empty pattern where a name is matched.
    #[error("an empty pattern matches no name")]
    Empty,
    /// Three or more `*` in a row.
    #[error("`***` is not a wildcard: `*` matches within a name, `**` across `/`")]
    TripleStar,
    /// `**` beside other characters in a segment.
    #[error(
        "`**` must be a whole path segment, as in `ci/**` or `**/deploy`; use `*` within a name"
    )]
    StarStarInSegment,
    /// A `/` in a pattern for names.
    #[error("names have no `/`, so this pattern would match nothing")]
    SlashInName,
    /// `//`, or a leading or trailing `/`.
    #[error("a path segment is empty (a leading or trailing `/`, or `//`)")]
    EmptySegment,
    /// A character with a meaning in other glob dialects that this one does not have.
    #[error("`{0}` is not supported: globs have only `*`, `**` and `?`")]
    Unsupported(char),
}

/// A compiled glob that remembers how it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob {
    source: String,
    segments: Box<[Segment]>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    /// `**`: any number of segments, none included.
    Globstar,
    /// One segment, matched token by token.
    Name(Box<[Tok]>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Char(char),
    One,
    Star,
}

impl Glob {
    /// Compiles `pattern` for matching values of `kind`.
    pub fn new(pattern: &str, kind: GlobKind) -> Result<Glob, GlobError> {
        if pattern.is_empty() {
            return match kind {
                GlobKind::Name => Err(GlobError::Empty),
                GlobKind::Path => Ok(Glob {
                    source: String::new(),
                    segments: Box::new([Segment::Name(Box::new([]))]),
                }),
            };
        }
        if kind == GlobKind::Name && pattern.contains('/') {
            return Err(GlobError::SlashInName);
        }
        if let Some(c) = pattern.chars().find(|c| "[]{}\\".contains(*c)) {
            return Err(GlobError::Unsupported(c));
        }
        if pattern.contains("***") {
            return Err(GlobError::TripleStar);
        }
        let mut segments = Vec::new();
        for seg in pattern.split('/') {
            segments.push(compile_segment(seg)?);
        }
        segments.dedup_by(|a, b| *a == Segment::Globstar && *b == Segment::Globstar);
        Ok(Glob {
            source: pattern.to_string(),
            segments: segments.into_boxed_slice(),
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether `value` matches.
    pub fn matches(&self, value: &str) -> bool {
        match_segments(&self.segments, value)
    }
}

impl fmt::Display for Glob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.source.is_empty() {
            f.write_str("\"\"")
        } else {
            f.write_str(&self.source)
        }
    }
}

impl Serialize for Glob {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.source)
    }
}

fn compile_segment(seg: &str) -> Result<Segment, GlobError> {
    if seg.is_empty() {
        return Err(GlobError::EmptySegment);
    }
    if seg == "**" {
        return Ok(Segment::Globstar);
    }
    if seg.contains("**") {
        return Err(GlobError::StarStarInSegment);
    }
    let toks = seg
        .chars()
        .map(|c| match c {
            '*' => Tok::Star,
            '?' => Tok::One,
            c => Tok::Char(c),
        })
        .collect();
    Ok(Segment::Name(toks))
}

/// The first segment of a non-exhausted value and what follows it (`None` once no segment is left).
fn split(rest: &str) -> (&str, Option<&str>) {
    match rest.find('/') {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    }
}

/// Greedy wildcard matching over segments, `**` being the wildcard: on a mismatch, the latest `**`
/// takes one more segment.
fn match_segments(pattern: &[Segment], value: &str) -> bool {
    let mut p = 0;
    let mut rest = Some(value);
    let mut backtrack: Option<(usize, Option<&str>)> = None;
    loop {
        match pattern.get(p) {
            Some(Segment::Globstar) => {
                backtrack = Some((p + 1, rest));
                p += 1;
                continue;
            }
            Some(Segment::Name(toks)) => {
                if let Some(r) = rest {
                    let (seg, next) = split(r);
                    if match_name(toks, seg) {
                        p += 1;
                        rest = next;
                        continue;
                    }
                }
            }
            None if rest.is_none() => return true,
            None => {}
        }
        match backtrack {
            Some((after, Some(r))) => {
                let next = split(r).1;
                backtrack = Some((after, next));
                p = after;
                rest = next;
            }
            _ => return false,
        }
    }
}

/// Greedy wildcard matching of one segment, `*` being the wildcard.
fn match_name(toks: &[Tok], s: &str) -> bool {
    let mut t = 0;
    let mut i = 0;
    let mut backtrack: Option<(usize, usize)> = None;
    loop {
        let step = match toks.get(t) {
            Some(Tok::Star) => {
                backtrack = Some((t + 1, i));
                t += 1;
                continue;
            }
            Some(Tok::One) => s[i..].chars().next(),
            Some(Tok::Char(c)) => s[i..].chars().next().filter(|x| x == c),
            None if i == s.len() => return true,
            None => None,
        };
        if let Some(c) = step {
            t += 1;
            i += c.len_utf8();
            continue;
        }
        match backtrack {
            Some((after, from)) => match s[from..].chars().next() {
                Some(c) => {
                    let next = from + c.len_utf8();
                    backtrack = Some((after, next));
                    t = after;
                    i = next;
                }
                None => return false,
            },
            None => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_what_the_documentation_says() {
        use GlobKind::{Name, Path};
        let cases: &[(&str, GlobKind, &str, bool)] = &[
            ("team-*", Name, "team-a", true),
            ("team-*", Name, "team-", true),
            ("team-*", Name, "teams", false),
            ("team-*", Name, "prod", false),
            ("*", Name, "", true),
            ("*", Name, "anything", true),
            ("**", Name, "", true),
            ("build-?", Name, "build-1", true),
            ("build-?", Name, "build-12", false),
            ("build-?", Name, "build-", false),
            ("*-*-x", Name, "a-b-c-x", true),
            ("*a*a*b", Name, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false),
            ("d?pl*y", Name, "déploy", true),
            ("deploy", Name, "deploy", true),
            ("deploy", Name, "Deploy", false),
            ("deploy", Name, "deploy2", false),
            ("ci/**", Path, "ci", true),
            ("ci/**", Path, "ci/backend", true),
            ("ci/**", Path, "ci/backend/go", true),
            ("ci/**", Path, "cid", false),
            ("ci/**", Path, "ops", false),
            ("ci/**", Path, "", false),
            ("ci/*", Path, "ci/backend", true),
            ("ci/*", Path, "ci/backend/go", false),
            ("ci/*", Path, "ci", false),
            ("*", Path, "ci", true),
            ("*", Path, "ci/backend", false),
            ("*", Path, "", true),
            ("**", Path, "", true),
            ("**", Path, "a/b/c", true),
            ("**/deploy", Path, "deploy", true),
            ("**/deploy", Path, "a/b/deploy", true),
            ("**/deploy", Path, "a/deployer", false),
            ("a/**/z", Path, "a/z", true),
            ("a/**/z", Path, "a/b/c/z", true),
            ("a/**/z", Path, "a/b/c/y", false),
            ("a/**/**/z", Path, "a/b/z", true),
            ("", Path, "", true),
            ("", Path, "ci", false),
            ("ci?backend", Path, "ci/backend", false),
        ];
        for &(pattern, kind, value, expected) in cases {
            let glob = Glob::new(pattern, kind).unwrap();
            assert_eq!(
                glob.matches(value),
                expected,
                "`{pattern}` against {value:?}"
            );
        }
    }

    #[test]
    fn bad_patterns_are_refused() {
        use GlobKind::{Name, Path};
        let cases: &[(&str, GlobKind, GlobError)] = &[
            ("", Name, GlobError::Empty),
            ("***", Name, GlobError::TripleStar),
            ("a***", Path, GlobError::TripleStar),
            ("team-**", Name, GlobError::StarStarInSegment),
            ("ci**", Path, GlobError::StarStarInSegment),
            ("team/a", Name, GlobError::SlashInName),
            ("/ci", Path, GlobError::EmptySegment),
            ("ci/", Path, GlobError::EmptySegment),
            ("ci//x", Path, GlobError::EmptySegment),
            ("team-[ab]", Name, GlobError::Unsupported('[')),
            ("{a,b}", Path, GlobError::Unsupported('{')),
        ];
        for (pattern, kind, expected) in cases {
            assert_eq!(
                Glob::new(pattern, *kind).as_ref().err(),
                Some(expected),
                "`{pattern}`"
            );
        }
    }

    #[test]
    fn globs_display_as_written() {
        assert_eq!(
            Glob::new("ci/**", GlobKind::Path).unwrap().to_string(),
            "ci/**"
        );
        assert_eq!(Glob::new("", GlobKind::Path).unwrap().to_string(), "\"\"");
    }
}
