//! Operators, literals, member access, optional chaining, predicates and control flow.

use super::{Case, check};
use serde_json::json;

#[test]
fn arithmetic() {
    let cases: &[Case] = &[
        ("1 + 2", Ok(json!(3))),
        ("1/2", Ok(json!(0.5))),
        ("4 / 2", Ok(json!(2.0))),
        ("n / 2", Ok(json!(3.5))),
        ("7 % 3", Ok(json!(1))),
        ("-7 % 3", Ok(json!(-1))),
        ("n % 0", Err("integer divide by zero")),
        ("7.5 % 2", Err("invalid operation")),
        ("2 ** 3", Ok(json!(8.0))),
        ("2 ^ 0.5", Ok(json!(std::f64::consts::SQRT_2))),
        ("-2 ** 2", Ok(json!(-4.0))),
        ("1 + 2.5", Ok(json!(3.5))),
        ("10 - 2.5", Ok(json!(7.5))),
        ("3 * 4", Ok(json!(12))),
        ("f * 2", Ok(json!(5.0))),
        ("-n", Ok(json!(-7))),
        ("+n", Ok(json!(7))),
        ("9223372036854775807 + 1", Ok(json!(i64::MIN))),
        ("-9223372036854775807 - 2", Ok(json!(i64::MAX))),
        ("1 / 0 > 100", Ok(json!(true))),
        ("1 + 2 * 3 - 4 / 2", Ok(json!(5.0))),
        ("(1 + 2) * 3", Ok(json!(9))),
        ("\"a\" + 1", Err("invalid operation")),
        ("\"a\" + \"b\"", Ok(json!("ab"))),
        ("s + \" world\"", Ok(json!("hello world"))),
        ("-s", Err("invalid operation")),
        ("0x10 + 0o10 + 0b10 + 1_000", Ok(json!(1026))),
        (".5 + 1e3", Ok(json!(1000.5))),
    ];
    check(cases);
}

#[test]
fn comparison_and_logic() {
    let cases: &[Case] = &[
        ("1 == 1.0", Ok(json!(true))),
        ("inputs.parameters.count == 3", Ok(json!(false))),
        ("inputs.parameters.count == \"3\"", Ok(json!(true))),
        ("\"abc\" < \"abd\"", Ok(json!(true))),
        ("\"b\" > \"abc\"", Ok(json!(true))),
        ("2 < 3.5", Ok(json!(true))),
        ("\"a\" < 1", Err("invalid operation")),
        ("1 < 2 < 3", Ok(json!(true))),
        ("3 > 2 > 2", Ok(json!(false))),
        ("n >= 7 && n <= 7", Ok(json!(true))),
        ("true && false", Ok(json!(false))),
        ("true and true", Ok(json!(true))),
        ("false || true", Ok(json!(true))),
        ("false or false", Ok(json!(false))),
        ("not true", Ok(json!(false))),
        ("!false", Ok(json!(true))),
        ("not (1 > 2)", Ok(json!(true))),
        ("1 && true", Err("must be bools")),
        ("true && 1", Err("must be bools")),
        ("false && obj.a", Ok(json!(false))),
        ("!nilv", Err("invalid operation")),
        ("nil == nil", Ok(json!(true))),
        ("nilv == nil", Ok(json!(true))),
        ("missing == nil", Ok(json!(true))),
        ("arr == [1, 2, 3]", Ok(json!(true))),
        ("[1] == [1.0]", Ok(json!(true))),
        ("obj.nested == {k: \"v\"}", Ok(json!(true))),
        ("b != false", Ok(json!(true))),
    ];
    check(cases);
}

#[test]
fn membership_and_strings() {
    let cases: &[Case] = &[
        ("2 in arr", Ok(json!(true))),
        ("5 in arr", Ok(json!(false))),
        ("5 not in arr", Ok(json!(true))),
        ("\"a\" in obj", Ok(json!(true))),
        ("\"zz\" in obj", Ok(json!(false))),
        ("n in 1..10", Ok(json!(true))),
        ("1 in missing", Ok(json!(false))),
        ("\"x\" in \"xyz\"", Err("not defined on string")),
        ("s contains \"ell\"", Ok(json!(true))),
        ("s not contains \"z\"", Ok(json!(true))),
        ("s startsWith \"he\"", Ok(json!(true))),
        ("s endsWith \"lo\"", Ok(json!(true))),
        ("s matches \"^h.*o$\"", Ok(json!(true))),
        ("\"abc\" matches \"b\"", Ok(json!(true))),
        ("s not matches \"^x\"", Ok(json!(true))),
        ("s matches \"(\"", Err("regular expression")),
        ("missing contains \"a\"", Ok(json!(false))),
        ("1 contains \"a\"", Err("invalid operation")),
    ];
    check(cases);
}

#[test]
fn conditionals_and_nil_handling() {
    let cases: &[Case] = &[
        ("n > 5 ? \"big\" : \"small\"", Ok(json!("big"))),
        (
            "n > 50 ? \"big\" : n > 5 ? \"mid\" : \"small\"",
            Ok(json!("mid")),
        ),
        ("1 ? 2 : 3", Err("condition must be a bool")),
        ("b ?: false", Ok(json!(true))),
        ("nilv ?? \"default\"", Ok(json!("default"))),
        ("s ?? \"x\"", Ok(json!("hello"))),
        ("obj.missing ?? 1", Ok(json!(1))),
        (
            "inputs.parameters.other ?? \"fallback\"",
            Ok(json!("fallback")),
        ),
        ("missing?.foo", Ok(json!(null))),
        ("missing?.a.b", Ok(json!(null))),
        ("obj?.nested?.k", Ok(json!("v"))),
        ("missing?.[0]", Ok(json!(null))),
        ("nilv.foo", Err("cannot fetch foo from nil")),
        ("missing.field", Err("cannot fetch field from nil")),
        ("missing", Ok(json!(null))),
        ("if n > 5 { \"y\" } else { \"n\" }", Ok(json!("y"))),
        ("let x = 2; x * n", Ok(json!(14))),
        ("let x = 2; let y = x + 1; [x, y]", Ok(json!([2, 3]))),
        ("1; 2", Ok(json!(2))),
        ("1 /* c */ + 2 // end", Ok(json!(3))),
    ];
    check(cases);
}

#[test]
fn members_slices_and_literals() {
    let cases: &[Case] = &[
        ("obj.a", Ok(json!(1))),
        ("obj['b-c']", Ok(json!("x"))),
        ("obj[\"b-c\"]", Ok(json!("x"))),
        ("obj.nested.k", Ok(json!("v"))),
        ("obj.missing", Ok(json!(null))),
        ("obj.a.b", Err("cannot fetch")),
        ("arr[0]", Ok(json!(1))),
        ("arr[-1]", Ok(json!(3))),
        ("arr[3]", Err("index out of range")),
        ("arr[\"x\"]", Err("as an index")),
        ("strs[1]", Ok(json!("b"))),
        ("users[0].name", Ok(json!("Ann"))),
        ("inputs.parameters[\"should-print\"]", Ok(json!("true"))),
        ("inputs.parameters.message[0]", Ok(json!(104))),
        ("arr[1:3]", Ok(json!([2, 3]))),
        ("arr[:2]", Ok(json!([1, 2]))),
        ("arr[1:]", Ok(json!([2, 3]))),
        ("arr[-2:]", Ok(json!([2, 3]))),
        ("arr[2:1]", Ok(json!([]))),
        ("arr[:]", Ok(json!([1, 2, 3]))),
        ("s[1:3]", Ok(json!("el"))),
        ("1..3", Ok(json!([1, 2, 3]))),
        ("3..1", Ok(json!([]))),
        ("[1, \"a\", nil, true]", Ok(json!([1, "a", null, true]))),
        ("{a: 1, \"b\": 2}", Ok(json!({"a": 1, "b": 2}))),
        (
            "{a: n, b: s, c: [f]}",
            Ok(json!({"a": 7, "b": "hello", "c": [2.5]})),
        ),
        ("{(s): 1}", Ok(json!({"hello": 1}))),
        ("{(n): 1}", Err("map keys must be strings")),
        ("{a: 1}.a", Ok(json!(1))),
        ("'it\\'s'", Ok(json!("it's"))),
        ("\"tab\\there\"", Ok(json!("tab\there"))),
        ("`raw\\n`", Ok(json!("raw\\n"))),
        ("$env.n", Ok(json!(7))),
        ("\"n\" in $env", Ok(json!(true))),
    ];
    check(cases);
}

#[test]
fn predicates_and_pipes() {
    let cases: &[Case] = &[
        ("[1,2,3] | filter(# > 1)", Ok(json!([2, 3]))),
        ("filter(arr, # > 1)", Ok(json!([2, 3]))),
        ("filter(arr, {# > 1})", Ok(json!([2, 3]))),
        ("map(arr, # * 10)", Ok(json!([10, 20, 30]))),
        ("map(arr, #index)", Ok(json!([0, 1, 2]))),
        ("map(users, .name)", Ok(json!(["Ann", "Bob"]))),
        ("map(users, #.age)", Ok(json!([30, 17]))),
        (
            "filter(users, .age >= 18)",
            Ok(json!([{"age": 30, "name": "Ann"}])),
        ),
        ("all(arr, # > 0)", Ok(json!(true))),
        ("all([], false)", Ok(json!(true))),
        ("any(arr, # > 2)", Ok(json!(true))),
        ("none(arr, # > 3)", Ok(json!(true))),
        ("one(arr, # == 2)", Ok(json!(true))),
        ("count(arr, # > 1)", Ok(json!(2))),
        ("count([true, false, true])", Ok(json!(2))),
        ("find(arr, # > 1)", Ok(json!(2))),
        ("find(arr, # > 5)", Ok(json!(null))),
        ("findIndex(arr, # == 3)", Ok(json!(2))),
        ("findLast(arr, # < 3)", Ok(json!(2))),
        ("findLastIndex(arr, # > 5)", Ok(json!(-1))),
        ("sum(arr)", Ok(json!(6))),
        ("sum(users, .age)", Ok(json!(47))),
        ("sum([1, 2.5])", Ok(json!(3.5))),
        ("sum([\"a\"])", Err("sum takes numbers")),
        ("sortBy(users, .age)[0].name", Ok(json!("Bob"))),
        ("sortBy(users, .age, \"desc\")[0].name", Ok(json!("Ann"))),
        ("arr | filter(# > 1) | map(# * 2)", Ok(json!([4, 6]))),
        ("s | upper()", Ok(json!("HELLO"))),
        ("strs | join(\",\")", Ok(json!("a,b,c"))),
        ("map(arr, filter(arr, # > 2))", Ok(json!([[3], [3], [3]]))),
        ("filter(1, true)", Err("cannot iterate over int")),
        ("filter(arr, 1)", Err("predicate must give a bool")),
        ("groupBy(users, .age)", Err("not supported")),
        ("reduce(arr, #acc + #)", Ok(json!(6))),
        ("reduce(arr, #acc + #, 10)", Ok(json!(16))),
        (
            "reduce(arr, concat(#acc, [# * #index]), [])",
            Ok(json!([0, 2, 6])),
        ),
        ("reduce([], #acc + #)", Ok(json!(null))),
        ("#acc", Err("")),
        ("map(arr, #acc)", Err("#acc is only defined inside reduce")),
        (
            "len(filter(users, .age > 18)) > 0 ? \"adult\" : \"none\"",
            Ok(json!("adult")),
        ),
    ];
    check(cases);
}
