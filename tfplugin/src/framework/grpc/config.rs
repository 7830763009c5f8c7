//! ValidateProviderConfig, ValidateResourceConfig, ValidateDataResourceConfig and ConfigureProvider: schema validators and declared rules, then the provider's own checks.

use super::*;

impl<P: Provider> FrameworkServer<P> {
    pub(super) async fn serve_validate_provider_config(
        &self,
        req: Request<pb::validate_provider_config::Request>,
    ) -> Res<pb::validate_provider_config::Response> {
        let req = req.into_inner();
        let diags = guarded(
            "ValidateProviderConfig",
            async {
                let config = match decode(&req.config, &self.provider_schema) {
                    Ok(v) => v,
                    Err(d) => return d,
                };
                let mut diags = Diagnostics::new();
                validate_values(
                    &self.provider_schema.block,
                    &config,
                    &AttrPath::root(),
                    &mut diags,
                );
                self.provider.validate_config(&config, &mut diags);
                diags
            },
            |d| d,
        )
        .await;
        Ok(Response::new(pb::validate_provider_config::Response {
            diagnostics: diags_to_proto(&diags),
        }))
    }

    pub(super) async fn serve_validate_resource_config(
        &self,
        req: Request<pb::validate_resource_config::Request>,
    ) -> Res<pb::validate_resource_config::Response> {
        let req = req.into_inner();
        let diags = guarded(
            "ValidateResourceConfig",
            async {
                let entry = match self.resource(&req.type_name) {
                    Ok(e) => e,
                    Err(d) => return d,
                };
                let config = match decode(&req.config, &entry.schema) {
                    Ok(v) => v,
                    Err(d) => return d,
                };
                let mut diags = Diagnostics::new();
                let wo_allowed = req
                    .client_capabilities
                    .as_ref()
                    .is_some_and(|c| c.write_only_attributes_allowed);
                if !wo_allowed {
                    check_no_write_only(
                        &entry.schema.block,
                        &config,
                        &AttrPath::root(),
                        &mut diags,
                    );
                }
                validate_values(&entry.schema.block, &config, &AttrPath::root(), &mut diags);
                entry.imp.validate(&config, &mut diags);
                diags
            },
            |d| d,
        )
        .await;
        Ok(Response::new(pb::validate_resource_config::Response {
            diagnostics: diags_to_proto(&diags),
        }))
    }

    pub(super) async fn serve_validate_data_resource_config(
        &self,
        req: Request<pb::validate_data_resource_config::Request>,
    ) -> Res<pb::validate_data_resource_config::Response> {
        let req = req.into_inner();
        let diags = guarded(
            "ValidateDataResourceConfig",
            async {
                match self.data_source(&req.type_name) {
                    Ok(e) => validate_config(&req.config, &e.schema, |c, d| e.imp.validate(c, d)),
                    Err(d) => d,
                }
            },
            |d| d,
        )
        .await;
        Ok(Response::new(pb::validate_data_resource_config::Response {
            diagnostics: diags_to_proto(&diags),
        }))
    }

    pub(super) async fn serve_configure_provider(
        &self,
        req: Request<pb::configure_provider::Request>,
    ) -> Res<pb::configure_provider::Response> {
        let req = req.into_inner();
        let diags = guarded(
            "ConfigureProvider",
            async {
                let config = match decode(&req.config, &self.provider_schema) {
                    Ok(v) => v,
                    Err(d) => return d,
                };
                let mut diags = Diagnostics::new();
                if let Some(client) = self.provider.configure(&config, &mut diags).await {
                    *self.client.write().unwrap_or_else(|e| e.into_inner()) =
                        Some(Arc::new(client));
                }
                diags
            },
            |d| d,
        )
        .await;
        Ok(Response::new(pb::configure_provider::Response {
            diagnostics: diags_to_proto(&diags),
        }))
    }
}
