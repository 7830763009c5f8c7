//! Pool operations (compute-node operations are in `nodes`, account ones in `account`).

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::app::{App, HandlerResult, Reply, Req, check_conditions, filter_matches, page, select};
use crate::error::ApiError;
use crate::state::{Pool, State, b, i, s};
use crate::util::{now_iso, now_ms, touch, valid_id};

pub fn find_pool<'a>(st: &'a mut State, id: &str) -> Result<&'a mut Pool, ApiError> {
    st.pools
        .get_mut(&id.to_ascii_lowercase())
        .ok_or_else(ApiError::pool_not_found)
}

fn known_image(image_ref: &Value) -> Option<Value> {
    crate::account::supported_images().into_iter().find(|img| {
        ["publisher", "offer", "sku"]
            .iter()
            .all(|k| s(&img["imageReference"], k).eq_ignore_ascii_case(s(image_ref, k)))
    })
}

fn check_duration_min(
    v: &Value,
    key: &str,
    min_ms: i64,
    max_ms: Option<i64>,
    reason: &str,
) -> Result<(), ApiError> {
    if let Some(d) = v.get(key).and_then(Value::as_str) {
        let ms = crate::util::parse_duration_ms(d).unwrap_or(0);
        if ms < min_ms || max_ms.is_some_and(|m| ms > m) {
            return Err(ApiError::invalid_property(key, Some(d), reason));
        }
    }
    Ok(())
}

/// Semantic checks shared by Pool_Add and Pool_Patch on `virtualMachineConfiguration`.
fn check_vm_config(vmc: &Value) -> Result<(), ApiError> {
    let img = &vmc["imageReference"];
    let has_marketplace =
        img.get("publisher").is_some() || img.get("offer").is_some() || img.get("sku").is_some();
    let others = [
        "virtualMachineImageId",
        "sharedGalleryImageId",
        "communityGalleryImageId",
    ]
    .iter()
    .filter(|k| img.get(**k).is_some())
    .count();
    if !has_marketplace && others == 0 {
        return Err(ApiError::missing_property(
            "virtualMachineConfiguration.imageReference.publisher",
        ));
    }
    if has_marketplace && others > 0 {
        return Err(ApiError::invalid_property(
            "imageReference",
            None,
            "Specify either publisher/offer/sku or an image id (virtualMachineImageId, sharedGalleryImageId, communityGalleryImageId), not both.",
        ));
    }
    if let Some(known) = known_image(img) {
        if !s(&known, "nodeAgentSKUId").eq_ignore_ascii_case(s(vmc, "nodeAgentSKUId")) {
            return Err(ApiError::invalid_property(
                "nodeAgentSKUId",
                Some(s(vmc, "nodeAgentSKUId")),
                &format!(
                    "The specified nodeAgentSKUId does not match the image: use '{}' (see GET /supportedimages).",
                    s(&known, "nodeAgentSKUId")
                ),
            ));
        }
        let docker = known["capabilities"]
            .as_array()
            .is_some_and(|c| c.iter().any(|x| x == "DockerCompatible"));
        if vmc
            .get("containerConfiguration")
            .is_some_and(|c| !c.is_null())
            && !docker
        {
            return Err(ApiError::invalid_property(
                "containerConfiguration",
                None,
                &format!(
                    "The specified imageReference with publisher {} offer {} sku {} does not support container feature.",
                    s(img, "publisher"),
                    s(img, "offer"),
                    s(img, "sku")
                ),
            ));
        }
    }
    Ok(())
}

fn default_start_task(st: &mut Value) {
    if st.get("userIdentity").is_none() {
        st["userIdentity"] = json!({"autoUser": {"scope": "pool", "elevationLevel": "nonadmin"}});
    }
    if st.get("maxTaskRetryCount").is_none() {
        st["maxTaskRetryCount"] = json!(0);
    }
    if st.get("waitForSuccess").is_none() {
        st["waitForSuccess"] = json!(true);
    }
    if let Some(cs) = st.get_mut("containerSettings")
        && cs.get("workingDirectory").is_none()
    {
        cs["workingDirectory"] = json!("taskWorkingDirectory");
    }
}

/// The service answers `nodeFillType` as `Spread` / `Pack` whatever case was sent (observed).
fn normalize_fill_type(body: &mut Value) {
    let current = body
        .get("taskSchedulingPolicy")
        .and_then(|p| p.get("nodeFillType"))
        .and_then(Value::as_str);
    if let Some(t) = current {
        let canon = if t.eq_ignore_ascii_case("pack") {
            "Pack"
        } else {
            "Spread"
        };
        body["taskSchedulingPolicy"]["nodeFillType"] = json!(canon);
    }
}

/// Remove write-only secrets from a body before it is stored and returned.
fn strip_secrets(v: &mut Value) {
    match v {
        Value::Object(o) => {
            for k in ["password", "accountKey", "sasKey"] {
                o.remove(k);
            }
            for (_, x) in o.iter_mut() {
                strip_secrets(x);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(strip_secrets),
        _ => {}
    }
}

/// Keep the pool's properties as the request sent them, passwords included (`Pool::secrets`):
/// the nodes pull container images with them, while reads never return them.
fn remember_secrets(secrets: &mut Value, sent: &Value) {
    if !secrets.is_object() {
        *secrets = json!({});
    }
    for (k, v) in sent.as_object().into_iter().flatten() {
        if !v.is_null() {
            secrets[k] = v.clone();
        }
    }
}

pub fn pool_add(app: &App, st: &mut State, req: &Req) -> HandlerResult {
    let p = req.json("PoolAddParameter", true)?.unwrap_or_default();
    let body = create_pool(app, st, p)?;
    Ok(Reply::status(StatusCode::CREATED).write_headers(&body, true))
}

/// Create a pool from a PoolAddParameter (also used for auto pools); returns its body.
pub fn create_pool(app: &App, st: &mut State, mut p: Value) -> Result<Value, ApiError> {
    let id = s(&p, "id").to_string();
    if !valid_id(&id) {
        return Err(ApiError::invalid_property(
            "id",
            Some(&id),
            "The id can contain any combination of alphanumeric characters including hyphens and underscores, and cannot contain more than 64 characters.",
        ));
    }
    if st.pools.contains_key(&id.to_ascii_lowercase()) {
        return Err(ApiError::conflict(
            "PoolExists",
            "The specified pool already exists.",
        ));
    }
    let Some(vmc) = p
        .get("virtualMachineConfiguration")
        .filter(|v| !v.is_null())
    else {
        return Err(ApiError::missing_property("virtualMachineConfiguration"));
    };
    check_vm_config(vmc)?;
    let autoscale = b(&p, "enableAutoScale");
    if autoscale {
        if s(&p, "autoScaleFormula").is_empty() {
            return Err(ApiError::missing_property("autoScaleFormula"));
        }
        for k in [
            "targetDedicatedNodes",
            "targetLowPriorityNodes",
            "resizeTimeout",
        ] {
            if p.get(k).is_some() {
                return Err(ApiError::invalid_property(
                    k,
                    None,
                    "This property cannot be specified when enableAutoScale is true.",
                ));
            }
        }
    } else {
        if p.get("autoScaleFormula").is_some() || p.get("autoScaleEvaluationInterval").is_some() {
            return Err(ApiError::invalid_property(
                "autoScaleFormula",
                None,
                "autoScaleFormula and autoScaleEvaluationInterval can be specified only when enableAutoScale is true.",
            ));
        }
        for k in ["targetDedicatedNodes", "targetLowPriorityNodes"] {
            if i(&p, k) < 0 {
                return Err(ApiError::invalid_property(
                    k,
                    Some(&i(&p, k).to_string()),
                    "The value must not be negative.",
                ));
            }
        }
    }
    check_duration_min(
        &p,
        "resizeTimeout",
        5 * 60_000,
        None,
        "The resize timeout must be at least 5 minutes.",
    )?;
    check_duration_min(
        &p,
        "autoScaleEvaluationInterval",
        5 * 60_000,
        Some(168 * 3_600_000),
        "The evaluation interval must be between 5 minutes and 168 hours.",
    )?;
    if let Some(n) = p.get("taskSlotsPerNode").and_then(Value::as_i64)
        && !(1..=256).contains(&n)
    {
        return Err(ApiError::invalid_property(
            "taskSlotsPerNode",
            Some(&n.to_string()),
            "The value must be between 1 and 256.",
        ));
    }
    let now = now_iso();
    let url = format!("{}/pools/{id}", app.base_url);
    p["vmSize"] = json!(s(&p, "vmSize").to_ascii_lowercase());
    normalize_fill_type(&mut p);
    let secrets = p.clone();
    strip_secrets(&mut p);
    let mut body = json!({"id": id, "url": url, "eTag": "", "lastModified": now, "creationTime": now,
        "state": "active", "stateTransitionTime": now, "allocationState": "resizing", "allocationStateTransitionTime": now});
    for (k, v) in p.as_object().cloned().unwrap_or_default() {
        if k != "id" {
            body[k] = v;
        }
    }
    let defaults = [
        ("resizeTimeout", json!("PT15M")),
        ("currentDedicatedNodes", json!(0)),
        ("currentLowPriorityNodes", json!(0)),
        ("targetDedicatedNodes", json!(0)),
        ("targetLowPriorityNodes", json!(0)),
        ("enableAutoScale", json!(false)),
        ("enableInterNodeCommunication", json!(false)),
        ("taskSlotsPerNode", json!(1)),
        ("taskSchedulingPolicy", json!({"nodeFillType": "Spread"})),
        ("certificateReferences", json!([])),
        ("targetNodeCommunicationMode", json!("default")),
        ("currentNodeCommunicationMode", json!("simplified")),
    ];
    for (k, v) in defaults {
        if body.get(k).is_none() {
            body[k] = v;
        }
    }
    if autoscale {
        body.as_object_mut().unwrap().remove("resizeTimeout");
        if body.get("autoScaleEvaluationInterval").is_none() {
            body["autoScaleEvaluationInterval"] = json!("PT15M");
        }
    }
    if let Some(img) = body["virtualMachineConfiguration"]["imageReference"].as_object_mut()
        && img.contains_key("publisher")
        && !img.contains_key("version")
    {
        img.insert("version".into(), json!("latest"));
    }
    if let Some(st_) = body.get_mut("startTask") {
        default_start_task(st_);
    }
    touch(&mut body);
    let mut pool = Pool {
        body,
        nodes: vec![],
        resize_done_at: None,
        delete_done_at: None,
        last_enable_autoscale: None,
        next_autoscale_at: None,
        secrets,
    };
    if autoscale {
        crate::autoscale::apply(&mut pool);
    }
    let delay = alloc_delay(app, st, &id);
    pool.resize_done_at = Some(now_ms() + delay);
    let body = pool.body.clone();
    st.pools.insert(id.to_ascii_lowercase(), pool);
    st.dirty = true;
    Ok(body)
}

pub fn alloc_delay(app: &App, st: &State, pool_id: &str) -> i64 {
    st.overrides
        .get(&pool_id.to_ascii_lowercase())
        .and_then(|o| o.allocation_delay_ms)
        .map(|ms| ms as i64)
        .unwrap_or(app.allocation_delay.as_millis() as i64)
}

/// The pool as returned by Get/List (nothing to add: the stored body is kept current).
fn pool_view(req: &Req, p: &Pool) -> Value {
    let mut v = p.body.clone();
    if req.q("$expand").is_some_and(|e| e.contains("stats")) {
        v["stats"] = json!({"url": format!("{}/stats", s(&v, "url")), "startTime": s(&v, "creationTime"), "lastUpdateTime": now_iso()});
    }
    v
}

pub fn pool_get(_app: &App, st: &mut State, req: &Req, id: &str) -> HandlerResult {
    let p = find_pool(st, id)?;
    if let Some(r) = check_conditions(req, &p.body, true)? {
        return Ok(r);
    }
    if req.is_head() {
        return Ok(Reply::status(StatusCode::OK).resource_headers(&p.body));
    }
    Ok(Reply::json(StatusCode::OK, select(req, pool_view(req, p))).resource_headers(&p.body))
}

pub fn pool_list(app: &App, st: &mut State, req: &Req) -> HandlerResult {
    let mut items = vec![];
    for p in st.pools.values() {
        let v = pool_view(req, p);
        if filter_matches(req.q("$filter"), &v)? {
            items.push(v);
        }
    }
    page(app, req, "/pools", items, "pools")
}

fn writable_pool<'a>(st: &'a mut State, req: &Req, id: &str) -> Result<&'a mut Pool, ApiError> {
    let p = find_pool(st, id)?;
    if let Some(r) = check_conditions(req, &p.body, false)? {
        let _ = r;
    }
    if s(&p.body, "state") == "deleting" {
        return Err(ApiError::conflict(
            "PoolBeingDeleted",
            "The specified pool has been marked for deletion and is being reclaimed.",
        ));
    }
    Ok(p)
}

const EMPTY_POOL_ONLY: [&str; 11] = [
    "displayName",
    "vmSize",
    "taskSlotsPerNode",
    "taskSchedulingPolicy",
    "enableInterNodeCommunication",
    "virtualMachineConfiguration",
    "networkConfiguration",
    "userAccounts",
    "mountConfiguration",
    "upgradePolicy",
    "resourceTags",
];

pub fn pool_patch(_app: &App, st: &mut State, req: &Req, id: &str) -> HandlerResult {
    let patch = req.json("PoolPatchParameter", true)?.unwrap_or_default();
    let p = writable_pool(st, req, id)?;
    let has_nodes = !p.nodes.is_empty()
        || i(&p.body, "currentDedicatedNodes") + i(&p.body, "currentLowPriorityNodes") > 0;
    for k in EMPTY_POOL_ONLY {
        if let Some(v) = patch.get(k) {
            if has_nodes && p.body.get(k) != Some(v) {
                return Err(ApiError::conflict("PoolNotEmpty", format!("The property '{k}' can be updated only when the pool has no nodes."))
                    .with("PropertyName", k)
                    .with("Reason", "This field can be updated only when the pool is empty; resize the pool to 0 nodes first."));
            }
            if k == "virtualMachineConfiguration" {
                check_vm_config(v)?;
            }
        }
    }
    if let Some(n) = patch.get("taskSlotsPerNode").and_then(Value::as_i64)
        && !(1..=256).contains(&n)
    {
        return Err(ApiError::invalid_property(
            "taskSlotsPerNode",
            Some(&n.to_string()),
            "The value must be between 1 and 256.",
        ));
    }
    remember_secrets(&mut p.secrets, &patch);
    let mut patch = patch;
    strip_secrets(&mut patch);
    for (k, mut v) in patch.as_object().cloned().unwrap_or_default() {
        if v.is_null() {
            continue;
        }
        if k == "startTask" {
            default_start_task(&mut v);
        }
        if k == "vmSize" {
            v = json!(v.as_str().unwrap_or("").to_ascii_lowercase());
        }
        p.body[k] = v;
        normalize_fill_type(&mut p.body);
    }
    touch(&mut p.body);
    st.dirty = true;
    let p = find_pool(st, id)?;
    Ok(Reply::status(StatusCode::OK).write_headers(&p.body, false))
}

pub fn pool_update_properties(_app: &App, st: &mut State, req: &Req, id: &str) -> HandlerResult {
    let mut upd = req
        .json("PoolUpdatePropertiesParameter", true)?
        .unwrap_or_default();
    if let Ok(p) = find_pool(st, id) {
        remember_secrets(&mut p.secrets, &upd);
    }
    strip_secrets(&mut upd);
    let p = find_pool(st, id)?;
    if s(&p.body, "state") == "deleting" {
        return Err(ApiError::conflict(
            "PoolBeingDeleted",
            "The specified pool has been marked for deletion and is being reclaimed.",
        ));
    }
    let obj = p.body.as_object_mut().unwrap();
    for k in [
        "certificateReferences",
        "applicationPackageReferences",
        "metadata",
    ] {
        obj.insert(k.into(), upd[k].clone());
    }
    match upd.get("startTask").filter(|v| !v.is_null()) {
        Some(stt) => {
            let mut stt = stt.clone();
            default_start_task(&mut stt);
            obj.insert("startTask".into(), stt);
        }
        None => {
            obj.remove("startTask");
        }
    }
    obj.insert(
        "targetNodeCommunicationMode".into(),
        upd.get("targetNodeCommunicationMode")
            .cloned()
            .unwrap_or(json!("default")),
    );
    if obj
        .get("applicationPackageReferences")
        .is_some_and(|v| v.as_array().is_some_and(Vec::is_empty))
    {
        obj.remove("applicationPackageReferences");
    }
    if obj
        .get("metadata")
        .is_some_and(|v| v.as_array().is_some_and(Vec::is_empty))
    {
        obj.remove("metadata");
    }
    touch(&mut p.body);
    st.dirty = true;
    let p = find_pool(st, id)?;
    Ok(Reply::status(StatusCode::NO_CONTENT).write_headers(&p.body, false))
}

pub fn pool_delete(app: &App, st: &mut State, req: &Req, id: &str) -> HandlerResult {
    let p = find_pool(st, id)?;
    check_conditions(req, &p.body, false)?;
    if s(&p.body, "state") == "deleting" {
        return Err(ApiError::conflict(
            "PoolBeingDeleted",
            "The specified pool has been marked for deletion and is being reclaimed.",
        ));
    }
    p.begin_delete(app.delete_delay.as_millis() as i64);
    touch(&mut p.body);
    st.dirty = true;
    let p = find_pool(st, id)?;
    Ok(Reply::status(StatusCode::ACCEPTED).write_headers(&p.body, false))
}

pub fn pool_resize(app: &App, st: &mut State, req: &Req, id: &str) -> HandlerResult {
    let r = req.json("PoolResizeParameter", true)?.unwrap_or_default();
    let delay = alloc_delay(app, st, id);
    let p = writable_pool(st, req, id)?;
    check_conditions(req, &p.body, false)?;
    if b(&p.body, "enableAutoScale") {
        return Err(ApiError::conflict(
            "AutoScalingEnabled",
            "The pool has auto scaling enabled: disable auto scaling before resizing it manually.",
        ));
    }
    if s(&p.body, "allocationState") != "steady" {
        return Err(ApiError::conflict(
            "PoolBeingResized",
            "The specified pool is already being resized: wait until allocationState is steady.",
        ));
    }
    for k in ["targetDedicatedNodes", "targetLowPriorityNodes"] {
        if i(&r, k) < 0 {
            return Err(ApiError::invalid_property(
                k,
                Some(&i(&r, k).to_string()),
                "The value must not be negative.",
            ));
        }
    }
    check_duration_min(
        &r,
        "resizeTimeout",
        5 * 60_000,
        None,
        "The resize timeout must be at least 5 minutes.",
    )?;
    p.body["targetDedicatedNodes"] = json!(i(&r, "targetDedicatedNodes"));
    p.body["targetLowPriorityNodes"] = json!(i(&r, "targetLowPriorityNodes"));
    p.body["resizeTimeout"] = r.get("resizeTimeout").cloned().unwrap_or(json!("PT15M"));
    p.begin_resize(delay);
    touch(&mut p.body);
    st.dirty = true;
    let p = find_pool(st, id)?;
    Ok(Reply::status(StatusCode::ACCEPTED).write_headers(&p.body, false))
}

pub fn pool_stop_resize(_app: &App, st: &mut State, req: &Req, id: &str) -> HandlerResult {
    let p = writable_pool(st, req, id)?;
    check_conditions(req, &p.body, false)?;
    if p.stop_resize() {
        touch(&mut p.body);
        st.dirty = true;
    }
    let p = find_pool(st, id)?;
    Ok(Reply::status(StatusCode::ACCEPTED).write_headers(&p.body, false))
}

pub fn pool_enable_autoscale(app: &App, st: &mut State, req: &Req, id: &str) -> HandlerResult {
    let r = req
        .json("PoolEnableAutoScaleParameter", true)?
        .unwrap_or_default();
    let delay = alloc_delay(app, st, id);
    let p = writable_pool(st, req, id)?;
    check_conditions(req, &p.body, false)?;
    if s(&p.body, "allocationState") != "steady" {
        return Err(ApiError::conflict(
            "PoolBeingResized",
            "Auto scaling cannot be enabled while the pool is being resized.",
        ));
    }
    // The service allows one Pool_EnableAutoScale per pool every 30 seconds.
    if let Some(last) = p.last_enable_autoscale
        && now_ms() - last < 30_000
    {
        return Err(ApiError::conflict(
            "TooManyEnableAutoScaleRequests",
            "Auto scaling can be enabled or updated at most once every 30 seconds for a pool.",
        ));
    }
    if s(&r, "autoScaleFormula").is_empty() && !b(&p.body, "enableAutoScale") {
        return Err(ApiError::missing_property("autoScaleFormula"));
    }
    check_duration_min(
        &r,
        "autoScaleEvaluationInterval",
        5 * 60_000,
        Some(168 * 3_600_000),
        "The evaluation interval must be between 5 minutes and 168 hours.",
    )?;
    p.body["enableAutoScale"] = json!(true);
    if let Some(f) = r.get("autoScaleFormula") {
        p.body["autoScaleFormula"] = f.clone();
    }
    p.body["autoScaleEvaluationInterval"] = r
        .get("autoScaleEvaluationInterval")
        .cloned()
        .unwrap_or(json!("PT15M"));
    p.last_enable_autoscale = Some(now_ms());
    p.apply_autoscale(delay);
    touch(&mut p.body);
    st.dirty = true;
    let p = find_pool(st, id)?;
    Ok(Reply::status(StatusCode::OK).write_headers(&p.body, false))
}

pub fn pool_disable_autoscale(_app: &App, st: &mut State, req: &Req, id: &str) -> HandlerResult {
    let p = writable_pool(st, req, id)?;
    p.disable_autoscale();
    touch(&mut p.body);
    st.dirty = true;
    let p = find_pool(st, id)?;
    Ok(Reply::status(StatusCode::OK).write_headers(&p.body, false))
}

pub fn pool_evaluate_autoscale(_app: &App, st: &mut State, req: &Req, id: &str) -> HandlerResult {
    let r = req
        .json("PoolEvaluateAutoScaleParameter", true)?
        .unwrap_or_default();
    let p = find_pool(st, id)?;
    if !b(&p.body, "enableAutoScale") {
        return Err(ApiError::conflict(
            "AutoScalingDisabled",
            "Auto scaling is not enabled on the pool: enable it before evaluating a formula.",
        ));
    }
    let run = crate::autoscale::evaluate(s(&r, "autoScaleFormula"), &p.body);
    Ok(Reply::json(StatusCode::OK, run.to_value()).header(
        "DataServiceId",
        format!("{}/evaluateautoscale", s(&p.body, "url")),
    ))
}

pub fn pool_remove_nodes(_app: &App, st: &mut State, req: &Req, id: &str) -> HandlerResult {
    let r = req.json("NodeRemoveParameter", true)?.unwrap_or_default();
    let p = writable_pool(st, req, id)?;
    check_conditions(req, &p.body, false)?;
    if s(&p.body, "allocationState") != "steady" {
        return Err(ApiError::conflict(
            "PoolBeingResized",
            "Nodes cannot be removed while the pool is being resized.",
        ));
    }
    let ids: Vec<String> = r["nodeList"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(String::from))
        .collect();
    if ids.is_empty() || ids.len() > 100 {
        return Err(ApiError::invalid_property(
            "nodeList",
            None,
            "Specify between 1 and 100 node ids.",
        ));
    }
    for nid in &ids {
        if !p.nodes.iter().any(|n| s(&n.body, "id") == nid) {
            return Err(ApiError::invalid_property(
                "nodeList",
                Some(nid),
                "The node does not exist in the pool.",
            ));
        }
    }
    p.remove_nodes(&ids);
    touch(&mut p.body);
    st.dirty = true;
    let p = find_pool(st, id)?;
    Ok(Reply::status(StatusCode::ACCEPTED).write_headers(&p.body, false))
}
