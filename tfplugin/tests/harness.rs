//! The in-process harness against a small in-file provider: create, update in place, replace,
//! read, import, destroy, data sources, and deliberately buggy resources that Terraform would
//! reject ("invalid plan", "inconsistent final plan", "inconsistent result after apply").

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use tfplugin::framework::{
    ApplyRequest, ApplyResponse, Ctx, DataSource, DeleteRequest, ImportResponse, PlanRequest,
    PlanResponse, Private, Provider, ReadRequest, ReadResponse, Resource, null_object,
};
use tfplugin::schema::{Attribute, Block, NestedBlock, Schema};
use tfplugin::testing::{Action, Harness, show_diags};
use tfplugin::{AttrPath, Diagnostics, Value};

/// The "cloud": objects by id.
#[derive(Default)]
struct Store {
    objects: Mutex<BTreeMap<String, Value>>,
    next: AtomicI64,
}

struct Demo;

#[async_trait]
impl Provider for Demo {
    type Client = Store;
    fn type_name(&self) -> &'static str {
        "demo"
    }
    fn schema(&self) -> Schema {
        Schema::new(Block::new("demo").attr(Attribute::string("endpoint").optional()))
    }
    async fn configure(&self, _config: &Value, _diags: &mut Diagnostics) -> Option<Store> {
        Some(Store::default())
    }
    fn resources(&self) -> Vec<Arc<dyn Resource<Store>>> {
        vec![
            Arc::new(Widget { bug: Bug::None }),
            Arc::new(Widget {
                bug: Bug::ApplyChangesName,
            }),
            Arc::new(Widget {
                bug: Bug::PlanChangesName,
            }),
            Arc::new(Widget {
                bug: Bug::ClockInPlan(AtomicI64::new(0)),
            }),
            Arc::new(Widget {
                bug: Bug::ReplaceMissingPath,
            }),
            Arc::new(Widget {
                bug: Bug::ReadDrifts,
            }),
        ]
    }
    fn data_sources(&self) -> Vec<Arc<dyn DataSource<Store>>> {
        vec![Arc::new(Echo)]
    }
}

enum Bug {
    None,
    /// Apply returns a different `name` than planned.
    ApplyChangesName,
    /// The plan changes a configured, non-computed attribute.
    PlanChangesName,
    /// The plan puts a fresh value in a computed attribute each time (not deterministic).
    ClockInPlan(AtomicI64),
    /// requires_replace names an attribute that does not exist.
    ReplaceMissingPath,
    /// Read reports a `size` nobody configured.
    ReadDrifts,
}

struct Widget {
    bug: Bug,
}

fn widget_schema() -> Schema {
    Schema::new(
        Block::new("A widget.")
            .attr(Attribute::string("id").computed().use_state_for_unknown())
            .attr(Attribute::string("name").required())
            .attr(Attribute::number("size").optional())
            .attr(Attribute::string("mode").default(Value::string("standard")))
            .attr(Attribute::string("zone").optional().requires_replace())
            .attr(Attribute::number("revision").computed())
            .attr(Attribute::number("stamp").computed())
            .block(NestedBlock::list(
                "rule",
                Block::new("A rule.")
                    .attr(Attribute::number("port").required())
                    .attr(Attribute::string("note").optional()),
            )),
    )
}

#[async_trait]
impl Resource<Store> for Widget {
    fn type_name(&self) -> &'static str {
        match self.bug {
            Bug::None => "demo_widget",
            Bug::ApplyChangesName => "demo_bad_apply",
            Bug::PlanChangesName => "demo_bad_plan",
            Bug::ClockInPlan(_) => "demo_clock",
            Bug::ReplaceMissingPath => "demo_bad_replace",
            Bug::ReadDrifts => "demo_drift",
        }
    }
    fn schema(&self) -> Schema {
        widget_schema()
    }
    fn modify_plan(&self, req: &PlanRequest<'_>, resp: &mut PlanResponse) {
        match &self.bug {
            Bug::PlanChangesName => {
                let n = req
                    .config
                    .get_str("name")
                    .unwrap_or_default()
                    .to_uppercase();
                resp.planned.set("name", Value::string(n));
            }
            Bug::ClockInPlan(c) => {
                resp.planned
                    .set("stamp", Value::int(c.fetch_add(1, Ordering::SeqCst)));
            }
            Bug::ReplaceMissingPath => resp.requires_replace.push(AttrPath::attr("nope")),
            _ => {}
        }
    }
    async fn create(&self, ctx: &Ctx<Store>, req: ApplyRequest) -> ApplyResponse {
        let id = format!("w-{}", ctx.client.next.fetch_add(1, Ordering::SeqCst));
        let mut s = req.planned;
        s.set("id", Value::string(&id));
        s.set("revision", Value::int(1));
        if s.get("stamp").is_unknown() {
            s.set("stamp", Value::int(0));
        }
        if let Bug::ApplyChangesName = self.bug {
            let n = s.get_str("name").unwrap_or_default().to_uppercase();
            s.set("name", Value::string(n));
        }
        ctx.client.objects.lock().unwrap().insert(id, s.clone());
        ApplyResponse {
            new_state: s,
            private: Private::new(),
            diags: Diagnostics::new(),
        }
    }
    async fn read(&self, ctx: &Ctx<Store>, req: ReadRequest) -> ReadResponse {
        let id = req.state.get_str("id").unwrap_or_default().to_string();
        let mut state = ctx
            .client
            .objects
            .lock()
            .unwrap()
            .get(&id)
            .cloned()
            .unwrap_or(Value::Null);
        if let Bug::ReadDrifts = self.bug
            && !state.is_null()
        {
            state.set("size", Value::int(99));
        }
        ReadResponse {
            state,
            private: req.private,
            diags: Diagnostics::new(),
        }
    }
    async fn update(&self, ctx: &Ctx<Store>, req: ApplyRequest) -> ApplyResponse {
        let mut s = req.planned;
        let rev = req.prior.get_i64("revision").unwrap_or(0);
        s.set("revision", Value::int(rev + 1));
        if s.get("stamp").is_unknown() {
            s.set("stamp", Value::int(0));
        }
        let id = s.get_str("id").unwrap().to_string();
        ctx.client.objects.lock().unwrap().insert(id, s.clone());
        ApplyResponse {
            new_state: s,
            private: req.private,
            diags: Diagnostics::new(),
        }
    }
    async fn delete(&self, ctx: &Ctx<Store>, req: DeleteRequest) -> Diagnostics {
        let id = req.prior.get_str("id").unwrap_or_default();
        ctx.client.objects.lock().unwrap().remove(id);
        Diagnostics::new()
    }
    async fn import(&self, _ctx: &Ctx<Store>, id: &str) -> ImportResponse {
        let mut state = null_object(&widget_schema().block);
        state.set("id", Value::string(id));
        ImportResponse {
            state,
            private: Private::new(),
            diags: Diagnostics::new(),
        }
    }
}

struct Echo;

#[async_trait]
impl DataSource<Store> for Echo {
    fn type_name(&self) -> &'static str {
        "demo_echo"
    }
    fn schema(&self) -> Schema {
        Schema::new(
            Block::new("Echoes its input in capitals.")
                .attr(Attribute::string("input").required())
                .attr(Attribute::string("output").computed()),
        )
    }
    async fn read(&self, _ctx: &Ctx<Store>, config: Value) -> (Value, Diagnostics) {
        let mut v = config;
        let out = v.get_str("input").unwrap_or_default().to_uppercase();
        v.set("output", Value::string(out));
        (v, Diagnostics::new())
    }
}

async fn harness() -> Harness<Demo> {
    let h = Harness::new(Demo).await;
    h.configure(Value::object([(
        "endpoint",
        Value::string("http://localhost"),
    )]))
    .await
    .unwrap();
    h
}

fn s(x: &str) -> Value {
    Value::string(x)
}

fn rule(port: i64) -> Value {
    Value::object([("port", Value::int(port))])
}

fn widget(name: &str, zone: &str, rules: &[i64]) -> Value {
    Value::object([
        ("name", s(name)),
        ("zone", s(zone)),
        (
            "rule",
            Value::List(rules.iter().map(|p| rule(*p)).collect()),
        ),
    ])
}

/// The error diagnostics' paths, as text.
fn error_paths(d: &Diagnostics) -> Vec<String> {
    d.0.iter()
        .filter_map(|x| x.path.as_ref().map(|p| p.to_string()))
        .collect()
}

#[tokio::test]
async fn create_plans_unknowns_and_defaults_then_applies() {
    let h = harness().await;
    let cfg = widget("a", "z1", &[80]);
    let plan = h
        .plan("demo_widget", &Value::Null, &[], &cfg)
        .await
        .unwrap();
    assert_eq!(plan.action, Action::Create);
    assert!(plan.planned_state.get("id").is_unknown());
    assert!(plan.planned_state.get("revision").is_unknown());
    assert_eq!(plan.planned_state.get("mode"), &s("standard"));
    assert_eq!(plan.planned_state.get("name"), &s("a"));
    let applied = h
        .apply("demo_widget", &Value::Null, &plan, &cfg)
        .await
        .unwrap();
    let st = &applied.new_state;
    assert_eq!(st.get_str("id"), Some("w-0"));
    assert_eq!(st.get_i64("revision"), Some(1));
    assert_eq!(st.get("rule").elements()[0].get_i64("port"), Some(80));
    assert!(st.get("rule").elements()[0].get("note").is_null());
}

#[tokio::test]
async fn update_in_place_keeps_id_and_recomputes_the_rest() {
    let h = harness().await;
    let created = h
        .step("demo_widget", None, &widget("a", "z1", &[80]))
        .await
        .unwrap();
    let cfg = widget("b", "z1", &[80, 443]);
    let plan = h
        .plan("demo_widget", &created.new_state, &created.private, &cfg)
        .await
        .unwrap();
    assert_eq!(plan.action, Action::Update);
    assert!(plan.requires_replace.is_empty());
    assert_eq!(
        plan.planned_state.get("id"),
        &s("w-0"),
        "use_state_for_unknown"
    );
    assert!(plan.planned_state.get("revision").is_unknown());
    let updated = h
        .apply("demo_widget", &created.new_state, &plan, &cfg)
        .await
        .unwrap();
    assert_eq!(updated.new_state.get_str("id"), Some("w-0"));
    assert_eq!(updated.new_state.get_str("name"), Some("b"));
    assert_eq!(updated.new_state.get_i64("revision"), Some(2));
    assert_eq!(updated.new_state.get("rule").elements().len(), 2);
    // The same config again plans nothing.
    let again = h
        .plan("demo_widget", &updated.new_state, &updated.private, &cfg)
        .await
        .unwrap();
    assert_eq!(again.action, Action::NoOp);
}

#[tokio::test]
async fn changing_a_requires_replace_attribute_replaces() {
    let h = harness().await;
    let created = h
        .step("demo_widget", None, &widget("a", "z1", &[]))
        .await
        .unwrap();
    let cfg = widget("a", "z2", &[]);
    let plan = h
        .plan("demo_widget", &created.new_state, &created.private, &cfg)
        .await
        .unwrap();
    assert_eq!(plan.action, Action::Replace);
    assert_eq!(plan.requires_replace, vec![AttrPath::attr("zone")]);
    // The replacement is planned like a create: its id is not known yet.
    assert!(plan.planned_state.get("id").is_unknown());
    let replaced = h
        .apply("demo_widget", &created.new_state, &plan, &cfg)
        .await
        .unwrap();
    assert_eq!(replaced.new_state.get_str("id"), Some("w-1"));
    assert_eq!(replaced.new_state.get_str("zone"), Some("z2"));
    // The old object was destroyed.
    assert_eq!(
        h.read("demo_widget", &created.new_state, &[])
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn read_import_and_destroy() {
    let h = harness().await;
    let created = h
        .step("demo_widget", None, &widget("a", "z1", &[22]))
        .await
        .unwrap();
    let read = h
        .read("demo_widget", &created.new_state, &created.private)
        .await
        .unwrap()
        .expect("still there");
    assert_eq!(read, created.new_state);

    let imported = h.import("demo_widget", "w-0").await.unwrap();
    assert_eq!(imported, vec![created.new_state.clone()]);
    // After import, the user's config plans no change.
    let plan = h
        .plan("demo_widget", &imported[0], &[], &widget("a", "z1", &[22]))
        .await
        .unwrap();
    assert_eq!(plan.action, Action::NoOp);

    let missing = h.import("demo_widget", "w-404").await.unwrap_err();
    assert_eq!(
        missing.0[0].summary,
        "Cannot import non-existent remote object"
    );

    h.destroy("demo_widget", &created.new_state, &created.private)
        .await
        .unwrap();
    assert_eq!(
        h.read("demo_widget", &created.new_state, &[])
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn validation_happens_before_planning() {
    let h = harness().await;
    let d = h
        .validate_resource("demo_widget", &Value::object([("zone", s("z"))]))
        .await;
    assert!(d.has_errors());
    assert_eq!(error_paths(&d), vec!["name"]);
    let d = h
        .plan(
            "demo_widget",
            &Value::Null,
            &[],
            &Value::object([("id", s("x")), ("name", s("a"))]),
        )
        .await
        .unwrap_err();
    assert_eq!(error_paths(&d), vec!["id"], "{}", show_diags(&d));
    // Unknown config values (from other resources) are fine to validate and plan.
    let cfg = Value::object([("name", Value::Unknown)]);
    assert!(!h.validate_resource("demo_widget", &cfg).await.has_errors());
    let plan = h
        .plan("demo_widget", &Value::Null, &[], &cfg)
        .await
        .unwrap();
    assert!(plan.planned_state.get("name").is_unknown());
}

#[tokio::test]
async fn data_source_reads() {
    let h = harness().await;
    let v = h
        .read_data_source("demo_echo", &Value::object([("input", s("hi"))]))
        .await
        .unwrap();
    assert_eq!(v.get_str("output"), Some("HI"));
}

#[tokio::test]
async fn apply_that_changes_a_planned_value_is_caught() {
    let h = harness().await;
    let d = h
        .create("demo_bad_apply", &widget("a", "z1", &[]))
        .await
        .unwrap_err();
    assert!(d.has_errors());
    assert_eq!(error_paths(&d), vec!["name"], "{}", show_diags(&d));
}

#[tokio::test]
async fn plan_that_changes_config_is_caught() {
    let h = harness().await;
    let d = h
        .plan("demo_bad_plan", &Value::Null, &[], &widget("a", "z1", &[]))
        .await
        .unwrap_err();
    assert_eq!(error_paths(&d), vec!["name"], "{}", show_diags(&d));
}

#[tokio::test]
async fn plan_that_is_not_deterministic_is_caught_at_apply() {
    let h = harness().await;
    let cfg = widget("a", "z1", &[]);
    let plan = h.plan("demo_clock", &Value::Null, &[], &cfg).await.unwrap();
    let d = h
        .apply("demo_clock", &Value::Null, &plan, &cfg)
        .await
        .unwrap_err();
    assert_eq!(d.0[0].summary, "Provider produced inconsistent final plan");
    assert_eq!(error_paths(&d), vec!["stamp"]);
    assert!(
        d.0[0].detail.contains("was 0, but now 1"),
        "{}",
        d.0[0].detail
    );
}

#[tokio::test]
async fn requires_replace_on_a_missing_path_is_caught() {
    let h = harness().await;
    let created = h
        .create("demo_bad_replace", &widget("a", "z1", &[]))
        .await
        .unwrap();
    let d = h
        .plan(
            "demo_bad_replace",
            &created.new_state,
            &created.private,
            &widget("b", "z1", &[]),
        )
        .await
        .unwrap_err();
    assert!(
        d.0[0].detail.contains("non-existent attribute path"),
        "{}",
        show_diags(&d)
    );
    assert_eq!(error_paths(&d), vec!["nope"]);
}

#[tokio::test]
async fn drift_after_apply_fails_the_step() {
    let h = harness().await;
    let d = h
        .step("demo_drift", None, &widget("a", "z1", &[]))
        .await
        .unwrap_err();
    assert_eq!(
        d.0[0].summary,
        "After applying this test step, the refresh plan was not empty."
    );
    assert!(d.0[0].detail.contains("size"), "{}", d.0[0].detail);
}

#[tokio::test]
async fn unknown_types_and_invalid_values_are_reported() {
    let h = harness().await;
    let d = h.create("demo_nothing", &Value::Null).await.unwrap_err();
    assert_eq!(d.0[0].summary, "Invalid resource type");
    let d = h
        .create("demo_widget", &Value::object([("name", Value::Bool(true))]))
        .await
        .unwrap_err();
    assert_eq!(error_paths(&d), vec!["name"], "{}", show_diags(&d));
}
