//! ReadResource, UpgradeResourceState, ImportResourceState, ReadDataSource and StopProvider.

use super::*;

impl<P: Provider> FrameworkServer<P> {
    pub(super) async fn serve_read_resource(
        &self,
        req: Request<pb::read_resource::Request>,
    ) -> Res<pb::read_resource::Response> {
        let req = req.into_inner();
        let out = guarded(
            "ReadResource",
            async {
                let entry = self.resource(&req.type_name)?;
                let state = decode(&req.current_state, &entry.schema)?;
                let ctx = self.ctx()?;
                let private = decode_private(&req.private);
                tracing::debug!(type_name = %req.type_name, "ReadResource");
                let prior = state.clone();
                let mut resp = entry.imp.read(&ctx, ReadRequest { state, private }).await;
                null_write_only(&entry.schema.block, &mut resp.state);
                normalize_read(&entry.schema.block, &prior, &mut resp.state);
                if cfg!(debug_assertions) && !resp.state.is_wholly_known() {
                    resp.diags.error(
                        "Provider bug: unknown value after read",
                        "ReadResource returned unknown values.",
                    );
                }
                let new_state = encode(&resp.state, &entry.schema)?;
                Ok(pb::read_resource::Response {
                    new_state,
                    private: encode_private(&resp.private),
                    diagnostics: diags_to_proto(&resp.diags),
                    new_identity: entry.identity_of(&resp.state),
                    ..Default::default()
                })
            },
            Err,
        )
        .await;
        Ok(Response::new(out.unwrap_or_else(|d: Diagnostics| {
            pb::read_resource::Response {
                new_state: req.current_state.clone(),
                private: req.private.clone(),
                diagnostics: diags_to_proto(&d),
                new_identity: req.current_identity.clone(),
                ..Default::default()
            }
        })))
    }

    pub(super) async fn serve_upgrade_resource_state(
        &self,
        req: Request<pb::upgrade_resource_state::Request>,
    ) -> Res<pb::upgrade_resource_state::Response> {
        let req = req.into_inner();
        let out = guarded("UpgradeResourceState", async {
            let entry = self.resource(&req.type_name)?;
            if req.version > entry.schema.version {
                return Err(one_error(
                    "Resource state from a newer provider",
                    format!("The state of this {} was written by a newer provider version (schema {}, this provider knows {}). Upgrade the provider.", req.type_name, req.version, entry.schema.version),
                ));
            }
            let raw = req.raw_state.as_ref().map(|r| r.json.as_slice()).unwrap_or_default();
            if raw.is_empty() {
                return Err(one_error("Unsupported state format", "This state was written by Terraform before 0.12 (flatmap); refresh it with a newer Terraform first."));
            }
            let mut v = decode_json(raw, entry.schema.value_type()).map_err(|e| one_error("Could not read the stored state", e.to_string()))?;
            null_write_only(&entry.schema.block, &mut v);
            encode(&v, &entry.schema)
        }, Err)
        .await;
        Ok(Response::new(match out {
            Ok(upgraded_state) => pb::upgrade_resource_state::Response {
                upgraded_state,
                diagnostics: vec![],
            },
            Err(d) => pb::upgrade_resource_state::Response {
                upgraded_state: None,
                diagnostics: diags_to_proto(&d),
            },
        }))
    }

    pub(super) async fn serve_import_resource_state(
        &self,
        req: Request<pb::import_resource_state::Request>,
    ) -> Res<pb::import_resource_state::Response> {
        let req = req.into_inner();
        let out = guarded(
            "ImportResourceState",
            async {
                let entry = self.resource(&req.type_name)?;
                let ctx = self.ctx()?;
                let id = import_id(entry, &req)?;
                let resp = entry.imp.import(&ctx, &id).await;
                if resp.diags.has_errors() {
                    return Err(resp.diags);
                }
                let mut state = resp.state;
                null_write_only(&entry.schema.block, &mut state);
                Ok(pb::import_resource_state::Response {
                    imported_resources: vec![pb::import_resource_state::ImportedResource {
                        type_name: req.type_name.clone(),
                        state: encode(&state, &entry.schema)?,
                        private: encode_private(&resp.private),
                        identity: entry.identity_of(&state),
                    }],
                    diagnostics: diags_to_proto(&resp.diags),
                    deferred: None,
                })
            },
            Err,
        )
        .await;
        Ok(Response::new(out.unwrap_or_else(|d: Diagnostics| {
            pb::import_resource_state::Response {
                diagnostics: diags_to_proto(&d),
                ..Default::default()
            }
        })))
    }

    pub(super) async fn serve_read_data_source(
        &self,
        req: Request<pb::read_data_source::Request>,
    ) -> Res<pb::read_data_source::Response> {
        let req = req.into_inner();
        let out = guarded(
            "ReadDataSource",
            async {
                let entry = self.data_source(&req.type_name)?;
                let config = decode(&req.config, &entry.schema)?;
                let ctx = self.ctx()?;
                let (state, diags) = entry.imp.read(&ctx, config).await;
                if diags.has_errors() {
                    return Err(diags);
                }
                if !state.is_wholly_known() || state.is_null() {
                    return Err(one_error(
                        "Provider bug: incomplete data source result",
                        format!("{} returned an unknown or null object.", req.type_name),
                    ));
                }
                Ok(pb::read_data_source::Response {
                    state: encode(&state, &entry.schema)?,
                    diagnostics: diags_to_proto(&diags),
                    deferred: None,
                })
            },
            Err,
        )
        .await;
        Ok(Response::new(out.unwrap_or_else(|d: Diagnostics| {
            pb::read_data_source::Response {
                diagnostics: diags_to_proto(&d),
                ..Default::default()
            }
        })))
    }

    pub(super) async fn serve_stop_provider(
        &self,
        _: Request<pb::stop_provider::Request>,
    ) -> Res<pb::stop_provider::Response> {
        tracing::info!("StopProvider: cancelling in-flight operations");
        self.cancel.cancel();
        Ok(Response::new(pb::stop_provider::Response {
            error: String::new(),
        }))
    }
}
