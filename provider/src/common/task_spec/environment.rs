//! `environment`: a `map(string)` of environment variables, Batch's `environmentSettings`.

use std::collections::BTreeMap;

use batch_client::models::EnvironmentSetting;

/// The attribute's model: None when unset.
pub type Environment = Option<BTreeMap<String, String>>;

/// Environment settings as Batch takes them (None when unset or empty).
pub fn expand_environment(env: &Environment) -> Option<Vec<EnvironmentSetting>> {
    let m = env.as_ref().filter(|m| !m.is_empty())?;
    Some(
        m.iter()
            .map(|(name, value)| EnvironmentSetting {
                name: name.clone(),
                value: Some(value.clone()),
            })
            .collect(),
    )
}

/// Environment settings as state; none from the service stays unset when the prior value was
/// (so an unset attribute does not turn into `{}`).
pub fn flatten_environment(
    remote: Option<&Vec<EnvironmentSetting>>,
    prior: Option<&BTreeMap<String, String>>,
) -> Environment {
    match remote {
        Some(list) if !list.is_empty() => Some(
            list.iter()
                .map(|e| (e.name.clone(), e.value.clone().unwrap_or_default()))
                .collect(),
        ),
        _ => prior.map(|_| BTreeMap::new()),
    }
}

#[cfg(test)]
#[allow(clippy::type_complexity)]
mod tests {
    use super::*;

    fn setting(n: &str, v: Option<&str>) -> EnvironmentSetting {
        EnvironmentSetting {
            name: n.into(),
            value: v.map(str::to_string),
        }
    }

    #[test]
    fn expand_environment_table() {
        assert_eq!(expand_environment(&None), None);
        assert_eq!(expand_environment(&Some(BTreeMap::new())), None);
        let env = Some(BTreeMap::from([("A".to_string(), "1".to_string())]));
        assert_eq!(
            expand_environment(&env),
            Some(vec![setting("A", Some("1"))])
        );
    }

    #[test]
    fn flatten_environment_table() {
        let empty = BTreeMap::new();
        let one = BTreeMap::from([("A".to_string(), "1".to_string())]);
        let cases: Vec<(
            Option<Vec<EnvironmentSetting>>,
            Option<&BTreeMap<String, String>>,
            Environment,
        )> = vec![
            (None, None, None),
            (Some(vec![]), None, None),
            (None, Some(&empty), Some(BTreeMap::new())),
            (Some(vec![]), Some(&one), Some(BTreeMap::new())),
            (Some(vec![setting("A", Some("1"))]), None, Some(one.clone())),
            (
                Some(vec![setting("B", None)]),
                Some(&one),
                Some(BTreeMap::from([("B".to_string(), String::new())])),
            ),
        ];
        for (remote, prior, want) in cases {
            assert_eq!(
                flatten_environment(remote.as_ref(), prior),
                want,
                "{remote:?} {prior:?}"
            );
        }
    }
}
