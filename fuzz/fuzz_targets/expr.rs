//! Expressions, `when` conditions and templates from arbitrary input: nothing may panic, hang
//! or overflow the stack.
#![no_main]

use std::sync::OnceLock;

use engine::expr::template::{Scope, Unresolved, render};
use engine::expr::{eval, when::eval_when};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

fn env() -> &'static Value {
    static ENV: OnceLock<Value> = OnceLock::new();
    ENV.get_or_init(|| {
        json!({
            "s": "hello", "n": 7, "f": 2.5, "b": true, "z": null,
            "arr": [1, 2.5, "x", null, [3]],
            "obj": {"a": 1, "b-c": "x", "m": {"k": [true]}},
            "json": "{\"a\": [1, {\"b\": 2}]}",
        })
    })
}

fn scope() -> &'static Scope {
    static SCOPE: OnceLock<Scope> = OnceLock::new();
    SCOPE.get_or_init(|| {
        Scope::from_iter([
            ("inputs.parameters.message", "hi"),
            ("inputs.parameters.n", "3"),
            ("item", "{\"a\":\"1\"}"),
            ("item.a", "1"),
            ("steps.flip.outputs.result", "heads"),
            ("workflow.parameters.json", "[{\"value\": \"true\"}]"),
        ])
    })
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = eval(&text, env());
    let _ = eval_when(&text);
    let _ = render(&text, scope(), Unresolved::Keep);
    let _ = render(&text, scope(), Unresolved::Error);
});
