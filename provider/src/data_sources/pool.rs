//! `batch_pool`: an existing pool's attributes, in the same shape as `batch_container_pool`
//! (every attribute computed; nested blocks become object / list-of-object attributes, since a
//! data source cannot produce blocks the configuration did not write).

use std::time::Duration;

use crate::common::validators::BatchId;
use async_trait::async_trait;
use tfplugin::framework::{Ctx, DataSource};
use tfplugin::schema::{Attribute, Block, Nesting, Schema};
use tfplugin::{AttrPath, Diagnostics, Value};

use crate::common::{Batch, batch_error, opts};
use crate::resources::container_pool::flatten::pool_to_state;
use crate::resources::container_pool::model::PoolModel;
use crate::resources::container_pool::schema as pool_schema;
use batch_client::models::CloudPool;
use tfplugin::model::Tf;

pub struct PoolDataSource;

/// Resource attributes that mean nothing for an existing pool read by name: Terraform-side
/// settings and secrets Batch never returns.
const SKIPPED: &[&str] = &[
    "wait_for",
    "timeouts",
    "password",
    "password_wo",
    "password_wo_version",
    "node_deallocation_option",
];

/// The resource block with every attribute computed and every nested block turned into a
/// computed attribute of the block's type.
fn computed_view(block: &Block) -> Block {
    let mut out = Block::new(block.description.clone());
    for a in &block.attributes {
        if SKIPPED.contains(&a.name.as_str()) {
            continue;
        }
        out = out.attr(
            Attribute::new(&a.name, a.ty.clone())
                .computed()
                .description(a.description.clone()),
        );
    }
    for b in &block.blocks {
        if SKIPPED.contains(&b.name.as_str()) {
            continue;
        }
        let inner = computed_view(&b.block);
        let obj = inner.value_type();
        let ty = match b.nesting {
            Nesting::Single => obj,
            Nesting::List => tfplugin::Type::list(obj),
            Nesting::Set => tfplugin::Type::set(obj),
            Nesting::Map => tfplugin::Type::map(obj),
        };
        out = out.attr(
            Attribute::new(&b.name, ty)
                .computed()
                .description(b.block.description.clone()),
        );
    }
    out
}

/// Keeps only the keys the data source's types have (drops secrets and Terraform-side settings
/// at every level).
fn project(v: &Value, block: &Block) -> Value {
    let Value::Object(m) = v else {
        return v.clone();
    };
    let mut out = std::collections::BTreeMap::new();
    for a in &block.attributes {
        if SKIPPED.contains(&a.name.as_str()) {
            continue;
        }
        out.insert(
            a.name.clone(),
            m.get(&a.name).cloned().unwrap_or(Value::Null),
        );
    }
    for b in &block.blocks {
        if SKIPPED.contains(&b.name.as_str()) {
            continue;
        }
        let bv = m.get(&b.name).cloned().unwrap_or(Value::Null);
        let pv = match bv {
            Value::List(items) => Value::List(items.iter().map(|i| project(i, &b.block)).collect()),
            Value::Set(items) => Value::Set(items.iter().map(|i| project(i, &b.block)).collect()),
            other => project(&other, &b.block),
        };
        out.insert(b.name.clone(), pv);
    }
    Value::Object(out)
}

fn ds_schema() -> Schema {
    let res = pool_schema().block.clone();
    let mut view = computed_view(&res);
    view.description = "Reads an existing Batch pool by name: the same attributes as the `batch_container_pool` resource, all read-only (registry passwords are never returned by Batch and are absent).".into();
    view.attributes.retain(|a| a.name != "name");
    let name = Attribute::string("name")
        .required()
        .validate(BatchId)
        .description("Id of the pool to read.");
    view.attributes.insert(0, name);
    Schema::new(view)
}

#[async_trait]
impl DataSource<Batch> for PoolDataSource {
    fn type_name(&self) -> &'static str {
        "batch_pool"
    }

    fn schema(&self) -> Schema {
        ds_schema()
    }

    async fn read(&self, ctx: &Ctx<Batch>, config: Value) -> (Value, Diagnostics) {
        let mut diags = Diagnostics::new();
        let name = PoolModel::read(&config).unwrap_or_default().name();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5 * 60);
        match ctx.client.api.get_pool(&name, &opts(ctx, deadline)).await {
            Ok(Some(p)) => (view(&p.value, &name), diags),
            Ok(None) => {
                diags.attr_error(
                    &AttrPath::attr("name"),
                    format!("Pool {name} not found"),
                    format!("The Batch account has no pool named {name:?}. Check the name (ids are case-insensitive) and the provider's account."),
                );
                (config, diags)
            }
            Err(e) => {
                batch_error(&mut diags, &format!("read pool {name}"), &e, None);
                (config, diags)
            }
        }
    }
}

/// The data source's value for a pool read as `name`: the resource's flatten with no prior
/// state (Batch's own spelling; Batch's defaults unset), projected onto the data source's attributes.
fn view(p: &CloudPool, name: &str) -> Value {
    let prior = PoolModel {
        name: Tf::Known(name.to_string()),
        ..Default::default()
    };
    project(&pool_to_state(p, &prior.write()), &pool_schema().block)
}

#[cfg(test)]
mod tests {
    use batch_client::models::{
        ContainerConfiguration, ContainerRegistry, VirtualMachineConfiguration,
    };

    use super::*;

    #[test]
    fn the_view_has_the_resource_attributes_without_secrets_and_terraform_settings() {
        let s = ds_schema();
        let ty = s.block.value_type();
        let tfplugin::Type::Object(attrs) = &ty else {
            panic!("{ty:?}")
        };
        assert!(attrs.contains_key("vm_size") && attrs.contains_key("container"));
        assert!(!attrs.contains_key("wait_for") && !attrs.contains_key("timeouts"));
        assert!(
            s.block
                .attributes
                .iter()
                .all(|a| a.name == "name" || a.computed)
        );
        let p = CloudPool {
            id: Some("p1".into()),
            vm_size: Some("standard_d2s_v3".into()),
            virtual_machine_configuration: Some(VirtualMachineConfiguration {
                container_configuration: Some(ContainerConfiguration {
                    type_: "dockerCompatible".into(),
                    container_image_names: None,
                    container_registries: Some(vec![ContainerRegistry {
                        registry_server: Some("r.io".into()),
                        username: Some("u".into()),
                        ..Default::default()
                    }]),
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        let v = view(&p, "P1");
        assert_eq!(v.get_str("name"), Some("P1"), "the name as asked");
        assert_eq!(v.get_str("vm_size"), Some("standard_d2s_v3"));
        let reg = &v.get("container").get("registry").elements()[0];
        assert_eq!(reg.get_str("server"), Some("r.io"));
        assert!(reg.as_map().is_some_and(|m| !m.contains_key("password")));
        // Every attribute of the data source's type is present.
        assert_eq!(v.as_map().map(|m| m.len()), Some(attrs.len()), "{v:?}");
    }
}
