//! The supported images of the container guide (RDMA and Windows Server container images) with
//! the capabilities the service reports; Windows pools are accepted, their tasks fail clearly.

mod common;
use common::*;
use serde_json::json;

#[tokio::test]
async fn container_guide_images_and_windows_tasks() {
    let emu = Emu::start().await;
    let c = &emu.client;
    let images = c.get("/supportedimages").await.body;
    let find = |offer: &str, sku: &str| {
        images["value"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["imageReference"]["offer"] == offer && i["imageReference"]["sku"] == sku)
            .cloned()
            .unwrap_or_else(|| panic!("no {offer} {sku} in {images}"))
    };
    let rdma = find("ubuntu-server-container-rdma", "20-04-lts");
    assert_eq!(
        rdma["capabilities"],
        json!(["DockerCompatible", "SupportsRDMAOnly"])
    );
    let centos = find("centos-container-rdma", "7-7");
    assert_eq!(centos["nodeAgentSKUId"], "batch.node.centos 7");
    let win = find("windowsserver", "2019-datacenter-with-containers");
    assert_eq!(win["osType"], "windows");
    assert_eq!(win["nodeAgentSKUId"], "batch.node.windows amd64");
    assert_eq!(win["capabilities"], json!(["DockerCompatible"]));

    let pool = json!({"id": "win", "vmSize": "standard_d2s_v3",
        "virtualMachineConfiguration": {
            "imageReference": {"publisher": "MicrosoftWindowsServer", "offer": "WindowsServer", "sku": "2019-datacenter-with-containers"},
            "nodeAgentSKUId": "batch.node.windows amd64",
            "containerConfiguration": {"type": "dockerCompatible"}},
        "targetDedicatedNodes": 1});
    let r = c.post("/pools", &pool).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        c.post("/jobs", &json!({"id": "j", "poolInfo": {"poolId": "win"}}))
            .await
            .status,
        201
    );
    let r = c
        .post(
            "/jobs/j/tasks",
            &json!({"id": "t", "commandLine": "cmd /c echo hi",
                "containerSettings": {"imageName": "mcr.microsoft.com/windows/nanoserver:ltsc2019"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let t = c
        .wait_for("/jobs/j/tasks/t", "completed", |b| {
            b["state"] == "completed"
        })
        .await;
    assert_eq!(t["executionInfo"]["result"], "failure");
    let f = &t["executionInfo"]["failureInfo"];
    assert_eq!(f["code"], "WindowsNotSupported");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("Linux command lines only"),
        "{f}"
    );
    emu.stop().await;
}
