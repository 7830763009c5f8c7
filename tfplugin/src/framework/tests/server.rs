//! The wiring through the gRPC service: rules in ValidateResourceConfig, semantics and server
//! defaults in ReadResource and ApplyResourceChange.

use std::sync::Arc;

use async_trait::async_trait;
use tfplugin_proto::tfplugin6 as pb;
use tfplugin_proto::tfplugin6::provider_server::Provider as _;
use tonic::Request;

use super::*;
use crate::codec::{decode_msgpack, encode_msgpack};
use crate::diag::Diagnostics;
use crate::framework::{
    ApplyRequest, ApplyResponse, Ctx, DataSource, DeleteRequest, FrameworkServer, Private,
    Provider, ReadRequest, ReadResponse, Resource,
};
use crate::schema::Attribute;
use crate::semantics::IgnoreCase;

struct Demo;
struct Pool;

fn pool_schema() -> Schema {
    Schema::new(
        Block::new("p")
            .attr(Attribute::string("id").computed().use_state_for_unknown())
            .attr(
                Attribute::string("vm_size")
                    .required()
                    .semantics(IgnoreCase),
            )
            .attr(
                Attribute::string("policy")
                    .optional()
                    .server_default(s("spread")),
            )
            .attr(Attribute::string("image").optional())
            .attr(Attribute::string("image_id").optional())
            .exactly_one_of(&["image", "image_id"]),
    )
}

/// What the remote service answers: upper-case size and its default policy filled in.
fn remote(state: &Value) -> Value {
    let mut v = state.clone();
    v.set("id", s("p1"));
    let size = state.get_str("vm_size").unwrap_or_default().to_uppercase();
    v.set("vm_size", s(&size));
    v.set("policy", s("spread"));
    v
}

#[async_trait]
impl Resource<()> for Pool {
    fn type_name(&self) -> &'static str {
        "demo_pool"
    }
    fn schema(&self) -> Schema {
        pool_schema()
    }
    async fn create(&self, _: &Ctx<()>, req: ApplyRequest) -> ApplyResponse {
        ApplyResponse {
            new_state: remote(&req.planned),
            private: Private::new(),
            diags: Diagnostics::new(),
        }
    }
    async fn read(&self, _: &Ctx<()>, req: ReadRequest) -> ReadResponse {
        ReadResponse {
            state: remote(&req.state),
            private: req.private,
            diags: Diagnostics::new(),
        }
    }
    async fn update(&self, ctx: &Ctx<()>, req: ApplyRequest) -> ApplyResponse {
        self.create(ctx, req).await
    }
    async fn delete(&self, _: &Ctx<()>, _: DeleteRequest) -> Diagnostics {
        Diagnostics::new()
    }
}

#[async_trait]
impl Provider for Demo {
    type Client = ();
    fn type_name(&self) -> &'static str {
        "demo"
    }
    fn schema(&self) -> Schema {
        Schema::new(Block::new("demo"))
    }
    async fn configure(&self, _: &Value, _: &mut Diagnostics) -> Option<()> {
        Some(())
    }
    fn resources(&self) -> Vec<Arc<dyn Resource<()>>> {
        vec![Arc::new(Pool)]
    }
    fn data_sources(&self) -> Vec<Arc<dyn DataSource<()>>> {
        vec![]
    }
}

fn dv(v: &Value) -> Option<pb::DynamicValue> {
    Some(pb::DynamicValue {
        msgpack: encode_msgpack(v, pool_schema().value_type()).unwrap(),
        json: vec![],
    })
}

fn val(d: Option<pb::DynamicValue>) -> Value {
    decode_msgpack(&d.unwrap().msgpack, pool_schema().value_type()).unwrap()
}

async fn server() -> FrameworkServer<Demo> {
    let srv = FrameworkServer::new(Demo);
    srv.configure_provider(Request::new(Default::default()))
        .await
        .unwrap();
    srv
}

fn config() -> Value {
    obj(
        &pool_schema().block,
        &[("vm_size", s("Standard_D2")), ("image", s("ubuntu"))],
    )
}

#[tokio::test]
async fn validate_checks_declared_rules() {
    let srv = server().await;
    let mut cfg = config();
    cfg.set("image_id", s("x"));
    let r = srv
        .validate_resource_config(Request::new(pb::validate_resource_config::Request {
            type_name: "demo_pool".into(),
            config: dv(&cfg),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.diagnostics.len(), 1);
    assert_eq!(r.diagnostics[0].summary, "Invalid combination of arguments");
    assert_eq!(
        r.diagnostics[0].detail,
        "Exactly one of `image` or `image_id` must be set."
    );
}

#[tokio::test]
async fn apply_and_read_keep_terraform_values() {
    let srv = server().await;
    let cfg = config();
    let plan = srv
        .plan_resource_change(Request::new(pb::plan_resource_change::Request {
            type_name: "demo_pool".into(),
            prior_state: None,
            proposed_new_state: dv(&cfg),
            config: dv(&cfg),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(plan.diagnostics.is_empty(), "{:?}", plan.diagnostics);
    let planned = val(plan.planned_state);
    let applied = srv
        .apply_resource_change(Request::new(pb::apply_resource_change::Request {
            type_name: "demo_pool".into(),
            prior_state: dv(&Value::Null),
            planned_state: dv(&planned),
            config: dv(&cfg),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(applied.diagnostics.is_empty(), "{:?}", applied.diagnostics);
    let state = val(applied.new_state);
    let mut want = cfg.clone();
    want.set("id", s("p1"));
    assert_eq!(
        state, want,
        "planned spelling kept, server default read as null"
    );

    let read = srv
        .read_resource(Request::new(pb::read_resource::Request {
            type_name: "demo_pool".into(),
            current_state: dv(&state),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(read.diagnostics.is_empty(), "{:?}", read.diagnostics);
    assert_eq!(val(read.new_state), want);
}

#[test]
#[cfg(debug_assertions)]
#[should_panic(expected = "names `imagez`")]
fn rules_naming_missing_attributes_are_caught_at_startup() {
    struct Bad;
    #[async_trait]
    impl Resource<()> for Bad {
        fn type_name(&self) -> &'static str {
            "demo_bad"
        }
        fn schema(&self) -> Schema {
            Schema::new(Block::new("b").at_least_one_of(&["imagez"]))
        }
        async fn create(&self, _: &Ctx<()>, _: ApplyRequest) -> ApplyResponse {
            unreachable!()
        }
        async fn read(&self, _: &Ctx<()>, _: ReadRequest) -> ReadResponse {
            unreachable!()
        }
        async fn update(&self, _: &Ctx<()>, _: ApplyRequest) -> ApplyResponse {
            unreachable!()
        }
        async fn delete(&self, _: &Ctx<()>, _: DeleteRequest) -> Diagnostics {
            unreachable!()
        }
    }
    struct P;
    #[async_trait]
    impl Provider for P {
        type Client = ();
        fn type_name(&self) -> &'static str {
            "demo"
        }
        fn schema(&self) -> Schema {
            Schema::new(Block::new("demo"))
        }
        async fn configure(&self, _: &Value, _: &mut Diagnostics) -> Option<()> {
            Some(())
        }
        fn resources(&self) -> Vec<Arc<dyn Resource<()>>> {
            vec![Arc::new(Bad)]
        }
        fn data_sources(&self) -> Vec<Arc<dyn DataSource<()>>> {
            vec![]
        }
    }
    let _ = FrameworkServer::new(P);
}
