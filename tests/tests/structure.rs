//! The code's shape, checked like behaviour: files small enough to read in one sitting, the
//! SDK free of anything Batch, resources independent of each other, and attributes reached
//! through typed models rather than by string key.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use regex::Regex;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The part of a file before its unit tests (`#[cfg(test)]` at the start of a line), or none
/// for a file that is itself a test module (`tests.rs`, `*_tests.rs`).
fn non_test_part(path: &Path) -> String {
    let name = path.file_name().unwrap().to_string_lossy();
    if name == "tests.rs" || name.ends_with("_tests.rs") {
        return String::new();
    }
    let text = fs::read_to_string(path).unwrap();
    match text.find("\n#[cfg(test)]") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

fn rel(p: &Path) -> String {
    p.strip_prefix(repo()).unwrap_or(p).display().to_string()
}

#[test]
fn no_source_file_is_over_800_lines_of_non_test_code() {
    let mut long = Vec::new();
    for dir in ["provider/src", "tfplugin/src"] {
        for f in rust_files(&repo().join(dir)) {
            let n = non_test_part(&f).lines().count();
            if n > 800 {
                long.push(format!("{} ({n} lines)", rel(&f)));
            }
        }
    }
    assert!(long.is_empty(), "split these files: {long:?}");
}

#[test]
fn the_sdk_knows_nothing_of_batch() {
    let mut hits = Vec::new();
    for f in rust_files(&repo().join("tfplugin/src")) {
        for (i, line) in fs::read_to_string(&f).unwrap().lines().enumerate() {
            if line.to_ascii_lowercase().contains("batch") {
                hits.push(format!("{}:{}: {}", rel(&f), i + 1, line.trim()));
            }
        }
    }
    assert!(hits.is_empty(), "tfplugin mentions Batch: {hits:#?}");
}

/// `resources/<a>` (a file or a folder) never names `resources::<b>` for another resource.
#[test]
fn no_resource_module_imports_another() {
    let root = repo().join("provider/src/resources");
    let uses = Regex::new(r"resources::([a-z_]+)").unwrap();
    let mut hits = Vec::new();
    for f in rust_files(&root) {
        let own = f
            .strip_prefix(&root)
            .unwrap()
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        let text = fs::read_to_string(&f).unwrap();
        for c in uses.captures_iter(&text) {
            if c[1] != own {
                hits.push(format!("{} uses resources::{}", rel(&f), &c[1]));
            }
        }
    }
    assert!(hits.is_empty(), "move shared parts to common/: {hits:?}");
}

/// Every attribute and block name the provider's schemas define.
fn attribute_names() -> BTreeSet<String> {
    let def = Regex::new(
        r#"(?:Attribute::[a-z_]+|NestedBlock::[a-z_]+|Attribute::nested)\(\s*"([a-z0-9_]+)""#,
    )
    .unwrap();
    let mut names = BTreeSet::new();
    for f in rust_files(&repo().join("provider/src")) {
        for c in def.captures_iter(&non_test_part(&f)) {
            names.insert(c[1].to_string());
        }
    }
    names
}

/// Counts calls with an attribute name as a string literal argument, outside schema
/// definitions and tests: what typed models replace.
fn string_keyed_mentions() -> Vec<String> {
    let names = attribute_names();
    let lit = Regex::new(r#"([(,\[]\s*)"([a-z0-9_]+)"\s*[,)]"#).unwrap();
    let def =
        Regex::new(r"(Attribute::[a-z_]+|NestedBlock::[a-z_]+|Attribute::nested)\(\s*$").unwrap();
    let mut hits = Vec::new();
    for f in rust_files(&repo().join("provider/src")) {
        if f.ends_with("bin/gen-docs.rs") {
            continue;
        }
        let text = non_test_part(&f);
        for (i, line) in text.lines().enumerate() {
            for c in lit.captures_iter(line) {
                let m = c.get(0).unwrap();
                if !names.contains(&c[2]) || def.is_match(&line[..m.start() + 1]) {
                    continue;
                }
                hits.push(format!("{}:{}: {}", rel(&f), i + 1, line.trim()));
            }
        }
    }
    hits
}

#[test]
fn attributes_are_reached_through_models_not_string_keys() {
    let names = attribute_names();
    assert!(
        names.contains("vm_size") && names.contains("command_line"),
        "the schema scan found no attributes: {names:?}"
    );
    let hits = string_keyed_mentions();
    eprintln!("{} string-keyed attribute mentions", hits.len());
    assert!(
        hits.len() <= 100,
        "{} string-keyed mentions of attribute names (at most 100):\n{}",
        hits.len(),
        hits.join("\n")
    );
}
