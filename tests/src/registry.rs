//! A real private container registry for one test: the CNCF distribution registry 2.8 (Debian's
//! `docker-registry`) on a free loopback port, with TLS from a throwaway CA that Podman trusts
//! (`/etc/containers/certs.d/127.0.0.1:<port>/ca.crt`) and htpasswd (bcrypt) authentication.
//! Images are pushed into it with `podman push --creds` (nothing stored in Podman's auth file)
//! under names the local engine does not have, so that the local Batch service must pull them
//! with the credentials it received.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::note;

/// Where Podman (and the Docker API it serves) looks for per-registry CA certificates.
const CERTS_D: &str = "/etc/containers/certs.d";

/// A running registry; stopped, and its CA trust removed, when dropped.
pub struct Registry {
    child: Option<Child>,
    addr: SocketAddr,
    dir: TempDir,
    certs_dir: PathBuf,
    username: String,
    password: String,
}

/// A random lowercase hex string of `bytes` random bytes (passwords, tags).
pub fn random_hex(bytes: usize) -> String {
    use std::io::Read;
    let mut buf = vec![0u8; bytes];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .expect("read /dev/urandom");
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// Ok when a registry can be started here: root (to trust its CA in Podman), the registry and
/// htpasswd installed (installed by scripts/setup-registry-deps.sh when missing), podman on PATH.
pub fn registry_available() -> Result<(), String> {
    static CELL: OnceLock<Result<(), String>> = OnceLock::new();
    CELL.get_or_init(|| {
        // SAFETY: geteuid(2) has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return Err(format!(
                "not root: Podman's registry trust ({CERTS_D}) needs root"
            ));
        }
        let have = |bin: &str| {
            Command::new("sh")
                .args(["-c", &format!("command -v {bin}")])
                .stdout(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        if !have("podman") {
            return Err("podman is not on PATH (run scripts/setup-podman.sh)".into());
        }
        if !have("docker-registry") || !have("htpasswd") {
            let script = crate::repo_root().join("scripts/setup-registry-deps.sh");
            let out = Command::new(&script)
                .output()
                .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
            if !out.status.success() {
                return Err(format!(
                    "{} failed: {}",
                    script.display(),
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
        }
        Ok(())
    })
    .clone()
}

impl Registry {
    /// Starts a registry with one user and a random password.
    pub fn start() -> Registry {
        if let Err(why) = registry_available() {
            panic!("cannot start a private registry: {why}");
        }
        let dir = tempfile::Builder::new()
            .prefix("e2e-registry-")
            .tempdir()
            .expect("registry temp dir");
        let username = format!("puller{}", random_hex(3));
        let password = format!("pw-{}", random_hex(16));
        write_htpasswd(dir.path(), &username, &password);
        let (ca_pem, cert_pem, key_pem) = throwaway_tls();
        std::fs::write(dir.path().join("server.crt"), cert_pem).expect("write server.crt");
        std::fs::write(dir.path().join("server.key"), key_pem).expect("write server.key");
        let mut last = String::new();
        // Another process can take the free port between our probe and the registry's bind.
        for _ in 0..5 {
            let addr = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("free loopback port");
            let certs_dir = Path::new(CERTS_D).join(addr.to_string());
            std::fs::create_dir_all(&certs_dir).expect("create the registry's certs.d directory");
            std::fs::write(certs_dir.join("ca.crt"), &ca_pem).expect("write ca.crt");
            match spawn(dir.path(), addr) {
                Ok(child) => {
                    return Registry {
                        child: Some(child),
                        addr,
                        dir,
                        certs_dir,
                        username,
                        password,
                    };
                }
                Err(e) => {
                    let _ = std::fs::remove_dir_all(&certs_dir);
                    last = e;
                }
            }
        }
        panic!("the private registry did not start: {last}");
    }

    /// `127.0.0.1:<port>`: the registry server as image names and `registryServer` spell it.
    pub fn server(&self) -> String {
        self.addr.to_string()
    }

    pub fn username(&self) -> &str {
        &self.username
    }

    /// The one right password (random per registry).
    pub fn password(&self) -> &str {
        &self.password
    }

    /// Pushes the local image `local` as `<server>/<repo_tag>` without giving it that name
    /// locally, so that using the name needs a pull with credentials. Returns the full name.
    pub fn push(&self, local: &str, repo_tag: &str) -> String {
        let name = format!("{}/{repo_tag}", self.server());
        let creds = format!("{}:{}", self.username, self.password);
        let dest = format!("docker://{name}");
        podman(&["push", "--quiet", "--creds", &creds, local, &dest]);
        name
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.certs_dir);
        if std::thread::panicking() {
            let log =
                std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default();
            let lines: Vec<&str> = log.lines().collect();
            note(&format!(
                "private registry at {} (failed test), last output:\n{}",
                self.addr,
                lines[lines.len().saturating_sub(20)..].join("\n")
            ));
        }
    }
}

fn podman(args: &[&str]) {
    let out = Command::new("podman")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run podman");
    // The arguments may hold the password: never print them.
    assert!(
        out.status.success(),
        "podman {} failed: {}",
        args[0],
        String::from_utf8_lossy(&out.stderr)
    );
}

fn write_htpasswd(dir: &Path, user: &str, password: &str) {
    // -i reads the password from stdin, so it never appears in a process list.
    let mut child = Command::new("htpasswd")
        .args(["-niB", user])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run htpasswd");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("htpasswd stdin");
        stdin
            .write_all(format!("{password}\n").as_bytes())
            .expect("write to htpasswd");
    }
    let out = child.wait_with_output().expect("htpasswd output");
    assert!(
        out.status.success(),
        "htpasswd failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(dir.join("htpasswd"), out.stdout).expect("write htpasswd file");
}

/// (CA certificate, server certificate for 127.0.0.1 signed by it, server key), all PEM.
fn throwaway_tls() -> (String, String, String) {
    use rcgen::{
        BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair,
        KeyUsagePurpose,
    };
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca.distinguished_name
        .push(DnType::CommonName, "batch e2e throwaway registry CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().expect("CA key")).expect("CA");
    let key = KeyPair::generate().expect("server key");
    let mut server = CertificateParams::new(vec!["127.0.0.1".to_string()]).expect("params");
    server
        .distinguished_name
        .push(DnType::CommonName, "127.0.0.1");
    let cert = server.signed_by(&key, &ca).expect("server certificate");
    (ca.pem(), cert.pem(), key.serialize_pem())
}

fn spawn(dir: &Path, addr: SocketAddr) -> Result<Child, String> {
    let d = dir.display();
    let config = format!(
        "version: 0.1\nlog:\n  level: info\nstorage:\n  filesystem:\n    rootdirectory: {d}/data\n\
         http:\n  addr: {addr}\n  tls:\n    certificate: {d}/server.crt\n    key: {d}/server.key\n\
         auth:\n  htpasswd:\n    realm: batch-e2e\n    path: {d}/htpasswd\n"
    );
    let config_path = dir.join("config.yml");
    std::fs::write(&config_path, config).map_err(|e| e.to_string())?;
    let log = std::fs::File::create(dir.join("registry.log")).map_err(|e| e.to_string())?;
    let mut cmd = Command::new("docker-registry");
    cmd.arg("serve")
        .arg(&config_path)
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(|e| e.to_string())?)
        .stderr(log);
    crate::die_with_parent(&mut cmd);
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start docker-registry: {e}"))?;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            let log = std::fs::read_to_string(dir.join("registry.log")).unwrap_or_default();
            return Err(format!("docker-registry exited ({status}): {log}"));
        }
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(child);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "docker-registry did not listen on {addr} within 30 s"
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
