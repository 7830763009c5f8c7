//! Account operations: the supported images and the node counts of all pools.

use serde_json::{Value, json};

use crate::app::{App, HandlerResult, Req, filter_matches, page};
use crate::state::{State, b, i, s};

/// Marketplace images the local service "supports", with the capabilities the real one reports.
pub fn supported_images() -> Vec<Value> {
    let img = |agent: &str, publisher: &str, offer: &str, sku: &str, caps: &[&str]| {
        let os = if agent.starts_with("batch.node.windows") {
            "windows"
        } else {
            "linux"
        };
        let mut v = json!({
            "nodeAgentSKUId": agent,
            "imageReference": {"publisher": publisher, "offer": offer, "sku": sku, "version": "latest"},
            "verificationType": "verified",
            "osType": os,
        });
        if !caps.is_empty() {
            v["capabilities"] = json!(caps);
        }
        v
    };
    vec![
        img(
            "batch.node.ubuntu 20.04",
            "microsoft-azure-batch",
            "ubuntu-server-container",
            "20-04-lts",
            &["DockerCompatible"],
        ),
        img(
            "batch.node.ubuntu 22.04",
            "microsoft-dsvm",
            "ubuntu-hpc",
            "2204",
            &["DockerCompatible", "NvidiaTeslaDriverInstalled"],
        ),
        img(
            "batch.node.ubuntu 20.04",
            "canonical",
            "0001-com-ubuntu-server-focal",
            "20_04-lts",
            &[],
        ),
        img(
            "batch.node.ubuntu 22.04",
            "canonical",
            "0001-com-ubuntu-server-jammy",
            "22_04-lts",
            &[],
        ),
        img(
            "batch.node.ubuntu 24.04",
            "canonical",
            "ubuntu-24_04-lts",
            "server",
            &[],
        ),
        // The RDMA container images of the container guide (InfiniBand VM sizes).
        img(
            "batch.node.ubuntu 20.04",
            "microsoft-azure-batch",
            "ubuntu-server-container-rdma",
            "20-04-lts",
            &["DockerCompatible", "SupportsRDMAOnly"],
        ),
        img(
            "batch.node.centos 7",
            "microsoft-azure-batch",
            "centos-container-rdma",
            "7-7",
            &[
                "DockerCompatible",
                "NvidiaTeslaDriverInstalled",
                "SupportsRDMAOnly",
            ],
        ),
        // Windows Server with container support (pools are accepted; their tasks fail: the
        // local service runs Linux command lines only).
        img(
            "batch.node.windows amd64",
            "microsoftwindowsserver",
            "windowsserver",
            "2019-datacenter-with-containers",
            &["DockerCompatible"],
        ),
        img(
            "batch.node.windows amd64",
            "microsoftwindowsserver",
            "windowsserver",
            "2019-datacenter-core-with-containers-smalldisk",
            &["DockerCompatible"],
        ),
        img(
            "batch.node.windows amd64",
            "microsoftwindowsserver",
            "windowsserver",
            "2016-datacenter-with-containers",
            &["DockerCompatible"],
        ),
        img(
            "batch.node.windows amd64",
            "microsoftwindowsserver",
            "windowsserver",
            "2016-datacenter-smalldisk",
            &[],
        ),
        img(
            "batch.node.el 9",
            "almalinux",
            "almalinux-x86_64",
            "9-gen2",
            &[],
        ),
    ]
}

pub fn supported_images_list(app: &App, req: &Req) -> HandlerResult {
    let mut items = vec![];
    for v in supported_images() {
        if filter_matches(req.q("$filter"), &v)? {
            items.push(v);
        }
    }
    page(app, req, "/supportedimages", items, "supportedimages")
}

pub fn node_counts(app: &App, st: &mut State, req: &Req) -> HandlerResult {
    const STATES: [(&str, &str); 15] = [
        ("creating", "creating"),
        ("idle", "idle"),
        ("offline", "offline"),
        ("preempted", "preempted"),
        ("rebooting", "rebooting"),
        ("reimaging", "reimaging"),
        ("running", "running"),
        ("starting", "starting"),
        ("starttaskfailed", "startTaskFailed"),
        ("leavingpool", "leavingPool"),
        ("unknown", "unknown"),
        ("unusable", "unusable"),
        ("waitingforstarttask", "waitingForStartTask"),
        ("upgradingos", "upgradingOS"),
        ("deallocated", "deallocated"),
    ];
    let mut items = vec![];
    for p in st.pools.values() {
        let mut out = json!({"poolId": s(&p.body, "id")});
        for (key, dedicated) in [("dedicated", true), ("lowPriority", false)] {
            let mut c = json!({"total": 0});
            for (_, name) in STATES {
                c[name] = json!(0);
            }
            for n in p
                .nodes
                .iter()
                .filter(|n| b(&n.body, "isDedicated") == dedicated)
            {
                let state = s(&n.body, "state");
                if let Some((_, name)) = STATES.iter().find(|(k, _)| *k == state) {
                    c[*name] = json!(i(&c, name) + 1);
                }
                c["total"] = json!(i(&c, "total") + 1);
            }
            out[key] = c;
        }
        if filter_matches(req.q("$filter"), &out)? {
            items.push(out);
        }
    }
    page(app, req, "/nodecounts", items, "poolnodecounts")
}
