//! The sprig subset, with Go sprig's argument order and conversions.

use super::{Case, check};
use serde_json::json;

#[test]
fn sprig_strings() {
    let cases: &[Case] = &[
        (
            "sprig.replace(\"a\", \"b\", \"banana\")",
            Ok(json!("bbnbnb")),
        ),
        ("sprig.upper(s)", Ok(json!("HELLO"))),
        ("sprig.lower(\"AB\")", Ok(json!("ab"))),
        ("sprig.trim(\"  x \")", Ok(json!("x"))),
        ("sprig.trimAll(\"$\", \"$5$\")", Ok(json!("5"))),
        ("sprig.title(\"hello world\")", Ok(json!("Hello World"))),
        ("sprig.trunc(3, s)", Ok(json!("hel"))),
        ("sprig.trunc(-2, s)", Ok(json!("lo"))),
        ("sprig.trunc(10, s)", Ok(json!("hello"))),
        ("sprig.substr(1, 3, s)", Ok(json!("el"))),
        ("sprig.substr(2, -1, s)", Ok(json!("llo"))),
        ("sprig.substr(4, 2, s)", Err("slice bounds out of range")),
        ("sprig.repeat(2, \"ab\")", Ok(json!("abab"))),
        ("sprig.repeat(\"2\", \"ab\")", Err("must be an int")),
        ("sprig.quote(\"a\", nilv, 1)", Ok(json!("\"a\" \"1\""))),
        ("sprig.squote(1)", Ok(json!("'1'"))),
        ("sprig.cat(\"a\", 1, nilv, true)", Ok(json!("a 1 true"))),
        ("sprig.contains(\"ell\", s)", Ok(json!(true))),
        ("sprig.hasPrefix(\"he\", s)", Ok(json!(true))),
        ("sprig.hasSuffix(\"he\", s)", Ok(json!(false))),
        ("sprig.trimPrefix(\"he\", s)", Ok(json!("llo"))),
        ("sprig.trimSuffix(\"lo\", s)", Ok(json!("hel"))),
        ("sprig.nospace(\"a b\\tc\")", Ok(json!("abc"))),
        ("sprig.indent(2, \"a\\nb\")", Ok(json!("  a\n  b"))),
        ("sprig.nindent(1, \"a\")", Ok(json!("\n a"))),
        ("sprig.plural(\"one\", \"many\", 2)", Ok(json!("many"))),
        ("sprig.toString(12)", Ok(json!("12"))),
        ("sprig.toString(nilv)", Ok(json!("<nil>"))),
        ("sprig.splitList(\",\", \"a,b\")", Ok(json!(["a", "b"]))),
        (
            "sprig.split(\",\", \"a,b\")",
            Ok(json!({"_0": "a", "_1": "b"})),
        ),
        ("sprig.join(\"-\", strs)", Ok(json!("a-b-c"))),
        ("sprig.join(\"-\", arr)", Ok(json!("1-2-3"))),
        ("sprig.b64enc(\"hi\")", Ok(json!("aGk="))),
        ("sprig.b64dec(\"aGk=\")", Ok(json!("hi"))),
        (
            "sprig.b64dec(\"!\")",
            Ok(json!("illegal base64 data at input byte 0")),
        ),
        ("sprig.regexMatch(\"^h\", s)", Ok(json!(true))),
        ("sprig.regexMatch(\"(\", s)", Ok(json!(false))),
        ("sprig.regexFind(\"l+\", s)", Ok(json!("ll"))),
        ("sprig.regexFind(\"(\", s)", Err("regular expression")),
        ("sprig.regexFindAll(\"l\", s, -1)", Ok(json!(["l", "l"]))),
        (
            "sprig.regexReplaceAll(\"l(.)\", s, \"L$1\")",
            Ok(json!("heLlo")),
        ),
        (
            "sprig.regexReplaceAllLiteral(\"l\", s, \"$1\")",
            Ok(json!("he$1$1o")),
        ),
        (
            "sprig.regexSplit(\",\", \"a,b,c\", 2)",
            Ok(json!(["a", "b,c"])),
        ),
        ("sprig.regexQuoteMeta(\"a.b\")", Ok(json!("a\\.b"))),
        ("sprig.uper(s)", Err("did you mean sprig.upper?")),
        ("sprig.upper(s, s)", Err("invalid number of arguments")),
        ("sprig.upper(nilv)", Ok(json!(""))),
    ];
    check(cases);
}

#[test]
fn sprig_numbers_and_defaults() {
    let cases: &[Case] = &[
        ("sprig.atoi(\"42\")", Ok(json!(42))),
        ("sprig.atoi(\"x\")", Ok(json!(0))),
        ("sprig.int(\"42\")", Ok(json!(42))),
        ("sprig.int(\"0x10\")", Ok(json!(16))),
        ("sprig.int64(3.9)", Ok(json!(3))),
        ("sprig.float64(\"2.5\")", Ok(json!(2.5))),
        ("sprig.add(1, 2, \"3\")", Ok(json!(6))),
        ("sprig.add1(inputs.parameters.count)", Ok(json!(4))),
        ("sprig.sub(5, 2)", Ok(json!(3))),
        ("sprig.mul(2, 3, 4)", Ok(json!(24))),
        ("sprig.div(7, 2)", Ok(json!(3))),
        ("sprig.mod(7, 3)", Ok(json!(1))),
        ("sprig.div(1, 0)", Err("integer divide by zero")),
        ("sprig.max(1, 5, 3)", Ok(json!(5))),
        ("sprig.min(4, 2)", Ok(json!(2))),
        ("sprig.floor(2.7)", Ok(json!(2.0))),
        ("sprig.ceil(\"2.1\")", Ok(json!(3.0))),
        ("sprig.round(2.71828, 2)", Ok(json!(2.72))),
        ("sprig.round(2.71828, 1, 0.8)", Ok(json!(2.7))),
        ("sprig.until(3)", Ok(json!([0, 1, 2]))),
        ("sprig.until(-2)", Ok(json!([0, -1]))),
        ("sprig.untilStep(0, 10, 4)", Ok(json!([0, 4, 8]))),
        ("sprig.until(100000000)", Err("memory budget exceeded")),
        ("sprig.seq(3)", Ok(json!("1 2 3"))),
        ("sprig.seq(3, 1)", Ok(json!("3 2 1"))),
        ("sprig.seq(0, 2, 6)", Ok(json!("0 2 4 6"))),
        ("sprig.seq()", Ok(json!(""))),
        ("sprig.default(\"x\", nilv)", Ok(json!("x"))),
        ("sprig.default(\"x\", \"\")", Ok(json!("x"))),
        ("sprig.default(\"x\", \"y\")", Ok(json!("y"))),
        ("sprig.default(\"x\")", Ok(json!("x"))),
        ("sprig.empty(\"\")", Ok(json!(true))),
        ("sprig.empty(0)", Ok(json!(true))),
        ("sprig.empty(arr)", Ok(json!(false))),
        ("sprig.coalesce(nilv, \"\", \"z\")", Ok(json!("z"))),
        ("sprig.ternary(\"a\", \"b\", true)", Ok(json!("a"))),
        ("sprig.ternary(\"a\", \"b\", 1)", Err("must be a bool")),
        ("sprig.all(1, \"a\")", Ok(json!(true))),
        ("sprig.any(0, \"\")", Ok(json!(false))),
    ];
    check(cases);
}

#[test]
fn sprig_lists_and_dicts() {
    let cases: &[Case] = &[
        ("sprig.list(1, \"a\")", Ok(json!([1, "a"]))),
        ("sprig.dict(\"a\", 1, \"b\")", Ok(json!({"a": 1, "b": ""}))),
        ("sprig.get(sprig.dict(\"a\", 1), \"a\")", Ok(json!(1))),
        ("sprig.get(sprig.dict(\"a\", 1), \"z\")", Ok(json!(""))),
        ("sprig.get(arr, \"a\")", Err("must be a dict")),
        ("sprig.hasKey(obj, \"a\")", Ok(json!(true))),
        (
            "sprig.keys(sprig.dict(\"b\", 1, \"a\", 2))",
            Ok(json!(["a", "b"])),
        ),
        (
            "sprig.values(sprig.dict(\"b\", 1, \"a\", 2))",
            Ok(json!([2, 1])),
        ),
        ("sprig.has(2, arr)", Ok(json!(true))),
        ("sprig.has(2.0, arr)", Ok(json!(false))),
        ("sprig.has(1, s)", Err("cannot find has")),
        ("sprig.first(arr)", Ok(json!(1))),
        ("sprig.last(arr)", Ok(json!(3))),
        ("sprig.rest(arr)", Ok(json!([2, 3]))),
        ("sprig.initial(arr)", Ok(json!([1, 2]))),
        ("sprig.first([])", Ok(json!(null))),
        ("sprig.append(arr, 4)", Ok(json!([1, 2, 3, 4]))),
        ("sprig.prepend(arr, 0)", Ok(json!([0, 1, 2, 3]))),
        ("sprig.reverse(arr)", Ok(json!([3, 2, 1]))),
        ("sprig.uniq([1, 1, 2])", Ok(json!([1, 2]))),
        ("sprig.without(arr, 2)", Ok(json!([1, 3]))),
        ("sprig.compact([0, 1, \"\", \"a\"])", Ok(json!([1, "a"]))),
        ("sprig.toJson(obj.nested)", Ok(json!("{\"k\":\"v\"}"))),
        ("sprig.toPrettyJson([1])", Ok(json!("[\n  1\n]"))),
        ("sprig.fromJson(\"[1]\")", Ok(json!([1.0]))),
        ("sprig.fromJson(\"{\")", Ok(json!(null))),
    ];
    check(cases);
}

#[test]
fn every_listed_sprig_function_exists() {
    use crate::expr::ctx::Ctx;
    use crate::expr::value::Value;
    for name in crate::expr::sprig::FUNCTIONS {
        let args = [Value::Nil, Value::Nil, Value::Nil];
        let called = crate::expr::sprig::call(name, &args, &mut Ctx::default());
        assert!(called.is_some(), "sprig.{name} is listed but not provided");
    }
    assert!(crate::expr::sprig::call("nope", &[], &mut Ctx::default()).is_none());
}
