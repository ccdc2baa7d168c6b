//! Table tests of `eval`: each case is an expression and what expr-lang's Go runtime (with
//! Argo's environment functions) gives for it — a JSON value, or an error (checked by a
//! substring of Trellis' message).

mod functions;
mod limits;
mod operators;
mod sprig;

use super::eval;
use serde_json::{Value as Json, json};

/// The environment the tables evaluate against.
pub(super) fn env() -> Json {
    json!({
        "s": "hello",
        "n": 7,
        "f": 2.5,
        "b": true,
        "nilv": null,
        "arr": [1, 2, 3],
        "strs": ["a", "b", "c"],
        "obj": {"a": 1, "b-c": "x", "nested": {"k": "v"}},
        "users": [{"name": "Ann", "age": 30}, {"name": "Bob", "age": 17}],
        "inputs": {"parameters": {"message": "hi", "count": "3", "should-print": "true"}},
        "json": "{\"a\":{\"b\":[1,2]},\"items\":[{\"id\":1},{\"id\":2}]}"
    })
}

/// A case: the expression and its expected value or error substring.
pub(super) type Case = (&'static str, Result<Json, &'static str>);

/// Runs a table, reporting every mismatch at once.
pub(super) fn check(cases: &[Case]) {
    let env = env();
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|(src, want)| {
            let got = eval(src, &env);
            let pass = match (want, &got) {
                (Ok(w), Ok(g)) => w == g,
                (Err(sub), Err(e)) => e.to_string().contains(sub),
                _ => false,
            };
            (!pass).then(|| format!("{src}\n    want {want:?}\n    got  {got:?}"))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
