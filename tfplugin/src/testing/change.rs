//! Plan and apply as Terraform core makes them: the proposed new state, PlanResourceChange and
//! ApplyResourceChange, each checked the way core checks the provider's answers.

use tfplugin_proto::tfplugin6 as pb;
use tfplugin_proto::tfplugin6::provider_server::Provider as Rpc;
use tonic::Request;

use crate::diag::{AttrPath, Diagnostics};
use crate::framework::Provider;
use crate::value::Value;

use super::helpers::*;
use super::objchange::{self, Errs};
use super::schema::TfSchema;
use super::{Action, Applied, Harness, Planned};

impl<P: Provider> Harness<P> {
    /// One PlanResourceChange with the proposed new state computed from prior and config, checked
    /// like core checks it. Returns (planned, requires_replace, planned_private).
    async fn plan_rpc(
        &self,
        type_name: &str,
        s: &TfSchema,
        prior: &Value,
        prior_private: &[u8],
        config: &Value,
        acc: &mut Diagnostics,
    ) -> Result<(Value, Vec<AttrPath>, Vec<u8>), Diagnostics> {
        // A destroy (null config) is proposed as null; otherwise core's ProposedNew.
        let proposed = if config.is_null() {
            Value::Null
        } else {
            objchange::proposed_new(&s.block, prior, config)
        };
        let r = Rpc::plan_resource_change(
            &self.server,
            Request::new(pb::plan_resource_change::Request {
                type_name: type_name.into(),
                prior_state: self.encode(s, prior, "prior state")?,
                proposed_new_state: self.encode(s, &proposed, "proposed new state")?,
                config: self.encode(s, config, "configuration")?,
                prior_private: prior_private.to_vec(),
                client_capabilities: caps(),
                ..Default::default()
            }),
        )
        .await
        .map_err(|e| rpc_failed("PlanResourceChange", e))?
        .into_inner();
        take(acc, &r.diagnostics)?;
        check_deferred("PlanResourceChange", &r.deferred)?;
        if r.legacy_type_system {
            return Err(error(
                "Legacy type system",
                "The provider set legacy_type_system, which turns Terraform's plan checks into warnings. Framework providers must not.",
                None,
            ));
        }
        let planned = self.decode(s, &r.planned_state, "PlanResourceChange", type_name)?;
        let invalid = |detail: String, path: Option<AttrPath>| {
            error("Provider produced invalid plan", detail, path)
        };
        match (config.is_null(), planned.is_null()) {
            (true, false) => {
                return Err(invalid(
                    format!(
                        "Provider {:?} planned an invalid value for {type_name}: planned for existence but config wants absence.\n\n{BUG}",
                        self.name
                    ),
                    None,
                ));
            }
            (false, true) => {
                return Err(invalid(
                    format!(
                        "Provider {:?} planned an invalid value for {type_name}: planned for absence but config wants existence.\n\n{BUG}",
                        self.name
                    ),
                    None,
                ));
            }
            (false, false) => {
                let mut errs = Errs::new();
                objchange::plan_valid(
                    &s.block,
                    prior,
                    config,
                    &planned,
                    &AttrPath::root(),
                    &mut errs,
                );
                errs_to_diags(
                    "Provider produced invalid plan",
                    |p, m| {
                        format!(
                            "Provider {:?} planned an invalid value for {type_name}{}: {m}.\n\n{BUG}",
                            self.name,
                            dotted(p)
                        )
                    },
                    errs,
                )?;
                let mut wo = Vec::new();
                has_write_only_value(&s.block, &planned, &AttrPath::root(), &mut wo);
                if let Some(p) = wo.into_iter().next() {
                    return Err(invalid(
                        format!(
                            "Provider {:?} returned a value for the write-only attribute {type_name}{}. Write-only attributes cannot be read back from the provider.\n\n{BUG}",
                            self.name,
                            dotted(&p)
                        ),
                        Some(p),
                    ));
                }
            }
            (true, true) => {}
        }
        let rr: Vec<AttrPath> = r.requires_replace.iter().map(path_from_proto).collect();
        Ok((planned, rr, r.planned_private))
    }

    /// `terraform plan` for one resource instance: ValidateResourceConfig, PlanResourceChange with
    /// core's proposed new state, the plan checks, and (when a requires-replace path changed) the
    /// second PlanResourceChange from a null prior that core makes to plan the replacement. A null
    /// `config` plans a destroy. `prior` null (with empty `prior_private`) plans a create.
    pub async fn plan(
        &self,
        type_name: &str,
        prior: &Value,
        prior_private: &[u8],
        config: &Value,
    ) -> Result<Planned, Diagnostics> {
        let s = self.resource(type_name)?;
        let mut acc = Diagnostics::new();
        if !config.is_null() {
            let v = self.validate_resource(type_name, config).await;
            if v.has_errors() {
                return Err(v);
            }
            acc.extend(v);
        }
        let prior = self.normalize(s, prior, "prior state", type_name)?;
        let config = self.normalize(s, config, "configuration", type_name)?;
        if !prior.is_wholly_known() {
            return Err(error(
                "Invalid test value",
                "A prior state cannot contain unknown values.",
                None,
            ));
        }
        let (planned, rr, planned_private) = self
            .plan_rpc(type_name, s, &prior, prior_private, &config, &mut acc)
            .await?;
        let mut out = Planned {
            action: Action::NoOp,
            planned_state: planned,
            requires_replace: Vec::new(),
            planned_private,
            diags: Diagnostics::new(),
            prior_private: prior_private.to_vec(),
        };
        if config.is_null() {
            out.action = if prior.is_null() {
                Action::NoOp
            } else {
                Action::Delete
            };
            out.diags = acc;
            return Ok(out);
        }
        if prior.is_null() {
            out.action = Action::Create;
            out.diags = acc;
            return Ok(out);
        }
        for p in rr {
            if !path_exists(&prior, &p) && !path_exists(&out.planned_state, &p) {
                return Err(error(
                    "Provider produced invalid plan",
                    format!(
                        "Provider {:?} has indicated \"requires replacement\" on {type_name}{} for a non-existent attribute path.\n\n{BUG}",
                        self.name,
                        dotted(&p)
                    ),
                    Some(p),
                ));
            }
            let (a, b) = (value_at(&prior, &p), value_at(&out.planned_state, &p));
            if (a != b || !b.is_wholly_known()) && !out.requires_replace.contains(&p) {
                out.requires_replace.push(p);
            }
        }
        if !out.requires_replace.is_empty() {
            // Core plans the new object again, from nothing.
            let (planned, _, private) = self
                .plan_rpc(
                    type_name,
                    s,
                    &Value::Null,
                    &out.planned_private,
                    &config,
                    &mut acc,
                )
                .await?;
            out.action = Action::Replace;
            out.planned_state = planned;
            out.planned_private = private;
        } else if out.planned_state == prior {
            out.action = Action::NoOp;
        } else {
            out.action = Action::Update;
        }
        out.diags = acc;
        Ok(out)
    }

    #[allow(clippy::too_many_arguments)]
    async fn apply_rpc(
        &self,
        type_name: &str,
        s: &TfSchema,
        prior: &Value,
        planned: &Value,
        config: &Value,
        private: &[u8],
        acc: &mut Diagnostics,
    ) -> Result<Applied, Diagnostics> {
        let r = Rpc::apply_resource_change(
            &self.server,
            Request::new(pb::apply_resource_change::Request {
                type_name: type_name.into(),
                prior_state: self.encode(s, prior, "prior state")?,
                planned_state: self.encode(s, planned, "planned state")?,
                config: self.encode(s, config, "configuration")?,
                planned_private: private.to_vec(),
                ..Default::default()
            }),
        )
        .await
        .map_err(|e| rpc_failed("ApplyResourceChange", e))?
        .into_inner();
        take(acc, &r.diagnostics)?;
        let new = self.decode(s, &r.new_state, "ApplyResourceChange", type_name)?;
        let bad = |d: String, p: Option<AttrPath>| {
            error("Provider produced inconsistent result after apply", d, p)
        };
        if planned.is_null() {
            if !new.is_null() {
                return Err(error(
                    "Provider returned invalid result object after apply",
                    format!(
                        "After applying a destroy plan, provider {:?} returned a non-null object for {type_name}. Destroying should always produce a null value.\n\n{BUG}",
                        self.name
                    ),
                    None,
                ));
            }
        } else {
            if new.is_null() {
                return Err(bad(
                    format!(
                        "When applying changes to {type_name}, provider {:?} produced an unexpected new value: Root object was present, but now absent.\n\n{BUG}",
                        self.name
                    ),
                    None,
                ));
            }
            if !new.is_wholly_known() {
                return Err(error(
                    "Provider returned invalid result object after apply",
                    format!(
                        "After the apply operation, the provider {:?} still indicated an unknown value for {type_name}. All values must be known after apply.\n\n{BUG}",
                        self.name
                    ),
                    None,
                ));
            }
            let mut wo = Vec::new();
            has_write_only_value(&s.block, &new, &AttrPath::root(), &mut wo);
            if let Some(p) = wo.into_iter().next() {
                return Err(bad(
                    format!(
                        "Provider {:?} returned a value for the write-only attribute {type_name}{} after apply.\n\n{BUG}",
                        self.name,
                        dotted(&p)
                    ),
                    Some(p),
                ));
            }
            let mut errs = Errs::new();
            objchange::compatible(&s.block, planned, &new, &AttrPath::root(), &mut errs);
            errs_to_diags(
                "Provider produced inconsistent result after apply",
                |p, m| {
                    format!(
                        "When applying changes to {type_name}, provider {:?} produced an unexpected new value: {}: {m}.\n\n{BUG}",
                        self.name,
                        dotted(p)
                    )
                },
                errs,
            )?;
        }
        Ok(Applied {
            new_state: new,
            private: r.private,
            diags: acc.clone(),
        })
    }

    /// Create or update: the apply-time re-plan (checked against the approved plan), then ApplyResourceChange.
    #[allow(clippy::too_many_arguments)]
    async fn apply_change(
        &self,
        type_name: &str,
        s: &TfSchema,
        prior: &Value,
        prior_private: &[u8],
        approved: &Value,
        config: &Value,
        acc: &mut Diagnostics,
    ) -> Result<Applied, Diagnostics> {
        let (final_plan, _, private) = self
            .plan_rpc(type_name, s, prior, prior_private, config, acc)
            .await?;
        let mut errs = Errs::new();
        objchange::compatible(
            &s.block,
            approved,
            &final_plan,
            &AttrPath::root(),
            &mut errs,
        );
        errs_to_diags(
            "Provider produced inconsistent final plan",
            |p, m| {
                format!(
                    "When expanding the plan for {type_name} to include new values learned so far during apply, provider {:?} produced an invalid new value for {}: {m}.\n\n{BUG}",
                    self.name,
                    dotted(p)
                )
            },
            errs,
        )?;
        self.apply_rpc(type_name, s, prior, &final_plan, config, &private, acc)
            .await
    }

    /// `terraform apply` of a saved plan: the apply-time PlanResourceChange (which must agree with
    /// every value known in `planned`), then ApplyResourceChange, whose new state must keep every
    /// planned known value. A Replace destroys the prior object first. A NoOp returns the prior state.
    pub async fn apply(
        &self,
        type_name: &str,
        prior: &Value,
        planned: &Planned,
        config: &Value,
    ) -> Result<Applied, Diagnostics> {
        let s = self.resource(type_name)?;
        let prior = self.normalize(s, prior, "prior state", type_name)?;
        let config = self.normalize(s, config, "configuration", type_name)?;
        let mut acc = planned.diags.clone();
        match planned.action {
            Action::NoOp => Ok(Applied {
                new_state: prior,
                private: planned.prior_private.clone(),
                diags: acc,
            }),
            Action::Delete => {
                self.apply_rpc(
                    type_name,
                    s,
                    &prior,
                    &Value::Null,
                    &Value::Null,
                    &planned.planned_private,
                    &mut acc,
                )
                .await
            }
            Action::Create | Action::Update => {
                self.apply_change(
                    type_name,
                    s,
                    &prior,
                    &planned.prior_private,
                    &planned.planned_state,
                    &config,
                    &mut acc,
                )
                .await
            }
            Action::Replace => {
                let (destroy_plan, _, destroy_private) = self
                    .plan_rpc(
                        type_name,
                        s,
                        &prior,
                        &planned.prior_private,
                        &Value::Null,
                        &mut acc,
                    )
                    .await?;
                self.apply_rpc(
                    type_name,
                    s,
                    &prior,
                    &destroy_plan,
                    &Value::Null,
                    &destroy_private,
                    &mut acc,
                )
                .await?;
                self.apply_change(
                    type_name,
                    s,
                    &Value::Null,
                    &planned.planned_private,
                    &planned.planned_state,
                    &config,
                    &mut acc,
                )
                .await
            }
        }
    }

    /// Plan from nothing and apply: the common "create this" case.
    pub async fn create(&self, type_name: &str, config: &Value) -> Result<Applied, Diagnostics> {
        let planned = self.plan(type_name, &Value::Null, &[], config).await?;
        self.apply(type_name, &Value::Null, &planned, config).await
    }

    /// One terraform-plugin-testing config step: plan and apply `config` over `prior` (None to
    /// create), then require an empty plan without refresh and again after a refresh
    /// (UpgradeResourceState + ReadResource). Returns the refreshed state.
    pub async fn step(
        &self,
        type_name: &str,
        prior: Option<&Applied>,
        config: &Value,
    ) -> Result<Applied, Diagnostics> {
        let (pv, pp) = match prior {
            Some(a) => (a.new_state.clone(), a.private.clone()),
            None => (Value::Null, Vec::new()),
        };
        let planned = self.plan(type_name, &pv, &pp, config).await?;
        let applied = self.apply(type_name, &pv, &planned, config).await?;
        let not_empty = |which: &str, p: &Planned, state: &Value| {
            error(
                format!("After applying this test step, the {which} plan was not empty."),
                format!(
                    "{type_name}: planned action {:?}; changed: {}",
                    p.action,
                    objchange::changed_attrs(state, &p.planned_state).join(", ")
                ),
                None,
            )
        };
        let again = self
            .plan(type_name, &applied.new_state, &applied.private, config)
            .await?;
        if again.action != Action::NoOp {
            return Err(not_empty("non-refresh", &again, &applied.new_state));
        }
        let Some((state, private)) = self
            .read_with_private(type_name, &applied.new_state, &applied.private)
            .await?
        else {
            return Err(error(
                "Resource vanished after apply",
                format!("{type_name}: ReadResource returned null right after apply."),
                None,
            ));
        };
        let again = self.plan(type_name, &state, &private, config).await?;
        if again.action != Action::NoOp {
            return Err(not_empty("refresh", &again, &state));
        }
        Ok(Applied {
            new_state: state,
            private,
            diags: applied.diags,
        })
    }

    /// `terraform destroy` of one instance: PlanResourceChange with null config, then ApplyResourceChange.
    pub async fn destroy(
        &self,
        type_name: &str,
        prior: &Value,
        private: &[u8],
    ) -> Result<(), Diagnostics> {
        let planned = self.plan(type_name, prior, private, &Value::Null).await?;
        self.apply(type_name, prior, &planned, &Value::Null)
            .await
            .map(|_| ())
    }
}
