//! Pool unit tests: the update planner.

use super::*;

#[test]
fn plan_update_table() {
    let s = state();
    let e = empty_state();
    let new_password = |m: &mut PoolModel| {
        if let Tf::Known(c) = &mut m.container {
            c.registry[0].password = some("pw2");
        }
    };
    let to_zero = |m: &mut PoolModel| {
        if let Tf::Known(f) = &mut m.fixed_scale {
            f.target_dedicated_nodes = k(0);
        }
    };
    struct Case {
        name: &'static str,
        prior: PoolModel,
        planned: PoolModel,
        pending: bool,
        remote: Remote,
        replace: Vec<&'static str>,
        calls: Vec<PoolCall>,
        registry: RegistryAction,
    }
    let patch = |f: fn(&mut PatchPlan)| {
        let mut p = PatchPlan::default();
        f(&mut p);
        PoolCall::Patch(p)
    };
    let cases = vec![
        Case {
            name: "nothing",
            prior: s.clone(),
            planned: s.clone(),
            pending: false,
            remote: Remote::Planning,
            replace: vec![],
            calls: vec![],
            registry: RegistryAction::Unchanged,
        },
        Case {
            name: "image sku on a pool with nodes replaces",
            prior: s.clone(),
            planned: with(s.clone(), |m| {
                if let Tf::Known(i) = &mut m.image {
                    i.sku = ks("other");
                }
            }),
            pending: false,
            remote: Remote::Planning,
            replace: vec!["image.sku"],
            calls: vec![],
            registry: RegistryAction::Unchanged,
        },
        Case {
            name: "vm size on an empty pool patches",
            prior: e.clone(),
            planned: with(e.clone(), |m| m.vm_size = ks("STANDARD_D4S_V3")),
            pending: false,
            remote: Remote::Planning,
            replace: vec![],
            calls: vec![patch(|p| p.vm_size = true)],
            registry: RegistryAction::Unchanged,
        },
        Case {
            name: "vm size while scaling to 0 scales first",
            prior: s.clone(),
            planned: with(with(s.clone(), to_zero), |m| {
                m.vm_size = ks("STANDARD_D4S_V3")
            }),
            pending: false,
            remote: Remote::Live {
                empty: false,
                scaled: false,
            },
            replace: vec![],
            calls: vec![PoolCall::ScaleToZeroFirst, patch(|p| p.vm_size = true)],
            registry: RegistryAction::Unchanged,
        },
        Case {
            name: "password on a pool with nodes is kept pending",
            prior: s.clone(),
            planned: with(s.clone(), new_password),
            pending: false,
            remote: Remote::Planning,
            replace: vec![],
            calls: vec![],
            registry: RegistryAction::KeepPending,
        },
        Case {
            name: "password on an empty pool is sent",
            prior: e.clone(),
            planned: with(e.clone(), new_password),
            pending: false,
            remote: Remote::Live {
                empty: true,
                scaled: false,
            },
            replace: vec![],
            calls: vec![patch(|p| p.vm_configuration = true)],
            registry: RegistryAction::Send,
        },
        Case {
            name: "a pending password goes out once the pool is empty",
            prior: e.clone(),
            planned: with(e.clone(), |m| m.metadata = Tf::Null),
            pending: true,
            remote: Remote::Planning,
            replace: vec![],
            calls: vec![patch(|p| {
                p.vm_configuration = true;
                p.metadata = true;
            })],
            registry: RegistryAction::SendPending,
        },
        Case {
            name: "removing the start task replaces the properties",
            prior: with(s.clone(), |m| {
                m.start_task = k(StartTaskModel {
                    command_line: ks("x"),
                    ..Default::default()
                })
            }),
            planned: s.clone(),
            pending: false,
            remote: Remote::Planning,
            replace: vec![],
            calls: vec![PoolCall::UpdateProperties],
            registry: RegistryAction::Unchanged,
        },
        Case {
            name: "a resize",
            prior: s.clone(),
            planned: with(s.clone(), |m| {
                if let Tf::Known(f) = &mut m.fixed_scale {
                    f.target_dedicated_nodes = k(4);
                }
            }),
            pending: false,
            remote: Remote::Planning,
            replace: vec![],
            calls: vec![PoolCall::Scale],
            registry: RegistryAction::Unchanged,
        },
        Case {
            name: "node_deallocation_option alone is Terraform-side",
            prior: s.clone(),
            planned: with(s.clone(), |m| {
                if let Tf::Known(f) = &mut m.fixed_scale {
                    f.node_deallocation_option = ks("terminate");
                }
            }),
            pending: false,
            remote: Remote::Planning,
            replace: vec![],
            calls: vec![],
            registry: RegistryAction::Unchanged,
        },
    ];
    for c in cases {
        let plan = plan_update(&c.prior, &c.planned, c.pending, c.remote);
        assert_eq!(paths(&plan.replace), c.replace, "{}", c.name);
        assert_eq!(plan.calls, c.calls, "{}", c.name);
        assert_eq!(plan.registry, c.registry, "{}", c.name);
    }
}

#[test]
fn after_scaling_to_zero_the_pool_must_really_be_empty() {
    let s = state();
    let planned = with(s.clone(), |m| {
        m.vm_size = ks("STANDARD_D4S_V3");
        if let Tf::Known(f) = &mut m.fixed_scale {
            f.target_dedicated_nodes = k(0);
        }
    });
    let again = plan_update(
        &s,
        &planned,
        false,
        Remote::Live {
            empty: true,
            scaled: true,
        },
    );
    assert!(!again.not_empty);
    assert!(!again.calls.contains(&PoolCall::Scale), "already scaled");
    let stuck = plan_update(
        &s,
        &planned,
        false,
        Remote::Live {
            empty: false,
            scaled: true,
        },
    );
    assert!(stuck.not_empty);
    assert_eq!(paths(&stuck.empty_only), vec!["vm_size"]);
}

#[test]
fn scale_calls_table() {
    let fixed = config();
    let auto = with(config(), |m| {
        m.fixed_scale = Tf::Null;
        m.auto_scale = k(AutoScaleModel::default());
    });
    use ScaleCall::*;
    let cases = [
        (&fixed, false, true, vec![Resize]),
        (&fixed, true, true, vec![DisableAutoScale, Resize]),
        (
            &fixed,
            true,
            false,
            vec![DisableAutoScale, StopResize, Resize],
        ),
        (&auto, false, true, vec![EnableAutoScale]),
        (&auto, true, false, vec![StopResize, EnableAutoScale]),
    ];
    for (m, auto_now, steady, want) in cases {
        assert_eq!(
            scale_calls(m, auto_now, steady),
            want,
            "{auto_now} {steady}"
        );
    }
}
