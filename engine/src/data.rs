//! Data templates (`data:`): the transformations applied, in order, to what the source produced
//! (for `artifactPaths`, the list of keys below an artifact). Each `expression` is an expr-lang
//! expression over `data`; its value is the next step's `data`, and the last one becomes the
//! step's `outputs.result`.

use serde_json::Value;

use crate::model::TransformationStep;

/// Applies the transformations to `data`. The error names the step (counted from 0, as Argo
/// does) and the expression's own message.
pub fn transform(mut data: Value, steps: &[TransformationStep]) -> Result<Value, String> {
    for (i, step) in steps.iter().enumerate() {
        let Some(src) = step.expression.as_deref().filter(|e| !e.trim().is_empty()) else {
            continue;
        };
        let env = serde_json::json!({ "data": data });
        data = crate::expr::eval(src, &env)
            .map_err(|e| format!("data transformation {i} (`{src}`): {e}"))?;
    }
    Ok(data)
}

/// How a data template's result is written into `outputs.result`: JSON, as Argo marshals it
/// (a string result stays a bare string).
pub fn result_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn steps(exprs: &[&str]) -> Vec<TransformationStep> {
        exprs
            .iter()
            .map(|e| TransformationStep {
                expression: Some((*e).to_string()),
            })
            .collect()
    }

    #[test]
    fn filters_and_maps_keys_in_order() {
        let keys = serde_json::json!(["a/main.log", "a/other.txt", "b/main.log"]);
        let out = transform(
            keys,
            &steps(&[
                r#"filter(data, {# endsWith "main.log"})"#,
                r#"map(data, {# + ".gz"})"#,
            ]),
        )
        .unwrap();
        assert_eq!(out, serde_json::json!(["a/main.log.gz", "b/main.log.gz"]));
        assert_eq!(result_text(&out), r#"["a/main.log.gz","b/main.log.gz"]"#);
    }

    #[test]
    fn no_transformation_keeps_the_data_and_errors_name_the_step() {
        let keys = serde_json::json!(["x"]);
        assert_eq!(transform(keys.clone(), &[]).unwrap(), keys);
        let err = transform(keys, &steps(&["len(data)", "data.nope + 1"])).unwrap_err();
        assert!(
            err.starts_with("data transformation 1 (`data.nope + 1`)"),
            "{err}"
        );
    }
}
