//! Benchmarks of terraform-provider-batch against Terraform's built-in `terraform_data` (the
//! zero-overhead floor) and HashiCorp's Go `null` provider v2.1.2, in one run.
//!
//! `cargo run -p e2e --release --bin bench -- [--reps 3] [--sizes 1,200,1000]
//!  [--terraform PATH | --all-versions] [--provider-dir DIR] [--no-build]
//!  [--fanout | --no-fanout] [--fanout-tasks 1000] [--emulator PATH]`
//!
//! See bench/README.md. Prints tables; never fails on slowness (goals are read from the ratios).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use e2e::{DEV_ACCOUNT, DEV_KEY, Terraform, Workdir, dev_overrides_config, mirror_config};

#[path = "bench/fanout.rs"]
mod fanout;

const MAGIC_COOKIE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
/// Set in a provider's environment to make this binary a wrapper around the real provider that
/// records the child's peak RSS (see [`wrap_main`]).
const WRAP_VAR: &str = "E2E_BENCH_WRAP";
const RSS_FILE_VAR: &str = "E2E_BENCH_RSS_FILE";
const PROBE_SOURCE: &str = "local/probe";
const NULL_REL: &str = "mirror/registry.terraform.io/hashicorp/null/2.1.2/linux_amd64/terraform-provider-null_v2.1.2_x4";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Data,
    Null,
    /// `probe_null` from terraform-provider-probe (tests/src/bin/probe-provider.rs): null_resource's
    /// schema on our plugin code, the control that separates plugin cost from schema size.
    Probe,
    Batch,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Data => "terraform_data",
            Kind::Null => "null 2.1.2",
            Kind::Probe => "probe",
            Kind::Batch => "batch",
        }
    }

    fn config(self, n: usize) -> String {
        match self {
            Kind::Data => format!(
                "resource \"terraform_data\" \"t\" {{\n  count = {n}\n  input = \"t${{count.index}}\"\n}}\n"
            ),
            Kind::Null => format!(
                "terraform {{\n  required_providers {{\n    null = {{\n      source  = \"hashicorp/null\"\n      version = \"2.1.2\"\n    }}\n  }}\n}}\n\
                 resource \"null_resource\" \"t\" {{\n  count    = {n}\n  triggers = {{ name = \"t${{count.index}}\" }}\n}}\n"
            ),
            Kind::Probe => format!(
                "terraform {{\n  required_providers {{\n    probe = {{\n      source = \"{PROBE_SOURCE}\"\n    }}\n  }}\n}}\n\
                 resource \"probe_null\" \"t\" {{\n  count    = {n}\n  triggers = {{ name = \"t${{count.index}}\" }}\n}}\n"
            ),
            Kind::Batch => format!(
                "{}\nprovider \"batch\" {{\n  account_name     = \"{DEV_ACCOUNT}\"\n  account_endpoint = \"http://127.0.0.1:10100\"\n  account_key      = \"{DEV_KEY}\"\n}}\n\n\
                 resource \"batch_container_task\" \"t\" {{\n  count  = {n}\n  job_id = \"bench\"\n  name   = \"t${{count.index}}\"\n  container {{\n    image_name = \"busybox\"\n  }}\n  command_line = \"echo\"\n}}\n",
                e2e::required_providers_hcl()
            ),
        }
    }
}

struct Opts {
    reps: usize,
    sizes: Vec<usize>,
    terraform: Option<PathBuf>,
    all_versions: bool,
    provider_dir: Option<PathBuf>,
    build: bool,
    /// Which sections run: the plan tables (`--fanout` alone skips them) and the fan-out section
    /// (`--no-fanout` skips it).
    tables: bool,
    fanout: bool,
    fanout_opts: fanout::FanoutOpts,
}

fn parse_args() -> Opts {
    let mut o = Opts {
        reps: 3,
        sizes: vec![1, 200, 1000],
        terraform: None,
        all_versions: false,
        provider_dir: None,
        build: true,
        tables: true,
        fanout: true,
        fanout_opts: Default::default(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = |name: &str| {
            args.next()
                .unwrap_or_else(|| usage(&format!("{name} needs a value")))
        };
        match a.as_str() {
            "--reps" => {
                o.reps = val("--reps")
                    .parse()
                    .unwrap_or_else(|_| usage("bad --reps"))
            }
            "--sizes" => {
                o.sizes = val("--sizes")
                    .split(',')
                    .map(|s| s.trim().parse().unwrap_or_else(|_| usage("bad --sizes")))
                    .collect()
            }
            "--terraform" => o.terraform = Some(val("--terraform").into()),
            "--all-versions" => o.all_versions = true,
            "--provider-dir" => o.provider_dir = Some(val("--provider-dir").into()),
            "--no-build" => o.build = false,
            "--fanout" => o.tables = false,
            "--no-fanout" => o.fanout = false,
            "--fanout-tasks" => {
                o.fanout_opts.tasks = val("--fanout-tasks")
                    .parse()
                    .unwrap_or_else(|_| usage("bad --fanout-tasks"))
            }
            "--fanout-separate" => {
                o.fanout_opts.separate = val("--fanout-separate")
                    .parse()
                    .unwrap_or_else(|_| usage("bad --fanout-separate"))
            }
            "--emulator" => o.fanout_opts.emulator = Some(val("--emulator").into()),
            "-h" | "--help" => usage(""),
            other => usage(&format!("unknown argument {other}")),
        }
    }
    if o.reps == 0 || o.sizes.is_empty() {
        usage("--reps and --sizes must not be empty");
    }
    o
}

fn usage(err: &str) -> ! {
    if !err.is_empty() {
        eprintln!("bench: {err}");
    }
    eprintln!(
        "usage: bench [--reps N] [--sizes 1,200,1000] [--terraform PATH | --all-versions] \
         [--provider-dir DIR] [--no-build] [--fanout | --no-fanout] [--fanout-tasks N] \
         [--fanout-separate N] [--emulator PATH]"
    );
    std::process::exit(2)
}

fn main() {
    if let Ok(target) = std::env::var(WRAP_VAR) {
        wrap_main(&target);
    }
    let opts = parse_args();
    let tfs: Vec<Terraform> = match &opts.terraform {
        Some(p) => vec![Terraform::probe(p).unwrap_or_else(|e| usage(&e))],
        None if opts.all_versions => e2e::terraform_versions().to_vec(),
        None => vec![e2e::terraform_versions()[0].clone()],
    };

    let null_bin = e2e::tools_dir().join(NULL_REL);
    let null_reason = (!null_bin.is_file())
        .then(|| "null provider missing: run scripts/get-null-provider.sh".to_string());
    let (provider, batch_reason) = locate_provider(&opts);
    let (probe, probe_reason) = locate_probe(&opts);

    let cert = client_cert();
    println!("# terraform-provider-batch benchmarks\n");
    println!(
        "reps: {} (median shown), sizes: {:?}, machine: {} CPUs",
        opts.reps,
        opts.sizes,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    match &provider {
        Some(p) => println!("provider: {}", p.display()),
        None => println!(
            "provider: {}",
            batch_reason.as_deref().unwrap_or("provider not built")
        ),
    }

    for tf in tfs.iter().filter(|_| opts.tables) {
        let bins = Bins {
            batch: &provider,
            batch_reason: &batch_reason,
            probe: &probe,
            probe_reason: &probe_reason,
            null_reason: &null_reason,
        };
        plan_table(tf, &opts, &bins);
        rss_table(tf, &opts, &provider, &batch_reason, &null_bin, &null_reason);
    }
    if opts.fanout {
        for tf in &tfs {
            let dir = provider.as_deref().and_then(Path::parent);
            fanout::run(tf, dir, &opts.fanout_opts, opts.build);
        }
    }
    if !opts.tables {
        return;
    }
    handshake_table(
        &opts,
        &provider,
        &batch_reason,
        &null_bin,
        &null_reason,
        &cert,
    );
    size_table(&provider, &batch_reason, &null_bin);
}

/// `cargo build --release <args>` in the repository; true when it succeeded.
fn cargo_build_release(args: &[&str]) -> bool {
    eprintln!("bench: cargo build --release {} ...", args.join(" "));
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let st = Command::new(cargo)
        .args(["build", "--release"])
        .args(args)
        .current_dir(e2e::repo_root())
        .status();
    matches!(st, Ok(s) if s.success())
}

/// The release provider binary, or why there is none.
fn locate_provider(opts: &Opts) -> (Option<PathBuf>, Option<String>) {
    let dir = match &opts.provider_dir {
        Some(d) => d.clone(),
        None => {
            if opts.build && !cargo_build_release(&["-p", "terraform-provider-batch"]) {
                return (None, Some("provider not built (cargo build failed)".into()));
            }
            e2e::target_dir().join("release")
        }
    };
    let bin = dir.join("terraform-provider-batch");
    if !bin.is_file() {
        return (None, Some("provider not built".into()));
    }
    // A binary that does not complete the plugin handshake (e.g. a stub) cannot be planned with.
    match handshake_once(&bin, "6", None) {
        Ok(_) => (Some(bin), None),
        Err(e) => (None, Some(format!("provider not built ({e})"))),
    }
}

/// The release terraform-provider-probe (built here unless `--no-build`), or why there is none.
fn locate_probe(opts: &Opts) -> (Option<PathBuf>, Option<String>) {
    if opts.build && !cargo_build_release(&["-p", "e2e", "--bin", "terraform-provider-probe"]) {
        return (None, Some("probe not built (cargo build failed)".into()));
    }
    let bin = e2e::target_dir().join("release/terraform-provider-probe");
    if bin.is_file() {
        (Some(bin), None)
    } else {
        (None, Some("probe not built".into()))
    }
}

/// Where the providers under test are (or why one is missing).
struct Bins<'a> {
    batch: &'a Option<PathBuf>,
    batch_reason: &'a Option<String>,
    probe: &'a Option<PathBuf>,
    probe_reason: &'a Option<String>,
    null_reason: &'a Option<String>,
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn fmt_d(d: Duration) -> String {
    if d >= Duration::from_secs(1) {
        format!("{:.2}s", d.as_secs_f64())
    } else {
        format!("{:.1}ms", d.as_secs_f64() * 1000.0)
    }
}

fn ratio(a: Option<Duration>, b: Option<Duration>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if !b.is_zero() => format!("{:.2}x", a.as_secs_f64() / b.as_secs_f64()),
        _ => "-".into(),
    }
}

/// A working directory ready to plan `kind` with `n` resources (null: `terraform init` done).
fn prepare(tf: &Terraform, kind: Kind, n: usize, bins: &Bins) -> Workdir {
    let wd = match kind {
        Kind::Data => Workdir::with_cli_config(tf, &dev_overrides_config(None)),
        Kind::Null => Workdir::with_cli_config(tf, &mirror_config(false)),
        Kind::Probe => {
            let dir = bins.probe.as_ref().and_then(|p| p.parent()).expect("probe");
            let dir = dir.to_string_lossy().replace('\\', "\\\\");
            Workdir::with_cli_config(
                tf,
                &format!(
                    "provider_installation {{\n  dev_overrides {{\n    \"registry.terraform.io/{PROBE_SOURCE}\" = \"{dir}\"\n  }}\n  direct {{}}\n}}\n"
                ),
            )
        }
        Kind::Batch => {
            let dir = bins
                .batch
                .as_ref()
                .and_then(|p| p.parent())
                .expect("provider");
            Workdir::with_cli_config(tf, &dev_overrides_config(Some(dir)))
        }
    };
    wd.write_main(&kind.config(n));
    if kind == Kind::Null {
        wd.init();
    }
    wd
}

const PLAN: &[&str] = &["plan", "-input=false", "-no-color", "-lock=false"];

/// One timed plan, or why it failed.
fn time_plan(wd: &Workdir) -> Result<Duration, String> {
    let out = wd.run(PLAN);
    if out.success() {
        return Ok(out.duration);
    }
    let all = out.combined();
    let tail: Vec<&str> = all.lines().rev().take(8).collect();
    Err(format!(
        "plan failed: {}",
        tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
    ))
}

fn plan_table(tf: &Terraform, opts: &Opts, bins: &Bins) {
    println!(
        "\n## terraform plan from empty state (Terraform v{}, wall time)\n",
        tf.version
    );
    println!(
        "| N | terraform_data | null 2.1.2 | probe | batch | batch / terraform_data | batch / null | probe / terraform_data | probe / null | batch / probe | null / terraform_data |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let kinds = [
        (Kind::Data, &None),
        (Kind::Null, bins.null_reason),
        (Kind::Probe, bins.probe_reason),
        (Kind::Batch, bins.batch_reason),
    ];
    let mut failures = Vec::new();
    for &n in &opts.sizes {
        // Every kind gets a working directory and one untimed warm-up plan (page cache, first
        // start of each binary); then the timed repetitions go round the kinds in turn, so a
        // slow spell of the machine hits all of them alike instead of one column.
        let mut cells: Vec<(Option<Workdir>, Vec<Duration>, Option<String>)> = kinds
            .iter()
            .map(|(kind, reason)| {
                if let Some(r) = reason {
                    return (None, Vec::new(), Some(r.clone()));
                }
                eprintln!("bench: v{} {} N={n} (warm-up)", tf.version, kind.name());
                let wd = prepare(tf, *kind, n, bins);
                match time_plan(&wd) {
                    Ok(_) => (Some(wd), Vec::new(), None),
                    Err(e) => {
                        failures.push(format!("{} N={n}: {e}", kind.name()));
                        (None, Vec::new(), Some("failed".into()))
                    }
                }
            })
            .collect();
        for rep in 1..=opts.reps {
            eprintln!("bench: v{} N={n} round {rep}/{}", tf.version, opts.reps);
            for ((kind, _), cell) in kinds.iter().zip(cells.iter_mut()) {
                let Some(wd) = &cell.0 else { continue };
                match time_plan(wd) {
                    Ok(d) => cell.1.push(d),
                    Err(e) => {
                        failures.push(format!("{} N={n}: {e}", kind.name()));
                        cell.0 = None;
                        cell.2 = Some("failed".into());
                    }
                }
            }
        }
        let res: Vec<(Option<Duration>, String)> = cells
            .into_iter()
            .map(|(_, times, err)| match err {
                Some(e) => (None, e),
                None if times.is_empty() => (None, "-".into()),
                None => {
                    let m = median(times);
                    (Some(m), fmt_d(m))
                }
            })
            .collect();
        let [(d, ds), (nl, ns), (p, ps), (b, bs)] = <[_; 4]>::try_from(res).expect("four kinds");
        println!(
            "| {n} | {ds} | {ns} | {ps} | {bs} | {} | {} | {} | {} | {} | {} |",
            ratio(b, d),
            ratio(b, nl),
            ratio(p, d),
            ratio(p, nl),
            ratio(b, p),
            ratio(nl, d)
        );
    }
    if bins.batch.is_some() {
        schema_sizes(tf, bins);
    }
    for f in failures {
        println!("\nfailure: {f}");
    }
}

/// Peak RSS of the provider processes during the largest plan, measured by running this binary
/// as a wrapper (dev_overrides dir with a `terraform-provider-<type>` symlink to it).
/// Attributes plus nested blocks, at every level, of a resource schema in
/// `terraform providers schema -json` (the size Terraform core walks for every instance).
fn schema_nodes(block: &serde_json::Value) -> usize {
    let attrs = block["attributes"].as_object().map_or(0, |a| a.len());
    let blocks: usize = block["block_types"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(_, b)| 1 + schema_nodes(&b["block"]))
        .sum();
    attrs + blocks
}

/// Prints how large the planned resources' schemas are: Terraform's own per-instance work
/// (building the schema's type, ProposedNew, plan checks, state encoding, rendering) grows with it.
fn schema_sizes(tf: &Terraform, bins: &Bins) {
    let wd = prepare(tf, Kind::Batch, 1, bins);
    let schema = wd.providers_schema_json();
    let Some(batch) = schema["provider_schemas"]
        .as_object()
        .and_then(|m| m.values().next())
    else {
        return;
    };
    let task = schema_nodes(&batch["resource_schemas"]["batch_container_task"]["block"]);
    println!(
        "\nSchema size (attributes + nested blocks, all levels): null_resource and probe_null 2, \
         terraform_data 4, batch_container_task {task}."
    );
}

fn rss_table(
    tf: &Terraform,
    opts: &Opts,
    provider: &Option<PathBuf>,
    batch_reason: &Option<String>,
    null_bin: &Path,
    null_reason: &Option<String>,
) {
    let n = *opts.sizes.iter().max().expect("sizes");
    println!(
        "\n## Peak RSS of the provider process during the N={n} plan (Terraform v{})\n",
        tf.version
    );
    println!("| provider | peak RSS (max over its processes) | processes started |");
    println!("|---|---:|---:|");
    let rows: [(&str, &str, Option<&Path>, &Option<String>); 2] = [
        ("null", "null 2.1.2", Some(null_bin), null_reason),
        ("batch", "batch", provider.as_deref(), batch_reason),
    ];
    let mut kibs = Vec::new();
    for (ty, label, bin, reason) in rows {
        let res = match (bin, reason) {
            (_, Some(r)) => Err(r.clone()),
            (Some(bin), None) => measure_rss(tf, ty, bin, n),
            (None, None) => Err("provider not built".into()),
        };
        match res {
            Ok((kib, procs)) => {
                kibs.push(Some(kib));
                println!("| {label} | {:.1} MiB | {procs} |", kib as f64 / 1024.0)
            }
            Err(e) => {
                kibs.push(None);
                println!("| {label} | {e} | - |")
            }
        }
    }
    if let [Some(null), Some(batch)] = kibs[..] {
        println!(
            "\nbatch / null peak RSS: {:.2}x",
            batch as f64 / null as f64
        );
    }
}

fn measure_rss(tf: &Terraform, ty: &str, bin: &Path, n: usize) -> Result<(u64, usize), String> {
    let wrap_dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let link = wrap_dir.path().join(format!("terraform-provider-{ty}"));
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    std::os::unix::fs::symlink(&me, &link).map_err(|e| e.to_string())?;
    let rss_file = wrap_dir.path().join("rss.txt");

    // dev_overrides for both types; a configuration only uses one of them.
    let cli = format!(
        "provider_installation {{\n  dev_overrides {{\n    \"{}\" = \"{}\"\n    \"registry.terraform.io/hashicorp/{ty}\" = \"{}\"\n  }}\n  direct {{}}\n}}\n",
        e2e::PROVIDER_SOURCE,
        wrap_dir.path().display(),
        wrap_dir.path().display()
    );
    let mut wd = Workdir::with_cli_config(tf, &cli);
    let kind = if ty == "null" {
        Kind::Null
    } else {
        Kind::Batch
    };
    // Under dev_overrides the null config needs no version constraint and no init.
    let config = kind.config(n).replace("      version = \"2.1.2\"\n", "");
    wd.write_main(&config);
    wd.set_env(WRAP_VAR, &bin.to_string_lossy())
        .set_env(RSS_FILE_VAR, &rss_file.to_string_lossy());
    let out = wd.run(PLAN);
    if !out.success() {
        return Err("plan failed".into());
    }
    let text = std::fs::read_to_string(&rss_file).map_err(|e| format!("no RSS recorded: {e}"))?;
    let vals: Vec<u64> = text.lines().filter_map(|l| l.trim().parse().ok()).collect();
    let max = vals.iter().copied().max().ok_or("no RSS recorded")?;
    Ok((max, vals.len()))
}

/// Wrapper mode: run the real provider with our stdio and environment, then append its peak RSS
/// (KiB, from wait4's rusage) to `$E2E_BENCH_RSS_FILE` and exit with its status.
fn wrap_main(target: &str) -> ! {
    let mut child = Command::new(target)
        .args(std::env::args_os().skip(1))
        .env_remove(WRAP_VAR)
        .env_remove(RSS_FILE_VAR)
        .spawn()
        .unwrap_or_else(|e| {
            eprintln!("bench wrapper: cannot start {target}: {e}");
            std::process::exit(1)
        });
    let pid = child.id() as libc::pid_t;
    // Forward SIGTERM/SIGINT is not needed: Terraform stops providers over gRPC (Shutdown).
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero rusage is a valid value; wait4 fills it for our own child.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our child; pointers are to live locals.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
    if r == pid
        && let Ok(path) = std::env::var(RSS_FILE_VAR)
        && let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
    {
        let _ = writeln!(f, "{}", ru.ru_maxrss);
    }
    let _ = child.try_wait();
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        1
    };
    std::process::exit(code)
}

/// A P-521 self-signed client certificate, as Terraform's AutoMTLS sends (openssl CLI).
fn client_cert() -> Option<String> {
    let dir = tempfile::tempdir().ok()?;
    let st = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-521",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/O=HashiCorp/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost",
            "-keyout",
        ])
        .arg(dir.path().join("key.pem"))
        .arg("-out")
        .arg(dir.path().join("cert.pem"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .ok()?;
    if !st.success() {
        return None;
    }
    std::fs::read_to_string(dir.path().join("cert.pem")).ok()
}

/// Starts the provider as Terraform does and returns the time to its handshake line.
fn handshake_once(bin: &Path, protocols: &str, cert: Option<&str>) -> Result<Duration, String> {
    let mut cmd = Command::new(bin);
    cmd.env("TF_PLUGIN_MAGIC_COOKIE", MAGIC_COOKIE)
        .env("PLUGIN_PROTOCOL_VERSIONS", protocols)
        .env("PLUGIN_MIN_PORT", "10000")
        .env("PLUGIN_MAX_PORT", "25000")
        .env_remove("RUST_BACKTRACE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(c) = cert {
        cmd.env("PLUGIN_CLIENT_CERT", c);
    }
    let start = Instant::now();
    let mut child = cmd.spawn().map_err(|e| format!("cannot start: {e}"))?;
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let r = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send((r.map(|_| line), start.elapsed()));
    });
    let res = match rx.recv_timeout(Duration::from_secs(10)) {
        Ok((Ok(line), d)) if line.starts_with("1|") => Ok(d),
        Ok((Ok(line), _)) if line.is_empty() => Err("exited without a handshake line".into()),
        Ok((Ok(line), _)) => Err(format!("unexpected handshake line {:?}", line.trim())),
        Ok((Err(e), _)) => Err(e.to_string()),
        Err(_) => Err("no handshake line within 10s".into()),
    };
    let _ = child.kill();
    let _ = child.wait();
    res
}

fn handshake_table(
    opts: &Opts,
    provider: &Option<PathBuf>,
    batch_reason: &Option<String>,
    null_bin: &Path,
    null_reason: &Option<String>,
    cert: &Option<String>,
) {
    let reps = opts.reps.max(10);
    println!(
        "\n## Handshake latency (process start to handshake line, median of {reps}{})\n",
        if cert.is_some() {
            ", with PLUGIN_CLIENT_CERT (P-521)"
        } else {
            ", no client cert: openssl unavailable"
        }
    );
    println!("| provider | handshake |");
    println!("|---|---:|");
    let mut meds = Vec::new();
    let rows: [(&str, Option<&Path>, &Option<String>, &str); 2] = [
        ("null 2.1.2 (protocol 5)", Some(null_bin), null_reason, "5"),
        ("batch (protocol 6)", provider.as_deref(), batch_reason, "6"),
    ];
    for (label, bin, reason, proto) in rows {
        let res = match (bin, reason) {
            (_, Some(r)) => Err(r.clone()),
            (None, None) => Err("provider not built".into()),
            (Some(bin), None) => (0..reps)
                .map(|_| handshake_once(bin, proto, cert.as_deref()))
                .collect::<Result<Vec<_>, _>>()
                .map(median),
        };
        match res {
            Ok(d) => {
                meds.push(Some(d));
                println!("| {label} | {} |", fmt_d(d))
            }
            Err(e) => {
                meds.push(None);
                println!("| {label} | {e} |")
            }
        }
    }
    if let [Some(n), Some(b)] = meds[..] {
        println!("\nbatch / null handshake: {}", ratio(Some(b), Some(n)));
    }
}

fn size_table(provider: &Option<PathBuf>, batch_reason: &Option<String>, null_bin: &Path) {
    println!("\n## Binary size\n");
    println!("| binary | size |");
    println!("|---|---:|");
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).ok();
    let mib = |b: u64| format!("{:.1} MiB", b as f64 / (1024.0 * 1024.0));
    let null = size(null_bin);
    println!(
        "| terraform-provider-null_v2.1.2_x4 | {} |",
        null.map_or("missing".into(), mib)
    );
    let batch = provider.as_deref().and_then(size);
    println!(
        "| terraform-provider-batch (release) | {} |",
        batch.map_or_else(
            || batch_reason.clone().unwrap_or("provider not built".into()),
            mib
        )
    );
    if let (Some(n), Some(b)) = (null, batch) {
        println!("\nbatch / null size: {:.2}x", b as f64 / n as f64);
    }
}
