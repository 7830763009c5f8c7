//! The `resource_file` block: a file (or blob container) Batch downloads into the task's working
//! directory (Batch's `resourceFiles`).

use batch_client::models::ResourceFile;
use serde::{Deserialize, Serialize};
use tfplugin::schema::{Attribute, Block};
use tfplugin::validators::NotEmpty;

use tfplugin::semantics::UrlIgnoringQuery;

use super::{identity_reference, identity_reference_id};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourceFileModel {
    pub http_url: Option<String>,
    pub storage_container_url: Option<String>,
    pub auto_storage_container_name: Option<String>,
    pub blob_prefix: Option<String>,
    pub file_path: Option<String>,
    pub file_mode: Option<String>,
    pub identity_reference: Option<String>,
}

/// The block's schema.
pub fn resource_file_block() -> Block {
    Block::new("A file (or blob container) Batch downloads into the task's working directory before the task starts. Set exactly one of `http_url`, `storage_container_url` and `auto_storage_container_name`.")
        .attr(Attribute::string("http_url").optional().sensitive().validate(NotEmpty).semantics(UrlIgnoringQuery).description("URL of one file (for Azure Storage, with read access, e.g. a SAS URL). Needs `file_path`. Sensitive because SAS tokens are credentials."))
        .attr(Attribute::string("storage_container_url").optional().sensitive().validate(NotEmpty).semantics(UrlIgnoringQuery).description("URL of a blob container (with read and list access) to download, e.g. a SAS URL. Sensitive because SAS tokens are credentials."))
        .attr(Attribute::string("auto_storage_container_name").optional().validate(NotEmpty).description("A blob container in the Batch account's auto-storage account to download."))
        .attr(Attribute::string("blob_prefix").optional().description("With a container: only download blobs whose names start with this prefix."))
        .attr(Attribute::string("file_path").optional().description("Where to put the download, relative to the task's working directory. Required with `http_url`; with a container, the directory to download into."))
        .attr(Attribute::string("file_mode").optional().description("Octal file mode on Linux nodes, e.g. `0755`. Batch's default is `0770`."))
        .attr(Attribute::string("identity_reference").optional().description("Resource id of a user-assigned managed identity of the pool to access Azure Storage with."))
        .exactly_one_of(&["http_url", "storage_container_url", "auto_storage_container_name"])
        .also_requires("http_url", &["file_path"])
}

/// Terraform -> Batch.
pub fn expand_resource_file(m: &ResourceFileModel) -> ResourceFile {
    ResourceFile {
        auto_storage_container_name: m.auto_storage_container_name.clone(),
        storage_container_url: m.storage_container_url.clone(),
        http_url: m.http_url.clone(),
        blob_prefix: m.blob_prefix.clone(),
        file_path: m.file_path.clone(),
        file_mode: m.file_mode.clone(),
        identity_reference: identity_reference(m.identity_reference.as_deref()),
    }
}

/// A list as Batch takes it: None when empty.
pub fn expand_resource_files(l: &[ResourceFileModel]) -> Option<Vec<ResourceFile>> {
    (!l.is_empty()).then(|| l.iter().map(expand_resource_file).collect())
}

/// Batch -> Terraform: what the service reports. A URL the service returns without its query (a
/// withheld SAS token) keeps the prior value through the attribute's `UrlIgnoringQuery`.
pub fn flatten_resource_file(m: &ResourceFile) -> ResourceFileModel {
    ResourceFileModel {
        http_url: m.http_url.clone(),
        storage_container_url: m.storage_container_url.clone(),
        auto_storage_container_name: m.auto_storage_container_name.clone(),
        blob_prefix: m.blob_prefix.clone(),
        file_path: m.file_path.clone(),
        file_mode: m.file_mode.clone(),
        identity_reference: identity_reference_id(m.identity_reference.as_ref()),
    }
}

/// A list as state.
pub fn flatten_resource_files(m: Option<&Vec<ResourceFile>>) -> Vec<ResourceFileModel> {
    m.into_iter().flatten().map(flatten_resource_file).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::task_spec::{config_errors, normalized_read};
    use tfplugin::model::{Tf, to_value};
    use tfplugin::{AttrPath, Value};

    const SAS: &str = "https://a.blob.core.windows.net/c/f.txt?sv=1&sig=x";
    const BARE: &str = "https://a.blob.core.windows.net/c/f.txt";

    #[test]
    fn model_covers_schema() {
        tfplugin::model::check_round_trip::<ResourceFileModel>(&resource_file_block().value_type())
            .unwrap();
    }

    #[test]
    fn expand_then_flatten_round_trips_and_keeps_a_withheld_sas() {
        let m = ResourceFileModel {
            http_url: Some(SAS.into()),
            file_path: Some("f.txt".into()),
            file_mode: Some("0755".into()),
            identity_reference: Some("/id/1".into()),
            ..Default::default()
        };
        let mut remote = expand_resource_file(&m);
        assert_eq!(remote.http_url.as_deref(), Some(SAS));
        assert_eq!(
            remote
                .identity_reference
                .as_ref()
                .and_then(|i| i.resource_id.as_deref()),
            Some("/id/1")
        );
        assert_eq!(flatten_resource_file(&remote), m);
        assert_eq!(expand_resource_files(&[]), None);
        // The service withholds the SAS: flatten reports what it says, the declared semantics
        // keep the prior URL; a different container is a change.
        let b = resource_file_block();
        remote.http_url = Some(BARE.into());
        let read = flatten_resource_file(&remote);
        assert_eq!(read.http_url.as_deref(), Some(BARE));
        assert_eq!(normalized_read(&b, Some(&m), read), m);
        remote.http_url = Some("https://a.blob.core.windows.net/d/f.txt".into());
        let other = normalized_read(&b, Some(&m), flatten_resource_file(&remote));
        assert_eq!(other.http_url, remote.http_url);
        // Without a prior (import) the service's value is all there is.
        let imported = normalized_read(&b, None, flatten_resource_file(&remote));
        assert_eq!(imported.http_url, remote.http_url);
        let l = flatten_resource_files(Some(&vec![remote.clone(), remote]));
        assert_eq!(l.len(), 2);
    }

    #[test]
    fn validation_table() {
        let ty = resource_file_block().value_type();
        let path = AttrPath::root().child("resource_file").index(0);
        let b = resource_file_block();
        let run = |v: Value| !config_errors(&b, &v, &path).is_empty();
        let http = ResourceFileModel {
            http_url: Some(BARE.into()),
            file_path: Some("f".into()),
            ..Default::default()
        };
        assert!(!run(to_value(&http, &ty).unwrap()));
        let no_path = ResourceFileModel {
            file_path: None,
            ..http.clone()
        };
        assert!(run(to_value(&no_path, &ty).unwrap()));
        assert!(run(to_value(&ResourceFileModel::default(), &ty).unwrap()));
        let two = ResourceFileModel {
            auto_storage_container_name: Some("c".into()),
            ..http.clone()
        };
        assert!(run(to_value(&two, &ty).unwrap()));
        // The message names the attributes by path.
        let e = config_errors(&b, &to_value(&no_path, &ty).unwrap(), &path);
        assert!(e[0].contains("resource_file[0].file_path"), "{e:?}");
        #[derive(Serialize)]
        struct Pending {
            storage_container_url: Tf<String>,
        }
        let pending = Pending {
            storage_container_url: Tf::Unknown,
        };
        assert!(!run(to_value(&pending, &ty).unwrap()));
    }
}
