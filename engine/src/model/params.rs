//! Parameters, arguments, inputs and outputs.

use k8s_openapi::api::core::v1::ConfigMapKeySelector;
use serde::{Deserialize, Serialize};

use super::artifacts::Artifact;
use super::scalars::AnyString;

/// Values passed to a workflow or a template call.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Arguments {
    /// Parameter values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Vec<Parameter>>,
    /// Artifact values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifacts: Option<Vec<Artifact>>,
}

/// What a template takes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Inputs {
    /// Input parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Vec<Parameter>>,
    /// Input artifacts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifacts: Option<Vec<Artifact>>,
}

/// What a template produces.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Outputs {
    /// Output parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Vec<Parameter>>,
    /// Output artifacts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifacts: Option<Vec<Artifact>>,
    /// Standard output of a script or container (status only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// Exit code of the main container (status only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<String>,
}

/// A named parameter: a value, a default, or where to take the value from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Parameter {
    /// Parameter name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Value used when none is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<AnyString>,
    /// The value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<AnyString>,
    /// Where the value comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_from: Option<ValueFrom>,
    /// Name under which the parameter is exported as a global output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub global_name: Option<String>,
    /// The values allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r#enum: Option<Vec<AnyString>>,
    /// Description of the parameter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<AnyString>,
}

/// Where a parameter's value comes from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ValueFrom {
    /// A file in the container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// A JSONPath applied to a resource template's resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json_path: Option<String>,
    /// A jq filter applied to a resource template's resource.
    #[serde(rename = "jqFilter", default, skip_serializing_if = "Option::is_none")]
    pub jq_filter: Option<String>,
    /// An expression over the triggering event (workflow event bindings).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    /// Another parameter (e.g. `{{steps.x.outputs.parameters.y}}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
    /// The value is supplied later, by a person resuming a suspend node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supplied: Option<SuppliedValueFrom>,
    /// A key of a config map.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map_key_ref: Option<ConfigMapKeySelector>,
    /// Value used when the source is missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<AnyString>,
    /// An expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
}

/// Marker: the value is supplied by a person (no fields).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SuppliedValueFrom {}

impl Arguments {
    /// The parameter of that name, if any.
    pub fn parameter(&self, name: &str) -> Option<&Parameter> {
        find_parameter(self.parameters.as_deref(), name)
    }

    /// The artifact of that name, if any.
    pub fn artifact(&self, name: &str) -> Option<&Artifact> {
        find_artifact(self.artifacts.as_deref(), name)
    }
}

impl Inputs {
    /// The parameter of that name, if any.
    pub fn parameter(&self, name: &str) -> Option<&Parameter> {
        find_parameter(self.parameters.as_deref(), name)
    }

    /// The artifact of that name, if any.
    pub fn artifact(&self, name: &str) -> Option<&Artifact> {
        find_artifact(self.artifacts.as_deref(), name)
    }
}

impl Outputs {
    /// The parameter of that name, if any.
    pub fn parameter(&self, name: &str) -> Option<&Parameter> {
        find_parameter(self.parameters.as_deref(), name)
    }

    /// The artifact of that name, if any.
    pub fn artifact(&self, name: &str) -> Option<&Artifact> {
        find_artifact(self.artifacts.as_deref(), name)
    }
}

fn find_parameter<'a>(list: Option<&'a [Parameter]>, name: &str) -> Option<&'a Parameter> {
    list?.iter().find(|p| p.name.as_deref() == Some(name))
}

fn find_artifact<'a>(list: Option<&'a [Artifact]>, name: &str) -> Option<&'a Artifact> {
    list?.iter().find(|a| a.name.as_deref() == Some(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_value_accepts_numbers_and_keeps_enum_name() {
        let p: Parameter =
            serde_json::from_str(r#"{"name":"n","value":3,"enum":[1,"two",true]}"#).unwrap();
        assert_eq!(p.value.as_ref().map(AnyString::as_str), Some("3"));
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(v["enum"], serde_json::json!(["1", "two", "true"]));
    }
}
