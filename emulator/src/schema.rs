//! Request-body validation against the definitions of the official OpenAPI file.
//!
//! Checks what the service checks before it looks at semantics: unknown properties, required
//! properties, JSON types, integer formats, enums (case-insensitively, like the service) and
//! read-only properties. Errors name the property by its JSON path (e.g. `startTask.commandLine`).

use serde_json::Value;
use std::sync::OnceLock;

use crate::error::ApiError;

const SPEC_TEXT: &str = include_str!("../../spec/BatchService.2024-07-01.20.0.json");

pub fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| {
        serde_json::from_str(SPEC_TEXT).expect("the embedded OpenAPI file is valid JSON")
    })
}

fn resolve(schema: &Value) -> &Value {
    let mut s = schema;
    while let Some(r) = s.get("$ref").and_then(Value::as_str) {
        let name = r.trim_start_matches("#/definitions/");
        s = &spec()["definitions"][name];
    }
    s
}

/// Validate `body` against the definition `definition` (e.g. `PoolAddParameter`).
pub fn validate(definition: &str, body: &Value) -> Result<(), ApiError> {
    let schema = &spec()["definitions"][definition];
    if schema.is_null() {
        return Ok(());
    }
    check(schema, body, "")
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

fn short(v: &Value) -> String {
    let s = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if s.len() > 200 {
        format!("{}...", &s[..200])
    } else {
        s
    }
}

fn type_error(path: &str, v: &Value, expected: &str) -> ApiError {
    ApiError::bad(
        "InvalidRequestBody",
        "The specified Request Body is not syntactically valid.",
    )
    .with("PropertyName", if path.is_empty() { "body" } else { path })
    .with("PropertyValue", short(v))
    .with("Reason", format!("Expected a value of type {expected}."))
}

fn check(schema: &Value, v: &Value, path: &str) -> Result<(), ApiError> {
    let schema = resolve(schema);
    let ty = schema.get("type").and_then(Value::as_str).unwrap_or(
        if schema.get("properties").is_some() {
            "object"
        } else {
            ""
        },
    );
    if v.is_null() {
        // Explicit nulls are treated like absent properties by the service.
        return Ok(());
    }
    match ty {
        // Free-form objects (extension `settings`, ...) are passed through as the service does.
        "object"
            if schema.get("properties").is_none()
                && schema.get("additionalProperties").is_none() =>
        {
            Ok(())
        }
        "object" => {
            let Some(obj) = v.as_object() else {
                return Err(type_error(path, v, "object"));
            };
            let props = schema.get("properties").and_then(Value::as_object);
            if let Some(props) = props {
                for req in schema
                    .get("required")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let name = req.as_str().unwrap_or_default();
                    if obj.get(name).is_none_or(Value::is_null) {
                        return Err(ApiError::missing_property(&join(path, name)));
                    }
                }
                for (k, val) in obj {
                    match props.get(k) {
                        None => {
                            if k.starts_with("odata.") {
                                continue;
                            }
                            return Err(ApiError::bad(
                                "InvalidRequestBody",
                                "The specified Request Body is not syntactically valid.",
                            )
                            .with("PropertyName", join(path, k))
                            .with(
                                "Reason",
                                format!(
                                    "The property '{k}' is not a known property of this object."
                                ),
                            ));
                        }
                        Some(ps) => {
                            if ps.get("readOnly").and_then(Value::as_bool) == Some(true) {
                                return Err(ApiError::invalid_property(
                                    &join(path, k),
                                    Some(&short(val)),
                                    "The property is read-only and cannot be set.",
                                ));
                            }
                            check(ps, val, &join(path, k))?;
                        }
                    }
                }
            } else if let Some(ap) = schema.get("additionalProperties") {
                for (k, val) in obj {
                    check(ap, val, &join(path, k))?;
                }
            }
            Ok(())
        }
        "array" => {
            let Some(arr) = v.as_array() else {
                return Err(type_error(path, v, "array"));
            };
            if let Some(items) = schema.get("items") {
                for (i, it) in arr.iter().enumerate() {
                    check(items, it, &format!("{path}[{i}]"))?;
                }
            }
            Ok(())
        }
        "string" => {
            let Some(s) = v.as_str() else {
                return Err(type_error(path, v, "string"));
            };
            if let Some(en) = schema.get("enum").and_then(Value::as_array)
                && !en
                    .iter()
                    .filter_map(Value::as_str)
                    .any(|e| e.eq_ignore_ascii_case(s))
            {
                let allowed: Vec<&str> = en.iter().filter_map(Value::as_str).collect();
                return Err(ApiError::invalid_property(
                    path,
                    Some(s),
                    &format!("The value must be one of: {}.", allowed.join(", ")),
                ));
            }
            match schema.get("format").and_then(Value::as_str) {
                Some("duration") if crate::util::parse_duration_ms(s).is_none() => {
                    Err(ApiError::invalid_property(
                        path,
                        Some(s),
                        "The value is not a valid ISO 8601 duration (for example PT15M or P7D).",
                    ))
                }
                Some("date-time") if crate::util::parse_iso(s).is_none() => {
                    Err(ApiError::invalid_property(
                        path,
                        Some(s),
                        "The value is not a valid ISO 8601 date-time.",
                    ))
                }
                _ => Ok(()),
            }
        }
        "integer" => {
            let Some(n) = v.as_i64() else {
                return Err(type_error(path, v, "integer"));
            };
            if schema.get("format").and_then(Value::as_str) == Some("int32")
                && (n < i32::MIN as i64 || n > i32::MAX as i64)
            {
                return Err(ApiError::invalid_property(
                    path,
                    Some(&n.to_string()),
                    "The value is out of range for a 32-bit integer.",
                ));
            }
            Ok(())
        }
        "number" => {
            if v.is_number() {
                Ok(())
            } else {
                Err(type_error(path, v, "number"))
            }
        }
        "boolean" => {
            if v.is_boolean() {
                Ok(())
            } else {
                Err(type_error(path, v, "boolean"))
            }
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn prop(e: &ApiError) -> String {
        e.values
            .iter()
            .find(|(k, _)| k == "PropertyName")
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    #[test]
    fn pool_add_checks() {
        let ok = json!({"id":"p","vmSize":"standard_d2s_v3","virtualMachineConfiguration":{"imageReference":{"publisher":"a","offer":"b","sku":"c"},"nodeAgentSKUId":"batch.node.ubuntu 20.04"}});
        validate("PoolAddParameter", &ok).unwrap();
        let e = validate("PoolAddParameter", &json!({"id":"p"})).unwrap_err();
        assert_eq!(
            (e.code.as_str(), prop(&e).as_str()),
            ("MissingRequiredProperty", "vmSize")
        );
        let e = validate(
            "PoolAddParameter",
            &json!({"id":"p","vmSize":"x","bogus":1}),
        )
        .unwrap_err();
        assert_eq!(
            (e.code.as_str(), prop(&e).as_str()),
            ("InvalidRequestBody", "bogus")
        );
        let e = validate(
            "PoolAddParameter",
            &json!({"id":"p","vmSize":"x","targetDedicatedNodes":"two"}),
        )
        .unwrap_err();
        assert_eq!(prop(&e), "targetDedicatedNodes");
        let e = validate(
            "PoolAddParameter",
            &json!({"id":"p","vmSize":"x","virtualMachineConfiguration":{"imageReference":{},"nodeAgentSKUId":"n","containerConfiguration":{"type":"rkt"}}}),
        )
        .unwrap_err();
        assert_eq!(
            (e.code.as_str(), prop(&e).as_str()),
            (
                "InvalidPropertyValue",
                "virtualMachineConfiguration.containerConfiguration.type"
            )
        );
        let e = validate(
            "PoolAddParameter",
            &json!({"id":"p","vmSize":"x","resizeTimeout":"15 minutes"}),
        )
        .unwrap_err();
        assert_eq!(prop(&e), "resizeTimeout");
        let e = validate(
            "TaskAddParameter",
            &json!({"id":"t","commandLine":"x","environmentSettings":[{"value":"v"}]}),
        )
        .unwrap_err();
        assert_eq!(prop(&e), "environmentSettings[0].name");
    }
}
