//! Safe retries of creates: does an existing object match what was sent?
//!
//! A create (Pool_Add, Job_Add, Task_Add) that failed ambiguously (timeout or dropped
//! connection after sending, or a 5xx) may have been committed. When its retry meets
//! `PoolExists`/`JobExists`/`TaskExists`, the client GETs the existing object and adopts it only
//! if it matches what was sent ([`sent_matches`]); otherwise the conflict is returned. A conflict
//! on an unambiguous first attempt is always returned as is. Other writes retried after an
//! ambiguous failure use the same comparison to tell whether the object shows what was written.

use serde_json::Value;

/// Write-only properties the service never returns (secrets): not compared.
const WRITE_ONLY: &[&str] = &[
    "password",
    "accountKey",
    "sasKey",
    "sshPrivateKey",
    "protectedSettings",
];

/// Properties whose values the service may return in a different case (enums it normalises,
/// `vmSize` lower-cased, host names, image coordinates).
const CASE_INSENSITIVE: &[&str] = &[
    "vmSize",
    "nodeFillType",
    "type",
    "workingDirectory",
    "elevationLevel",
    "scope",
    "source",
    "uploadCondition",
    "jobAction",
    "dependencyAction",
    "onAllTasksComplete",
    "onTaskFailure",
    "caching",
    "storageAccountType",
    "targetNodeCommunicationMode",
    "dynamicVNetAssignmentScope",
    "provision",
    "policy",
    "loginMode",
    "mode",
    "securityType",
    "placement",
    "securityEncryptionType",
    "registryServer",
    "nodeAgentSKUId",
    "publisher",
    "offer",
    "sku",
    "protocol",
    "access",
    "targets",
    "storeLocation",
    "visibility",
    "poolLifetimeOption",
    "licenseType",
];

/// ISO 8601 duration properties the service may normalise (`PT60M` → `PT1H`).
const DURATIONS: &[&str] = &[
    "resizeTimeout",
    "autoScaleEvaluationInterval",
    "maxWallClockTime",
    "retentionTime",
    "pauseTimeBetweenBatches",
];

/// Checks that every property present in `sent` (the serialized add parameter) has the same
/// value in `got` (the object the service returned). Properties only in `got` (server-filled
/// defaults, state, timestamps) are ignored; write-only secrets are skipped; enum-like values
/// compare case-insensitively; durations compare by length of time; an empty array, empty
/// object, `false` or `""` that was sent matches an absent property. Returns the path of the
/// first difference on mismatch.
pub fn sent_matches(sent: &Value, got: &Value) -> std::result::Result<(), String> {
    compare(sent, got, "", "")
}

fn is_emptyish(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        Value::Bool(b) => !b,
        Value::String(s) => s.is_empty(),
        Value::Number(_) => false,
    }
}

fn show(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 120 {
        format!("{}…", &s[..s.floor_char_boundary(117)])
    } else {
        s
    }
}

fn compare(sent: &Value, got: &Value, key: &str, path: &str) -> std::result::Result<(), String> {
    let here = || {
        if path.is_empty() {
            "(root)".to_string()
        } else {
            path.to_string()
        }
    };
    match (sent, got) {
        (Value::Null, _) => Ok(()),
        (Value::Object(s), Value::Object(g)) => {
            for (k, sv) in s {
                if WRITE_ONLY.contains(&k.as_str()) {
                    continue;
                }
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                match g.get(k) {
                    None | Some(Value::Null) => {
                        if !is_emptyish(sv) {
                            return Err(format!(
                                "{p}: sent {}, the service has no value",
                                show(sv)
                            ));
                        }
                    }
                    Some(gv) => compare(sv, gv, k, &p)?,
                }
            }
            Ok(())
        }
        (Value::Array(s), Value::Array(g)) => {
            if s.len() != g.len() {
                return Err(format!(
                    "{}: sent {} item(s), the service has {}",
                    here(),
                    s.len(),
                    g.len()
                ));
            }
            for (i, (sv, gv)) in s.iter().zip(g).enumerate() {
                compare(sv, gv, key, &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        (Value::String(s), Value::String(g)) => {
            let equal = if DURATIONS.contains(&key) {
                match (iso_duration_secs(s), iso_duration_secs(g)) {
                    (Some(a), Some(b)) => (a - b).abs() < 1e-3,
                    _ => s == g,
                }
            } else if CASE_INSENSITIVE.contains(&key) {
                s.eq_ignore_ascii_case(g)
            } else {
                s == g
            };
            if equal {
                Ok(())
            } else {
                Err(format!(
                    "{}: sent {}, the service has {}",
                    here(),
                    show(sent),
                    show(got)
                ))
            }
        }
        (Value::Number(s), Value::Number(g)) => {
            if s.as_f64() == g.as_f64() {
                Ok(())
            } else {
                Err(format!("{}: sent {s}, the service has {g}", here()))
            }
        }
        (s, g) if s == g => Ok(()),
        (s, g) if is_emptyish(s) && is_emptyish(g) => Ok(()),
        (s, g) => Err(format!(
            "{}: sent {}, the service has {}",
            here(),
            show(s),
            show(g)
        )),
    }
}

/// Seconds of an ISO 8601 duration like `P1DT2H3M4.5S` (years/months unsupported → `None`).
pub(crate) fn iso_duration_secs(s: &str) -> Option<f64> {
    let s = s.trim();
    let rest = s.strip_prefix('P').or_else(|| s.strip_prefix('p'))?;
    let (date, time) = match rest.find(['T', 't']) {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    let mut total = 0.0;
    let mut parse = |part: &str, units: &[(char, f64)]| -> Option<()> {
        let mut num = String::new();
        for c in part.chars() {
            if c.is_ascii_digit() || c == '.' {
                num.push(c);
            } else {
                let (_, mult) = units.iter().find(|(u, _)| u.eq_ignore_ascii_case(&c))?;
                total += num.parse::<f64>().ok()? * mult;
                num.clear();
            }
        }
        num.is_empty().then_some(())
    };
    parse(date, &[('W', 604_800.0), ('D', 86_400.0)])?;
    if let Some(t) = time {
        parse(t, &[('H', 3600.0), ('M', 60.0), ('S', 1.0)])?;
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn durations() {
        assert_eq!(iso_duration_secs("PT15M"), Some(900.0));
        assert_eq!(iso_duration_secs("P7D"), Some(604800.0));
        assert_eq!(iso_duration_secs("PT1H30M"), Some(5400.0));
        assert_eq!(iso_duration_secs("P1DT0.5S"), Some(86400.5));
        assert_eq!(iso_duration_secs("15M"), None);
        assert_eq!(iso_duration_secs("P1Y"), None);
    }

    #[test]
    fn subset_with_server_defaults_and_case() {
        let sent = json!({"id":"p1","vmSize":"STANDARD_D2S_V3","resizeTimeout":"PT60M",
            "taskSchedulingPolicy":{"nodeFillType":"spread"},
            "virtualMachineConfiguration":{"imageReference":{"publisher":"Canonical"},
              "containerConfiguration":{"type":"dockerCompatible","containerRegistries":[{"registryServer":"r.io","username":"u","password":"secret"}]}},
            "metadata":[], "enableAutoScale": false});
        let got = json!({"id":"p1","vmSize":"standard_d2s_v3","resizeTimeout":"PT1H","state":"active",
            "taskSchedulingPolicy":{"nodeFillType":"Spread"},
            "virtualMachineConfiguration":{"imageReference":{"publisher":"canonical","version":"latest"},
              "containerConfiguration":{"type":"dockerCompatible","containerRegistries":[{"registryServer":"r.io","username":"u"}]}}});
        assert_eq!(sent_matches(&sent, &got), Ok(()));
    }

    #[test]
    fn mismatches_are_reported_with_path() {
        let sent = json!({"id":"p1","startTask":{"commandLine":"echo a"}});
        let got = json!({"id":"p1","startTask":{"commandLine":"echo b"}});
        let err = sent_matches(&sent, &got).unwrap_err();
        assert!(err.starts_with("startTask.commandLine"), "{err}");
        // id is case-preserving: a different case is a different caller's object.
        assert!(sent_matches(&json!({"id":"P1"}), &json!({"id":"p1"})).is_err());
        // Missing non-empty property.
        assert!(sent_matches(&json!({"displayName":"x"}), &json!({})).is_err());
        // Array lengths.
        assert!(
            sent_matches(
                &json!({"metadata":[{"name":"a","value":"1"}]}),
                &json!({"metadata":[]})
            )
            .is_err()
        );
        // Numbers.
        assert!(sent_matches(&json!({"priority":1}), &json!({"priority":2})).is_err());
    }
}
