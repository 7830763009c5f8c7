//! `batch_container_pool` and the `batch_pool` data source end to end: real Terraform against the
//! provider and the local Batch service (process runtime), on every Terraform version under test.
//! Few scenario tests, each checking many things, to keep the suite fast.

use std::time::Duration;

use e2e::{Emulator, Runtime, Workdir, for_each_terraform};
use serde_json::{Value, json};

/// Pool settings a scenario varies.
#[derive(Clone)]
struct Pool {
    name: String,
    vm_size: &'static str,
    sku: &'static str,
    scale: String,
    metadata: &'static str,
    start_cmd: &'static str,
    wait_for: &'static str,
    /// Registry password block lines (write-only by default).
    registry_secret: &'static str,
}

impl Pool {
    fn new(name: &str) -> Pool {
        Pool {
            name: name.to_string(),
            vm_size: "STANDARD_D2S_V3",
            sku: "20-04-lts",
            scale: fixed(1),
            metadata: r#"{ team = "render" }"#,
            start_cmd: "/bin/sh -c 'echo ready'",
            wait_for: "nodes_ready",
            registry_secret: "password_wo = \"s3cret-one\"\n      password_wo_version = 1",
        }
    }

    fn hcl(&self, address: &str) -> String {
        format!(
            r#"
resource "batch_container_pool" "{address}" {{
  name              = "{name}"
  display_name      = "Container pool"
  vm_size           = "{vm_size}"
  node_agent_sku_id = "batch.node.ubuntu 20.04"

  image {{
    publisher = "microsoft-azure-batch"
    offer     = "ubuntu-server-container"
    sku       = "{sku}"
  }}

  container {{
    type        = "dockerCompatible"
    image_names = ["busybox:latest"]
    registry {{
      server   = "myregistry.azurecr.io"
      username = "puller"
      {secret}
    }}
  }}

  {scale}

  start_task {{
    command_line     = "{cmd}"
    wait_for_success = true
    environment      = {{ STAGE = "prod" }}
    container {{
      image_name        = "busybox:latest"
      run_options       = "--rm"
      working_directory = "taskWorkingDirectory"
    }}
  }}

  task_scheduling_policy = "pack"
  metadata               = {metadata}
  wait_for               = "{wait_for}"
  timeouts {{
    create = "3m"
    update = "3m"
    delete = "3m"
  }}
}}
"#,
            name = self.name,
            vm_size = self.vm_size,
            sku = self.sku,
            secret = self.registry_secret,
            scale = self.scale,
            cmd = self.start_cmd,
            metadata = self.metadata,
            wait_for = self.wait_for,
        )
    }
}

fn fixed(n: i64) -> String {
    format!(
        "fixed_scale {{\n    target_dedicated_nodes = {n}\n    resize_timeout = \"PT15M\"\n  }}"
    )
}

fn auto(n: i64) -> String {
    format!(
        "auto_scale {{\n    formula = \"$TargetDedicatedNodes = {n};\"\n    evaluation_interval = \"PT5M\"\n  }}"
    )
}

/// The plan's change for one resource address.
fn change<'a>(plan: &'a Value, address: &str) -> &'a Value {
    plan["resource_changes"]
        .as_array()
        .and_then(|rc| rc.iter().find(|c| c["address"] == address))
        .map(|c| &c["change"])
        .unwrap_or_else(|| panic!("no change for {address} in plan: {plan}"))
}

fn actions(plan: &Value, address: &str) -> Value {
    change(plan, address)["actions"].clone()
}

fn fast_emulator() -> Emulator {
    Emulator::start_with(e2e::EmulatorOptions {
        runtime: Runtime::Process,
        extra_args: vec![
            "--allocation-delay".into(),
            "300ms".into(),
            "--node-start-delay".into(),
            "100ms".into(),
            "--delete-delay".into(),
            "200ms".into(),
        ],
        ..Default::default()
    })
}

/// The pool as the service has it (None when it does not exist).
fn service_pool(emu: &Emulator, name: &str) -> Option<e2e::batch_client::models::CloudPool> {
    e2e::block_on(
        emu.client()
            .get_pool(name, &e2e::batch_client::RequestOptions::new()),
    )
    .expect("Pool_Get")
    .map(|v| v.value)
}

fn pool_name(prefix: &str, tf: &e2e::Terraform) -> String {
    format!("{prefix}-{}", tf.version.replace('.', "-"))
}

#[test]
fn pool_create_update_in_place_replace_and_destroy() {
    for_each_terraform(|tf| {
        let emu = fast_emulator();
        let wd = Workdir::new(tf);
        let mut p = Pool::new(&pool_name("life", tf));
        let data = r#"
data "batch_pool" "d" {
  name = batch_container_pool.p.name
}
output "ds" {
  value = data.batch_pool.d
}
"#;
        let write =
            |p: &Pool| wd.write_main(&format!("{}{}{data}", emu.provider_hcl(), p.hcl("p")));
        write(&p);

        // Create: container configuration, registry, fixed scale, containerised start task.
        let plan = wd.plan_json();
        assert_eq!(actions(&plan, "batch_container_pool.p"), json!(["create"]));
        wd.apply();
        let s = wd
            .resource("batch_container_pool.p")
            .expect("pool in state");
        assert_eq!(s["id"], json!(p.name));
        assert_eq!(s["state"], json!("active"));
        assert_eq!(s["allocation_state"], json!("steady"));
        assert_eq!(s["current_dedicated_nodes"], json!(1));
        assert_eq!(
            s["vm_size"],
            json!("STANDARD_D2S_V3"),
            "the user's spelling is kept"
        );
        assert_eq!(s["task_scheduling_policy"], json!("pack"));
        assert_eq!(s["container"]["registry"][0]["password_wo"], Value::Null);
        assert_eq!(
            s["container"]["registry"][0]["password_wo_version"],
            json!(1)
        );
        assert!(
            !wd.read_file("terraform.tfstate").contains("s3cret-one"),
            "write-only password in state"
        );
        wd.assert_plan_empty();
        // The data source reads the same pool (Batch's own spelling of the VM size).
        let ds = wd.output("ds");
        assert_eq!(ds["id"], json!(p.name));
        assert_eq!(ds["vm_size"], json!("standard_d2s_v3"));
        assert_eq!(ds["fixed_scale"]["target_dedicated_nodes"], json!(1));
        assert_eq!(ds["container"]["registry"][0]["username"], json!("puller"));
        assert!(ds["container"]["registry"][0].get("password").is_none());
        assert_eq!(
            ds["start_task"]["container"]["image_name"],
            json!("busybox:latest")
        );

        // Resize 1 -> 3 in place.
        p.scale = fixed(3);
        write(&p);
        let plan = wd.plan_json();
        assert_eq!(actions(&plan, "batch_container_pool.p"), json!(["update"]));
        // Unrelated computed values stay known.
        assert_eq!(
            change(&plan, "batch_container_pool.p")["after"]["state"],
            json!("active")
        );
        wd.apply();
        assert_eq!(
            wd.resource("batch_container_pool.p").unwrap()["current_dedicated_nodes"],
            json!(3)
        );
        wd.assert_plan_empty();

        // Fixed -> auto scale in place.
        p.scale = auto(2);
        write(&p);
        assert_eq!(
            actions(&wd.plan_json(), "batch_container_pool.p"),
            json!(["update"])
        );
        wd.apply();
        let s = wd.resource("batch_container_pool.p").unwrap();
        assert_eq!(s["current_dedicated_nodes"], json!(2));
        assert_eq!(s["fixed_scale"], Value::Null);
        assert_eq!(
            s["auto_scale"]["formula"],
            json!("$TargetDedicatedNodes = 2;")
        );
        wd.assert_plan_empty();

        // Auto -> fixed scale in place.
        p.scale = fixed(1);
        write(&p);
        assert_eq!(
            actions(&wd.plan_json(), "batch_container_pool.p"),
            json!(["update"])
        );
        wd.apply();
        let s = wd.resource("batch_container_pool.p").unwrap();
        assert_eq!(s["current_dedicated_nodes"], json!(1));
        assert_eq!(s["auto_scale"], Value::Null);
        wd.assert_plan_empty();

        // Pool_Patch is conditional (If-Match): a change that lands between the provider's read
        // and its write gets a real 412 from the service, and nothing is overwritten. The
        // service holds the provider's Pool_Patch while the test changes the pool.
        let (st, body) = emu.admin(
            "PUT",
            "/faults",
            Some(r#"[{"operation":"Pool_Patch","latencyMs":15000,"count":1}]"#),
        );
        assert_eq!(st, 200, "{body}");
        p.metadata = r#"{ team = "render", tier = "gold" }"#;
        write(&p);
        let running = wd.spawn(&["apply", "-auto-approve", "-input=false", "-no-color"]);
        e2e::wait_until(
            "the provider's Pool_Patch",
            Duration::from_secs(120),
            || {
                let (_, faults) = emu.admin("GET", "/faults", None);
                let v: Value = serde_json::from_str(&faults).unwrap();
                (v["rules"][0]["fired"] == 1).then_some(())
            },
        );
        let theirs: e2e::batch_client::models::PoolPatchParameter =
            serde_json::from_value(json!({"metadata": [{"name": "owner", "value": "someone"}]}))
                .unwrap();
        e2e::block_on(emu.client().patch_pool(
            &p.name,
            &theirs,
            &e2e::batch_client::RequestOptions::new(),
        ))
        .expect("Pool_Patch outside Terraform");
        let out = running.wait();
        assert!(!out.success(), "{}", out.describe());
        assert!(
            out.combined().contains("412") && out.combined().contains("changed outside Terraform"),
            "{}",
            out.describe()
        );
        let sp = service_pool(&emu, &p.name).expect("pool exists");
        let kept: Vec<_> = sp
            .metadata
            .unwrap_or_default()
            .into_iter()
            .map(|m| (m.name, m.value))
            .collect();
        assert_eq!(
            kept,
            [("owner".into(), "someone".into())],
            "nothing overwritten"
        );
        emu.admin("DELETE", "/faults", None);
        // The metadata step below converges (its plan sees the outside change as drift).

        // Metadata in place; computed node counts stay known (no "known after apply" noise).
        p.metadata = r#"{ team = "render", tier = "gold" }"#;
        write(&p);
        let plan = wd.plan_json();
        assert_eq!(actions(&plan, "batch_container_pool.p"), json!(["update"]));
        assert_eq!(
            change(&plan, "batch_container_pool.p")["after"]["current_dedicated_nodes"],
            json!(1)
        );
        wd.apply();
        assert_eq!(
            wd.resource("batch_container_pool.p").unwrap()["metadata"]["tier"],
            json!("gold")
        );
        wd.assert_plan_empty();

        // Start task in place.
        p.start_cmd = "/bin/sh -c 'echo changed'";
        write(&p);
        assert_eq!(
            actions(&wd.plan_json(), "batch_container_pool.p"),
            json!(["update"])
        );
        wd.apply();
        assert_eq!(
            wd.resource("batch_container_pool.p").unwrap()["start_task"]["command_line"],
            json!("/bin/sh -c 'echo changed'")
        );
        wd.assert_plan_empty();

        // Removing the start task (Pool_Patch cannot remove it: Pool_UpdateProperties replaces
        // the properties) keeps metadata.
        let start = wd.read_file("main.tf");
        let begin = start.find("  start_task {").expect("start_task block");
        let end = begin + start[begin..].find("\n  }\n").expect("end of start_task") + 5;
        wd.write_main(&format!("{}{}", &start[..begin], &start[end..]));
        assert_eq!(
            actions(&wd.plan_json(), "batch_container_pool.p"),
            json!(["update"])
        );
        wd.apply();
        let s = wd.resource("batch_container_pool.p").unwrap();
        assert_eq!(s["start_task"], Value::Null);
        assert_eq!(s["metadata"]["tier"], json!("gold"));
        let sp = service_pool(&emu, &p.name).expect("pool exists");
        assert!(
            sp.start_task.is_none(),
            "the service still has a start task"
        );
        assert_eq!(
            sp.metadata.map(|m| m.len()),
            Some(2),
            "metadata kept on the service"
        );
        wd.assert_plan_empty();
        assert_eq!(wd.output("ds")["start_task"], Value::Null);
        write(&p);
        wd.apply();
        wd.assert_plan_empty();

        // A new write-only registry password on a pool with nodes: in place (no replacement), with a warning.
        p.registry_secret = "password_wo = \"s3cret-two\"\n      password_wo_version = 2";
        write(&p);
        let plan = wd.plan_json();
        assert_eq!(actions(&plan, "batch_container_pool.p"), json!(["update"]));
        let out = wd.run(&["plan", "-input=false", "-no-color"]);
        assert!(
            out.stdout
                .contains("Registry password not sent until the pool is empty"),
            "{}",
            out.describe()
        );
        wd.apply();
        wd.assert_plan_empty();

        // VM size or image on a pool with nodes: replacement, and the plan names the attribute.
        let mut q = p.clone();
        q.vm_size = "STANDARD_D4S_V3";
        write(&q);
        let plan = wd.plan_json();
        let c = change(&plan, "batch_container_pool.p");
        assert_eq!(c["actions"], json!(["delete", "create"]), "{c}");
        assert_eq!(c["replace_paths"], json!([["vm_size"]]));
        let mut q = p.clone();
        q.sku = "20-04-lts-gen2";
        write(&q);
        let c = change(&wd.plan_json(), "batch_container_pool.p").clone();
        assert_eq!(c["actions"], json!(["delete", "create"]), "{c}");
        assert_eq!(c["replace_paths"], json!([["image", "sku"]]));
        // Only case differs: nothing to do.
        let mut q = p.clone();
        q.vm_size = "standard_d2s_v3";
        write(&q);
        assert!(
            wd.plan_is_empty(true),
            "a vm_size differing only in case must not plan a change"
        );

        // Scaling to 0 in the same apply lets Batch change the VM size in place (empty pool), and
        // sends the pending registry password.
        let mut q = p.clone();
        q.vm_size = "STANDARD_D4S_V3";
        q.scale = fixed(0);
        write(&q);
        let plan = wd.plan_json();
        assert_eq!(actions(&plan, "batch_container_pool.p"), json!(["update"]));
        let out = wd.apply();
        assert!(
            out.stdout.contains("Sending the pending registry password"),
            "{}",
            out.describe()
        );
        let s = wd.resource("batch_container_pool.p").unwrap();
        assert_eq!(s["vm_size"], json!("STANDARD_D4S_V3"));
        assert_eq!(s["current_dedicated_nodes"], json!(0));
        wd.assert_plan_empty();
        assert_eq!(wd.output("ds")["vm_size"], json!("standard_d4s_v3"));

        // Destroy leaves no pool: neither the service nor the data source finds it.
        wd.destroy();
        assert!(wd.state_addresses().is_empty());
        assert!(
            service_pool(&emu, &p.name).is_none(),
            "the pool survived destroy"
        );
        let check = Workdir::new(tf);
        check.write_main(&format!(
            "{}\ndata \"batch_pool\" \"gone\" {{\n  name = \"{}\"\n}}\n",
            emu.provider_hcl(),
            p.name
        ));
        let out = check.plan_ui_json().assert_failure();
        assert!(
            out.errors().iter().any(|d| d.summary.contains("not found")),
            "{}",
            out.describe()
        );
    });
}

#[test]
fn pool_drift_import_and_generated_config() {
    for_each_terraform(|tf| {
        let emu = fast_emulator();
        let name = pool_name("drift", tf);
        let mut p = Pool::new(&name);
        p.wait_for = "steady";
        // A sensitive password kept in state (Batch never returns it).
        p.registry_secret = "password = \"kept-in-state\"";
        let wd = Workdir::new(tf);
        wd.write_main(&format!("{}{}", emu.provider_hcl(), p.hcl("p")));
        wd.apply();
        wd.assert_plan_empty();

        // Another configuration imports the same pool (first plan: only the never-returned
        // password differs, in place) and changes its target out of band.
        let other = Workdir::new(tf);
        let mut o = p.clone();
        o.scale = fixed(2);
        other.write_main(&format!("{}{}", emu.provider_hcl(), o.hcl("p")));
        other.import("batch_container_pool.p", &name);
        let plan = other.plan_json();
        let c = change(&plan, "batch_container_pool.p");
        assert_eq!(c["actions"], json!(["update"]), "{c}");
        assert!(
            c["replace_paths"].is_null() || c["replace_paths"] == json!([]),
            "{c}"
        );
        other.apply();
        assert_eq!(
            other.resource("batch_container_pool.p").unwrap()["current_dedicated_nodes"],
            json!(2)
        );

        // Drift: the first configuration notices and restores 1 node.
        let plan = wd.plan_json();
        let c = change(&plan, "batch_container_pool.p");
        assert_eq!(c["actions"], json!(["update"]), "{c}");
        assert_eq!(
            c["before"]["fixed_scale"]["target_dedicated_nodes"],
            json!(2)
        );
        assert_eq!(
            c["after"]["fixed_scale"]["target_dedicated_nodes"],
            json!(1)
        );
        wd.apply();
        assert_eq!(
            wd.resource("batch_container_pool.p").unwrap()["current_dedicated_nodes"],
            json!(1)
        );
        wd.assert_plan_empty();

        // A saved plan applied after an out-of-band change: the ETag no longer matches, the
        // change is reported and nothing is overwritten.
        let mut m = p.clone();
        m.metadata = r#"{ team = "render", stage = "two" }"#;
        wd.write_main(&format!("{}{}", emu.provider_hcl(), m.hcl("p")));
        wd.run_ok(&["plan", "-input=false", "-no-color", "-out=stale.tfplan"]);
        other.apply();
        let out = wd.run(&["apply", "-input=false", "-no-color", "stale.tfplan"]);
        assert!(!out.success(), "{}", out.describe());
        assert!(
            out.combined().contains("changed outside Terraform"),
            "{}",
            out.describe()
        );
        let s = wd.resource("batch_container_pool.p").unwrap();
        assert!(s["metadata"].get("stage").is_none(), "{s}");
        assert_eq!(
            s["fixed_scale"]["target_dedicated_nodes"],
            json!(2),
            "state follows the service"
        );
        wd.apply();
        let s = wd.resource("batch_container_pool.p").unwrap();
        assert_eq!(s["metadata"]["stage"], json!("two"));
        assert_eq!(s["current_dedicated_nodes"], json!(1));
        wd.assert_plan_empty();
        wd.write_main(&format!("{}{}", emu.provider_hcl(), p.hcl("p")));
        wd.apply();

        // Import with a matching configuration: the first plan is empty but for the password.
        let imp = Workdir::new(tf);
        imp.write_main(&format!("{}{}", emu.provider_hcl(), p.hcl("p")));
        imp.import("batch_container_pool.p", &name);
        let plan = imp.plan_json();
        let c = change(&plan, "batch_container_pool.p");
        assert_eq!(c["actions"], json!(["update"]), "{c}");
        let mut before = c["before"].clone();
        let mut after = c["after"].clone();
        before["container"]["registry"][0]["password"] = Value::Null;
        after["container"]["registry"][0]["password"] = Value::Null;
        // `timeouts` is configuration only (never on the service), like the password.
        before["timeouts"] = Value::Null;
        after["timeouts"] = Value::Null;
        assert_eq!(
            before, after,
            "only the password (and timeouts) may differ after import"
        );
        assert!(c["replace_paths"].is_null(), "{c}");
        // A configuration without them plans nothing at all.
        let mut np = p.clone();
        np.registry_secret = "";
        let no_timeouts = np.hcl("p").replace(
            "  timeouts {\n    create = \"3m\"\n    update = \"3m\"\n    delete = \"3m\"\n  }\n",
            "",
        );
        assert!(!no_timeouts.contains("timeouts"));
        imp.write_main(&format!("{}{no_timeouts}", emu.provider_hcl()));
        imp.assert_plan_empty();

        // Import of a bad id or of a pool that does not exist fails clearly and stores nothing.
        let none = Workdir::new(tf);
        none.write_main(&format!(
            "{}{}",
            emu.provider_hcl(),
            Pool::new("never-created").hcl("p")
        ));
        let out = none.try_import("batch_container_pool.p", "bad id!");
        assert!(
            !out.success() && out.combined().contains("Invalid pool id to import"),
            "{}",
            out.describe()
        );
        let out = none.try_import("batch_container_pool.p", "never-created");
        assert!(
            !out.success() && out.combined().contains("non-existent"),
            "{}",
            out.describe()
        );
        assert!(none.state_addresses().is_empty());

        // import {} with -generate-config-out writes a configuration that plans clean.
        let generated = Workdir::new(tf);
        generated.write_main(&format!(
            "{}\nimport {{\n  to = batch_container_pool.g\n  id = \"{name}\"\n}}\n",
            emu.provider_hcl()
        ));
        generated.run_ok(&[
            "plan",
            "-input=false",
            "-no-color",
            "-generate-config-out=gen.tf",
        ]);
        let gen_tf = generated.read_file("gen.tf");
        assert!(gen_tf.contains("fixed_scale {"), "{gen_tf}");
        assert!(!gen_tf.contains("auto_scale {"), "{gen_tf}");
        assert!(
            !gen_tf.contains("virtual_machine_image_id = \""),
            "{gen_tf}"
        );
        assert!(!gen_tf.contains("password_wo ="), "{gen_tf}");
        let v = generated.validate_json();
        assert!(
            v.valid,
            "generated config does not validate: {:?}\n{gen_tf}",
            v.diagnostics
        );
        let plan = generated.plan_json();
        let c = change(&plan, "batch_container_pool.g");
        assert_eq!(
            c["actions"],
            json!(["no-op"]),
            "generated config must plan clean: {c}\n{gen_tf}"
        );
        generated.apply();
        generated.assert_plan_empty();

        // Deleted out of band (Pool_Delete straight on the service): the next plan re-creates it.
        e2e::block_on(
            emu.client()
                .delete_pool(&name, &e2e::batch_client::RequestOptions::new()),
        )
        .expect("Pool_Delete");
        // The plan re-creates it whether Batch still reports it `deleting` or already forgot it.
        let plan = wd.plan_json();
        assert_eq!(actions(&plan, "batch_container_pool.p"), json!(["create"]));
        e2e::wait_until(
            "the deleted pool to be gone",
            Duration::from_secs(60),
            || service_pool(&emu, &name).is_none().then_some(()),
        );
        let plan = wd.plan_json();
        assert_eq!(actions(&plan, "batch_container_pool.p"), json!(["create"]));
        wd.apply();
        assert_eq!(
            wd.resource("batch_container_pool.p").unwrap()["current_dedicated_nodes"],
            json!(1)
        );
        wd.assert_plan_empty();
        wd.destroy();
    });
}

#[test]
fn pool_failures_interrupt_and_validation() {
    for_each_terraform(|tf| {
        let emu = fast_emulator();

        // Plan-time validation names the attribute.
        let bad = Workdir::new(tf);
        let mut p = Pool::new("bad name!");
        p.scale = format!("{}\n  {}", fixed(1), auto(1));
        let cfg = p.hcl("p").replace("PT15M", "15 minutes");
        let cfg = cfg.replace(
            "  image {\n    publisher = \"microsoft-azure-batch\"\n    offer     = \"ubuntu-server-container\"\n    sku       = \"20-04-lts\"\n  }\n",
            "",
        );
        bad.write_main(&format!("{}{cfg}", emu.provider_hcl()));
        let out = bad.plan_ui_json().assert_failure();
        let errors = out.errors();
        let find = |s: &str| {
            errors
                .iter()
                .find(|d| d.summary.contains(s))
                .unwrap_or_else(|| panic!("no {s:?} error: {errors:#?}"))
        };
        assert_eq!(find("Invalid Batch id").highlight(), Some("\"bad name!\""));
        assert!(find("Invalid duration").detail.contains("ISO 8601"));
        assert_eq!(find("Invalid duration").highlight(), Some("\"15 minutes\""));
        assert!(
            find("Conflicting scale settings")
                .detail
                .contains("fixed_scale")
        );
        assert!(
            find("Missing image")
                .detail
                .contains("virtual_machine_image_id")
        );

        // An injected resize error fails the apply with the service's code and message; the
        // created pool is kept in state (tainted) so nothing is orphaned.
        let name = pool_name("resize-err", tf);
        let (st, body) = emu.admin(
            "PUT",
            &format!("/pools/{name}/overrides"),
            Some(r#"{"resizeError": {"code": "AccountCoreQuotaReached", "message": "The core quota of the account is exhausted."}}"#),
        );
        assert_eq!(st, 200, "{body}");
        let wd = Workdir::new(tf);
        let mut p = Pool::new(&name);
        p.wait_for = "steady";
        wd.write_main(&format!("{}{}", emu.provider_hcl(), p.hcl("p")));
        let out = wd.try_apply();
        assert!(!out.success(), "{}", out.describe());
        assert!(
            out.combined().contains("AccountCoreQuotaReached"),
            "{}",
            out.describe()
        );
        assert!(
            out.combined()
                .contains("The core quota of the account is exhausted."),
            "{}",
            out.describe()
        );
        let state = wd.state_json();
        let r = &state["values"]["root_module"]["resources"][0];
        assert_eq!(r["address"], json!("batch_container_pool.p"), "{state}");
        assert_eq!(r["tainted"], json!(true), "{state}");
        // Fixed quota: the next apply replaces the tainted pool.
        emu.admin("DELETE", &format!("/pools/{name}/overrides"), None);
        let plan = wd.plan_json();
        assert_eq!(
            actions(&plan, "batch_container_pool.p"),
            json!(["delete", "create"])
        );
        wd.apply();
        wd.assert_plan_empty();
        wd.destroy();

        // A Batch error names the attribute (PropertyName) and carries code, message and values;
        // nothing is left in state.
        let wd = Workdir::new(tf);
        let p = Pool::new(&pool_name("bad-agent", tf));
        let cfg = p
            .hcl("p")
            .replace("batch.node.ubuntu 20.04", "batch.node.ubuntu 22.04");
        wd.write_main(&format!("{}{cfg}", emu.provider_hcl()));
        let out = wd.apply_json();
        assert!(!out.success(), "{}", out.describe());
        let errors = out.errors();
        let e = errors
            .iter()
            .find(|d| d.summary.contains("InvalidPropertyValue"))
            .unwrap_or_else(|| panic!("no Batch error: {errors:#?}"));
        assert_eq!(e.highlight(), Some("\"batch.node.ubuntu 22.04\""), "{e:?}");
        assert!(e.detail.contains("does not match the image"), "{e:?}");
        assert!(e.detail.contains("PropertyName: nodeAgentSKUId"), "{e:?}");
        assert!(wd.state_addresses().is_empty());
        assert!(service_pool(&emu, &p.name).is_none());

        // A bad autoscale formula fails the apply with the service's evaluation error, pointing
        // at the formula.
        let wd = Workdir::new(tf);
        let mut p = Pool::new(&pool_name("formula", tf));
        p.wait_for = "steady";
        p.scale = "auto_scale {\n    formula = \"$TargetDedicatedNodes = sqrt(;\"\n  }".into();
        wd.write_main(&format!("{}{}", emu.provider_hcl(), p.hcl("p")));
        let out = wd.apply_json();
        assert!(!out.success(), "{}", out.describe());
        let errors = out.errors();
        let e = errors
            .iter()
            .find(|d| d.summary.contains("AutoScalingFormulaSyntaxError"))
            .unwrap_or_else(|| panic!("no formula error: {errors:#?}"));
        assert_eq!(
            e.highlight(),
            Some("\"$TargetDedicatedNodes = sqrt(;\""),
            "{e:?}"
        );
        wd.destroy();

        // A failing start task with nodes_ready fails the apply with the node's failure.
        let wd = Workdir::new(tf);
        let mut p = Pool::new(&pool_name("st-fail", tf));
        p.start_cmd = "/bin/sh -c 'echo broken >&2; exit 3'";
        wd.write_main(&format!("{}{}", emu.provider_hcl(), p.hcl("p")));
        let out = wd.try_apply();
        assert!(!out.success(), "{}", out.describe());
        let text = out.combined();
        assert!(text.contains("starttaskfailed"), "{}", out.describe());
        assert!(text.contains("exit code: 3"), "{}", out.describe());
        wd.destroy();

        // Interrupting the wait (SIGINT) leaves state matching the service; the next apply
        // finishes without a duplicate or an orphan.
        let name = pool_name("interrupt", tf);
        let (st, body) = emu.admin(
            "PUT",
            &format!("/pools/{name}/overrides"),
            Some(r#"{"allocationDelayMs": 60000}"#),
        );
        assert_eq!(st, 200, "{body}");
        let wd = Workdir::new(tf);
        let mut p = Pool::new(&name);
        p.wait_for = "steady";
        wd.write_main(&format!("{}{}", emu.provider_hcl(), p.hcl("p")));
        let mut running = wd.spawn(&["apply", "-auto-approve", "-input=false", "-no-color"]);
        assert!(
            running.wait_for_stdout("Creating...", Duration::from_secs(60)),
            "{}",
            running.stdout_so_far()
        );
        // Interrupt once the pool exists and the provider waits for its allocation.
        e2e::wait_until("the pool to be created", Duration::from_secs(60), || {
            service_pool(&emu, &name).filter(|p| p.allocation_state.as_deref() == Some("resizing"))
        });
        running.interrupt();
        let out = running.wait();
        assert!(!out.timed_out && !out.success(), "{}", out.describe());
        // The allocation takes a minute: a pool still resizing proves the wait was cut short.
        assert_eq!(
            service_pool(&emu, &name).and_then(|p| p.allocation_state),
            Some("resizing".into()),
            "the wait was not cut short: {}",
            out.describe()
        );
        let s = wd
            .resource("batch_container_pool.p")
            .expect("the created pool is in state");
        assert_eq!(s["id"], json!(name));
        emu.admin("DELETE", &format!("/pools/{name}/overrides"), None);
        wd.apply();
        assert_eq!(
            wd.state_addresses(),
            vec!["batch_container_pool.p".to_string()]
        );
        wd.assert_plan_empty();

        // Interrupting an update's wait: the resize was made, state records it (not tainted),
        // and the next apply has nothing left to do.
        emu.admin(
            "PUT",
            &format!("/pools/{name}/overrides"),
            Some(r#"{"allocationDelayMs": 60000}"#),
        );
        p.scale = fixed(2);
        wd.write_main(&format!("{}{}", emu.provider_hcl(), p.hcl("p")));
        let mut running = wd.spawn(&["apply", "-auto-approve", "-input=false", "-no-color"]);
        assert!(
            running.wait_for_stdout("Modifying...", Duration::from_secs(60)),
            "{}",
            running.stdout_so_far()
        );
        // Interrupt once the resize is made and the provider waits for it.
        e2e::wait_until("the resize to 2 nodes", Duration::from_secs(60), || {
            service_pool(&emu, &name).filter(|p| {
                p.target_dedicated_nodes == Some(2)
                    && p.allocation_state.as_deref() == Some("resizing")
            })
        });
        running.interrupt();
        let out = running.wait();
        assert!(!out.timed_out && !out.success(), "{}", out.describe());
        let state = wd.state_json();
        let r = &state["values"]["root_module"]["resources"][0];
        assert!(
            r["tainted"].is_null() || r["tainted"] == json!(false),
            "{state}"
        );
        assert_eq!(
            r["values"]["fixed_scale"]["target_dedicated_nodes"],
            json!(2)
        );
        assert_eq!(r["values"]["allocation_state"], json!("resizing"));
        let sp = service_pool(&emu, &name).expect("pool exists");
        assert_eq!(sp.target_dedicated_nodes, Some(2));
        assert!(wd.plan_is_empty(true), "the interrupted update left work");
        emu.admin("DELETE", &format!("/pools/{name}/overrides"), None);
        wd.destroy();
        assert!(service_pool(&emu, &name).is_none());
    });
}
