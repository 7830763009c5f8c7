//! Smoke run against a live Batch endpoint (e.g. the local service):
//! `cargo run -p batch-client --example smoke -- http://127.0.0.1:10100 devbatch <key>`
//! Creates a pool, a job and a task, waits for the task, prints its stdout, then cleans up.

use batch_client::models::*;
use batch_client::*;
use std::time::Duration;

#[tokio::main]
async fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (endpoint, account, key) = (&args[1], &args[2], &args[3]);
    let client = BatchClient::new(ClientConfig::new(endpoint, Auth::shared_key(account, key)?))?;
    let o = RequestOptions::new().timeout(Duration::from_secs(120));
    let suffix = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
    let (pool_id, job_id) = (format!("smoke-{suffix}"), format!("smokejob-{suffix}"));

    let images = client
        .list_supported_images(&ListQuery::default(), &o)
        .await?;
    println!("supported images: {}", images.len());

    let pool = PoolAddParameter {
        id: pool_id.clone(),
        vm_size: "STANDARD_D2S_V3".into(),
        virtual_machine_configuration: Some(VirtualMachineConfiguration {
            image_reference: ImageReference {
                publisher: Some("microsoft-azure-batch".into()),
                offer: Some("ubuntu-server-container".into()),
                sku: Some("20-04-lts".into()),
                version: Some("latest".into()),
                ..Default::default()
            },
            node_agent_sku_id: "batch.node.ubuntu 20.04".into(),
            ..Default::default()
        }),
        target_dedicated_nodes: Some(1),
        metadata: Some(vec![MetadataItem {
            name: "k".into(),
            value: "v".into(),
        }]),
        ..Default::default()
    };
    println!("add_pool: {:?}", client.add_pool(&pool, &o).await?);
    let got = client.get_pool(&pool_id, &o).await?.expect("pool exists");
    println!(
        "get_pool: etag={:?} state={:?} alloc={:?}",
        got.etag, got.value.state, got.value.allocation_state
    );
    let err = client.add_pool(&pool, &o).await.unwrap_err();
    println!("second add_pool: {err}");
    let patched = client
        .patch_pool(
            &pool_id,
            &PoolPatchParameter {
                metadata: Some(vec![]),
                ..Default::default()
            },
            &o.clone().if_match(got.etag.clone().unwrap_or_default()),
        )
        .await?;
    println!("patch_pool: {patched:?}");
    println!(
        "pools: {}",
        client
            .list_pools(&ListQuery::filter(format!("id eq '{pool_id}'")), &o)
            .await?
            .len()
    );

    let job = JobAddParameter {
        id: job_id.clone(),
        pool_info: PoolInformation {
            pool_id: Some(pool_id.clone()),
            auto_pool_specification: None,
        },
        ..Default::default()
    };
    println!("add_job: {:?}", client.add_job(&job, &o).await?);
    let task = TaskAddParameter {
        id: "t1".into(),
        command_line: "/bin/sh -c 'echo hello-from-smoke'".into(),
        ..Default::default()
    };
    println!("add_task: {:?}", client.add_task(&job_id, &task, &o).await?);
    let results = client
        .add_task_collection(
            &job_id,
            &[TaskAddParameter {
                id: "t2".into(),
                command_line: "/bin/sh -c 'echo two'".into(),
                ..Default::default()
            }],
            &o,
        )
        .await?;
    println!(
        "add_task_collection: {:?}",
        results
            .iter()
            .map(|r| (&r.task_id, &r.status))
            .collect::<Vec<_>>()
    );

    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    loop {
        let t = client
            .get_task(&job_id, "t1", &o)
            .await?
            .expect("task exists")
            .value;
        if t.is_completed() {
            println!(
                "task: exit={:?} result={:?}",
                t.execution_info.as_ref().and_then(|e| e.exit_code),
                t.execution_info.as_ref().and_then(|e| e.result.clone())
            );
            break;
        }
        if tokio::time::Instant::now() > deadline {
            println!("task did not complete: state={:?}", t.state);
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    if let Some(props) = client
        .get_task_file_properties(&job_id, "t1", "stdout.txt", &o)
        .await?
    {
        println!("stdout.txt: {} bytes", props.content_length);
        let f = client
            .get_task_file(&job_id, "t1", "stdout.txt", None, &o)
            .await?
            .unwrap();
        println!("stdout: {:?}", String::from_utf8_lossy(&f.data));
    }
    println!(
        "nodes: {}",
        client
            .list_compute_nodes(&pool_id, &ListQuery::default(), &o)
            .await?
            .len()
    );
    println!(
        "node counts: {:?}",
        client
            .list_pool_node_counts(&ListQuery::default(), &o)
            .await?
            .len()
    );
    println!(
        "delete_task: {:?}",
        client.delete_task(&job_id, "t2", &o).await?.status
    );
    println!(
        "delete_job: {:?}",
        client.delete_job(&job_id, &o).await?.status
    );
    println!(
        "delete_pool: {:?}",
        client.delete_pool(&pool_id, &o).await?.status
    );
    Ok(())
}
