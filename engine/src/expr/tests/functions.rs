//! expr-lang's builtins and Argo's functions.

use super::{Case, check};
use serde_json::json;

#[test]
fn string_builtins() {
    let cases: &[Case] = &[
        ("len(\"héllo\")", Ok(json!(5))),
        ("upper(\"abc\")", Ok(json!("ABC"))),
        ("lower(\"ABC\")", Ok(json!("abc"))),
        ("upper(1)", Err("must be a string")),
        ("trim(\"  x  \")", Ok(json!("x"))),
        ("trim(\"__x__\", \"_\")", Ok(json!("x"))),
        ("trimPrefix(\"foobar\", \"foo\")", Ok(json!("bar"))),
        ("trimSuffix(\"foobar\", \"bar\")", Ok(json!("foo"))),
        ("trimPrefix(\" x\")", Ok(json!("x"))),
        ("split(\"a,b,c\", \",\")", Ok(json!(["a", "b", "c"]))),
        ("split(\"a,b,c\", \",\", 2)", Ok(json!(["a", "b,c"]))),
        ("splitAfter(\"a,b\", \",\")", Ok(json!(["a,", "b"]))),
        ("replace(\"aaa\", \"a\", \"b\")", Ok(json!("bbb"))),
        ("replace(\"aaa\", \"a\", \"b\", 2)", Ok(json!("bba"))),
        ("repeat(\"ab\", 3)", Ok(json!("ababab"))),
        ("repeat(\"x\", -1)", Err("expected positive integer")),
        ("repeat(\"x\", 2000000)", Err("memory budget exceeded")),
        ("join([\"a\", \"b\"], \"-\")", Ok(json!("a-b"))),
        ("join([\"a\", \"b\"])", Ok(json!("ab"))),
        ("join([1])", Err("must be strings")),
        ("indexOf(\"apple pie\", \"pie\")", Ok(json!(6))),
        ("indexOf(\"héllo\", \"l\")", Ok(json!(3))),
        ("indexOf(\"a\", \"z\")", Ok(json!(-1))),
        ("lastIndexOf(\"apple pie apple\", \"apple\")", Ok(json!(10))),
        ("hasPrefix(\"HelloWorld\", \"Hello\")", Ok(json!(true))),
        ("hasSuffix(\"HelloWorld\", \"Hello\")", Ok(json!(false))),
        ("toBase64(\"Hello World\")", Ok(json!("SGVsbG8gV29ybGQ="))),
        ("fromBase64(\"SGVsbG8gV29ybGQ=\")", Ok(json!("Hello World"))),
        ("fromBase64(\"!\")", Err("illegal base64")),
    ];
    check(cases);
}

#[test]
fn conversions_and_numbers() {
    let cases: &[Case] = &[
        ("int(\"12\")", Ok(json!(12))),
        ("int(\"-12\")", Ok(json!(-12))),
        ("int(3.9)", Ok(json!(3))),
        ("int(\"abc\")", Err("invalid operation: int")),
        ("int(\"1.5\")", Err("invalid operation: int")),
        ("int(true)", Err("invalid operation: int")),
        ("float(\"1.5\")", Ok(json!(1.5))),
        ("float(2)", Ok(json!(2.0))),
        ("float(\"x\")", Err("invalid operation: float")),
        ("string(12)", Ok(json!("12"))),
        ("string(1.5)", Ok(json!("1.5"))),
        ("string(1000000.0)", Ok(json!("1e+06"))),
        ("string(arr)", Ok(json!("[1 2 3]"))),
        ("string(obj.nested)", Ok(json!("map[k:v]"))),
        ("string(nil)", Ok(json!("<nil>"))),
        ("len(arr)", Ok(json!(3))),
        ("len(obj)", Ok(json!(3))),
        ("len(1)", Err("invalid argument for len")),
        ("abs(-5)", Ok(json!(5))),
        ("abs(-2.5)", Ok(json!(2.5))),
        ("ceil(1.2)", Ok(json!(2.0))),
        ("ceil(2)", Ok(json!(2.0))),
        ("floor(1.8)", Ok(json!(1.0))),
        ("round(2.5)", Ok(json!(3.0))),
        ("round(-2.5)", Ok(json!(-3.0))),
        ("max(1, 5, 3)", Ok(json!(5))),
        ("max(arr)", Ok(json!(3))),
        ("max([])", Ok(json!(null))),
        ("min(1.5, 0.5)", Ok(json!(0.5))),
        ("min(1, \"a\")", Err("invalid argument for min")),
        ("mean([1, 2, 3])", Ok(json!(2.0))),
        ("median([3, 1, 2, 4])", Ok(json!(2.5))),
        ("type(1)", Ok(json!("int"))),
        ("type(1.5)", Ok(json!("float"))),
        ("type(\"a\")", Ok(json!("string"))),
        ("type(nil)", Ok(json!("nil"))),
        ("type(arr)", Ok(json!("array"))),
        ("type(obj)", Ok(json!("map"))),
        ("type(true)", Ok(json!("bool"))),
        ("bitand(12, 10)", Ok(json!(8))),
        ("bitor(12, 10)", Ok(json!(14))),
        ("bitxor(12, 10)", Ok(json!(6))),
        ("bitshl(1, 3)", Ok(json!(8))),
        ("bitnot(0)", Ok(json!(-1))),
        ("bitand(1.5, 1)", Err("cannot use float")),
        ("now()", Err("not supported")),
        ("foo(1)", Err("unknown function foo")),
    ];
    check(cases);
}

#[test]
fn collection_builtins() {
    let cases: &[Case] = &[
        ("sort(keys(obj))", Ok(json!(["a", "b-c", "nested"]))),
        ("sort(values({a: 1, b: 2}))", Ok(json!([1, 2]))),
        ("keys(1)", Err("not a map")),
        ("first(arr)", Ok(json!(1))),
        ("last(arr)", Ok(json!(3))),
        ("first([])", Ok(json!(null))),
        ("get(arr, 5)", Ok(json!(null))),
        ("get(arr, -1)", Ok(json!(3))),
        ("get(obj, \"a\")", Ok(json!(1))),
        ("get(nilv, \"a\")", Ok(json!(null))),
        ("take(arr, 2)", Ok(json!([1, 2]))),
        ("take(arr, 10)", Ok(json!([1, 2, 3]))),
        ("reverse(arr)", Ok(json!([3, 2, 1]))),
        ("uniq([1, 2, 1])", Ok(json!([1, 2]))),
        ("concat([1], [2, 3])", Ok(json!([1, 2, 3]))),
        ("flatten([1, [2, [3]]])", Ok(json!([1, 2, 3]))),
        ("sort([3, 1, 2])", Ok(json!([1, 2, 3]))),
        ("sort([\"b\", \"a\"], \"desc\")", Ok(json!(["b", "a"]))),
        ("sort([1, \"a\"])", Err("invalid operation")),
        ("toPairs({a: 1})", Ok(json!([["a", 1]]))),
        ("fromPairs([[\"a\", 1]])", Ok(json!({"a": 1}))),
        ("toJSON({a: 1})", Ok(json!("{\n  \"a\": 1\n}"))),
        ("toJSON([1, 2])", Ok(json!("[\n  1,\n  2\n]"))),
        (
            "fromJSON(\"{\\\"a\\\": [1, 2]}\")",
            Ok(json!({"a": [1.0, 2.0]})),
        ),
        ("fromJSON(\"1\") + 1", Ok(json!(2.0))),
        ("fromJSON(\"{\")", Err("fromJSON")),
    ];
    check(cases);
}

#[test]
fn argo_functions() {
    let cases: &[Case] = &[
        ("asInt(\"12\")", Ok(json!(12))),
        ("asInt(inputs.parameters.count) * 10", Ok(json!(30))),
        ("asInt(\"x\")", Err("invalid operation: int")),
        ("asInt(1, 2)", Err("invalid number of arguments")),
        ("asFloat(\"2.5\")", Ok(json!(2.5))),
        ("asFloat(\"abc\")", Err("invalid operation: float")),
        (
            "toJson({a: 1, b: [true]})",
            Ok(json!("{\"a\":1,\"b\":[true]}")),
        ),
        ("toJson(\"a<b\")", Ok(json!("\"a\\u003cb\""))),
        ("toJson(filter([1, 3], {# > 1}))", Ok(json!("[3]"))),
        ("jsonpath(json, \"$.a.b[0]\")", Ok(json!(1.0))),
        ("jsonpath(json, \"$.a\")", Ok(json!({"b": [1.0, 2.0]}))),
        ("jsonpath(json, \"$.items[*].id\")", Ok(json!([1.0, 2.0]))),
        (
            "jsonpath(json, \"$.items[?(@.id > 1)].id\")",
            Ok(json!([2.0])),
        ),
        ("jsonpath(json, \"$.items[0:1]\")", Ok(json!([{"id": 1.0}]))),
        ("jsonpath(json, \"$.missing\")", Err("selects nothing")),
        ("jsonpath(json, \"a[\")", Err("invalid path")),
        ("jsonpath(\"{\", \"$\")", Err("not JSON")),
        (
            "jsonpath(inputs.parameters.count, \"$\") + 1",
            Ok(json!(4.0)),
        ),
    ];
    check(cases);
}

/// The names listed in the module documentation's paragraph that starts with `marker`.
fn documented(marker: &str) -> Vec<String> {
    let docs = include_str!("../mod.rs");
    let start = docs.find(marker).unwrap_or(0) + marker.len();
    let rest = &docs[start..];
    let list = rest.split('`').nth(1).unwrap_or("");
    list.split_whitespace()
        .map(|w| w.trim_start_matches("//!").to_owned())
        .filter(|w| !w.is_empty())
        .collect()
}

#[test]
fn documented_functions_exist() {
    use crate::expr::ctx::Ctx;
    use crate::expr::value::Value;
    let builtins = documented("- expr-lang builtins:");
    assert_eq!(builtins.len(), 52, "{builtins:?}");
    for name in &builtins {
        let called = crate::expr::builtins::call(name, &[Value::Nil], &mut Ctx::default());
        assert!(called.is_some(), "{name} is documented but not provided");
    }
    let sprig = documented("with sprig's argument order:");
    assert_eq!(
        sprig.len(),
        crate::expr::sprig::FUNCTIONS.len(),
        "{sprig:?}"
    );
    for name in crate::expr::sprig::FUNCTIONS {
        assert!(
            sprig.iter().any(|d| d == name),
            "sprig.{name} is not documented"
        );
    }
}
