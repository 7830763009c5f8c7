//! Looking for secrets where they must never be: Terraform's output and TF_LOG=trace log, the
//! state file, saved plan files (the raw archive and every file inside it, decompressed, and
//! `terraform show -json` of it), error messages.

use std::path::Path;

use crate::{TfOutput, Workdir};

/// Named blobs to search (e.g. `("state", bytes)`).
#[derive(Default)]
pub struct Haystack {
    places: Vec<(String, Vec<u8>)>,
}

impl Haystack {
    pub fn new() -> Haystack {
        Haystack::default()
    }

    /// Adds one text or binary blob.
    pub fn add(&mut self, name: impl Into<String>, content: impl Into<Vec<u8>>) -> &mut Self {
        self.places.push((name.into(), content.into()));
        self
    }

    /// Adds a file (panics if it cannot be read: a missing log or state would hide a leak).
    pub fn add_file(&mut self, name: &str, path: &Path) -> &mut Self {
        let bytes = std::fs::read(path)
            .unwrap_or_else(|e| panic!("read {name} at {}: {e}", path.display()));
        assert!(!bytes.is_empty(), "{name} at {} is empty", path.display());
        self.add(name, bytes)
    }

    /// Adds a saved plan: the raw archive and each of its files decompressed.
    pub fn add_plan_file(&mut self, name: &str, path: &Path) -> &mut Self {
        self.add_file(name, path);
        let file = std::fs::File::open(path).expect("open plan file");
        let mut zip = zip::ZipArchive::new(file)
            .unwrap_or_else(|e| panic!("{name} at {} is not a zip archive: {e}", path.display()));
        assert!(!zip.is_empty(), "{name} holds no files");
        for i in 0..zip.len() {
            let mut entry = zip.by_index(i).expect("plan file entry");
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut entry, &mut bytes).expect("read plan file entry");
            let entry_name = format!("{name}!{}", entry.name());
            self.places.push((entry_name, bytes));
        }
        self
    }

    /// Names of the places searched (to check a test really looked where it meant to).
    pub fn names(&self) -> Vec<&str> {
        self.places.iter().map(|(n, _)| n.as_str()).collect()
    }

    /// Every `(secret label, place)` where a secret value occurs. Values shorter than 8 bytes
    /// are refused: they would match by chance.
    pub fn leaks(&self, secrets: &[(&str, &str)]) -> Vec<String> {
        let mut out = Vec::new();
        for (label, value) in secrets {
            assert!(
                value.len() >= 8,
                "secret {label} is too short to search for"
            );
            for (place, bytes) in &self.places {
                if contains(bytes, value.as_bytes()) {
                    out.push(format!("{label} found in {place}"));
                }
            }
        }
        out
    }

    /// Panics naming each place where a secret occurs.
    pub fn assert_no_leaks(&self, context: &str, secrets: &[(&str, &str)]) {
        let leaks = self.leaks(secrets);
        assert!(
            leaks.is_empty(),
            "{context}: secrets leaked:\n  {}\n(searched: {})",
            leaks.join("\n  "),
            self.names().join(", ")
        );
    }
}

/// A working directory that logs at TF_LOG=trace into `trace.log` and keeps every command's
/// output, for the leak checks at the end.
pub struct Traced {
    pub wd: Workdir,
    outputs: Vec<(String, String)>,
    shown_plan: String,
}

impl Traced {
    pub fn new(mut wd: Workdir) -> Traced {
        let log = wd.path().join("trace.log");
        wd.set_env("TF_LOG", "trace")
            .set_env("TF_LOG_PATH", &log.display().to_string());
        Traced {
            wd,
            outputs: Vec::new(),
            shown_plan: String::new(),
        }
    }

    pub fn var(&mut self, name: &str, value: &str) -> &mut Self {
        self.wd.set_env(&format!("TF_VAR_{name}"), value);
        self
    }

    pub fn keep(&mut self, what: &str, out: TfOutput) -> TfOutput {
        self.outputs.push((what.to_string(), out.combined()));
        out
    }

    #[track_caller]
    pub fn apply(&mut self, what: &str) -> TfOutput {
        let out = self.wd.try_apply();
        self.keep(what, out).assert_success()
    }

    pub fn try_apply(&mut self, what: &str) -> TfOutput {
        let out = self.wd.try_apply();
        self.keep(what, out)
    }

    /// `terraform plan`, whatever its outcome.
    pub fn try_plan(&mut self, what: &str) -> TfOutput {
        let out = self.wd.run(&["plan", "-input=false", "-no-color"]);
        self.keep(what, out)
    }

    /// Saves a plan to `tfplan` and keeps `terraform show -json` of it.
    pub fn saved_plan(&mut self) {
        let out = self
            .wd
            .run_ok(&["plan", "-input=false", "-no-color", "-out=tfplan"]);
        self.keep("plan -out", out);
        // A representation of the plan file, not a log: kept apart (see `everywhere`).
        self.shown_plan = self.wd.run_ok(&["show", "-json", "tfplan"]).stdout;
    }

    #[track_caller]
    pub fn destroy(&mut self) {
        let out = self.wd.destroy();
        self.keep("destroy", out);
    }

    /// Every command's output (errors included) and the trace log; not the saved plan's JSON.
    pub fn logs(&self) -> Haystack {
        let mut h = Haystack::new();
        for (what, out) in &self.outputs {
            h.add(format!("output of {what}"), out.as_bytes());
        }
        h.add_file("TF_LOG=trace log", &self.wd.path().join("trace.log"));
        h
    }

    /// [`Traced::logs`], the state (and its backup) and the saved plan of [`Traced::saved_plan`].
    pub fn everywhere(&self) -> Haystack {
        let mut h = self.logs();
        let p = self.wd.path();
        assert!(
            !self.shown_plan.is_empty(),
            "no saved plan to search (call saved_plan)"
        );
        h.add_file("state", &p.join("terraform.tfstate"))
            .add_plan_file("saved plan", &p.join("tfplan"))
            .add("show -json of the saved plan", self.shown_plan.as_bytes());
        if p.join("terraform.tfstate.backup").exists() {
            h.add_file("state backup", &p.join("terraform.tfstate.backup"));
        }
        h
    }

    /// Asserts that no secret is in any output, the trace log, the state or the saved plan.
    #[track_caller]
    pub fn assert_no_leaks(&self, context: &str, secrets: &[(&str, &str)]) {
        self.everywhere().assert_no_leaks(context, secrets);
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_secrets_in_plain_blobs_and_inside_plan_archives() {
        let dir = tempfile::tempdir().unwrap();
        let plan = dir.path().join("tfplan");
        {
            let mut w = zip::ZipWriter::new(std::fs::File::create(&plan).unwrap());
            let opts = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated);
            w.start_file("tfstate", opts).unwrap();
            std::io::Write::write_all(&mut w, b"{\"password\":\"hidden-in-zip\"}").unwrap();
            w.finish().unwrap();
        }
        let mut h = Haystack::new();
        h.add("log", "... token=plain-secret ...")
            .add_plan_file("plan", &plan);
        // Deflate hides the value from a search of the raw archive: only the entry shows it.
        assert_eq!(
            h.leaks(&[
                ("a", "plain-secret"),
                ("b", "hidden-in-zip"),
                ("c", "absent-value")
            ]),
            vec!["a found in log", "b found in plan!tfstate"]
        );
    }
}
