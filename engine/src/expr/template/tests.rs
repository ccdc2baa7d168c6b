//! Template rendering: simple and expression tags, both unresolved modes, nested tags, Argo's own
//! template test cases, and the errors.

use super::*;

fn scope() -> Scope {
    Scope::from_iter([
        ("inputs.parameters.message", "hi"),
        ("inputs.parameters.count", "3"),
        ("inputs.parameters.should-print", "true"),
        ("workflow.name", "wf-1"),
        ("workflow.parameters", "{\"p\":\"v\"}"),
        ("workflow.parameters.p", "v"),
        ("item", "{\"a\":\"1\",\"b\":\"x\"}"),
        ("item.a", "1"),
        ("item.b", "x"),
        ("tasks.B.outputs.result", "b-out"),
        ("tasks.C.outputs.parameters.x", "c-x"),
        ("inner", "suffix"),
        ("outer-suffix", "final-value"),
    ])
}

fn render_ok(text: &str, mode: Unresolved) -> String {
    render(text, &scope(), mode).unwrap_or_else(|e| panic!("{text}: {e}"))
}

#[test]
fn text_without_tags_is_unchanged() {
    for text in ["", "plain", "a } b { c", "{ {x} }"] {
        assert_eq!(render_ok(text, Unresolved::Error), text);
    }
}

#[test]
fn simple_tags() {
    let cases = [
        ("{{inputs.parameters.message}}", "hi"),
        ("say {{ inputs.parameters.message }}!", "say hi!"),
        ("{{workflow.name}}-{{item.a}}", "wf-1-1"),
        ("{{item}}", "{\"a\":\"1\",\"b\":\"x\"}"),
        ("{{inputs.parameters.message}}}", "hi}"),
        (
            "{{{inputs.parameters.message}}",
            "{{{inputs.parameters.message}}",
        ),
    ];
    for (text, want) in cases {
        assert_eq!(render_ok(text, Unresolved::Keep), want, "{text}");
    }
}

#[test]
fn unresolved_simple_tags() {
    let text = "a {{ steps.x.outputs.result }} b";
    assert_eq!(render_ok(text, Unresolved::Keep), text);
    let err = render(text, &scope(), Unresolved::Error).expect_err("unresolved");
    assert_eq!(
        err.to_string(),
        "failed to resolve {{ steps.x.outputs.result }}"
    );
    assert_eq!(
        err,
        TemplateError::Unresolved {
            tag: " steps.x.outputs.result ".into()
        }
    );
    // `{{ =1 }}` is a simple tag named `=1`, as in Argo.
    assert!(render("{{ =1 }}", &scope(), Unresolved::Error).is_err());
}

#[test]
fn nested_tags_resolve_one_level_per_pass() {
    let pass1 = render_ok("{{outer-{{inner}}}}", Unresolved::Keep);
    assert_eq!(pass1, "{{outer-suffix}}");
    assert_eq!(render_ok(&pass1, Unresolved::Keep), "final-value");
    assert_eq!(
        render_ok("{{A {{B {{inner}}}}}}", Unresolved::Keep),
        "{{A {{B suffix}}}}"
    );
}

#[test]
fn unclosed_tags_are_errors_in_both_modes() {
    for mode in [Unresolved::Error, Unresolved::Keep] {
        let err = render("ab {{ x", &scope(), mode).expect_err("unclosed");
        assert_eq!(err, TemplateError::Unclosed { offset: 3 });
    }
}

#[test]
fn argo_expression_cases() {
    // util/template/template_test.go
    let employees = r#"{"employees": [{"name": "Baris", "age":43, "friends": ["Mo", "Jai"]}, {"name": "Mo", "age": 42, "friends": ["Baris", "Jai"]}, {"name": "Jai", "age" :44, "friends": ["Baris", "Mo"]}]}"#;
    let jp = |path: &str| format!("{{{{=jsonpath('{employees}', '{path}')}}}}");
    let cases = [
        ("{{='test'}}".to_owned(), "test"),
        ("{{=\"test\"}}".to_owned(), "test"),
        ("{{='some\\\\path'}}".to_owned(), "some\\path"),
        ("{{='a\\nb'}}".to_owned(), "a\nb"),
        ("{{=1 + \n1}}".to_owned(), "2"),
        ("{{=toJson('test')}}".to_owned(), "\"test\""),
        ("{{=toJson({test: 1})}}".to_owned(), "{\"test\":1}"),
        (
            "{{=toJson([1, '2', {an: 'object'}])}}".to_owned(),
            "[1,\"2\",{\"an\":\"object\"}]",
        ),
        ("{{=\"'\"}}".to_owned(), "'"),
        ("{{='\"'}}".to_owned(), "\""),
        ("{{=true == false}}".to_owned(), "false"),
        (jp("$.employees[*].name"), "[\"Baris\",\"Mo\",\"Jai\"]"),
        (jp("$.employees[0].friends"), "[\"Mo\",\"Jai\"]"),
        (jp("$.employees[0].age"), "43"),
        (jp("$.employees[?(@.name==\"Baris\")].age"), "[43]"),
    ];
    for (text, want) in cases {
        assert_eq!(render_ok(&text, Unresolved::Error), want, "{text}");
    }
}

#[test]
fn expression_tags_see_the_scope() {
    let cases = [
        ("{{=inputs.parameters.message}}", "hi"),
        (
            "{{= inputs.parameters[\"should-print\"] == 'true'}}",
            "true",
        ),
        ("{{=asInt(inputs.parameters.count) * 10}}", "30"),
        ("{{=item.a}}", "1"),
        ("{{=toJson(item)}}", "{\"a\":\"1\",\"b\":\"x\"}"),
        ("{{=sprig.upper(item.b)}}", "X"),
        ("{{=workflow.parameters.p}}", "v"),
        ("{{=tasks.C.outputs.parameters.x ?? 'none'}}", "c-x"),
        ("{{=tasks.B.outputs.parameters?.x ?? 'none'}}", "none"),
        ("{{=1/2}}", "0.5"),
        ("{{=4/2}}", "2"),
        ("{{=asFloat('1e21')}}", "1e+21"),
        ("{{=[1, 2.5, nil]}}", "[1,2.5,null]"),
        ("{{=['<&>']}}", "[\"\\u003c\\u0026\\u003e\"]"),
        ("{{='<&>'}}", "<&>"),
        ("{{=let x = 1; x + 1}}", "2"),
        (
            "hello {{inputs.parameters.message}} @ {{=asInt(inputs.parameters.count) + 1}}!",
            "hello hi @ 4!",
        ),
    ];
    for (text, want) in cases {
        assert_eq!(render_ok(text, Unresolved::Error), want, "{text}");
    }
}

#[test]
fn expressions_with_missing_variables() {
    let kept = [
        "{{=steps.x.outputs.result}}",
        "{{=sprig.upper(retries)}}",
        "{{=inputs.parameters.nope}}",
        "{{=item.c + 'x'}}",
        "pre {{=workflow.status == 'Succeeded' ? 'ok' : 'ko'}} post",
    ];
    for text in kept {
        assert_eq!(render_ok(text, Unresolved::Keep), text);
        let err = render(text, &scope(), Unresolved::Error).expect_err(text);
        assert!(
            matches!(err, TemplateError::Missing { .. }),
            "{text}: {err}"
        );
    }
    let err = render("{{=steps.x.outputs.result}}", &scope(), Unresolved::Error);
    assert_eq!(
        err.map_err(|e| e.to_string()),
        Err("failed to evaluate expression {{=steps.x.outputs.result}}: steps is missing".into())
    );
}

#[test]
fn expression_errors_once_variables_are_present() {
    let cases = [
        ("{{=1 + 'a'}}", "invalid operation"),
        ("{{=1 +}}", "unexpected end of expression"),
        ("{{=nil}}", "the result is nil"),
        ("{{=1/0}}", "+Inf"),
        (
            "{{=tasks.A.outputs.result ?? 'x'}}",
            "cannot fetch outputs from nil",
        ),
        (
            "{{=tasks.B.outputs.parameters.x ?? 'none'}}",
            "cannot fetch x from nil",
        ),
        ("{{={a: 1}}}", "unexpected end of expression"),
        ("{{=foo(1)}}", "unknown function foo"),
    ];
    for (text, want) in cases {
        for mode in [Unresolved::Error, Unresolved::Keep] {
            let err = render(text, &scope(), mode).expect_err(text).to_string();
            assert!(err.contains(want), "{text}: {err}");
        }
    }
    let err = render("{{=1 + 'a'}}", &scope(), Unresolved::Error).expect_err("type");
    let TemplateError::Expression { source, .. } = err else {
        panic!("not an expression error: {err}");
    };
    assert_eq!(source.position().column, 3);
}

#[test]
fn child_scopes_render_with_their_parents() {
    let base = scope().into_shared();
    let mut child = Scope::child(&base);
    child.insert("item", "override");
    // The parent's `item.a` and `item.b` still make `item` a map for expressions…
    let got = render(
        "{{item}} {{workflow.name}} {{=item.a}}",
        &child,
        Unresolved::Error,
    );
    assert_eq!(got.as_deref(), Ok("override wf-1 1"));
    // …until the child removes the parent's `item` tree.
    child.remove_tree("item");
    child.insert("item", "override");
    let got = render("{{item}} {{=item}} {{item.a}}", &child, Unresolved::Keep);
    assert_eq!(got.as_deref(), Ok("override override {{item.a}}"));
}

#[test]
fn tags_are_listed_as_written() {
    let cases: [(&str, &[&str]); 5] = [
        ("a {{x}} b {{= y }} c", &["x", "= y "]),
        ("{{a}}}", &["a"]),
        ("{{outer-{{inner}}}}", &["outer-{{inner"]),
        ("{{a}} {{b", &["a"]),
        ("none", &[]),
    ];
    for (text, want) in cases {
        assert_eq!(tags(text).collect::<Vec<_>>(), want, "{text}");
    }
}
