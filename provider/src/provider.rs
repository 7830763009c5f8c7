//! The `provider "batch"` block: which account to talk to and how to authenticate.

use std::sync::Arc;

use async_trait::async_trait;
use std::time::Duration;

use crate::common::validators::{EndpointUrl, check_endpoint};
use batch_client::{Auth, BatchClient, ClientConfig, EntraConfig, EntraCredentialKind, Secret};
use serde::{Deserialize, Serialize};
use tfplugin::framework::{Action, DataSource, ListResource, Provider, Resource};
use tfplugin::model::from_value;
use tfplugin::schema::{Attribute, Block, Schema};
use tfplugin::validators::NotEmpty;
use tfplugin::{AttrPath, Diagnostics, Value};

use crate::actions::{container_run::ContainerRunAction, job_terminate::JobTerminateAction};
use crate::common::Batch;
use crate::data_sources::{
    pool::PoolDataSource, supported_images::SupportedImagesDataSource,
    task_file::TaskFileDataSource,
};
use crate::resources::{
    container_pool::ContainerPoolResource, container_pool::list::ContainerPoolList,
    container_task::ContainerTaskResource, container_task::list::ContainerTaskList,
    container_task_collection::ContainerTaskCollectionResource, job::JobResource,
    job::list::JobList, job_schedule::JobScheduleResource,
};

pub struct BatchProvider;

fn schema() -> Schema {
    Schema::new(
        Block::new(
            "The Batch provider manages container workloads on an Azure Batch account through the Batch data-plane API \
             (version 2024-07-01.20.0): container-ready pools, jobs and container tasks.\n\n\
             Authenticate with the account's Shared Key (`account_key`) or, when no key is given, with Microsoft Entra ID \
             (service principal secret, workload identity, managed identity or the Azure CLI). Every argument can also come \
             from the environment variable named in its description.",
        )
        .attr(
            Attribute::string("account_name")
                .optional()
                .validate(NotEmpty)
                .description("Name of the Batch account, e.g. `mybatch`. Defaults to the environment variable `AZURE_BATCH_ACCOUNT`. Required for Shared Key authentication."),
        )
        .attr(
            Attribute::string("account_endpoint")
                .optional()
                .validate(EndpointUrl)
                .description("The account's Batch endpoint, e.g. `https://mybatch.westeurope.batch.azure.com`. Defaults to `AZURE_BATCH_ENDPOINT`. Must use https, except `http://` on loopback for the local Batch service (`http://127.0.0.1:10100`)."),
        )
        .attr(
            Attribute::string("account_key")
                .optional()
                .sensitive()
                .validate(NotEmpty)
                .description("The account's base64 access key for Shared Key authentication. Defaults to `AZURE_BATCH_ACCESS_KEY`. When neither is set, the provider authenticates with Microsoft Entra ID."),
        )
        .attr(Attribute::string("tenant_id").optional().description("Microsoft Entra tenant id for a service principal or workload identity. Defaults to `AZURE_TENANT_ID`."))
        .attr(Attribute::string("client_id").optional().description("Client (application) id of a service principal, workload identity or user-assigned managed identity. Defaults to `AZURE_CLIENT_ID`."))
        .attr(
            Attribute::string("client_secret")
                .optional()
                .sensitive()
                .description("Client secret of the service principal. Defaults to `AZURE_CLIENT_SECRET`."),
        )
        .attr(Attribute::string("oidc_token_file_path").optional().description("File holding a federated token for workload identity (e.g. in Kubernetes or GitHub Actions). Defaults to `AZURE_FEDERATED_TOKEN_FILE`."))
        .attr(Attribute::bool("use_msi").optional().description("Authenticate with the host's managed identity (user-assigned when `client_id` is set). Default `false`."))
        .attr(Attribute::bool("use_cli").optional().description("Authenticate with the Azure CLI's logged-in account (`az login`). Default `false`."))
        .attr(Attribute::string("authority_host").optional().validate(EndpointUrl).description("Microsoft Entra authority host. Defaults to `AZURE_AUTHORITY_HOST`, else `https://login.microsoftonline.com`.")),
    )
}

/// The provider block as Rust types (field names are the attribute names).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProviderConfig {
    pub account_name: Option<String>,
    pub account_endpoint: Option<String>,
    pub account_key: Option<String>,
    pub tenant_id: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub oidc_token_file_path: Option<String>,
    pub use_msi: Option<bool>,
    pub use_cli: Option<bool>,
    pub authority_host: Option<String>,
}

/// A setting from the provider block, else from the environment variable `env`; empty is unset.
fn setting(value: &Option<String>, env: &str) -> Option<String> {
    setting_from(value, env, |k| std::env::var(k).ok())
}

fn setting_from(
    value: &Option<String>,
    env: &str,
    lookup: impl Fn(&str) -> Option<String>,
) -> Option<String> {
    value
        .clone()
        .or_else(|| lookup(env))
        .filter(|s| !s.is_empty())
}

#[async_trait]
impl Provider for BatchProvider {
    type Client = Batch;

    fn type_name(&self) -> &'static str {
        "batch"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn configure(&self, config: &Value, diags: &mut Diagnostics) -> Option<Batch> {
        let config: ProviderConfig = match from_value(config) {
            Ok(c) => c,
            Err(e) => {
                diags.error(
                    "Provider bug: the provider block does not fit its model",
                    format!("{e}. Please report this issue."),
                );
                return None;
            }
        };
        let Some(endpoint) = setting(&config.account_endpoint, "AZURE_BATCH_ENDPOINT") else {
            diags.attr_error(
                &AttrPath::attr("account_endpoint"),
                "Missing Batch account endpoint",
                "Set account_endpoint in the provider block or the AZURE_BATCH_ENDPOINT environment variable, e.g. \"https://mybatch.westeurope.batch.azure.com\" (or \"http://127.0.0.1:10100\" for the local Batch service).",
            );
            return None;
        };
        if let Err(e) = check_endpoint(&endpoint) {
            diags.attr_error(
                &AttrPath::attr("account_endpoint"),
                "Invalid Batch account endpoint",
                format!("{endpoint:?} cannot be used: {e}."),
            );
            return None;
        }
        let key = setting(&config.account_key, "AZURE_BATCH_ACCESS_KEY");
        let auth = if let Some(key) = key {
            let Some(account) = setting(&config.account_name, "AZURE_BATCH_ACCOUNT") else {
                diags.attr_error(
                    &AttrPath::attr("account_name"),
                    "Missing Batch account name",
                    "Shared Key authentication needs the account name: set account_name or AZURE_BATCH_ACCOUNT.",
                );
                return None;
            };
            match Auth::shared_key(account, &key) {
                Ok(a) => a,
                Err(_) => {
                    diags.attr_error(&AttrPath::attr("account_key"), "Invalid account key", "The account key must be the base64 text shown for the Batch account (Keys blade, or `az batch account keys list`).");
                    return None;
                }
            }
        } else {
            Auth::Entra(entra_config(&config, |k| std::env::var(k).ok()))
        };
        // The local Batch service changes state within a fraction of a second; Azure takes seconds
        // to minutes, so polling starts at 2 s there.
        let loopback = endpoint.starts_with("http://");
        let mut cfg = ClientConfig::new(endpoint, auth);
        cfg.user_agent = format!("terraform-provider-batch/{}", env!("CARGO_PKG_VERSION"));
        match BatchClient::new(cfg) {
            Ok(api) => Some(Batch {
                api,
                poll_initial: if loopback {
                    Duration::from_millis(100)
                } else {
                    Duration::from_secs(2)
                },
                poll_max: if loopback {
                    Duration::from_secs(1)
                } else {
                    Duration::from_secs(30)
                },
                watcher: Default::default(),
            }),
            Err(e) => {
                diags.error("Could not set up the Batch client", e.to_string());
                None
            }
        }
    }

    fn resources(&self) -> Vec<Arc<dyn Resource<Batch>>> {
        vec![
            Arc::new(ContainerPoolResource),
            Arc::new(JobResource),
            Arc::new(JobScheduleResource),
            Arc::new(ContainerTaskResource),
            Arc::new(ContainerTaskCollectionResource),
        ]
    }

    fn data_sources(&self) -> Vec<Arc<dyn DataSource<Batch>>> {
        vec![
            Arc::new(SupportedImagesDataSource),
            Arc::new(PoolDataSource),
            Arc::new(TaskFileDataSource),
        ]
    }

    fn list_resources(&self) -> Vec<Arc<dyn ListResource<Batch>>> {
        vec![
            Arc::new(ContainerPoolList),
            Arc::new(JobList),
            Arc::new(ContainerTaskList),
        ]
    }

    fn actions(&self) -> Vec<Arc<dyn Action<Batch>>> {
        vec![Arc::new(ContainerRunAction), Arc::new(JobTerminateAction)]
    }
}

/// Entra ID credentials: explicit provider arguments first, then the environment (the Azure SDKs' order).
fn entra_config(config: &ProviderConfig, env: impl Fn(&str) -> Option<String>) -> EntraConfig {
    let tenant = setting_from(&config.tenant_id, "AZURE_TENANT_ID", &env);
    let client = setting_from(&config.client_id, "AZURE_CLIENT_ID", &env);
    let secret = setting_from(&config.client_secret, "AZURE_CLIENT_SECRET", &env);
    let token_file = setting_from(
        &config.oidc_token_file_path,
        "AZURE_FEDERATED_TOKEN_FILE",
        &env,
    );
    let kind = if config.use_cli == Some(true) {
        EntraCredentialKind::AzureCli
    } else if config.use_msi == Some(true) {
        EntraCredentialKind::ManagedIdentity { client_id: client }
    } else if let (Some(tenant_id), Some(client_id), Some(s)) =
        (tenant.clone(), client.clone(), secret)
    {
        EntraCredentialKind::ClientSecret {
            tenant_id,
            client_id,
            client_secret: Secret(s),
        }
    } else if let (Some(tenant_id), Some(client_id), Some(f)) = (tenant, client, token_file) {
        EntraCredentialKind::WorkloadIdentity {
            tenant_id,
            client_id,
            token_file: f.into(),
        }
    } else {
        return with_authority(EntraConfig::from_env(), config);
    };
    with_authority(EntraConfig::new(kind), config)
}

fn with_authority(mut cfg: EntraConfig, config: &ProviderConfig) -> EntraConfig {
    if let Some(h) = &config.authority_host {
        cfg.authority_host = Some(h.clone());
    }
    cfg
}

#[cfg(test)]
mod tests {
    use super::*;
    use tfplugin::model::check_round_trip;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn config_model_covers_the_provider_block() {
        check_round_trip::<ProviderConfig>(&schema().block.value_type()).unwrap();
    }

    #[test]
    fn settings_prefer_the_block_then_the_environment() {
        let e = env(&[("X", "from-env"), ("EMPTY", "")]);
        let cases = [
            (Some("set"), "X", Some("set")),
            (None, "X", Some("from-env")),
            // An empty value in the block means unset, without falling back.
            (Some(""), "X", None),
            (None, "EMPTY", None),
            (None, "MISSING", None),
        ];
        for (value, var, want) in cases {
            let value = value.map(str::to_string);
            assert_eq!(
                setting_from(&value, var, &e).as_deref(),
                want,
                "{value:?} {var}"
            );
        }
    }

    fn kind(config: ProviderConfig, e: impl Fn(&str) -> Option<String>) -> String {
        let k = format!("{:?}", entra_config(&config, e).kind);
        k.split([' ', '{', '('])
            .next()
            .unwrap_or_default()
            .to_string()
    }

    #[test]
    fn entra_credentials_in_the_azure_sdks_order() {
        let none = env(&[]);
        let sp = env(&[
            ("AZURE_TENANT_ID", "t"),
            ("AZURE_CLIENT_ID", "c"),
            ("AZURE_CLIENT_SECRET", "s"),
        ]);
        let wi = env(&[
            ("AZURE_TENANT_ID", "t"),
            ("AZURE_CLIENT_ID", "c"),
            ("AZURE_FEDERATED_TOKEN_FILE", "/f"),
        ]);
        let cli = ProviderConfig {
            use_cli: Some(true),
            use_msi: Some(true),
            ..Default::default()
        };
        let msi = ProviderConfig {
            use_msi: Some(true),
            ..Default::default()
        };
        assert_eq!(kind(cli, &sp), "AzureCli");
        assert_eq!(kind(msi, &sp), "ManagedIdentity");
        assert_eq!(kind(ProviderConfig::default(), &sp), "ClientSecret");
        assert_eq!(kind(ProviderConfig::default(), &wi), "WorkloadIdentity");
        let explicit = ProviderConfig {
            tenant_id: Some("t".into()),
            client_id: Some("c".into()),
            client_secret: Some("s".into()),
            authority_host: Some("https://login.example".into()),
            ..Default::default()
        };
        assert_eq!(kind(explicit.clone(), &none), "ClientSecret");
        let cfg = entra_config(&explicit, &none);
        assert_eq!(cfg.authority_host.as_deref(), Some("https://login.example"));
    }

    fn configure(pairs: &[(&str, &str)]) -> Diagnostics {
        let mut v = tfplugin::framework::null_object(&schema().block);
        for (k, x) in pairs {
            v.set(k, Value::string(*x));
        }
        let mut diags = Diagnostics::new();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let client = rt.block_on(BatchProvider.configure(&v, &mut diags));
        assert_eq!(client.is_some(), !diags.has_errors());
        diags
    }

    fn error_path(d: &Diagnostics) -> Option<AttrPath> {
        d.0.iter().find_map(|x| x.path.clone())
    }

    #[test]
    fn configure_points_at_the_attribute_at_fault() {
        let bad_endpoint = configure(&[("account_endpoint", "ftp://example.org")]);
        assert_eq!(
            error_path(&bad_endpoint),
            Some(AttrPath::attr("account_endpoint"))
        );
        let bad_key = configure(&[
            ("account_endpoint", "http://127.0.0.1:1"),
            ("account_name", "devbatch"),
            ("account_key", "not base64!"),
        ]);
        assert_eq!(error_path(&bad_key), Some(AttrPath::attr("account_key")));
        let ok = configure(&[
            ("account_endpoint", "http://127.0.0.1:1"),
            ("account_name", "devbatch"),
            ("account_key", "a2V5"),
        ]);
        assert!(ok.is_empty(), "{ok:?}");
    }
}
