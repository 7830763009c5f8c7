//! List resources, config generation, actions and other clients' capabilities, through the
//! harness against a small in-file provider.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use tfplugin::framework::{
    Action, ApplyRequest, ApplyResponse, Ctx, DataSource, DeleteRequest, Identity, ImportResponse,
    ListItem, ListRequest, ListResource, ListSink, Private, Progress, Provider, ReadRequest,
    ReadResponse, Resource,
};
use tfplugin::schema::{Attribute, Block, Schema};
use tfplugin::testing::{Harness, show_diags};
use tfplugin::{Diagnostics, Value};
use tfplugin_proto::tfplugin6 as pb;

/// The "cloud": how many objects the list resource has produced so far.
struct Cloud {
    produced: Arc<AtomicUsize>,
}

struct Demo {
    produced: Arc<AtomicUsize>,
}

#[async_trait]
impl Provider for Demo {
    type Client = Cloud;
    fn type_name(&self) -> &'static str {
        "demo"
    }
    fn schema(&self) -> Schema {
        Schema::new(Block::new("demo"))
    }
    async fn configure(&self, _config: &Value, _diags: &mut Diagnostics) -> Option<Cloud> {
        Some(Cloud {
            produced: self.produced.clone(),
        })
    }
    fn resources(&self) -> Vec<Arc<dyn Resource<Cloud>>> {
        vec![Arc::new(Thing)]
    }
    fn data_sources(&self) -> Vec<Arc<dyn DataSource<Cloud>>> {
        vec![]
    }
    fn list_resources(&self) -> Vec<Arc<dyn ListResource<Cloud>>> {
        vec![Arc::new(ThingList)]
    }
    fn actions(&self) -> Vec<Arc<dyn Action<Cloud>>> {
        vec![Arc::new(Count)]
    }
}

fn thing(name: &str) -> Value {
    Value::object([
        ("name", Value::string(name)),
        ("id", Value::string(format!("id-{name}"))),
        ("size", Value::int(1)),
        ("password", Value::string("hunter2")),
        ("token_wo", Value::Null),
    ])
}

struct Thing;

#[async_trait]
impl Resource<Cloud> for Thing {
    fn type_name(&self) -> &'static str {
        "demo_thing"
    }
    fn schema(&self) -> Schema {
        Schema::new(
            Block::new("thing")
                .attr(Attribute::string("name").required())
                .attr(Attribute::string("id").computed())
                .attr(
                    Attribute::number("size")
                        .optional()
                        .computed()
                        .default(Value::int(1)),
                )
                .attr(Attribute::string("password").optional().sensitive())
                .attr(Attribute::string("token_wo").optional().write_only()),
        )
    }
    fn identity(&self) -> Option<Identity> {
        Some(Identity {
            attributes: vec![("name", "The name.")],
        })
    }
    async fn create(&self, _: &Ctx<Cloud>, req: ApplyRequest) -> ApplyResponse {
        let mut state = req.planned;
        let id = format!("id-{}", state.get_str("name").unwrap_or_default());
        state.set("id", Value::string(id));
        ApplyResponse {
            new_state: state,
            private: Private::new(),
            diags: Diagnostics::new(),
        }
    }
    async fn read(&self, _: &Ctx<Cloud>, req: ReadRequest) -> ReadResponse {
        ReadResponse {
            state: req.state,
            private: req.private,
            diags: Diagnostics::new(),
        }
    }
    async fn update(&self, c: &Ctx<Cloud>, req: ApplyRequest) -> ApplyResponse {
        self.create(c, req).await
    }
    async fn delete(&self, _: &Ctx<Cloud>, _: DeleteRequest) -> Diagnostics {
        Diagnostics::new()
    }
    async fn import(&self, _: &Ctx<Cloud>, id: &str) -> ImportResponse {
        ImportResponse {
            state: thing(id),
            private: Private::new(),
            diags: Diagnostics::new(),
        }
    }
}

/// Lists an endless supply of things (`t0`, `t1`, …) whose names start with `prefix`.
struct ThingList;

#[async_trait]
impl ListResource<Cloud> for ThingList {
    fn type_name(&self) -> &'static str {
        "demo_thing"
    }
    fn schema(&self) -> Schema {
        Schema::new(Block::new("filters").attr(Attribute::string("prefix").optional()))
    }
    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        if config.get_str("prefix") == Some("") {
            diags.error("Invalid prefix", "prefix must not be empty.");
        }
    }
    async fn list(&self, ctx: &Ctx<Cloud>, req: ListRequest, out: &mut ListSink) -> Diagnostics {
        let prefix = req.config.get_str("prefix").unwrap_or("t").to_string();
        for i in 0.. {
            ctx.client.produced.fetch_add(1, Ordering::SeqCst);
            let name = format!("{prefix}{i}");
            let item = ListItem {
                display_name: format!("thing {name}"),
                state: thing(&name),
            };
            if !out.send(item).await {
                break;
            }
        }
        Diagnostics::new()
    }
}

/// Counts to `to`, reporting each step; fails when `to` is negative.
struct Count;

#[async_trait]
impl Action<Cloud> for Count {
    fn type_name(&self) -> &'static str {
        "demo_count"
    }
    fn schema(&self) -> Schema {
        Schema::new(Block::new("count").attr(Attribute::number("to").required()))
    }
    async fn invoke(&self, _: &Ctx<Cloud>, config: Value, progress: Progress) -> Diagnostics {
        let mut d = Diagnostics::new();
        let to = config.get_i64("to").unwrap_or(0);
        if to < 0 {
            d.error("Cannot count down", format!("to = {to} is negative."));
            return d;
        }
        for i in 1..=to {
            progress.send(format!("{i}")).await;
        }
        d
    }
}

async fn harness_counting() -> (Harness<Demo>, Arc<AtomicUsize>) {
    let produced = Arc::new(AtomicUsize::new(0));
    let h = Harness::new(Demo {
        produced: produced.clone(),
    })
    .await;
    h.configure(Value::object::<_, &str>([])).await.unwrap();
    (h, produced)
}

async fn harness() -> Harness<Demo> {
    harness_counting().await.0
}

#[tokio::test]
async fn list_honours_limit_and_stops_the_listing() {
    let (h, produced) = harness_counting().await;
    let config = Value::object([("prefix", Value::string("x"))]);
    let found = h.list("demo_thing", &config, false, 3).await.unwrap();
    let names: Vec<_> = found.iter().map(|l| l.identity.get_str("name")).collect();
    assert_eq!(names, [Some("x0"), Some("x1"), Some("x2")]);
    assert_eq!(found[0].display_name, "thing x0");
    assert!(found.iter().all(|l| l.object.is_none()));
    // The endless listing stopped at the limit (it may have started one more object).
    let produced = produced.load(Ordering::SeqCst);
    assert!((3..=4).contains(&produced), "produced {produced}");
}

#[tokio::test]
async fn list_includes_objects_when_asked_without_write_only_values() {
    let h = harness().await;
    let found = h
        .list("demo_thing", &Value::object::<_, &str>([]), true, 2)
        .await
        .unwrap();
    let obj = found[1].object.as_ref().expect("object asked for");
    assert_eq!(obj.get_str("id"), Some("id-t1"));
    assert!(obj.get("token_wo").is_null());
}

#[tokio::test]
async fn list_config_is_validated() {
    let h = harness().await;
    let err = h
        .list(
            "demo_thing",
            &Value::object([("prefix", Value::string(""))]),
            false,
            5,
        )
        .await
        .unwrap_err();
    assert!(show_diags(&err).contains("prefix must not be empty"));
}

#[tokio::test]
async fn generated_config_has_arguments_only_and_validates() {
    let h = harness().await;
    let state = h.import("demo_thing", "a").await.unwrap().remove(0);
    let config = h.generate_config("demo_thing", &state).await.unwrap();
    assert_eq!(config.get_str("name"), Some("a"));
    assert!(config.get("id").is_null(), "computed");
    assert!(config.get("password").is_null(), "sensitive");
    assert!(config.get("size").is_null(), "equal to the default");
    let caps = h.schema().server_capabilities.unwrap();
    assert!(caps.generate_resource_config);
}

#[tokio::test]
async fn action_streams_progress_then_completes() {
    let h = harness().await;
    let run = h
        .invoke_action("demo_count", &Value::object([("to", Value::int(3))]))
        .await
        .unwrap();
    assert_eq!(run.progress, ["1", "2", "3"]);
    assert!(!run.diags.has_errors(), "{}", show_diags(&run.diags));

    let run = h
        .invoke_action("demo_count", &Value::object([("to", Value::int(-1))]))
        .await
        .unwrap();
    assert!(run.progress.is_empty());
    assert!(show_diags(&run.diags).contains("to = -1 is negative"));
}

#[tokio::test]
async fn schema_and_metadata_name_list_resources_and_actions() {
    use tfplugin_proto::tfplugin6::provider_server::Provider as Rpc;
    let h = harness().await;
    assert!(h.schema().list_resource_schemas.contains_key("demo_thing"));
    assert!(h.schema().action_schemas.contains_key("demo_count"));
    let m = Rpc::get_metadata(
        h.server(),
        tonic::Request::new(pb::get_metadata::Request {}),
    )
    .await
    .unwrap()
    .into_inner();
    assert_eq!(m.list_resources[0].type_name, "demo_thing");
    assert_eq!(m.actions[0].type_name, "demo_count");
}

/// OpenTofu up to 1.10 sends no ClientCapabilities: write-only values are refused; without them
/// everything works.
#[tokio::test]
async fn client_without_capabilities_cannot_set_write_only() {
    let h = harness().await.with_client_capabilities(None);
    let config = Value::object([
        ("name", Value::string("a")),
        ("token_wo", Value::string("t")),
    ]);
    let d = h.validate_resource("demo_thing", &config).await;
    assert!(d.has_errors());
    assert!(show_diags(&d).contains("token_wo"), "{}", show_diags(&d));
    let created = h
        .step(
            "demo_thing",
            None,
            &Value::object([("name", Value::string("a"))]),
        )
        .await
        .unwrap();
    assert_eq!(created.new_state.get_str("id"), Some("id-a"));

    let h = harness()
        .await
        .with_client_capabilities(Some(pb::ClientCapabilities {
            deferral_allowed: false,
            write_only_attributes_allowed: true,
        }));
    assert!(
        !h.validate_resource("demo_thing", &config)
            .await
            .has_errors()
    );
}
