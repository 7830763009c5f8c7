//! Terraform 1.14+ features beyond CRUD: list resources (`terraform query`), configuration
//! generation (`-generate-config-out`) and actions (`action "…" {}` blocks).

use async_trait::async_trait;
use tfplugin_proto::tfplugin6 as pb;
use tokio::sync::mpsc;

use super::Ctx;
use super::walk::{children, each_element_mut, get_mut};
use crate::diag::{AttrPath, Diagnostics};
use crate::schema::{Block, Nesting, Schema};
use crate::value::Value;

/// What `ListResource` asks for: the `config { … }` of a `list` block, whether Terraform wants
/// whole objects (`include_resource = true`, or config generation) and how many at most.
pub struct ListRequest {
    pub config: Value,
    pub include_resource_object: bool,
    /// At most this many objects; Terraform's default is 100.
    pub limit: i64,
}

/// One object found: a display name and its full state (as `read` would return it). The
/// framework derives the identity from the state and drops the object unless Terraform asked for it.
pub struct ListItem {
    pub display_name: String,
    pub state: Value,
}

/// Where a list resource sends what it finds. `send` returns false once Terraform needs no more
/// (the limit is reached or the client went away): stop listing then.
pub struct ListSink {
    pub(super) tx: mpsc::Sender<ListItem>,
    pub(super) remaining: i64,
}

impl ListSink {
    pub async fn send(&mut self, item: ListItem) -> bool {
        if self.remaining <= 0 || self.tx.send(item).await.is_err() {
            return false;
        }
        self.remaining -= 1;
        self.remaining > 0
    }
    /// True once nothing more will be taken.
    pub fn is_done(&self) -> bool {
        self.remaining <= 0 || self.tx.is_closed()
    }
}

/// A list resource: finds existing objects of the managed resource type of the same name (which
/// must have an identity). Its schema is the `config { … }` block of a `list` block.
#[async_trait]
pub trait ListResource<C>: Send + Sync {
    /// Equals the managed resource's type name.
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;
    /// Checks on the filter arguments (values may be unknown).
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}
    /// Sends each object found to `out` until `send` returns false; returns any problems.
    async fn list(&self, ctx: &Ctx<C>, req: ListRequest, out: &mut ListSink) -> Diagnostics;
}

/// The configuration a person would write for `state`: arguments only (computed-only attributes
/// null), values equal to the declared default or server default left out, and nothing sensitive
/// or write-only (Terraform writes those as `null # sensitive`).
pub fn default_generated_config(block: &Block, state: &Value) -> Value {
    let mut v = state.clone();
    strip_to_arguments(block, &mut v);
    v
}

fn strip_to_arguments(block: &Block, v: &mut Value) {
    let Some(m) = v.as_map_mut() else { return };
    for a in &block.attributes {
        let Some(cur) = m.get_mut(&a.name) else {
            continue;
        };
        let computed_only = a.computed && !a.optional && !a.required;
        let is_default = [&a.default, &a.server_default]
            .into_iter()
            .flatten()
            .any(|d| a.same_value(cur, d));
        if computed_only || a.sensitive || a.write_only || (!a.required && is_default) {
            *cur = Value::Null;
        }
    }
    for c in children(block) {
        if c.nesting == Nesting::Set {
            // Set elements are whole values: stripping one could merge two of them.
            continue;
        }
        if let Some(nv) = get_mut(v, c.name) {
            each_element_mut(c.nesting, nv, &[], &AttrPath::root(), &mut |item, _, _| {
                strip_to_arguments(c.block, item)
            });
        }
    }
}

/// Where an action reports progress; each message is shown in the terminal as it comes.
#[derive(Clone)]
pub struct Progress {
    pub(super) tx: mpsc::Sender<pb::invoke_action::Event>,
}

impl Progress {
    pub async fn send(&self, message: impl Into<String>) {
        use pb::invoke_action::event::{Progress as P, Type};
        let message = message.into();
        tracing::info!(%message, "action progress");
        // The client may have gone away; the action still finishes its work.
        let _ = self
            .tx
            .send(pb::invoke_action::Event {
                r#type: Some(Type::Progress(P { message })),
            })
            .await;
    }
}

/// An action (Terraform 1.14+): an operation run by `terraform apply -invoke=action.<type>.<name>`
/// or by a resource's `lifecycle { action_trigger { … } }`, not a resource.
#[async_trait]
pub trait Action<C>: Send + Sync {
    fn type_name(&self) -> &'static str;
    /// The schema of the `config { … }` block.
    fn schema(&self) -> Schema;
    /// Checks on the configuration (values may be unknown).
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}
    /// Plan-time checks of a configuration (unknown values possible); runs with a configured client.
    async fn plan(&self, _ctx: &Ctx<C>, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }
    /// Does the work, reporting progress; errors end the run (Terraform fails the apply).
    async fn invoke(&self, ctx: &Ctx<C>, config: Value, progress: Progress) -> Diagnostics;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Attribute, NestedBlock};

    #[test]
    fn generated_config_keeps_arguments_only() {
        let block = Block::new("")
            .attr(Attribute::string("name").required())
            .attr(Attribute::string("id").computed())
            .attr(Attribute::string("password").optional().sensitive())
            .attr(Attribute::string("wo").optional().write_only())
            .attr(
                Attribute::bool("wait")
                    .optional()
                    .computed()
                    .default(Value::Bool(true)),
            )
            .attr(Attribute::number("priority").optional())
            .block(NestedBlock::list(
                "rule",
                Block::new("")
                    .attr(Attribute::string("x").optional())
                    .attr(Attribute::string("state").computed()),
            ));
        let state = Value::object([
            ("name", Value::string("a")),
            ("id", Value::string("a")),
            ("password", Value::string("secret")),
            ("wo", Value::Null),
            ("wait", Value::Bool(true)),
            ("priority", Value::int(3)),
            (
                "rule",
                Value::List(vec![Value::object([
                    ("x", Value::string("y")),
                    ("state", Value::string("on")),
                ])]),
            ),
        ]);
        let got = default_generated_config(&block, &state);
        assert_eq!(got.get_str("name"), Some("a"));
        assert!(got.get("id").is_null());
        assert!(got.get("password").is_null());
        assert!(got.get("wait").is_null(), "equal to the default");
        assert_eq!(got.get_i64("priority"), Some(3));
        let rule = &got.get("rule").elements()[0];
        assert_eq!(rule.get_str("x"), Some("y"));
        assert!(rule.get("state").is_null());

        let mut changed = state.clone();
        changed.set("wait", Value::Bool(false));
        let got = default_generated_config(&block, &changed);
        assert_eq!(
            got.get_bool("wait"),
            Some(false),
            "differs from the default"
        );
    }
}
