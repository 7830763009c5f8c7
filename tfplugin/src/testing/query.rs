//! The harness side of Terraform 1.14+'s list resources, config generation and actions, and the
//! client capabilities of other clients (OpenTofu).

use futures::StreamExt;

use super::*;
use crate::types::Type;

/// One object `terraform query` found.
#[derive(Clone, Debug)]
pub struct Listed {
    pub identity: Value,
    pub display_name: String,
    /// The full object, when asked for (`include_resource = true`).
    pub object: Option<Value>,
}

/// What an action run showed: its progress messages in order, and the final diagnostics.
#[derive(Clone, Debug)]
pub struct Invoked {
    pub progress: Vec<String>,
    pub diags: Diagnostics,
}

impl<P: Provider> Harness<P> {
    /// Plays a client that declares these capabilities (None: sends none, like OpenTofu up to 1.10;
    /// OpenTofu 1.11+ declares only `write_only_attributes_allowed`).
    pub fn with_client_capabilities(mut self, caps: Option<pb::ClientCapabilities>) -> Self {
        self.caps = caps;
        self
    }

    fn loaded(
        &self,
        kind: &str,
        t: &str,
        s: Option<&pb::Schema>,
    ) -> Result<schema::TfSchema, Diagnostics> {
        let s = s.ok_or_else(|| {
            error(
                format!("Invalid {kind} type"),
                format!(
                    "The provider {:?} does not support {kind} {t:?}.",
                    self.name
                ),
                None,
            )
        })?;
        let mut errs = Vec::new();
        let t = schema::TfSchema::from_proto(s, &mut errs);
        if errs.is_empty() {
            Ok(t)
        } else {
            Err(error("Invalid provider schema", errs.join("\n"), None))
        }
    }

    async fn identity_type(&self, type_name: &str) -> Result<Type, Diagnostics> {
        let r = Rpc::get_resource_identity_schemas(
            &self.server,
            Request::new(pb::get_resource_identity_schemas::Request {}),
        )
        .await
        .map_err(|e| rpc_failed("GetResourceIdentitySchemas", e))?
        .into_inner();
        let s = r.identity_schemas.get(type_name).ok_or_else(|| {
            error(
                "Missing resource identity schema",
                format!("A list resource requires {type_name} to have an identity schema."),
                None,
            )
        })?;
        let mut attrs = Vec::new();
        for a in &s.identity_attributes {
            let j: serde_json::Value = serde_json::from_slice(&a.r#type)
                .map_err(|e| error("Invalid identity schema", e.to_string(), None))?;
            let t = Type::from_json(&j).map_err(|e| error("Invalid identity schema", e, None))?;
            attrs.push((a.name.clone(), t));
        }
        Ok(Type::object(attrs))
    }

    /// `terraform query` on one `list` block: ValidateListResourceConfig, then ListResource, reading
    /// at most `limit` events and dropping the stream then, as core does.
    pub async fn list(
        &self,
        type_name: &str,
        config: &Value,
        include_resource_object: bool,
        limit: i64,
    ) -> Result<Vec<Listed>, Diagnostics> {
        let ls = self.loaded(
            "list resource",
            type_name,
            self.schema_response.list_resource_schemas.get(type_name),
        )?;
        let rs = self.resource(type_name)?;
        let id_ty = self.identity_type(type_name).await?;
        let dv = self.encode(&ls, config, "list configuration")?;
        let mut acc = Diagnostics::new();
        let v = Rpc::validate_list_resource_config(
            &self.server,
            Request::new(pb::validate_list_resource_config::Request {
                type_name: type_name.into(),
                config: dv.clone(),
                include_resource_object: None,
                limit: None,
            }),
        )
        .await
        .map_err(|e| rpc_failed("ValidateListResourceConfig", e))?
        .into_inner();
        take(&mut acc, &v.diagnostics)?;
        let mut stream = Rpc::list_resource(
            &self.server,
            Request::new(pb::list_resource::Request {
                type_name: type_name.into(),
                config: dv,
                include_resource_object,
                limit,
            }),
        )
        .await
        .map_err(|e| rpc_failed("ListResource", e))?
        .into_inner();
        let mut out = Vec::new();
        while (out.len() as i64) < limit {
            let Some(ev) = stream.next().await else { break };
            let ev = ev.map_err(|e| rpc_failed("ListResource", e))?;
            take(&mut acc, &ev.diagnostic)?;
            let Some(data) = ev.identity.and_then(|i| i.identity_data) else {
                if ev.diagnostic.is_empty() {
                    return Err(error(
                        "Provider produced invalid list result",
                        format!("A {type_name} list result has no identity.\n\n{BUG}"),
                        None,
                    ));
                }
                continue;
            };
            let identity = decode_msgpack(&data.msgpack, &id_ty).map_err(|e| {
                error(
                    "Provider produced invalid identity",
                    e.to_string(),
                    Some(e.path),
                )
            })?;
            let object = match &ev.resource_object {
                Some(o) if include_resource_object => {
                    Some(self.decode(rs, &Some(o.clone()), "ListResource", type_name)?)
                }
                _ => None,
            };
            out.push(Listed {
                identity,
                display_name: ev.display_name,
                object,
            });
        }
        Ok(out)
    }

    /// GenerateResourceConfig: the configuration `-generate-config-out` writes for a state. Core
    /// then validates it like any configuration; so does the harness.
    pub async fn generate_config(
        &self,
        type_name: &str,
        state: &Value,
    ) -> Result<Value, Diagnostics> {
        let s = self.resource(type_name)?;
        let caps = self.schema_response.server_capabilities.unwrap_or_default();
        if !caps.generate_resource_config {
            return Err(error(
                "Config generation not supported",
                "The provider does not declare generate_resource_config.",
                None,
            ));
        }
        let r = Rpc::generate_resource_config(
            &self.server,
            Request::new(pb::generate_resource_config::Request {
                type_name: type_name.into(),
                state: self.encode(s, state, "state")?,
            }),
        )
        .await
        .map_err(|e| rpc_failed("GenerateResourceConfig", e))?
        .into_inner();
        let mut acc = Diagnostics::new();
        take(&mut acc, &r.diagnostics)?;
        let config = self.decode(s, &r.config, "GenerateResourceConfig", type_name)?;
        let mut computed = Vec::new();
        computed_only_set(&s.block, &config, &AttrPath::root(), &mut computed);
        if let Some(p) = computed.into_iter().next() {
            return Err(error(
                "Provider produced invalid configuration",
                format!(
                    "GenerateResourceConfig set the computed attribute {type_name}{}.\n\n{BUG}",
                    dotted(&p)
                ),
                Some(p),
            ));
        }
        let v = self.validate_resource(type_name, &config).await;
        if v.has_errors() {
            return Err(v);
        }
        Ok(config)
    }

    /// ValidateActionConfig, PlanAction, then InvokeAction read to its end. Errors of the
    /// validation or the plan come back as `Err`; the run's own come back in `Invoked::diags`.
    pub async fn invoke_action(
        &self,
        type_name: &str,
        config: &Value,
    ) -> Result<Invoked, Diagnostics> {
        use pb::invoke_action::event::Type as Ev;
        let s = self.loaded(
            "action",
            type_name,
            self.schema_response
                .action_schemas
                .get(type_name)
                .and_then(|a| a.schema.as_ref()),
        )?;
        let dv = self.encode(&s, config, "action configuration")?;
        let mut acc = Diagnostics::new();
        core_config_check(&s.block, config)?;
        let v = Rpc::validate_action_config(
            &self.server,
            Request::new(pb::validate_action_config::Request {
                type_name: type_name.into(),
                config: dv.clone(),
            }),
        )
        .await
        .map_err(|e| rpc_failed("ValidateActionConfig", e))?
        .into_inner();
        take(&mut acc, &v.diagnostics)?;
        let p = Rpc::plan_action(
            &self.server,
            Request::new(pb::plan_action::Request {
                action_type: type_name.into(),
                config: dv.clone(),
                client_capabilities: self.caps,
            }),
        )
        .await
        .map_err(|e| rpc_failed("PlanAction", e))?
        .into_inner();
        take(&mut acc, &p.diagnostics)?;
        let mut stream = Rpc::invoke_action(
            &self.server,
            Request::new(pb::invoke_action::Request {
                action_type: type_name.into(),
                config: dv,
                client_capabilities: self.caps,
            }),
        )
        .await
        .map_err(|e| rpc_failed("InvokeAction", e))?
        .into_inner();
        let mut progress = Vec::new();
        while let Some(ev) = stream.next().await {
            match ev.map_err(|e| rpc_failed("InvokeAction", e))?.r#type {
                Some(Ev::Progress(p)) => progress.push(p.message),
                Some(Ev::Completed(c)) => {
                    acc.extend(diags_from_proto(&c.diagnostics));
                    return Ok(Invoked {
                        progress,
                        diags: acc,
                    });
                }
                None => {}
            }
        }
        Err(error(
            "Action ended without completing",
            format!("The {type_name} stream ended without a Completed event.\n\n{BUG}"),
            None,
        ))
    }
}

/// Paths of computed-only attributes that have a non-null value.
fn computed_only_set(b: &schema::Block, v: &Value, path: &AttrPath, out: &mut Vec<AttrPath>) {
    for a in &b.attrs {
        if a.computed && !a.optional && !a.required && !v.get(&a.name).is_null() {
            out.push(path.child(&a.name));
        }
    }
    for nb in &b.blocks {
        let child = path.child(&nb.name);
        match v.get(&nb.name) {
            o @ Value::Object(_) => computed_only_set(&nb.block, o, &child, out),
            Value::List(items) | Value::Set(items) => {
                for (i, it) in items.iter().enumerate() {
                    computed_only_set(&nb.block, it, &child.index(i), out);
                }
            }
            _ => {}
        }
    }
}
