//! Normalizations: a switch that makes the simulator report a configuration field in another
//! spelling than the one it was sent, as AWS does for fields it normalizes without documenting it
//! (docs/aws-behaviour.md X13). The stored configuration keeps the value as sent; only what the
//! responses report is rewritten, so every read after every update differs from the request again.
//!
//! A normalization is keyed `service:field`: `ecs:healthCheckPath` rewrites the field in every
//! configuration an ECS Express response carries (`activeConfigurations` and `targetConfiguration`),
//! `apprunner:healthCheckConfiguration.path` the field of the `Service` an App Runner response
//! carries. Fields are dotted paths, matched case-insensitively, so the request's camelCase names
//! also find App Runner's PascalCase members.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How a normalization rewrites a string value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Rewrite {
    /// To lower case.
    Lowercase,
    /// To upper case.
    Uppercase,
}

impl Rewrite {
    fn apply(self, text: &str) -> String {
        match self {
            Self::Lowercase => text.to_lowercase(),
            Self::Uppercase => text.to_uppercase(),
        }
    }

    /// Parses `lowercase` or `uppercase`.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text {
            "lowercase" => Ok(Self::Lowercase),
            "uppercase" => Ok(Self::Uppercase),
            other => Err(format!(
                "normalization {other:?} is not one of lowercase, uppercase"
            )),
        }
    }
}

/// Checks the keys: `ecs:` or `apprunner:` and a field.
pub fn validate(normalize: &BTreeMap<String, Rewrite>) -> Result<(), String> {
    for key in normalize.keys() {
        let field = key
            .strip_prefix("ecs:")
            .or_else(|| key.strip_prefix("apprunner:"));
        if field.is_none_or(|f| f.is_empty() || f.split('.').any(str::is_empty)) {
            return Err(format!(
                "normalization key {key:?} must be \"ecs:<field>\" or \"apprunner:<field>\", the field a \
                 dotted path"
            ));
        }
    }
    Ok(())
}

/// Rewrites the fields `normalize` names for `service` (`ecs` or `apprunner`) in a response body.
pub fn apply(normalize: &BTreeMap<String, Rewrite>, service: &str, response: &mut Value) {
    let prefix = format!("{service}:");
    for (key, rewrite) in normalize {
        let Some(field) = key.strip_prefix(&prefix) else {
            continue;
        };
        let path: Vec<&str> = field.split('.').collect();
        for config in configurations(service, response) {
            rewrite_at(config, &path, *rewrite);
        }
    }
}

/// The service configurations a response carries.
fn configurations<'a>(service: &str, response: &'a mut Value) -> Vec<&'a mut Value> {
    match service {
        "ecs" => {
            let Some(Value::Object(svc)) = response.get_mut("service") else {
                return Vec::new();
            };
            let mut out = Vec::new();
            for (key, value) in svc.iter_mut() {
                match (key.as_str(), value) {
                    ("activeConfigurations", Value::Array(items)) => out.extend(items.iter_mut()),
                    ("targetConfiguration", config) => out.push(config),
                    _ => {}
                }
            }
            out
        }
        "apprunner" => response.get_mut("Service").into_iter().collect(),
        _ => Vec::new(),
    }
}

/// Rewrites the string (or the strings of a list) at `path` under `value`; a list on the way is
/// walked element by element.
fn rewrite_at(value: &mut Value, path: &[&str], rewrite: Rewrite) {
    match (value, path.split_first()) {
        (Value::String(text), None) => *text = rewrite.apply(text),
        (Value::Array(items), _) => {
            for item in items {
                rewrite_at(item, path, rewrite);
            }
        }
        (Value::Object(map), Some((head, rest))) => {
            if let Some((_, member)) = map.iter_mut().find(|(k, _)| k.eq_ignore_ascii_case(head)) {
                rewrite_at(member, rest, rewrite);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rules(pairs: &[(&str, Rewrite)]) -> BTreeMap<String, Rewrite> {
        pairs.iter().map(|(k, r)| (k.to_string(), *r)).collect()
    }

    #[test]
    fn ecs_configurations_are_rewritten_wherever_a_response_carries_them() {
        let normalize = rules(&[("ecs:healthCheckPath", Rewrite::Lowercase)]);
        let mut describe = json!({"service": {"activeConfigurations": [
            {"healthCheckPath": "/Health"}, {"healthCheckPath": "/Other"}
        ]}});
        apply(&normalize, "ecs", &mut describe);
        assert_eq!(
            describe["service"]["activeConfigurations"][0]["healthCheckPath"],
            "/health"
        );
        assert_eq!(
            describe["service"]["activeConfigurations"][1]["healthCheckPath"],
            "/other"
        );
        let mut update = json!({"service": {"targetConfiguration": {"healthCheckPath": "/Health"}}});
        apply(&normalize, "ecs", &mut update);
        assert_eq!(
            update["service"]["targetConfiguration"]["healthCheckPath"],
            "/health"
        );
        let mut untouched = json!({"Service": {"HealthCheckConfiguration": {"Path": "/Health"}}});
        apply(&normalize, "apprunner", &mut untouched);
        assert_eq!(
            untouched["Service"]["HealthCheckConfiguration"]["Path"],
            "/Health"
        );
    }

    #[test]
    fn app_runner_fields_match_in_any_case_and_lists_are_walked() {
        let normalize = rules(&[
            ("apprunner:healthCheckConfiguration.path", Rewrite::Lowercase),
            ("apprunner:networkConfiguration.ipAddressType", Rewrite::Uppercase),
            ("ecs:primaryContainer.command", Rewrite::Uppercase),
        ]);
        let mut service = json!({"Service": {
            "HealthCheckConfiguration": {"Path": "/Health"},
            "NetworkConfiguration": {"IpAddressType": "dual_stack"}
        }});
        apply(&normalize, "apprunner", &mut service);
        assert_eq!(service["Service"]["HealthCheckConfiguration"]["Path"], "/health");
        assert_eq!(
            service["Service"]["NetworkConfiguration"]["IpAddressType"],
            "DUAL_STACK"
        );
        let mut ecs = json!({"service": {"activeConfigurations": [
            {"primaryContainer": {"command": ["run", "it"]}}
        ]}});
        apply(&normalize, "ecs", &mut ecs);
        assert_eq!(
            ecs["service"]["activeConfigurations"][0]["primaryContainer"]["command"],
            json!(["RUN", "IT"])
        );
    }

    #[test]
    fn keys_must_name_a_service_and_a_field() {
        assert!(validate(&rules(&[("ecs:healthCheckPath", Rewrite::Lowercase)])).is_ok());
        for bad in ["s3:path", "ecs:", "apprunner:a..b", "healthCheckPath"] {
            assert!(validate(&rules(&[(bad, Rewrite::Lowercase)])).is_err(), "{bad}");
        }
        assert_eq!(Rewrite::parse("uppercase"), Ok(Rewrite::Uppercase));
        assert!(Rewrite::parse("titlecase").is_err());
    }
}
