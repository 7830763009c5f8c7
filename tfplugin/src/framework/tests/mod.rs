//! Table tests of the framework's plan, read and apply normalisation and the declared rules,
//! without Terraform.

mod modifiers;
mod nested;
mod rules;
mod semantics;
mod server;

use crate::framework::{Private, null_object, plan_resource};
use crate::schema::{Block, Schema};
use crate::value::Value;

/// An object of the block's shape with the given attributes set.
fn obj(block: &Block, pairs: &[(&str, Value)]) -> Value {
    let mut v = null_object(block);
    for (k, x) in pairs {
        v.set(k, x.clone());
    }
    v
}

fn s(x: &str) -> Value {
    Value::string(x)
}

/// Plans an update where Terraform proposes `config` over `prior` (non-computed attributes from
/// config, computed ones from prior where the config leaves them null).
fn plan_update(schema: &Schema, config: &Value, prior: &Value) -> crate::framework::PlanResponse {
    let mut proposed = config.clone();
    for a in &schema.block.attributes {
        if a.computed && config.get(&a.name).is_null() {
            proposed.set(&a.name, prior.get(&a.name).clone());
        }
    }
    plan_resource(schema, config, &proposed, prior, &Private::new())
}

fn paths(r: &crate::framework::PlanResponse) -> Vec<String> {
    r.requires_replace.iter().map(|p| p.to_string()).collect()
}
