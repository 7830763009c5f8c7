//! The `user_identity` block: which user a task runs as (Batch's `userIdentity`).

use batch_client::models::{AutoUserSpecification, UserIdentity};
use serde::{Deserialize, Serialize};
use tfplugin::Value;
#[cfg(test)]
use tfplugin::model::to_value;
use tfplugin::schema::{Attribute, Block, NestedBlock};
use tfplugin::validators::{NotEmpty, OneOf};

use tfplugin::semantics::IgnoreCase;

pub const SCOPES: &[&str] = &["task", "pool"];
pub const ELEVATION_LEVELS: &[&str] = &["nonadmin", "admin"];
/// Batch's auto user when none is given: pool scope, not an administrator.
const DEFAULT_SCOPE: &str = "pool";
const DEFAULT_ELEVATION_LEVEL: &str = "nonadmin";

/// `user_identity { user_name = ..., auto_user { scope, elevation_level } }`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UserIdentityModel {
    pub user_name: Option<String>,
    pub auto_user: Option<AutoUserModel>,
}

/// `auto_user { scope, elevation_level }` (strings: their values are checked by OneOf).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AutoUserModel {
    pub scope: Option<String>,
    pub elevation_level: Option<String>,
}

/// The block's schema.
pub fn user_identity_block() -> Block {
    Block::new("The user the task runs as. Default: Batch's auto user with pool scope, not an administrator.")
        .attr(
            Attribute::string("user_name")
                .optional()
                .validate(NotEmpty)
                .description("A named user account of the pool. Set either this or `auto_user`."),
        )
        .block(NestedBlock::single(
            "auto_user",
            Block::new("Run as an automatically created user.")
                .attr(
                    Attribute::string("scope")
                        .optional()
                        .validate(OneOf(SCOPES))
                        .semantics(IgnoreCase)
                        .server_default(Value::string(DEFAULT_SCOPE))
                        .description("`pool` (Batch's default: one auto user shared by all tasks of the pool) or `task` (a user of its own for this task)."),
                )
                .attr(
                    Attribute::string("elevation_level")
                        .optional()
                        .validate(OneOf(ELEVATION_LEVELS))
                        .semantics(IgnoreCase)
                        .server_default(Value::string(DEFAULT_ELEVATION_LEVEL))
                        .description("`nonadmin` (Batch's default) or `admin` (root on Linux)."),
                ),
        ))
        .exactly_one_of(&["user_name", "auto_user"])
}

/// Terraform -> Batch.
pub fn expand_user_identity(m: &UserIdentityModel) -> UserIdentity {
    UserIdentity {
        username: m.user_name.clone(),
        auto_user: m.auto_user.as_ref().map(|a| AutoUserSpecification {
            scope: a.scope.clone(),
            elevation_level: a.elevation_level.clone(),
        }),
    }
}

/// The pool-wide auto user with the given elevation (a pool start task's `elevation_level`).
pub fn pool_auto_user(elevation_level: &str) -> UserIdentity {
    UserIdentity {
        username: None,
        auto_user: Some(AutoUserSpecification {
            scope: Some("pool".into()),
            elevation_level: Some(elevation_level.into()),
        }),
    }
}

/// True for Batch's default auto user (pool scope, not an administrator), however spelled.
fn is_default_auto_user(a: &AutoUserSpecification) -> bool {
    let is = |v: &Option<String>, d: &str| v.as_deref().is_none_or(|v| v.eq_ignore_ascii_case(d));
    is(&a.scope, DEFAULT_SCOPE) && is(&a.elevation_level, DEFAULT_ELEVATION_LEVEL)
}

/// Batch -> Terraform: the service's values in our (lower-case) vocabulary. Where the block is:
/// an identity the user left unset stays unset when Batch reports its default auto user, and a
/// named user gets no `auto_user` block Batch filled in. The attributes' declared semantics
/// keep the user's spelling and leave Batch's defaults unset.
pub fn flatten_user_identity(
    m: Option<&UserIdentity>,
    prior: Option<&UserIdentityModel>,
) -> Option<UserIdentityModel> {
    let m = m?;
    let default_auto = m.auto_user.as_ref().is_none_or(is_default_auto_user);
    if prior.is_none() && m.username.is_none() && default_auto {
        return None;
    }
    let named_only = prior.is_some_and(|p| p.user_name.is_some() && p.auto_user.is_none());
    let auto_user = m
        .auto_user
        .as_ref()
        .filter(|_| !(named_only && default_auto))
        .map(|a| AutoUserModel {
            scope: a.scope.as_deref().map(str::to_ascii_lowercase),
            elevation_level: a.elevation_level.as_deref().map(str::to_ascii_lowercase),
        });
    Some(UserIdentityModel {
        user_name: m.username.clone(),
        auto_user,
    })
}

#[cfg(test)]
#[allow(clippy::type_complexity)]
mod tests {
    use super::*;
    use crate::common::task_spec::{config_errors, normalized_read};
    use tfplugin::AttrPath;

    fn remote(user: Option<&str>, scope: Option<&str>, elev: Option<&str>) -> UserIdentity {
        UserIdentity {
            username: user.map(str::to_string),
            auto_user: (scope.is_some() || elev.is_some()).then(|| AutoUserSpecification {
                scope: scope.map(str::to_string),
                elevation_level: elev.map(str::to_string),
            }),
        }
    }

    fn model(user: Option<&str>, auto: Option<(Option<&str>, Option<&str>)>) -> UserIdentityModel {
        UserIdentityModel {
            user_name: user.map(str::to_string),
            auto_user: auto.map(|(s, e)| AutoUserModel {
                scope: s.map(str::to_string),
                elevation_level: e.map(str::to_string),
            }),
        }
    }

    #[test]
    fn model_covers_schema() {
        tfplugin::model::check_round_trip::<UserIdentityModel>(&user_identity_block().value_type())
            .unwrap();
    }

    #[test]
    fn flatten_table() {
        let admin_prior = model(None, Some((None, Some("admin"))));
        let user_prior = model(Some("bob"), None);
        let cases: Vec<(
            Option<UserIdentity>,
            Option<&UserIdentityModel>,
            Option<UserIdentityModel>,
        )> = vec![
            (None, Some(&user_prior), None),
            // Batch's default, unset by the user: stays unset.
            (
                Some(remote(None, Some("pool"), Some("nonadmin"))),
                None,
                None,
            ),
            (Some(remote(None, None, None)), None, None),
            // The user's spelling survives a case change by the service.
            (
                Some(remote(None, Some("pool"), Some("Admin"))),
                Some(&admin_prior),
                Some(admin_prior.clone()),
            ),
            // Not the default: shown, lower-cased, defaults left out.
            (
                Some(remote(None, Some("Task"), Some("nonadmin"))),
                None,
                Some(model(None, Some((Some("task"), None)))),
            ),
            // A named user: no auto_user block appears for the service's defaults.
            (
                Some(remote(Some("bob"), Some("pool"), None)),
                Some(&user_prior),
                Some(user_prior.clone()),
            ),
        ];
        let b = user_identity_block();
        for (r, prior, want) in cases {
            let read = flatten_user_identity(r.as_ref(), prior);
            let state = normalized_read(&b, Some(&prior.cloned()), read);
            assert_eq!(state, want, "{r:?} {prior:?}");
        }
    }

    #[test]
    fn expand_user_identity_and_the_pool_auto_user() {
        let m = model(None, Some((Some("task"), Some("admin"))));
        assert_eq!(
            expand_user_identity(&m),
            remote(None, Some("task"), Some("admin"))
        );
        assert_eq!(
            pool_auto_user("admin"),
            remote(None, Some("pool"), Some("admin"))
        );
    }

    #[test]
    fn validation() {
        let ty = user_identity_block().value_type();
        let path = AttrPath::root().child("user_identity");
        let b = user_identity_block();
        let check = |m: &UserIdentityModel| config_errors(&b, &to_value(m, &ty).unwrap(), &path);
        assert!(check(&model(Some("bob"), None)).is_empty());
        let both = check(&model(Some("bob"), Some((None, None))));
        assert!(both[0].contains("user_identity.auto_user"), "{both:?}");
        assert_eq!(check(&model(None, None)).len(), 1);
        assert!(check(&model(None, Some((Some("bogus"), None))))[0].contains("scope"));
        let mut unknown = to_value(&model(None, None), &ty).unwrap();
        unknown.set("user_name", Value::Unknown);
        assert!(config_errors(&b, &unknown, &path).is_empty());
    }
}
