//! PlanResourceChange: the framework plan (see `plan`), the resource's `modify_plan`, and the consistency checks in debug builds.

use super::*;

impl<P: Provider> FrameworkServer<P> {
    pub(super) async fn serve_plan_resource_change(
        &self,
        req: Request<pb::plan_resource_change::Request>,
    ) -> Res<pb::plan_resource_change::Response> {
        let req = req.into_inner();
        let out = guarded(
            "PlanResourceChange",
            async {
                let entry = self.resource(&req.type_name)?;
                let prior = decode(&req.prior_state, &entry.schema)?;
                let proposed = decode(&req.proposed_new_state, &entry.schema)?;
                let config = decode(&req.config, &entry.schema)?;
                let prior_private = decode_private(&req.prior_private);
                if proposed.is_null() {
                    // Destroy: the plan must be null; private state passes through.
                    return Ok(pb::plan_resource_change::Response {
                        planned_state: encode(&Value::Null, &entry.schema)?,
                        planned_private: req.prior_private.clone(),
                        ..Default::default()
                    });
                }
                let mut resp =
                    plan_resource(&entry.schema, &config, &proposed, &prior, &prior_private);
                entry.imp.modify_plan(
                    &PlanRequest {
                        config: &config,
                        prior: &prior,
                        prior_private: &prior_private,
                    },
                    &mut resp,
                );
                null_write_only(&entry.schema.block, &mut resp.planned);
                if cfg!(debug_assertions) && !resp.diags.has_errors() {
                    checks::check_planned(
                        &entry.schema.block,
                        &config,
                        &prior,
                        &resp.planned,
                        &AttrPath::root(),
                        &mut resp.diags,
                    );
                }
                let rr = dedup(resp.requires_replace.clone());
                Ok(pb::plan_resource_change::Response {
                    planned_state: encode(&resp.planned, &entry.schema)?,
                    requires_replace: rr.iter().map(path_to_proto).collect(),
                    planned_private: encode_private(&resp.private),
                    diagnostics: diags_to_proto(&resp.diags),
                    planned_identity: entry.identity_of(&resp.planned),
                    ..Default::default()
                })
            },
            Err,
        )
        .await;
        Ok(Response::new(out.unwrap_or_else(|d: Diagnostics| {
            pb::plan_resource_change::Response {
                diagnostics: diags_to_proto(&d),
                ..Default::default()
            }
        })))
    }
}
