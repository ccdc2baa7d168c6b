//! Limits, positions and the environment: no input may panic, overflow the stack or run away.

use super::env;
use crate::expr::{ExprError, eval};
use serde_json::json;

#[test]
fn runaway_evaluations_stop_with_limit_errors() {
    let env = env();
    for src in [
        "1..10000000",
        "repeat(\"ab\", 600000)",
        "map(1..999, map(1..999, map(1..999, #)))",
        "all(1..999, all(1..999, all(1..999, true)))",
        "let s = repeat(\"x\", 100000); let t = s + s + s + s; let u = t + t + t + t; u + u + u + u",
        "replace(repeat(\"x\", 10000), \"\", repeat(\"y\", 10000))",
        "join(map(1..999, \"x\"), repeat(\"y\", 100000))",
        "sprig.regexReplaceAll(\"\", repeat(\"x\", 10000), repeat(\"y\", 10000))",
        "sprig.seq(100000000)",
        "sprig.indent(999999, repeat(\"\\n\", 999))",
        "let s = repeat(\"x\", 900000); all(1..9000, len(s) > 0)",
        "let a = 1..500000; all(1..999, 999999 not in a)",
        "let a = 1..400000; all(1..999, a == a)",
    ] {
        match eval(src, &env) {
            Err(ExprError::Limit { .. }) => {}
            Err(other) => panic!("{src}: {other}"),
            Ok(v) => panic!("{src}: evaluated to {:.80}", v.to_string()),
        }
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let env = env();
    for src in [
        "(".repeat(5000) + "1" + &")".repeat(5000),
        "[".repeat(5000) + &"]".repeat(5000),
        "!".repeat(5000) + "true",
        "1".to_owned() + &" + 1".repeat(5000),
        "a".to_owned() + &"?.b".repeat(5000),
    ] {
        let err = eval(&src, &env).expect_err(&src[..10]);
        assert!(
            matches!(err, ExprError::TooDeep { .. }),
            "{}: {err}",
            &src[..10]
        );
    }
}

#[test]
fn duplicated_subtrees_count_towards_the_node_limit() {
    let mut src = "a".to_owned();
    for _ in 0..60 {
        src = format!("({src} ?: a)");
    }
    assert!(matches!(
        eval(&src, &json!({})),
        Err(ExprError::Limit { .. })
    ));
    let mut chain = "a".to_owned();
    for _ in 0..60 {
        chain = format!("a < ({chain} ?: a) < a");
    }
    assert!(eval(&chain, &json!({})).is_err());
}

#[test]
fn sorting_nan_and_mixed_numbers_is_total() {
    let env = json!({});
    let sorted = "sort([2, 0/0, 2.5, -1, 1e300, 0/0, 9007199254740993, 9007199254740992.0])";
    assert_eq!(
        eval(&format!("{sorted}[:3]"), &env),
        Ok(json!([-1, 2, 2.5]))
    );
    assert_eq!(
        eval(&format!("{sorted}[3:6]"), &env),
        Ok(json!([9007199254740992.0, 9007199254740993_i64, 1e300]))
    );
    assert_eq!(eval(&format!("len({sorted})"), &env), Ok(json!(8)));
}

#[test]
fn the_deepest_allowed_expression_evaluates() {
    let src = "1".to_owned() + &" + 1".repeat(98);
    assert_eq!(eval(&src, &json!({})), Ok(json!(99)));
    let nested = "[".repeat(98) + &"]".repeat(98);
    assert!(eval(&nested, &json!({})).is_ok());
}

#[test]
fn deep_environment_values_are_refused() {
    let mut deep = json!(1);
    for _ in 0..600 {
        deep = json!([deep]);
    }
    let env = json!({ "d": deep });
    assert!(matches!(eval("d", &env), Err(ExprError::Limit { .. })));
    assert!(matches!(eval("d[0]", &env), Err(ExprError::Limit { .. })));
}

#[test]
fn errors_carry_positions() {
    let cases = [
        ("1 + \"a\"", 1, 3),
        ("x +\n  \"a\" + 1", 2, 7),
        ("(1 + ", 1, 6),
        ("upper(1)", 1, 1),
        ("a.b.c", 1, 5),
    ];
    for (src, line, column) in cases {
        let err = eval(src, &json!({"x": "s", "a": {"b": 1}})).expect_err(src);
        let p = err.position();
        assert_eq!((p.line, p.column), (line, column), "{src}: {err}");
    }
}

#[test]
fn environment_that_is_not_an_object_has_no_variables() {
    assert_eq!(eval("x ?? 1", &json!([1, 2])), Ok(json!(1)));
    assert_eq!(eval("$env", &json!("s")), Ok(json!("s")));
}

#[test]
fn non_finite_results_are_errors() {
    let err = eval("1 / 0", &json!({})).expect_err("inf");
    assert!(err.to_string().contains("+Inf"), "{err}");
}
