//! Pool unit tests: modify_plan.

use super::*;

/// The framework's plan step that runs before `modify_plan` (values semantically equal to the
/// prior state keep it), then `modify_plan`.
fn plan(prior: &PoolModel, planned: &PoolModel) -> (PoolModel, PlanResponse) {
    let (prior, planned) = (prior.write(), planned.write());
    let mut kept = planned.clone();
    keep_equivalent(&super::super::schema().block, &prior, &mut kept);
    let mut resp = PlanResponse {
        planned: kept,
        requires_replace: vec![],
        private: Private::new(),
        diags: Diagnostics::new(),
    };
    let private = Private::new();
    modify_plan(
        &PlanRequest {
            config: &planned,
            prior: &prior,
            prior_private: &private,
        },
        &mut resp,
    );
    (PoolModel::read(&resp.planned).unwrap(), resp)
}

#[test]
fn empty_pool_only_properties_replace_a_pool_with_nodes_and_update_an_empty_one() {
    let s = state();
    let (_, r) = plan(&s, &with(s.clone(), |m| m.vm_size = ks("STANDARD_D4S_V3")));
    assert_eq!(paths(&r.requires_replace), vec!["vm_size"]);

    let e = empty_state();
    let planned = with(e.clone(), |m| {
        m.vm_size = ks("STANDARD_D4S_V3");
        m.state = Tf::Unknown;
        m.allocation_state = Tf::Unknown;
        m.current_dedicated_nodes = Tf::Unknown;
        m.current_low_priority_nodes = Tf::Unknown;
        m.last_modified = Tf::Unknown;
    });
    let (p, r) = plan(&e, &planned);
    assert!(r.requires_replace.is_empty());
    assert_eq!(p.state, ks("active"));
    assert_eq!(p.current_dedicated_nodes, k(0));
    assert_eq!(p.allocation_state, ks("steady"));
    assert!(p.last_modified.is_unknown());

    // A password change alone on a pool with nodes: no replacement, a warning.
    let planned = with(s.clone(), |m| {
        if let Tf::Known(c) = &mut m.container {
            c.registry[0].password = some("pw2");
        }
    });
    let (p, r) = plan(&s, &planned);
    assert!(r.requires_replace.is_empty());
    assert!(r.diags.0.iter().any(|d| d.summary.contains("not sent")));
    assert_eq!(p.last_modified, s.last_modified);
}

#[test]
fn case_only_changes_of_case_insensitive_names_plan_nothing() {
    let s = state();
    let planned = with(s.clone(), |m| {
        m.vm_size = ks("Standard_D2s_V3");
        m.node_agent_sku_id = ks("Batch.Node.Ubuntu 20.04");
        if let Tf::Known(i) = &mut m.image {
            i.sku = ks("20-04-LTS");
        }
    });
    let (p, r) = plan(&s, &planned);
    assert!(r.requires_replace.is_empty());
    assert_eq!(p, s);
}

#[test]
fn a_resize_plans_unknown_node_counts() {
    let s = state();
    let planned = with(s.clone(), |m| {
        m.wait_for = ks("none");
        if let Tf::Known(f) = &mut m.fixed_scale {
            f.target_dedicated_nodes = k(3);
        }
    });
    let (p, _) = plan(&s, &planned);
    assert!(p.current_dedicated_nodes.is_unknown());
    assert!(p.allocation_state.is_unknown());
    assert_eq!(p.state, s.state);
}

#[test]
fn create_plans_the_id_as_the_name() {
    let mut resp = PlanResponse {
        planned: config().write(),
        requires_replace: vec![],
        private: Private::new(),
        diags: Diagnostics::new(),
    };
    let private = Private::new();
    modify_plan(
        &PlanRequest {
            config: &Value::Null,
            prior: &Value::Null,
            prior_private: &private,
        },
        &mut resp,
    );
    assert_eq!(PoolModel::read(&resp.planned).unwrap().id, ks("p1"));
}
