//! ApplyResourceChange: delete, or create/update followed by normalisation against the plan.

use super::*;

impl<P: Provider> FrameworkServer<P> {
    pub(super) async fn serve_apply_resource_change(
        &self,
        req: Request<pb::apply_resource_change::Request>,
    ) -> Res<pb::apply_resource_change::Response> {
        let req = req.into_inner();
        let out = guarded("ApplyResourceChange", async {
            let entry = self.resource(&req.type_name)?;
            let prior = decode(&req.prior_state, &entry.schema)?;
            let planned = decode(&req.planned_state, &entry.schema)?;
            let config = decode(&req.config, &entry.schema)?;
            let private = decode_private(&req.planned_private);
            let ctx = self.ctx()?;
            if planned.is_null() {
                tracing::info!(type_name = %req.type_name, "deleting");
                let diags = entry.imp.delete(&ctx, DeleteRequest { prior: prior.clone(), private: private.clone() }).await;
                // On failure the object still exists: keep it in state.
                let state = if diags.has_errors() { prior } else { Value::Null };
                return Ok(pb::apply_resource_change::Response {
                    new_state: encode(&state, &entry.schema)?,
                    private: if diags.has_errors() { req.planned_private.clone() } else { Vec::new() },
                    diagnostics: diags_to_proto(&diags),
                    new_identity: entry.identity_of(&state),
                    ..Default::default()
                });
            }
            let creating = prior.is_null();
            tracing::info!(type_name = %req.type_name, action = if creating { "create" } else { "update" }, "applying");
            let areq = ApplyRequest { config, planned: planned.clone(), prior: prior.clone(), private };
            let mut resp = if creating { entry.imp.create(&ctx, areq).await } else { entry.imp.update(&ctx, areq).await };
            null_write_only(&entry.schema.block, &mut resp.new_state);
            normalize_applied(&entry.schema.block, &planned, &mut resp.new_state);
            if cfg!(debug_assertions) && !resp.diags.has_errors() && !resp.new_state.is_null() {
                checks::check_applied(&planned, &resp.new_state, &AttrPath::root(), &mut resp.diags);
            }
            Ok(pb::apply_resource_change::Response {
                new_state: encode(&resp.new_state, &entry.schema)?,
                private: encode_private(&resp.private),
                diagnostics: diags_to_proto(&resp.diags),
                new_identity: entry.identity_of(&resp.new_state),
                ..Default::default()
            })
        }, Err)
        .await;
        Ok(Response::new(out.unwrap_or_else(|d: Diagnostics| {
            pb::apply_resource_change::Response {
                // Keep what Terraform had: the prior state (null on create).
                new_state: req.prior_state.clone(),
                private: req.planned_private.clone(),
                diagnostics: diags_to_proto(&d),
                ..Default::default()
            }
        })))
    }
}
