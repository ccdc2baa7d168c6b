//! Builds [`Node`] trees from the YAML event stream.

use std::collections::HashMap;

use libyaml_safer::{EventData, Mark, Parser, ScalarStyle as EventStyle};

use super::{Node, NodeKind, Pos, ScalarStyle, Span, key_text};

/// Documents nested deeper than this are refused (they would only serve to exhaust the stack).
const MAX_DEPTH: usize = 200;
/// Alias expansion may not grow a stream beyond this many nodes ("billion laughs").
const MAX_NODES: usize = 2_000_000;

/// A YAML syntax error, with the position where the parser gave up.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct YamlError {
    /// What is wrong, in the parser's words.
    pub message: String,
    /// Where.
    pub span: Span,
}

fn pos(m: Mark) -> Pos {
    Pos {
        line: u32::try_from(m.line + 1).unwrap_or(u32::MAX),
        column: u32::try_from(m.column + 1).unwrap_or(u32::MAX),
    }
}

enum Frame {
    Seq {
        items: Vec<Node>,
        start: Pos,
        anchor: Option<String>,
    },
    Map {
        entries: Vec<(Node, Node)>,
        merged: Vec<(Node, Node)>,
        key: Option<Node>,
        start: Pos,
        anchor: Option<String>,
    },
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    anchors: HashMap<String, (Node, usize)>,
    documents: Vec<Node>,
    root: Option<Node>,
    nodes: usize,
    duplicates: Vec<YamlError>,
}

/// Parses a stream of YAML documents (separated by `---`) into trees; see [`parse_stream_checked`].
pub fn parse_stream(src: &str) -> Result<Vec<Node>, YamlError> {
    parse_stream_checked(src).map(|(documents, _)| documents)
}

/// Parses a stream of YAML documents (separated by `---`) into trees, and also returns the duplicate
/// keys it met (the later value wins, as in Kubernetes; they are worth a warning).
///
/// The parser is a port of libyaml, the parser Kubernetes' and Argo's YAML libraries descend from, so
/// it accepts what they accept. Empty documents are returned as a null scalar so that document indexes
/// match the source.
pub fn parse_stream_checked(src: &str) -> Result<(Vec<Node>, Vec<YamlError>), YamlError> {
    // The parser panics on a block scalar (`|`, `>`) that ends the input without a line break; a
    // final line break changes no position, so make sure there is one.
    let terminated;
    let src = if src.ends_with('\n') {
        src
    } else {
        terminated = format!("{src}\n");
        &terminated
    };
    let mut builder = Builder::default();
    let mut input = src.as_bytes();
    let mut parser = Parser::new();
    parser.set_input_string(&mut input);
    let mut reached = Pos { line: 1, column: 1 };
    loop {
        let Some(parsed) = super::guard::contain(|| parser.parse()) else {
            return Err(YamlError {
                message: "the YAML parser could not read what follows this point".into(),
                span: Span {
                    start: reached,
                    end: reached,
                },
            });
        };
        let event = parsed.map_err(|e| {
            let at = e.problem_mark().or(e.context_mark()).unwrap_or_default();
            let message = match e.context() {
                Some(context) => format!("{}, {}", e.problem(), context),
                None => e.problem().to_string(),
            };
            YamlError {
                message,
                span: Span {
                    start: pos(at),
                    end: pos(at),
                },
            }
        })?;
        reached = pos(event.end_mark);
        let span = Span {
            start: pos(event.start_mark),
            end: pos(event.end_mark),
        };
        if matches!(event.data, EventData::StreamEnd) {
            break;
        }
        builder.event(event.data, span)?;
    }
    Ok((builder.documents, builder.duplicates))
}

impl Builder {
    fn event(&mut self, event: EventData, span: Span) -> Result<(), YamlError> {
        match event {
            EventData::Scalar {
                anchor,
                tag,
                value,
                style,
                ..
            } => {
                let quoted = !matches!(style, EventStyle::Plain | EventStyle::Any)
                    || tag.as_deref() == Some("tag:yaml.org,2002:str");
                let style = if quoted {
                    ScalarStyle::Quoted
                } else {
                    ScalarStyle::Plain
                };
                let node = Node {
                    kind: NodeKind::Scalar(value, style),
                    span,
                };
                self.complete(node, anchor, 1, span)
            }
            EventData::SequenceStart { anchor, .. } => self.open(
                Frame::Seq {
                    items: Vec::new(),
                    start: span.start,
                    anchor,
                },
                span,
            ),
            EventData::MappingStart { anchor, .. } => self.open(
                Frame::Map {
                    entries: Vec::new(),
                    merged: Vec::new(),
                    key: None,
                    start: span.start,
                    anchor,
                },
                span,
            ),
            EventData::SequenceEnd | EventData::MappingEnd => self.close(span),
            EventData::Alias { anchor } => {
                let (node, size) = self
                    .anchors
                    .get(&anchor)
                    .cloned()
                    .ok_or_else(|| YamlError {
                        message: format!(
                            "alias `*{anchor}` refers to an anchor that is not defined before it"
                        ),
                        span,
                    })?;
                let node = Node { span, ..node };
                self.complete(node, None, size, span)
            }
            EventData::DocumentStart { .. } => {
                self.root = None;
                Ok(())
            }
            EventData::DocumentEnd { .. } => {
                let root = self.root.take().unwrap_or(Node {
                    kind: NodeKind::Scalar(String::new(), ScalarStyle::Plain),
                    span,
                });
                self.documents.push(root);
                Ok(())
            }
            EventData::StreamEnd | EventData::StreamStart { .. } => Ok(()),
        }
    }
}

impl Builder {
    fn open(&mut self, frame: Frame, span: Span) -> Result<(), YamlError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(YamlError {
                message: format!("nesting deeper than {MAX_DEPTH} levels"),
                span,
            });
        }
        self.stack.push(frame);
        Ok(())
    }

    fn close(&mut self, span: Span) -> Result<(), YamlError> {
        let Some(frame) = self.stack.pop() else {
            return Ok(());
        };
        let (kind, start, anchor) = match frame {
            Frame::Seq {
                items,
                start,
                anchor,
            } => (NodeKind::Seq(items), start, anchor),
            Frame::Map {
                mut entries,
                merged,
                start,
                anchor,
                ..
            } => {
                for (k, v) in merged {
                    let text = key_text(&k);
                    if !entries.iter().any(|(e, _)| key_text(e) == text) {
                        entries.push((k, v));
                    }
                }
                (NodeKind::Map(entries), start, anchor)
            }
        };
        let node = Node {
            kind,
            span: Span {
                start,
                end: span.end,
            },
        };
        // Children were already counted when they completed.
        self.complete(node, anchor, 1, span)
    }

    /// Attaches a finished node to its parent (or makes it the document root).
    fn complete(
        &mut self,
        node: Node,
        anchor: Option<String>,
        size: usize,
        span: Span,
    ) -> Result<(), YamlError> {
        self.nodes = self.nodes.saturating_add(size);
        if self.nodes > MAX_NODES {
            return Err(YamlError {
                message: format!("the document expands to more than {MAX_NODES} nodes (aliases?)"),
                span,
            });
        }
        if let Some(anchor) = anchor {
            let count = node_count(&node);
            self.anchors.insert(anchor, (node.clone(), count));
        }
        match self.stack.last_mut() {
            None => {
                self.root = Some(node);
                Ok(())
            }
            Some(Frame::Seq { items, .. }) => {
                items.push(node);
                Ok(())
            }
            Some(Frame::Map {
                entries,
                merged,
                key,
                ..
            }) => match key.take() {
                None => {
                    *key = Some(node);
                    Ok(())
                }
                Some(k) => add_entry(entries, merged, k, node, &mut self.duplicates),
            },
        }
    }
}

fn add_entry(
    entries: &mut Vec<(Node, Node)>,
    merged: &mut Vec<(Node, Node)>,
    key: Node,
    value: Node,
    duplicates: &mut Vec<YamlError>,
) -> Result<(), YamlError> {
    if matches!(&key.kind, NodeKind::Scalar(s, ScalarStyle::Plain) if s == "<<") {
        return merge_into(merged, value);
    }
    if !matches!(key.kind, NodeKind::Scalar(..)) {
        return Err(YamlError {
            message: "a mapping key must be a scalar (a name), not a list or a mapping".into(),
            span: key.span,
        });
    }
    let text = key_text(&key);
    if let Some(i) = entries.iter().position(|(e, _)| key_text(e) == text) {
        duplicates.push(YamlError {
            message: format!(
                "duplicate key `{text}`: it is already defined at line {}; the later value wins",
                entries[i].0.span.start.line
            ),
            span: key.span,
        });
        entries.remove(i);
    }
    entries.push((key, value));
    Ok(())
}

/// Applies a `<<` merge key: the value is a mapping or a list of mappings whose entries fill in keys the
/// mapping does not set itself (earlier sources win).
fn merge_into(merged: &mut Vec<(Node, Node)>, value: Node) -> Result<(), YamlError> {
    let sources = match value.kind {
        NodeKind::Map(entries) => vec![entries],
        NodeKind::Seq(items) => items
            .into_iter()
            .map(|item| match item.kind {
                NodeKind::Map(entries) => Ok(entries),
                _ => Err(YamlError {
                    message: "`<<` merges mappings only".into(),
                    span: item.span,
                }),
            })
            .collect::<Result<_, _>>()?,
        _ => {
            return Err(YamlError {
                message: "`<<` merges mappings only".into(),
                span: value.span,
            });
        }
    };
    for (k, v) in sources.into_iter().flatten() {
        let text = key_text(&k);
        if !merged.iter().any(|(e, _)| key_text(e) == text) {
            merged.push((k, v));
        }
    }
    Ok(())
}

fn node_count(node: &Node) -> usize {
    match &node.kind {
        NodeKind::Scalar(..) => 1,
        NodeKind::Seq(items) => 1 + items.iter().map(node_count).sum::<usize>(),
        NodeKind::Map(entries) => {
            1 + entries
                .iter()
                .map(|(k, v)| node_count(k) + node_count(v))
                .sum::<usize>()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(src: &str) -> Node {
        let mut docs = parse_stream(src).expect("valid yaml");
        assert_eq!(docs.len(), 1);
        docs.remove(0)
    }

    #[test]
    fn spans_point_at_keys_and_values() {
        let doc = one("a:\n  bb: 1\n  cc: [x, 'y']\n");
        let (k, v) = doc.get("a").unwrap().entry("cc").unwrap();
        assert_eq!(k.span.start, Pos { line: 3, column: 3 });
        assert_eq!(v.span.start, Pos { line: 3, column: 7 });
        let NodeKind::Seq(items) = &v.kind else {
            panic!("seq")
        };
        assert_eq!(
            items[1].kind,
            NodeKind::Scalar("y".into(), ScalarStyle::Quoted)
        );
    }

    #[test]
    fn several_documents_and_empty_ones() {
        let docs = parse_stream("a: 1\n---\n---\nb: 2\n").unwrap();
        assert_eq!(docs.len(), 3);
        assert!(docs[1].is_null());
        assert!(docs[2].get("b").is_some());
    }

    #[test]
    fn aliases_and_merge_keys() {
        let doc = one("base: &b {x: 1, y: 2}\nuse: {<<: *b, y: 3}\nalias: *b\n");
        let used = doc.get("use").unwrap();
        assert_eq!(used.get("x").and_then(Node::as_str), Some("1"));
        assert_eq!(used.get("y").and_then(Node::as_str), Some("3"));
        assert_eq!(
            doc.get("alias").unwrap().get("y").and_then(Node::as_str),
            Some("2")
        );
    }

    #[test]
    fn duplicate_keys_are_reported_and_the_later_wins() {
        let (docs, dups) = parse_stream_checked("a: 1\nb: 2\na: 3\n").unwrap();
        assert_eq!(docs[0].get("a").and_then(Node::as_str), Some("3"));
        assert!(
            dups[0].message.contains("duplicate key `a`"),
            "{}",
            dups[0].message
        );
        assert!(dups[0].message.contains("line 1"));
        assert_eq!(dups[0].span.start.line, 3);
    }

    #[test]
    fn block_scalars_at_the_end_of_input_need_no_final_line_break() {
        for src in ["a: |\n  x", "a: >\n  x", "- |\n  x\n  y", "|\n \u{fffd}"] {
            assert!(parse_stream(src).is_ok(), "{src:?}");
        }
        let docs = parse_stream("a: |\n  x").unwrap();
        assert_eq!(docs[0].get("a").and_then(Node::as_str), Some("x\n"));
    }

    #[test]
    fn parser_panics_become_syntax_errors() {
        let err = parse_stream("a: 1\nb: [!t,]\n").unwrap_err();
        assert_eq!(err.span.start.line, 2, "{err:?}");
    }

    #[test]
    fn syntax_errors_have_positions() {
        let err = parse_stream("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(err.span.start.line >= 1);
        assert!(!err.message.is_empty());
    }

    #[test]
    fn deep_nesting_and_alias_bombs_are_refused() {
        let deep = "[".repeat(10_000);
        let err = parse_stream(&deep).unwrap_err();
        assert!(
            err.message.contains("nesting") || err.message.contains("recursion"),
            "{}",
            err.message
        );
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 0..9 {
            let prev = if i == 0 {
                "a".to_string()
            } else {
                format!("l{}", i - 1)
            };
            bomb.push_str(&format!("l{i}: &l{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
        }
        assert!(parse_stream(&bomb).unwrap_err().message.contains("nodes"));
    }
}
