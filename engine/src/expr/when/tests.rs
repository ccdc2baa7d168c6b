//! `when` conditions as Argo evaluates them after substitution, including the conditions of
//! Argo's examples (coinflip, conditionals, loops, exit handlers, retries).

use super::*;

#[test]
fn argo_example_conditions() {
    let cases = [
        // coinflip, coinflip-recursive, dag-coinflip, steps with `when`
        ("heads == heads", true),
        ("tails == heads", false),
        ("heads == tails", false),
        ("tails == tails", true),
        // loops-maps: `{{item.evenness}} == even`
        ("even == even", true),
        ("odd == even", false),
        ("false", false),
        ("true", true),
        // exit handlers: `{{workflow.status}} == Succeeded`
        ("Succeeded == Succeeded", true),
        ("Failed != Succeeded", true),
        ("Failed == Succeeded", false),
        // retry-conditional: `{{steps.flip-again.outputs.result}} =~ tai`
        ("tails =~ tai", true),
        ("heads =~ tai", false),
        ("heads =~ hea", true),
        // conditionals: `{{inputs.parameters.should-print}} == true`
        ("true == true", true),
        ("false == true", false),
        // loops-recursion: `{{steps.iterate-counter.outputs.result}} < {{inputs.parameters.limit}}`
        ("3 < 10", true),
        ("10 < 10", false),
        // `{{inputs.parameters.num}} != 1 && {{inputs.parameters.num}} != 2`
        ("1 != 1 && 1 != 2", false),
        ("3 != 1 && 3 != 2", true),
        // the multi-line coinflip condition (YAML `>-` folds the newlines)
        (
            "( heads == heads && tails == tails ) || ( heads == tails && tails == heads )",
            true,
        ),
        (
            "( heads == tails &&\n tails == tails\n) ||\n( tails == tails && tails == heads )",
            false,
        ),
        // intermediate-parameters: `{{steps.approval.outputs.parameters.approve}} == YES`
        ("YES == YES", true),
        ("NO == YES", false),
    ];
    for (src, want) in cases {
        assert_eq!(eval_when(src), Ok(want), "{src}");
    }
}

#[test]
fn govaluate_semantics() {
    let cases = [
        ("", true),
        ("1 + 1 == 2", true),
        ("1 == 1.0", true),
        ("0x10 == 16", true),
        ("'a' + 'b' == ab", true),
        ("'5' + 1 == '51'", true),
        ("'5' + 1 == 51", false),
        ("\"a\" == 'a'", true),
        ("[hello world] == 'hello world'", true),
        ("'5' == 5", false),
        ("!true", false),
        ("!(1 == 2)", true),
        ("-1 < 0", true),
        ("2 ** 3 == 8", true),
        ("10 % 3 == 1", true),
        ("4 / 2 == 2", true),
        ("b > a", true),
        ("abc < abd", true),
        ("false && heads", false),
        ("true || heads", true),
        ("tails =~ '^t'", true),
        ("tails !~ '^h'", true),
        ("Succeeded == Succeeded || Failed == Succeeded", true),
        ("a == a == true", true),
        ("1 + 2 * 3 == 7", true),
        ("(1 + 2) * 3 == 9", true),
        ("1 - 2 - 3 == -4", true),
        ("~0 == -1", true),
        ("6 & 3 == 2", true),
        ("6 | 1 == 7 && 6 ^ 2 == 4", true),
        ("1 << 4 == 16 && 16 >> 2 == 4", true),
        ("é == é", true),
    ];
    for (src, want) in cases {
        assert_eq!(eval_when(src), Ok(want), "{src}");
    }
}

#[test]
fn errors() {
    let cases = [
        ("   ", "unexpected end"),
        (
            "heads",
            "expected boolean evaluation for 'heads', got heads",
        ),
        ("5", "got 5"),
        ("'5' + 1", "got 51"),
        ("hello world == hello world", "cannot transition"),
        ("!heads", "cannot transition"),
        ("1 < a", "not a number"),
        ("true && heads", "not a bool"),
        ("heads && true", "not a bool"),
        ("my-value == my-value", "not a number"),
        ("foo.bar == x", "unexported field"),
        ("Foo.Bar == x", "no parameter 'Foo.Bar'"),
        ("a ? b : c", "not supported"),
        ("a in b", "not supported"),
        ("a, b", "not supported"),
        ("{{steps.x.outputs.result}} == heads", "invalid token: '{{'"),
        ("(1 == 1", "unbalanced"),
        ("1 == 1)", "unbalanced"),
        ("x =~ '('", "unable to compile regexp"),
        ("f(x) == 1", "undefined function f"),
        ("== 1", "unexpected"),
        ("1 ==", "unexpected end"),
        ("'abc", "unclosed string"),
    ];
    for (src, want) in cases {
        let err = eval_when(src).expect_err(src).to_string();
        assert!(err.contains(want), "{src}: {err}");
    }
}

#[test]
fn errors_point_at_the_operator() {
    let err = eval_when("1 < a").expect_err("type error");
    assert_eq!(err.position().column, 3);
    let err = eval_when("a ==\n 'b").expect_err("unclosed");
    assert_eq!((err.position().line, err.position().column), (2, 2));
}

#[test]
fn long_and_deep_inputs() {
    let chain = "true && ".repeat(10_000) + "true";
    assert_eq!(eval_when(&chain), Ok(true));
    let sum = "1 + ".repeat(10_000) + "1 == 10001";
    assert_eq!(eval_when(&sum), Ok(true));
    let deep = "(".repeat(10_000) + "true" + &")".repeat(10_000);
    assert!(matches!(eval_when(&deep), Err(ExprError::TooDeep { .. })));
    let ok = "(".repeat(50) + "true" + &")".repeat(50);
    assert_eq!(eval_when(&ok), Ok(true));
}

#[test]
fn conditions_rendered_from_templates() {
    use crate::expr::template::{Scope, Unresolved, render};
    let scope = Scope::from_iter([
        ("steps.flip-coin.outputs.result", "heads"),
        ("inputs.parameters.should-print", "true"),
        ("workflow.parameters.json", "[{\"value\": \"true\"}]"),
        ("inputs.parameters.num", "3"),
    ]);
    let cases = [
        ("{{steps.flip-coin.outputs.result}} == heads", true),
        ("{{steps.flip-coin.outputs.result}} == tails", false),
        ("{{inputs.parameters.should-print}} == true", true),
        ("{{= inputs.parameters[\"should-print\"] == 'true'}}", true),
        (
            "{{=jsonpath(workflow.parameters.json, '$[0].value') == 'true'}}",
            true,
        ),
        (
            "{{inputs.parameters.num}} != 1 && {{inputs.parameters.num}} != 2",
            true,
        ),
    ];
    for (when, want) in cases {
        let text = render(when, &scope, Unresolved::Error).expect(when);
        assert_eq!(eval_when(&text), Ok(want), "{when} -> {text}");
    }
}
