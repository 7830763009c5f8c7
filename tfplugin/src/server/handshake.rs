//! The go-plugin handshake: magic cookie, protocol version negotiation, the handshake line on
//! stdout, and the `TF_REATTACH_PROVIDERS` value for debug mode (plugin-handshake.md §2, §3, §7).

use std::path::Path;

use base64::Engine;

/// Terraform sets this variable to [`MAGIC_COOKIE_VALUE`] when it launches a provider.
pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
/// The value Terraform's `internal/plugin/serve.go` uses for every provider.
pub const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
/// go-plugin's core protocol version (field 1 of the handshake line).
pub const CORE_PROTOCOL_VERSION: u32 = 1;
/// The only Terraform plugin protocol we speak.
pub const PROTOCOL_VERSION: u32 = 6;

/// Picks the app protocol version from `PLUGIN_PROTOCOL_VERSIONS` ("5,6", order not guaranteed).
/// We only speak 6. When the client does not offer 6 we still answer 6, as go-plugin servers do
/// (they fall back to a version of their own), so the client reports the mismatch to the user.
/// The second value says whether the client offered 6.
pub fn negotiate_protocol(client_versions: Option<&str>) -> (u32, bool) {
    let offered = client_versions
        .unwrap_or("")
        .split(',')
        .filter_map(|v| v.trim().parse::<u32>().ok())
        .any(|v| v == PROTOCOL_VERSION);
    (PROTOCOL_VERSION, offered)
}

/// `1|6|unix|<path>|grpc|<cert>`: field 6 is the server certificate's DER in base64 with the
/// standard alphabet and no padding (Go's `RawStdEncoding`), empty when serving plaintext.
pub fn handshake_line(socket: &Path, server_cert_der: Option<&[u8]>) -> String {
    let cert = server_cert_der
        .map(|der| base64::engine::general_purpose::STANDARD_NO_PAD.encode(der))
        .unwrap_or_default();
    format!(
        "{CORE_PROTOCOL_VERSION}|{PROTOCOL_VERSION}|unix|{}|grpc|{cert}",
        socket.display()
    )
}

/// The JSON value of `TF_REATTACH_PROVIDERS` for one provider served plaintext on `socket`.
/// `Test: true` keeps Terraform from shutting the provider down after each command.
pub fn reattach_config(address: &str, pid: u32, socket: &Path) -> String {
    serde_json::json!({
        address: {
            "Protocol": "grpc",
            "ProtocolVersion": PROTOCOL_VERSION,
            "Pid": pid,
            "Test": true,
            "Addr": { "Network": "unix", "String": socket.to_string_lossy() },
        }
    })
    .to_string()
}

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Launched by Terraform (no arguments).
    Managed,
    /// `--debug`: serve for `TF_REATTACH_PROVIDERS`.
    Debug,
    Version,
    Help,
    /// An argument we do not know.
    Unknown(String),
}

pub(crate) fn parse_args<I: IntoIterator<Item = String>>(args: I) -> Mode {
    let mut mode = Mode::Managed;
    for arg in args {
        mode = match arg.as_str() {
            "--debug" | "-debug" => Mode::Debug,
            "--version" | "-version" | "-v" | "version" => return Mode::Version,
            "--help" | "-help" | "-h" | "help" => return Mode::Help,
            _ => return Mode::Unknown(arg),
        };
    }
    mode
}

/// Shown on stderr when the binary is run by hand (no magic cookie) and for `--help`.
pub(crate) fn usage(name: &str, version: &str, address: &str) -> String {
    format!(
        "{name} v{version} is a Terraform provider plugin (plugin protocol {PROTOCOL_VERSION}) \
         for {address}.\n\
         It is not meant to be executed directly: Terraform starts it. Declare it in your \
         configuration's required_providers block and run `terraform init` / `terraform plan`.\n\
         \n\
         Usage: {name} [--debug | --version | --help]\n\
         \x20 --debug    serve in debug mode: prints a TF_REATTACH_PROVIDERS value; Terraform \
         commands run with it set use this process instead of starting their own. Its logs \
         appear in this terminal (start it with TF_LOG_PROVIDER=debug to get them). \
         Ctrl-C stops it.\n\
         \x20 --version  print the version and exit\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_6_is_chosen_whatever_the_order() {
        assert_eq!(negotiate_protocol(Some("5,6")), (6, true));
        assert_eq!(negotiate_protocol(Some("6,5")), (6, true));
        assert_eq!(negotiate_protocol(Some(" 6 ")), (6, true));
        // Not offered: still answer 6 and let the client report the mismatch.
        assert_eq!(negotiate_protocol(Some("5")), (6, false));
        assert_eq!(negotiate_protocol(None), (6, false));
    }

    #[test]
    fn handshake_line_has_raw_std_base64_cert() {
        // 0xfb 0xff encodes with '+' '/' in the standard alphabet; 2 bytes would need one '='.
        let line = handshake_line(Path::new("/tmp/plugin1/p.sock"), Some(&[0xfb, 0xff]));
        assert_eq!(line, "1|6|unix|/tmp/plugin1/p.sock|grpc|+/8");
        assert_eq!(
            handshake_line(Path::new("/tmp/x"), None),
            "1|6|unix|/tmp/x|grpc|"
        );
    }

    #[test]
    fn reattach_config_has_terraforms_shape() {
        let json = reattach_config("registry.terraform.io/example/demo", 42, Path::new("/t/s"));
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        let p = &v["registry.terraform.io/example/demo"];
        assert_eq!(p["Protocol"], "grpc");
        assert_eq!(p["ProtocolVersion"].to_string(), "6");
        assert_eq!(p["Pid"].to_string(), "42");
        assert_eq!(p["Test"], true);
        assert_eq!(p["Addr"]["Network"], "unix");
        assert_eq!(p["Addr"]["String"], "/t/s");
    }

    #[test]
    fn args() {
        let p = |a: &[&str]| parse_args(a.iter().map(|s| s.to_string()));
        assert_eq!(p(&[]), Mode::Managed);
        assert_eq!(p(&["--debug"]), Mode::Debug);
        assert_eq!(p(&["-debug"]), Mode::Debug);
        assert_eq!(p(&["--version"]), Mode::Version);
        assert_eq!(p(&["--debug", "--help"]), Mode::Help);
        assert_eq!(p(&["--frob"]), Mode::Unknown("--frob".into()));
    }
}
