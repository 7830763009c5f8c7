use super::*;
use batch_client::models::ComputeNodeIdentityReference;
use tfplugin::model::to_value;

fn registry(server: Option<&str>) -> RegistryModel {
    RegistryModel {
        server: server.map(str::to_string),
        username: Some("u".into()),
        password: None,
        password_wo: None,
        password_wo_version: Some(2),
        identity_reference: None,
    }
}

#[test]
fn models_cover_their_schemas() {
    tfplugin::model::check_round_trip::<RegistryModel>(&registry_block().value_type()).unwrap();
    tfplugin::model::check_round_trip::<TaskContainerModel>(
        &task_container_block("task").value_type(),
    )
    .unwrap();
}

#[test]
fn registry_password_comes_from_plan_or_write_only_config() {
    let planned = registry(Some("r.io"));
    let config = RegistryModel {
        password_wo: Some("secret".into()),
        ..registry(Some("r.io"))
    };
    let r = expand_registry(&planned, Some(&config));
    assert_eq!(r.password.as_ref().map(|s| s.0.as_str()), Some("secret"));
    assert_eq!(r.registry_server.as_deref(), Some("r.io"));
    let stored = RegistryModel {
        password: Some("stored".into()),
        ..planned.clone()
    };
    let r = expand_registry(&stored, Some(&config));
    assert_eq!(r.password.as_ref().map(|s| s.0.as_str()), Some("stored"));
    assert!(expand_registry(&planned, None).password.is_none());
}

#[test]
fn flatten_registry_table() {
    let remote = |server: Option<&str>| ContainerRegistry {
        registry_server: server.map(str::to_string),
        username: Some("u".into()),
        password: None,
        identity_reference: Some(ComputeNodeIdentityReference {
            resource_id: Some("/id".into()),
        }),
    };
    let with_id = |m: RegistryModel| RegistryModel {
        identity_reference: Some("/id".into()),
        ..m
    };
    let cases: Vec<(Option<&str>, Option<RegistryModel>, Option<&str>)> = vec![
        // remote server, prior, expected server
        (Some("docker.io"), Some(registry(None)), None),
        (Some("docker.io"), None, Some("docker.io")),
        (Some("R.IO"), Some(registry(Some("r.io"))), Some("r.io")),
        (
            Some("other.io"),
            Some(registry(Some("r.io"))),
            Some("other.io"),
        ),
    ];
    for (server, prior, want) in cases {
        let got = flatten_registry(&remote(server), prior.as_ref());
        assert_eq!(got.server.as_deref(), want, "{server:?} {prior:?}");
        assert_eq!(got.identity_reference.as_deref(), Some("/id"));
        // Passwords and the version counter only ever come from the prior state.
        assert_eq!(
            got.password_wo_version,
            prior.as_ref().and_then(|p| p.password_wo_version)
        );
    }
    let prior = with_id(RegistryModel {
        password: Some("p".into()),
        ..registry(Some("r.io"))
    });
    assert_eq!(flatten_registry(&remote(Some("r.io")), Some(&prior)), prior);
}

#[test]
fn flatten_task_container_keeps_defaults_unset() {
    let remote = TaskContainerSettings {
        image_name: "ubuntu".into(),
        container_run_options: Some(String::new()),
        registry: None,
        working_directory: None,
        container_host_batch_bind_mounts: Some(vec![ContainerHostBatchBindMountEntry {
            source: Some("Task".into()),
            is_read_only: Some(false),
        }]),
    };
    // flatten reports what Batch says; the block's semantics and server defaults do the rest.
    let b = task_container_block("task");
    let raw = flatten_task_container(&remote, None);
    assert_eq!(raw.run_options.as_deref(), Some(""));
    assert_eq!(raw.host_batch_bind_mount[0].is_read_only, Some(false));
    let got = crate::common::task_spec::normalized_read(&b, None, raw);
    assert_eq!(got.run_options, None);
    assert_eq!(
        got.working_directory.as_deref(),
        Some(DEFAULT_WORKING_DIRECTORY)
    );
    assert_eq!(got.host_batch_bind_mount[0].is_read_only, None);
    let prior = TaskContainerModel {
        image_name: "ubuntu".into(),
        run_options: Some(String::new()),
        working_directory: Some("TASKWORKINGDIRECTORY".into()),
        registry: None,
        host_batch_bind_mount: vec![BindMountModel {
            source: Some("Task".into()),
            is_read_only: Some(false),
        }],
    };
    let read = flatten_task_container(&remote, Some(&prior));
    assert_eq!(
        read.working_directory.as_deref(),
        Some(DEFAULT_WORKING_DIRECTORY)
    );
    assert_eq!(
        crate::common::task_spec::normalized_read(&b, Some(&prior), read),
        prior
    );
    // A real change is no longer hidden.
    let other = TaskContainerSettings {
        working_directory: Some("containerImageDefault".into()),
        ..remote
    };
    let read = flatten_task_container(&other, Some(&prior));
    assert_eq!(
        crate::common::task_spec::normalized_read(&b, Some(&prior), read)
            .working_directory
            .as_deref(),
        Some("containerImageDefault")
    );
}

#[test]
fn expand_then_flatten_round_trips() {
    let m = TaskContainerModel {
        image_name: "app:1".into(),
        run_options: Some("--rm".into()),
        working_directory: Some("containerImageDefault".into()),
        registry: Some(registry(Some("r.io"))),
        host_batch_bind_mount: vec![BindMountModel {
            source: Some("Shared".into()),
            is_read_only: Some(true),
        }],
    };
    let remote = expand_task_container(&m, Some(&m));
    assert_eq!(remote.container_run_options.as_deref(), Some("--rm"));
    assert_eq!(flatten_task_container(&remote, Some(&m)), m);
}

#[test]
fn registry_validation() {
    let ty = registry_block().value_type();
    let path = AttrPath::root().child("container").child("registry");
    // The block's declared rules (as the framework checks them), then the remaining warning.
    let run = |m: &RegistryModel| {
        let v = to_value(m, &ty).unwrap();
        let mut d = Diagnostics::new();
        tfplugin::framework::validate_values(&registry_block(), &v, &path, &mut d);
        validate_registry(&v, &path, &mut d);
        d
    };
    assert!(!run(&registry(None)).has_errors());
    let both = RegistryModel {
        password: Some("a".into()),
        password_wo: Some("b".into()),
        ..registry(None)
    };
    let d = run(&both);
    assert!(d.has_errors());
    assert_eq!(
        d.0[0].path.as_ref().map(|p| p.to_string()).as_deref(),
        Some("container.registry.password_wo")
    );
    assert!(
        d.0[0].detail.contains("container.registry.password`"),
        "{}",
        d.0[0].detail
    );
    let no_user = RegistryModel {
        username: None,
        password: Some("a".into()),
        ..registry(None)
    };
    assert!(run(&no_user).has_errors());
    // password_wo_version alone only warns.
    let d = run(&registry(None));
    assert!(!d.is_empty() && !d.has_errors());
}
