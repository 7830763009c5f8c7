//! Create, read, update, delete and import: carrying out what the plan decided.

use std::time::Duration;

use batch_client::models::CloudPool;
use batch_client::{BatchError, Versioned};
use tfplugin::framework::{
    ApplyRequest, ApplyResponse, Ctx, DeleteRequest, ImportResponse, Private, ReadRequest,
    ReadResponse,
};
use tfplugin::model::Tf;
use tfplugin::{Diagnostics, Value};

use super::expand::{
    expand_enable_autoscale, expand_patch, expand_pool_add, expand_resize, expand_update_properties,
};
use super::flatten::pool_to_state;
use super::model::{KnownExt, Op, PoolModel, block, path_to};
use super::plan::{
    PENDING_REGISTRY, PoolCall, RegistryAction, Remote, ScaleCall, is_empty_pool, plan_update,
    registry_path, scale_calls,
};
use super::wait::{get_pool_uncancelled, pool_opts, report, wait_call_error, wait_pool};
use crate::common::import::already_exists_detail;
use crate::common::validators::is_batch_id;
use crate::common::{
    Batch, WaitError, batch_error, cancellable_sleep, opts, poll_opts, poll_until, private_etag,
    read_response, wait_error, with_etag,
};

/// `planned` with every unknown value replaced by the value at the same place in `actual`
/// (Null when `actual` has none): after apply, known planned values must come back unchanged.
pub fn merge_unknowns(planned: &Value, actual: &Value) -> Value {
    match planned {
        Value::Unknown => actual.clone(),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), merge_unknowns(v, actual.get(k))))
                .collect(),
        ),
        Value::List(items) => Value::List(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| merge_unknowns(v, actual.elements().get(i).unwrap_or(&Value::Null)))
                .collect(),
        ),
        v => v.clone(),
    }
}

/// Reads a plan, state or configuration into the model; a mismatch is a provider bug.
fn read_model(v: &Value, diags: &mut Diagnostics) -> Option<PoolModel> {
    match PoolModel::read(v) {
        Ok(m) => Some(m),
        Err(e) => {
            diags.error(
                "Unexpected pool value",
                format!("The provider could not read the pool's values ({e}). This is a bug in the provider."),
            );
            None
        }
    }
}

fn disappeared(name: &str, detail: &str) -> Diagnostics {
    let mut d = Diagnostics::new();
    d.error(format!("Pool {name} disappeared"), detail.to_string());
    d
}

/// A GET that must find the pool.
async fn get_existing(
    ctx: &Ctx<Batch>,
    name: &str,
    deadline: tokio::time::Instant,
    gone: &str,
) -> Result<Versioned<CloudPool>, WaitError> {
    match ctx.client.api.get_pool(name, &opts(ctx, deadline)).await {
        Ok(Some(p)) => Ok(p),
        Ok(None) => Err(WaitError::Failed(disappeared(name, gone))),
        Err(e) => Err(WaitError::Failed(wait_call_error(
            e,
            &format!("read pool {name}"),
        ))),
    }
}

pub async fn create(ctx: &Ctx<Batch>, req: ApplyRequest) -> ApplyResponse {
    let mut diags = Diagnostics::new();
    let planned = &req.planned;
    let (Some(model), Some(config)) = (
        read_model(planned, &mut diags),
        read_model(&req.config, &mut diags),
    ) else {
        return ApplyResponse {
            new_state: Value::Null,
            private: req.private,
            diags,
        };
    };
    let name = model.name();
    let deadline = tokio::time::Instant::now() + model.timeout(Op::Create);
    let add = expand_pool_add(&model.with_write_only(&config));
    tracing::info!(pool = %name, "creating pool");
    if let Err(e) = ctx.client.api.add_pool(&add, &opts(ctx, deadline)).await {
        report(&mut diags, &format!("create pool {name}"), &e);
        if e.is_code("PoolExists") {
            diags.attr_error(
                &path_to(|m| m.name = Tf::Unknown),
                format!("Pool {name} already exists"),
                already_exists_detail(&format!("a pool {name:?}"), "batch_container_pool", &name),
            );
        }
        // An ambiguous failure (e.g. interrupted) may still have created the pool.
        let existing = if e.is_conflict() {
            None
        } else {
            get_pool_uncancelled(ctx, &name).await
        };
        return ApplyResponse {
            new_state: existing
                .as_ref()
                .map(|p| merge_unknowns(planned, &pool_to_state(&p.value, planned)))
                .unwrap_or(Value::Null),
            private: with_etag(req.private, existing.and_then(|p| p.etag)),
            diags,
        };
    }
    let mode = model.wait_mode();
    let result = if mode == "none" {
        get_existing(
            ctx,
            &name,
            deadline,
            "The pool was deleted right after it was created.",
        )
        .await
    } else {
        wait_pool(ctx, &name, &mode, deadline, true).await
    };
    match result {
        Ok(p) => ApplyResponse {
            new_state: merge_unknowns(planned, &pool_to_state(&p.value, planned)),
            private: with_etag(req.private, p.etag),
            diags,
        },
        Err(err) => {
            wait_error(&mut diags, &format!("pool {name}"), err, "create");
            // The pool exists: hand it to Terraform (tainted) so nothing is orphaned.
            let cur = get_pool_uncancelled(ctx, &name).await;
            let state = match &cur {
                Some(p) => merge_unknowns(planned, &pool_to_state(&p.value, planned)),
                None => {
                    let mut s =
                        PoolModel::read(&merge_unknowns(planned, &Value::Null)).unwrap_or_default();
                    s.id = Tf::Known(name.clone());
                    s.write()
                }
            };
            ApplyResponse {
                new_state: state,
                private: with_etag(req.private, cur.and_then(|p| p.etag)),
                diags,
            }
        }
    }
}

pub async fn read(ctx: &Ctx<Batch>, req: ReadRequest) -> ReadResponse {
    let st = PoolModel::read(&req.state).unwrap_or_default();
    let name = st.name.get().or(st.id.get()).unwrap_or_default();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5 * 60);
    let got = ctx.client.api.get_pool(&name, &opts(ctx, deadline)).await;
    let prior = req.state.clone();
    let pending = req.private.get(PENDING_REGISTRY).cloned();
    let mut resp = read_response(
        req,
        got,
        &format!("pool {name}"),
        |p, _| pool_to_state(p, &prior),
        Diagnostics::new(),
    );
    // A pool that is still there keeps its pending registry change (PENDING_REGISTRY).
    if let Some(v) = pending.filter(|_| !resp.state.is_null()) {
        resp.private.insert(PENDING_REGISTRY.into(), v);
    }
    resp
}

/// The pool is gone: Terraform forgets it.
fn gone(diags: Diagnostics) -> ApplyResponse {
    ApplyResponse {
        new_state: Value::Null,
        private: Private::new(),
        diags,
    }
}

/// An update that stopped: the state is the pool as Batch has it (or the prior state).
fn stopped(
    diags: Diagnostics,
    private: Private,
    state: Option<&CloudPool>,
    prior: &Value,
) -> ApplyResponse {
    ApplyResponse {
        new_state: state
            .map(|p| pool_to_state(p, prior))
            .unwrap_or_else(|| prior.clone()),
        private,
        diags,
    }
}

pub async fn update(ctx: &Ctx<Batch>, req: ApplyRequest) -> ApplyResponse {
    let mut diags = Diagnostics::new();
    let (prior_v, planned_v) = (&req.prior, &req.planned);
    let (Some(prior), Some(planned), Some(config)) = (
        read_model(prior_v, &mut diags),
        read_model(planned_v, &mut diags),
        read_model(&req.config, &mut diags),
    ) else {
        return stopped(diags, req.private, None, prior_v);
    };
    let send = planned.with_write_only(&config);
    let name = planned.name();
    let deadline = tokio::time::Instant::now() + planned.timeout(Op::Update);
    let pending = req.private.contains_key(PENDING_REGISTRY);
    let mut private = req.private.clone();
    if !plan_update(&prior, &planned, pending, Remote::Planning).api_changes {
        // Only Terraform-side settings changed (wait_for, timeouts, node_deallocation_option).
        return ApplyResponse {
            new_state: planned_v.clone(),
            private,
            diags,
        };
    }
    let api = &ctx.client.api;
    let mut cur = match api.get_pool(&name, &opts(ctx, deadline)).await {
        Ok(Some(p)) => p,
        Ok(None) => {
            diags.error(
                format!("Pool {name} no longer exists"),
                "The pool was deleted outside Terraform. Run terraform apply again: the refresh notices it and plans to create it.",
            );
            return gone(diags);
        }
        Err(e) => {
            report(&mut diags, &format!("read pool {name}"), &e);
            return stopped(diags, private, None, prior_v);
        }
    };
    if let (Some(known), Some(now)) = (private_etag(&req.private), cur.etag.as_ref())
        && &known != now
    {
        diags.error(
            format!("Pool {name} changed outside Terraform"),
            "The pool changed outside Terraform since the last refresh (its ETag no longer matches), so nothing was overwritten. Run terraform apply again to see the difference and apply it.",
        );
        return stopped(diags, private, Some(&cur.value), prior_v);
    }
    let mut etag = cur.etag.clone();
    let mut scaled = false;
    let mut wrote = false;
    let live = |cur: &CloudPool, scaled| Remote::Live {
        empty: is_empty_pool(cur),
        scaled,
    };
    let mut plan = plan_update(&prior, &planned, pending, live(&cur.value, false));

    // Empty-pool-only changes on a pool with nodes: scale to 0 first when the plan says so.
    if plan.calls.first() == Some(&PoolCall::ScaleToZeroFirst) {
        tracing::info!(pool = %name, "scaling the pool to 0 nodes before changing properties Batch accepts only on an empty pool");
        if let Err(d) = apply_scale(ctx, &name, &cur.value, &planned, &mut etag, deadline).await {
            diags.extend(d);
            let now = get_pool_uncancelled(ctx, &name).await;
            return stopped(diags, private, now.as_ref().map(|p| &p.value), prior_v);
        }
        scaled = true;
        wrote = true;
        match wait_pool(ctx, &name, "steady", deadline, true).await {
            Ok(p) => {
                etag = p.etag.clone();
                cur = p;
            }
            Err(e) => {
                let what = format!("pool {name} to scale to 0 nodes");
                wait_error(&mut diags, &what, e, "update");
                let now = get_pool_uncancelled(ctx, &name).await;
                return stopped(diags, private, now.as_ref().map(|p| &p.value), prior_v);
            }
        }
        plan = plan_update(&prior, &planned, pending, live(&cur.value, true));
    }
    if plan.not_empty {
        let paths: Vec<String> = plan.empty_only.iter().map(|p| p.to_string()).collect();
        diags.error(
            format!("Pool {name} is not empty"),
            format!(
                "Batch changes {} only while the pool has no nodes, and pool {name} has {} node(s) now (it had none when the plan was made). Nothing was changed. Run terraform apply again: the new plan replaces the pool, or scale it to 0 nodes first.",
                paths.join(", "),
                cur.value.current_dedicated_nodes.unwrap_or(0) + cur.value.current_low_priority_nodes.unwrap_or(0)
            ),
        );
        return stopped(diags, private, Some(&cur.value), prior_v);
    }
    if plan.registry == RegistryAction::KeepPending {
        private.insert(PENDING_REGISTRY.into(), serde_json::Value::Bool(true));
        diags.attr_warning(
            &registry_path(),
            "Registry password not sent until the pool is empty",
            format!("Pool {name} has nodes, and Batch changes container registries only on an empty pool. The new password is recorded and sent by the first apply that finds the pool empty."),
        );
    }
    let sends_registry = matches!(
        plan.registry,
        RegistryAction::Send | RegistryAction::SendPending
    );
    for call in &plan.calls {
        let result = match call {
            PoolCall::ScaleToZeroFirst => continue,
            PoolCall::Patch(what) => {
                let patch =
                    expand_patch(&send, what, cur.value.virtual_machine_configuration.clone());
                tracing::info!(pool = %name, "updating pool properties (Pool_Patch)");
                let r = api
                    .patch_pool(&name, &patch, &pool_opts(ctx, deadline, etag.as_deref()))
                    .await;
                if r.is_ok() && sends_registry {
                    private.remove(PENDING_REGISTRY);
                }
                r.map(|w| w.etag)
            }
            PoolCall::UpdateProperties => {
                // No If-Match here: the ETag was checked above.
                let upd = expand_update_properties(&send, &cur.value);
                tracing::info!(pool = %name, "replacing pool properties (Pool_UpdateProperties)");
                api.update_pool_properties(&name, &upd, &opts(ctx, deadline))
                    .await
                    .map(|w| w.etag)
            }
            PoolCall::Scale => {
                let now = match api.get_pool(&name, &opts(ctx, deadline)).await {
                    Ok(Some(p)) => p,
                    Ok(None) => {
                        diags.extend(disappeared(
                            &name,
                            "The pool was deleted during the update.",
                        ));
                        return gone(diags);
                    }
                    Err(e) => {
                        report(&mut diags, &format!("read pool {name}"), &e);
                        return stopped(diags, private, None, prior_v);
                    }
                };
                etag = now.etag.clone().or(etag);
                if let Err(d) =
                    apply_scale(ctx, &name, &now.value, &planned, &mut etag, deadline).await
                {
                    diags.extend(d);
                    let now = get_pool_uncancelled(ctx, &name).await;
                    return stopped(diags, private, now.as_ref().map(|p| &p.value), prior_v);
                }
                scaled = true;
                wrote = true;
                continue;
            }
        };
        match result {
            Ok(new_etag) => {
                etag = new_etag.or(etag);
                wrote = true;
            }
            Err(e) => {
                report(&mut diags, &format!("update pool {name}"), &e);
                let now = get_pool_uncancelled(ctx, &name).await;
                return stopped(diags, private, now.as_ref().map(|p| &p.value), prior_v);
            }
        }
    }
    let mode = planned.wait_mode();
    let final_pool = if wrote && mode != "none" {
        wait_pool(ctx, &name, &mode, deadline, scaled).await
    } else {
        get_existing(
            ctx,
            &name,
            deadline,
            "The pool was deleted during the update.",
        )
        .await
    };
    match final_pool {
        Ok(p) => ApplyResponse {
            new_state: merge_unknowns(planned_v, &pool_to_state(&p.value, planned_v)),
            private: with_etag(private, p.etag),
            diags,
        },
        Err(e) => {
            wait_error(&mut diags, &format!("pool {name}"), e, "update");
            let cur = get_pool_uncancelled(ctx, &name).await;
            // The changes were made: record them as the service now has them (computed
            // values included, whatever the plan expected).
            let state = cur
                .as_ref()
                .map(|p| pool_to_state(&p.value, planned_v))
                .unwrap_or_else(|| prior_v.clone());
            ApplyResponse {
                new_state: state,
                private: with_etag(private, cur.and_then(|p| p.etag)),
                diags,
            }
        }
    }
}

pub async fn delete(ctx: &Ctx<Batch>, req: DeleteRequest) -> Diagnostics {
    let mut diags = Diagnostics::new();
    let prior = PoolModel::read(&req.prior).unwrap_or_default();
    let name = prior.name();
    let deadline = tokio::time::Instant::now() + prior.timeout(Op::Delete);
    tracing::info!(pool = %name, "deleting pool");
    match ctx
        .client
        .api
        .delete_pool(&name, &opts(ctx, deadline))
        .await
    {
        Ok(_) => {}
        Err(e) if e.is_not_found() => return diags,
        Err(e) if e.is_code("PoolBeingDeleted") => {}
        Err(e) => {
            report(&mut diags, &format!("delete pool {name}"), &e);
            return diags;
        }
    }
    let what = format!("pool {name} to be deleted");
    let res = poll_until(ctx, deadline, &what, || {
        let api = &ctx.client.api;
        let name = name.as_str();
        async move {
            match api.get_pool(name, &poll_opts(ctx)).await {
                Ok(None) => Ok(Some(())),
                Ok(Some(p)) => {
                    tracing::info!(
                        pool = name,
                        state = p.value.state.as_deref().unwrap_or(""),
                        "waiting for the pool deletion"
                    );
                    Ok(None)
                }
                Err(e) => Err(wait_call_error(e, &format!("read pool {name}"))),
            }
        }
    })
    .await;
    if let Err(e) = res {
        wait_error(&mut diags, &what, e, "delete");
    }
    diags
}

pub fn import(id: &str) -> ImportResponse {
    let mut diags = Diagnostics::new();
    if !is_batch_id(id) {
        diags.error(
            "Invalid pool id to import",
            format!("{id:?} is not a pool id: use the pool's name (1 to 64 letters, digits, hyphens and underscores), e.g. terraform import batch_container_pool.example mypool."),
        );
    }
    let state = PoolModel {
        id: Tf::Known(id.to_string()),
        name: Tf::Known(id.to_string()),
        ..Default::default()
    };
    ImportResponse {
        state: state.write(),
        private: Private::new(),
        diags,
    }
}

/// A pool without a container configuration (e.g. a Windows pool with user accounts) is not a
/// batch_container_pool: importing it would write a configuration that cannot validate.
pub async fn refuse_non_container_pool(ctx: &Ctx<Batch>, id: &str, diags: &mut Diagnostics) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    match ctx.client.api.get_pool(id, &opts(ctx, deadline)).await {
        Ok(Some(p)) if !super::list::is_container_pool(&p.value) => diags.error(
            format!("Pool {id:?} is not a container pool"),
            format!("Batch pool {id:?} has no container configuration (virtualMachineConfiguration.containerConfiguration), so batch_container_pool cannot manage it. Read it with the batch_pool data source instead: data \"batch_pool\" \"existing\" {{ name = \"{id}\" }}."),
        ),
        // A missing pool is reported by the read that follows the import.
        Ok(_) => {}
        Err(e) => batch_error(diags, &format!("read pool {id} to import it"), &e, None),
    }
}

/// Brings the pool's scale settings to the planned ones ([`scale_calls`] decides the calls
/// from the pool as it is now).
async fn apply_scale(
    ctx: &Ctx<Batch>,
    name: &str,
    cur: &CloudPool,
    planned: &PoolModel,
    etag: &mut Option<String>,
    deadline: tokio::time::Instant,
) -> Result<(), Diagnostics> {
    let api = &ctx.client.api;
    let mut d = Diagnostics::new();
    let auto_now = cur.enable_auto_scale == Some(true);
    let steady = cur.allocation_state.as_deref() == Some("steady");
    let fail = |mut d: Diagnostics, doing: String, e: &BatchError| {
        report(&mut d, &doing, e);
        Err(d)
    };
    for call in scale_calls(planned, auto_now, steady) {
        match call {
            ScaleCall::DisableAutoScale => {
                tracing::info!(pool = name, "disabling autoscaling");
                match api
                    .disable_pool_auto_scale(name, &opts(ctx, deadline))
                    .await
                {
                    Ok(w) => *etag = w.etag.or(etag.take()),
                    Err(e) => return fail(d, format!("disable autoscaling of pool {name}"), &e),
                }
            }
            ScaleCall::StopResize => stop_resize(ctx, name, etag, deadline).await?,
            ScaleCall::Resize => {
                let resize = expand_resize(&block(&planned.fixed_scale));
                tracing::info!(pool = name, dedicated = ?resize.target_dedicated_nodes, low_priority = ?resize.target_low_priority_nodes, "resizing pool");
                match api
                    .resize_pool(name, &resize, &pool_opts(ctx, deadline, etag.as_deref()))
                    .await
                {
                    Ok(w) => *etag = w.etag.or(etag.take()),
                    Err(e) => return fail(d, format!("resize pool {name}"), &e),
                }
            }
            ScaleCall::EnableAutoScale => {
                let params = expand_enable_autoscale(&block(&planned.auto_scale));
                tracing::info!(pool = name, "enabling autoscaling");
                loop {
                    match api
                        .enable_pool_auto_scale(
                            name,
                            &params,
                            &pool_opts(ctx, deadline, etag.as_deref()),
                        )
                        .await
                    {
                        Ok(w) => {
                            *etag = w.etag.or(etag.take());
                            break;
                        }
                        // Batch allows one enable per 30 s per pool: wait and retry within the timeout.
                        Err(e)
                            if e.is_code("TooManyEnableAutoScaleRequests")
                                && tokio::time::Instant::now() + Duration::from_secs(5)
                                    < deadline =>
                        {
                            tracing::info!(
                                pool = name,
                                "autoscaling was changed less than 30 s ago; retrying in 5 s"
                            );
                            if cancellable_sleep(&ctx.cancel, Duration::from_secs(5)).await {
                                report(&mut d, &format!("enable autoscaling of pool {name}"), &e);
                                return Err(d);
                            }
                            if let Ok(Some(p)) = api.get_pool(name, &opts(ctx, deadline)).await {
                                *etag = p.etag;
                            }
                        }
                        Err(e) => return fail(d, format!("enable autoscaling of pool {name}"), &e),
                    }
                }
            }
        }
    }
    Ok(())
}

async fn stop_resize(
    ctx: &Ctx<Batch>,
    name: &str,
    etag: &mut Option<String>,
    deadline: tokio::time::Instant,
) -> Result<(), Diagnostics> {
    let mut d = Diagnostics::new();
    tracing::info!(pool = name, "stopping the pending resize first");
    if let Err(e) = ctx
        .client
        .api
        .stop_resize_pool(name, &opts(ctx, deadline))
        .await
    {
        report(
            &mut d,
            &format!("stop the pending resize of pool {name}"),
            &e,
        );
        return Err(d);
    }
    match wait_pool(ctx, name, "steady", deadline, false).await {
        Ok(p) => {
            *etag = p.etag;
            Ok(())
        }
        Err(e) => {
            wait_error(
                &mut d,
                &format!("pool {name} to stop resizing"),
                e,
                "update",
            );
            Err(d)
        }
    }
}
