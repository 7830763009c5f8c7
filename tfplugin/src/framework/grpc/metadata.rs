//! GetMetadata, GetProviderSchema and GetResourceIdentitySchemas.

use super::*;

impl<P: Provider> FrameworkServer<P> {
    pub(super) async fn serve_get_metadata(
        &self,
        _: Request<pb::get_metadata::Request>,
    ) -> Res<pb::get_metadata::Response> {
        Ok(Response::new(pb::get_metadata::Response {
            server_capabilities: Some(capabilities()),
            resources: self
                .resources
                .keys()
                .map(|k| pb::get_metadata::ResourceMetadata {
                    type_name: k.to_string(),
                })
                .collect(),
            data_sources: self
                .data_sources
                .keys()
                .map(|k| pb::get_metadata::DataSourceMetadata {
                    type_name: k.to_string(),
                })
                .collect(),
            list_resources: self
                .list_resources
                .keys()
                .map(|k| pb::get_metadata::ListResourceMetadata {
                    type_name: k.to_string(),
                })
                .collect(),
            actions: self
                .actions
                .keys()
                .map(|k| pb::get_metadata::ActionMetadata {
                    type_name: k.to_string(),
                })
                .collect(),
            ..Default::default()
        }))
    }

    pub(super) async fn serve_get_provider_schema(
        &self,
        _: Request<pb::get_provider_schema::Request>,
    ) -> Res<pb::get_provider_schema::Response> {
        Ok(Response::new(self.schema_response()))
    }

    pub(super) async fn serve_get_resource_identity_schemas(
        &self,
        _: Request<pb::get_resource_identity_schemas::Request>,
    ) -> Res<pb::get_resource_identity_schemas::Response> {
        use pb::resource_identity_schema::IdentityAttribute;
        let identity_schemas = self
            .resources
            .iter()
            .filter_map(|(name, e)| {
                let id = e.identity.as_ref()?;
                let attrs = id
                    .attributes
                    .iter()
                    .map(|(n, d)| IdentityAttribute {
                        name: n.to_string(),
                        r#type: b"\"string\"".to_vec(),
                        required_for_import: true,
                        optional_for_import: false,
                        description: d.to_string(),
                    })
                    .collect();
                Some((
                    name.to_string(),
                    pb::ResourceIdentitySchema {
                        version: 0,
                        identity_attributes: attrs,
                    },
                ))
            })
            .collect();
        Ok(Response::new(pb::get_resource_identity_schemas::Response {
            identity_schemas,
            diagnostics: vec![],
        }))
    }
}
