//! ListResource, ValidateListResourceConfig, GenerateResourceConfig, PlanAction, InvokeAction and
//! ValidateActionConfig (Terraform 1.14+). The two streams run the provider's code in a task of
//! their own: a stream Terraform stops reading (its `limit`, or Ctrl-C) ends the work.

use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::codegen::BoxStream;

use super::super::query::{ListItem, ListRequest, ListSink, Progress};
use super::*;

type ListEvent = pb::list_resource::Event;
type ActionEvent = pb::invoke_action::Event;

fn stream_of<T: Send + 'static>(rx: mpsc::Receiver<Result<T, Status>>) -> BoxStream<T> {
    Box::pin(ReceiverStream::new(rx))
}

fn action_stream(rx: mpsc::Receiver<ActionEvent>) -> BoxStream<ActionEvent> {
    use futures::StreamExt;
    Box::pin(ReceiverStream::new(rx).map(Ok))
}

fn list_error(d: &Diagnostics) -> ListEvent {
    ListEvent {
        diagnostic: diags_to_proto(d),
        ..Default::default()
    }
}

fn completed(d: &Diagnostics) -> ActionEvent {
    use pb::invoke_action::event::{Completed, Type};
    ActionEvent {
        r#type: Some(Type::Completed(Completed {
            diagnostics: diags_to_proto(d),
        })),
    }
}

/// A found object as a stream event: identity always, the object only when asked for.
fn list_event(
    item: ListItem,
    schema: &Schema,
    identity: &super::super::Identity,
    include_object: bool,
) -> Result<ListEvent, Diagnostics> {
    let mut state = item.state;
    null_write_only(&schema.block, &mut state);
    let id = identity.of(&state);
    if !id.is_wholly_known() || !state.is_wholly_known() {
        return Err(one_error(
            "Provider bug: incomplete listed object",
            format!(
                "The list resource returned {:?} with unknown or missing identity values.",
                item.display_name
            ),
        ));
    }
    let identity_data = encode_msgpack(&id, &identity.value_type())
        .map_err(|e| one_error("Provider bug: identity does not match", e.to_string()))?;
    Ok(ListEvent {
        identity: Some(pb::ResourceIdentityData {
            identity_data: Some(pb::DynamicValue {
                msgpack: identity_data,
                json: Vec::new(),
            }),
        }),
        display_name: item.display_name,
        resource_object: if include_object {
            encode(&state, schema)?
        } else {
            None
        },
        diagnostic: Vec::new(),
    })
}

impl<P: Provider> FrameworkServer<P> {
    fn list_resource(&self, name: &str) -> Result<&ListEntry<P::Client>, Diagnostics> {
        self.list_resources.get(name).ok_or_else(|| {
            one_error(
                "Unknown list resource type",
                format!("This provider has no list resource type {name:?}."),
            )
        })
    }

    fn action(&self, name: &str) -> Result<&ActionEntry<P::Client>, Diagnostics> {
        self.actions.get(name).ok_or_else(|| {
            one_error(
                "Unknown action type",
                format!("This provider has no action type {name:?}."),
            )
        })
    }

    pub(super) async fn serve_validate_list_resource_config(
        &self,
        req: Request<pb::validate_list_resource_config::Request>,
    ) -> Res<pb::validate_list_resource_config::Response> {
        let req = req.into_inner();
        let diags = guarded(
            "ValidateListResourceConfig",
            async {
                match self.list_resource(&req.type_name) {
                    Ok(e) => validate_config(&req.config, &e.schema, |c, d| e.imp.validate(c, d)),
                    Err(d) => d,
                }
            },
            |d| d,
        )
        .await;
        Ok(Response::new(pb::validate_list_resource_config::Response {
            diagnostics: diags_to_proto(&diags),
        }))
    }

    pub(super) async fn serve_list_resource(
        &self,
        req: Request<pb::list_resource::Request>,
    ) -> Res<BoxStream<ListEvent>> {
        let req = req.into_inner();
        let (tx, rx) = mpsc::channel(8);
        let prepared = (|| {
            let list = self.list_resource(&req.type_name)?;
            let entry = self.resource(&req.type_name)?;
            let identity = entry.identity.clone().ok_or_else(|| {
                one_error(
                    "Provider bug: list resource without identity",
                    format!("{} has no resource identity to list by.", req.type_name),
                )
            })?;
            let config = decode(&req.config, &list.schema)?;
            Ok::<_, Diagnostics>((
                list.imp.clone(),
                entry.schema.clone(),
                identity,
                config,
                self.ctx()?,
            ))
        })();
        let (imp, schema, identity, config, ctx) = match prepared {
            Ok(p) => p,
            Err(d) => {
                let _ = tx.send(Ok(list_error(&d))).await;
                return Ok(Response::new(stream_of(rx)));
            }
        };
        tracing::debug!(type_name = %req.type_name, limit = req.limit, "ListResource");
        let include = req.include_resource_object;
        let list_req = ListRequest {
            config,
            include_resource_object: include,
            limit: req.limit,
        };
        tokio::spawn(async move {
            let (item_tx, mut item_rx) = mpsc::channel(1);
            let mut sink = ListSink {
                tx: item_tx,
                remaining: req.limit,
            };
            let producer = guarded(
                "ListResource",
                async {
                    let d = imp.list(&ctx, list_req, &mut sink).await;
                    drop(sink);
                    d
                },
                |d| d,
            );
            let forward = async {
                while let Some(item) = item_rx.recv().await {
                    let ev = list_event(item, &schema, &identity, include)
                        .unwrap_or_else(|d| list_error(&d));
                    if tx.send(Ok(ev)).await.is_err() {
                        break; // Terraform stopped reading.
                    }
                }
                drop(item_rx);
            };
            let (diags, ()) = tokio::join!(producer, forward);
            if !diags.0.is_empty() {
                let _ = tx.send(Ok(list_error(&diags))).await;
            }
        });
        Ok(Response::new(stream_of(rx)))
    }

    pub(super) async fn serve_generate_resource_config(
        &self,
        req: Request<pb::generate_resource_config::Request>,
    ) -> Res<pb::generate_resource_config::Response> {
        let req = req.into_inner();
        let out = guarded(
            "GenerateResourceConfig",
            async {
                let entry = self.resource(&req.type_name)?;
                let state = decode(&req.state, &entry.schema)?;
                let mut diags = Diagnostics::new();
                let config = entry.imp.generate_config(&state, &mut diags);
                if diags.has_errors() {
                    return Err(diags);
                }
                Ok(pb::generate_resource_config::Response {
                    config: encode(&config, &entry.schema)?,
                    diagnostics: diags_to_proto(&diags),
                })
            },
            Err,
        )
        .await;
        Ok(Response::new(out.unwrap_or_else(|d: Diagnostics| {
            pb::generate_resource_config::Response {
                config: None,
                diagnostics: diags_to_proto(&d),
            }
        })))
    }

    pub(super) async fn serve_validate_action_config(
        &self,
        req: Request<pb::validate_action_config::Request>,
    ) -> Res<pb::validate_action_config::Response> {
        let req = req.into_inner();
        let diags = guarded(
            "ValidateActionConfig",
            async {
                match self.action(&req.type_name) {
                    Ok(e) => validate_config(&req.config, &e.schema, |c, d| e.imp.validate(c, d)),
                    Err(d) => d,
                }
            },
            |d| d,
        )
        .await;
        Ok(Response::new(pb::validate_action_config::Response {
            diagnostics: diags_to_proto(&diags),
        }))
    }

    pub(super) async fn serve_plan_action(
        &self,
        req: Request<pb::plan_action::Request>,
    ) -> Res<pb::plan_action::Response> {
        let req = req.into_inner();
        let diags = guarded(
            "PlanAction",
            async {
                let entry = match self.action(&req.action_type) {
                    Ok(e) => e,
                    Err(d) => return d,
                };
                let config = match decode(&req.config, &entry.schema) {
                    Ok(v) => v,
                    Err(d) => return d,
                };
                match self.ctx() {
                    Ok(ctx) => entry.imp.plan(&ctx, &config).await,
                    Err(d) => d,
                }
            },
            |d| d,
        )
        .await;
        Ok(Response::new(pb::plan_action::Response {
            diagnostics: diags_to_proto(&diags),
            deferred: None,
        }))
    }

    pub(super) async fn serve_invoke_action(
        &self,
        req: Request<pb::invoke_action::Request>,
    ) -> Res<BoxStream<ActionEvent>> {
        let req = req.into_inner();
        let (tx, rx) = mpsc::channel(8);
        let prepared = (|| {
            let entry = self.action(&req.action_type)?;
            let config = decode(&req.config, &entry.schema)?;
            if !config.is_wholly_known() {
                return Err(one_error(
                    "Action configuration not known",
                    format!(
                        "{} cannot run before all of its arguments are known.",
                        req.action_type
                    ),
                ));
            }
            Ok::<_, Diagnostics>((entry.imp.clone(), config, self.ctx()?))
        })();
        let (imp, config, ctx) = match prepared {
            Ok(p) => p,
            Err(d) => {
                let _ = tx.send(completed(&d)).await;
                return Ok(Response::new(action_stream(rx)));
            }
        };
        tracing::debug!(action_type = %req.action_type, "InvokeAction");
        tokio::spawn(async move {
            let progress = Progress { tx: tx.clone() };
            let diags = guarded(
                "InvokeAction",
                imp.invoke(&ctx, config, progress.clone()),
                |d| d,
            )
            .await;
            let _ = progress.tx.send(completed(&diags)).await;
        });
        Ok(Response::new(action_stream(rx)))
    }
}
