//! Corporate network failures reach the Terraform diagnostic with their cause: an endpoint
//! that does not speak TLS (as when a proxy or firewall answers instead of Batch), and a
//! Microsoft Entra ID authority that cannot be reached, which used to be retried silently for
//! minutes while the plan hung. (Trusted/untrusted CAs, the CONNECT proxy and token authorities
//! are covered in batch-client/tests/corporate_tls.rs.)

use e2e::{TfOutput, Workdir, for_each_terraform, required_providers_hcl};
use std::io::{Read, Write};
use std::net::TcpListener;

/// A TCP server that answers every connection with plain HTTP, whatever was sent.
fn not_tls_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            let mut buf = [0u8; 1024];
            let _ = conn.read(&mut buf);
            let _ = conn.write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
        }
    });
    port
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Summary and detail of every error diagnostic.
fn error_text(out: &TfOutput) -> String {
    out.errors()
        .iter()
        .map(|d| format!("{} {}\n", d.summary, d.detail))
        .collect()
}

fn config(provider_body: &str) -> String {
    format!(
        "{}\nprovider \"batch\" {{\n{provider_body}\n}}\ndata \"batch_supported_images\" \"all\" {{}}\n",
        required_providers_hcl()
    )
}

#[test]
fn transport_and_entra_causes_reach_the_diagnostic() {
    let not_tls = not_tls_server();
    for_each_terraform(|tf| {
        // An https endpoint answered by something that is not TLS: a handshake failure, named
        // at once (not retried until the deadline).
        let wd = Workdir::new(tf);
        wd.write_main(&config(&format!(
            "  account_name     = \"corp\"\n  account_endpoint = \"https://127.0.0.1:{not_tls}\"\n  account_key      = \"aGVsbG8=\""
        )));
        let out = wd.plan_ui_json().assert_failure();
        let text = error_text(&out);
        assert!(
            text.contains(&format!(
                "https://127.0.0.1:{not_tls}/supportedimages failed"
            )) && text.contains("TLS handshake failed"),
            "{}",
            out.describe()
        );

        // Entra ID client secret against an authority nobody answers for.
        let authority = format!("https://127.0.0.1:{}", closed_port());
        let mut wd = Workdir::new(tf);
        wd.set_env("AZURE_TENANT_ID", "corp-tenant")
            .set_env("AZURE_CLIENT_ID", "app-id")
            .set_env("AZURE_CLIENT_SECRET", "corp-secret-value")
            .set_env("AZURE_AUTHORITY_HOST", &authority);
        wd.write_main(&config(
            "  account_endpoint = \"https://corp.westeurope.batch.azure.com\"",
        ));
        let out = wd.plan_ui_json().assert_failure();
        let text = error_text(&out);
        assert!(
            text.contains(&format!(
                "token request to authority {authority}/corp-tenant"
            )) && text.contains("connection refused"),
            "{}",
            out.describe()
        );
        assert!(!out.combined().contains("corp-secret-value"));
    });
}
