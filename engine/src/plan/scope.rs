//! Variables visible to `{{…}}` tags while planning, and the one door to the tag renderer.

use std::sync::Arc;

use crate::expr::template::{self, Scope};

/// The variables of one scope: Argo's flat keys (`inputs.parameters.x`, `steps.a.outputs.result`,
/// `workflow.name`, `item`…). A scope is the shared workflow-level base plus local entries, so
/// building one per step costs only its own entries.
#[derive(Debug, Clone, Default)]
pub struct Vars {
    scope: Scope,
    /// Keys that exist but hold nothing (outputs of skipped steps without a default).
    nils: Vec<String>,
}

impl Vars {
    /// A scope over shared workflow-level variables.
    pub fn with_base(base: Arc<Scope>) -> Self {
        Self {
            scope: Scope::child(&base),
            nils: Vec::new(),
        }
    }

    /// Sets a local variable (shadows the base).
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.scope.insert(key, value);
    }

    /// Looks a variable up.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.scope.get(key)
    }

    /// Declares `key` present but empty: expressions see `nil`, and an argument that is only
    /// this key is dropped so the input's default applies (Argo's skipped-output rules).
    pub fn insert_nil(&mut self, key: impl Into<String>) {
        self.nils.push(key.into());
    }

    /// Whether `key` was declared empty with [`Vars::insert_nil`].
    pub fn is_nil(&self, key: &str) -> bool {
        self.nils.iter().any(|k| k == key)
    }
}

/// `vars`, plus `key` = `name` when the parameters of `args` mention `key`: in a call's own
/// arguments `{{steps.name}}` / `{{tasks.name}}` name that step or task. Borrows otherwise, so
/// calls that do not mention it cost nothing.
pub(crate) fn naming<'v>(
    vars: &'v Vars,
    args: Option<&crate::model::Arguments>,
    key: &str,
    name: &str,
) -> std::borrow::Cow<'v, Vars> {
    let mentions = args
        .into_iter()
        .flat_map(|a| a.parameters.iter().flatten())
        .any(|p| p.value.as_ref().is_some_and(|v| v.0.contains(key)));
    if !mentions {
        return std::borrow::Cow::Borrowed(vars);
    }
    let mut own = vars.clone();
    own.insert(key, name);
    std::borrow::Cow::Owned(own)
}

/// What to do with a tag whose variable is unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unresolved {
    /// Fail, naming the tag.
    Error,
    /// Leave the tag as written (it is resolved later, e.g. `{{steps.x…}}` inside a template).
    Keep,
}

/// Substitutes the `{{…}}` tags of `text`.
pub fn render(text: &str, vars: &Vars, mode: Unresolved) -> Result<String, String> {
    if !text.contains("{{") {
        return Ok(text.to_string());
    }
    let mode = match mode {
        Unresolved::Error => template::Unresolved::Error,
        Unresolved::Keep => template::Unresolved::Keep,
    };
    template::render(text, &vars.scope, mode).map_err(|e| e.to_string())
}

/// Evaluates a `when` condition after its tags were substituted.
pub fn eval_when(text: &str) -> Result<bool, String> {
    crate::expr::when::eval_when(text).map_err(|e| e.to_string())
}

/// Evaluates an expression (`valueFrom.expression`, retry `expression`, hook `expression`)
/// against a scope; unknown variables are `nil`.
pub fn eval_expr(src: &str, vars: &Vars) -> Result<serde_json::Value, String> {
    template::eval_with_nils(src, &vars.scope, &vars.nils).map_err(|e| e.to_string())
}

/// Renders every string inside a JSON value (keys untouched).
pub fn render_json(
    value: &mut serde_json::Value,
    vars: &Vars,
    mode: Unresolved,
) -> Result<(), String> {
    match value {
        serde_json::Value::String(s) => {
            if s.contains("{{") {
                *s = render(s, vars, mode)?;
            }
            Ok(())
        }
        serde_json::Value::Array(items) => items
            .iter_mut()
            .try_for_each(|v| render_json(v, vars, mode)),
        serde_json::Value::Object(map) => map
            .values_mut()
            .try_for_each(|v| render_json(v, vars, mode)),
        _ => Ok(()),
    }
}

/// Substitutes the tags of any serializable model value (a template, arguments…).
pub fn render_model<T>(value: &T, vars: &Vars, mode: Unresolved) -> Result<T, String>
where
    T: serde::Serialize + serde::de::DeserializeOwned,
{
    let mut json = serde_json::to_value(value).map_err(|e| e.to_string())?;
    render_json(&mut json, vars, mode)?;
    serde_json::from_value(json).map_err(|e| format!("after substitution: {e}"))
}
