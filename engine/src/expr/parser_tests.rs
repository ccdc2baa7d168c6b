//! Parser tests: tree shapes (precedence, associativity, chains, pipes, predicates) shown as
//! S-expressions, syntax errors, and the nesting and size limits.

use super::*;
use crate::expr::ast::{Node, NodeKind};

fn show(n: &Node) -> String {
    use NodeKind::*;
    let list = |name: &str, items: &[&Node]| {
        let inner: Vec<String> = items.iter().map(|c| show(c)).collect();
        format!("({name} {})", inner.join(" "))
    };
    match &n.kind {
        Nil => "nil".into(),
        Bool(b) => b.to_string(),
        Int(i) => i.to_string(),
        Float(f) => format!("{f:?}"),
        Str(s) => format!("{s:?}"),
        Ident(s) => s.clone(),
        Pointer(p) => format!("#{p:?}"),
        Unary(op, a) => list(&format!("{op:?}"), &[a]),
        Binary(op, a, b) => list(&format!("{op:?}"), &[a, b]),
        Member {
            base,
            prop,
            optional,
        } => list(if *optional { "?." } else { "." }, &[base, prop]),
        Slice { base, from, to } => {
            let mut items: Vec<&Node> = vec![base];
            items.extend(from.as_deref());
            items.extend(to.as_deref());
            list("slice", &items)
        }
        Chain(a) => list("chain", &[a]),
        Call { name, args } => list(&format!("call:{name}"), &args.iter().collect::<Vec<_>>()),
        Method { member, args } => {
            let mut items: Vec<&Node> = vec![member];
            items.extend(args.iter());
            list("method", &items)
        }
        Predicate { pred, args } => list(&format!("{pred:?}"), &args.iter().collect::<Vec<_>>()),
        Closure(a) => list("fn", &[a]),
        Array(items) => list("array", &items.iter().collect::<Vec<_>>()),
        Map(pairs) => list(
            "map",
            &pairs.iter().flat_map(|(k, v)| [k, v]).collect::<Vec<_>>(),
        ),
        Conditional(a, b, c) => list("if", &[a, b, c]),
        Let { name, value, body } => list(&format!("let:{name}"), &[value, body]),
        Sequence(items) => list("seq", &items.iter().collect::<Vec<_>>()),
    }
}

#[test]
fn tree_shapes() {
    let cases = [
        ("1 + 2 * 3", "(Add 1 (Mul 2 3))"),
        ("1 - 2 - 3", "(Sub (Sub 1 2) 3)"),
        ("2 ** 3 ** 2", "(Pow 2 (Pow 3 2))"),
        ("-2 ** 2", "(Neg (Pow 2 2))"),
        ("not a == b", "(Eq (Not a) b)"),
        ("a or b and c", "(Or a (And b c))"),
        ("1 < x < 3", "(And (Lt 1 x) (Lt x 3))"),
        ("x not in [1]", "(Not (In x (array 1)))"),
        ("a ?? b ?? c", "(Coalesce (Coalesce a b) c)"),
        ("a ? b : c ? d : e", "(if a b (if c d e))"),
        ("a ?: b", "(if a a b)"),
        ("a.b['c'][0]", "(. (. (. a \"b\") \"c\") 0)"),
        ("a?.b.c", "(chain (. (?. a \"b\") \"c\"))"),
        ("a?.[0]", "(chain (?. a 0))"),
        ("a[1:]", "(slice a 1)"),
        ("x | upper()", "(call:upper x)"),
        ("xs | filter(# > 1)", "(Filter xs (fn (Gt #Item 1)))"),
        ("map(xs, .a)", "(Map xs (fn (. #Item \"a\")))"),
        ("count(xs)", "(Count xs)"),
        ("sprig.upper(x)", "(method (. sprig \"upper\") x)"),
        ("{a: 1, 'b': 2, (k): 3}", "(map \"a\" 1 \"b\" 2 k 3)"),
        ("let x = 1; x + 1", "(let:x 1 (Add x 1))"),
        ("if a { 1 } else { 2 }", "(if a 1 2)"),
        ("1; 2", "(seq 1 2)"),
        ("1..3", "(Range 1 3)"),
        (
            "0x1F + 0b11 + 0o17 + 1_000",
            "(Add (Add (Add 31 3) 15) 1000)",
        ),
        ("[1, 2,]", "(array 1 2)"),
        ("f(1, 2,)", "(call:f 1 2)"),
        ("a.not", "(. a \"not\")"),
    ];
    for (src, want) in cases {
        let got = parse(src).map(|n| show(&n));
        assert_eq!(got.as_deref(), Ok(want), "{src}");
    }
}

#[test]
fn syntax_errors() {
    let cases = [
        ("1 +", "unexpected end of expression"),
        ("(1", "unexpected end of expression"),
        ("a ?? b + c", "cannot be mixed"),
        ("a not b", "unexpected token"),
        ("#", "unexpected token \"#\""),
        ("filter(xs, #foo)", "unknown pointer #foo"),
        ("filter(xs)", "expects at least"),
        ("filter(xs, # > 1; true)", "wrap predicate"),
        ("{1 + 2: 3}", "unexpected token"),
        ("{[1]: 2}", "a map key must be"),
        ("a.(b)", "expected name"),
        ("1 2", "unexpected token \"2\""),
        ("99999999999999999999", "invalid integer literal"),
        ("1e999", "too large"),
        ("1e", "invalid float literal"),
        ("0x", "invalid hex literal"),
        ("x | 1", "unexpected token"),
        ("let 1 = 2; 3", "unexpected token"),
        ("a[]", "unexpected token"),
        ("true.x", "unexpected token"),
    ];
    for (src, want) in cases {
        let err = parse(src).expect_err(src).to_string();
        assert!(err.contains(want), "{src}: {err}");
    }
}

#[test]
fn nesting_is_limited() {
    let deep =
        |open: &str, close: &str, n: usize| format!("{}1{}", open.repeat(n), close.repeat(n));
    for src in [
        deep("(", ")", 10_000),
        deep("[", "]", 10_000),
        deep("-", "", 10_000),
        deep("f(", ")", 10_000),
        deep("filter(x, ", ")", 5_000),
        "1".to_owned() + &" + 1".repeat(MAX_DEPTH + 1),
        "a".to_owned() + &".b".repeat(MAX_DEPTH + 1),
        "a".to_owned() + &" ?? a".repeat(MAX_DEPTH + 1),
    ] {
        let err = parse(&src).expect_err(&src[..20]);
        assert!(
            matches!(err, ExprError::TooDeep { .. }),
            "{}: {err}",
            &src[..20]
        );
    }
    assert!(parse(&deep("(", ")", MAX_DEPTH - 2)).is_ok());
}

#[test]
fn size_is_limited() {
    let wide = format!("[{}]", vec!["1"; MAX_NODES + 1].join(","));
    assert!(matches!(parse(&wide), Err(ExprError::Limit { .. })));
}
