//! Batch property names -> Terraform attribute paths, derived from a resource's expand
//! function so that every property it sends is covered.
//!
//! Batch errors name the offending property (`PropertyName`: `subnetId`, `vmSize`,
//! `virtualMachineConfiguration.imageReference.virtualMachineImageId`, ...). To point the
//! diagnostic at the attribute's line, [`WirePaths::derive`] builds a sample model in which
//! every string holds a unique token and every number a unique integer, runs the expand
//! function on it, serializes the Batch model (whose fields carry Batch's wire names) and
//! records where each token lands. Booleans are found by flipping them one at a time.
//!
//! ```ignore
//! static PATHS: OnceLock<WirePaths> = OnceLock::new();
//! let paths = PATHS.get_or_init(|| WirePaths::derive(pool_type(), |m: &PoolModel| expand_pool_add(m)));
//! paths.lookup("subnetId"); // Some(network_configuration.subnet_id)
//! ```

use std::collections::BTreeMap;

use batch_client::BatchError;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value as Json;
use tfplugin::diag::Step;
use tfplugin::model::from_value;
use tfplugin::{AttrPath, Type, Value};

/// A wire path and the attribute it comes from.
type Entry = (Vec<String>, AttrPath);

/// Wire paths (object keys from the request body's root, array levels skipped) and the
/// attribute each comes from.
#[derive(Debug, Clone, Default)]
pub struct WirePaths {
    entries: Vec<(Vec<String>, AttrPath)>,
}

/// The sample value and what its leaves stand for.
struct Sample {
    next: i64,
    strings: Vec<(String, AttrPath)>,
    numbers: Vec<(i64, AttrPath)>,
    bools: Vec<AttrPath>,
    /// Every attribute and nested block, to run the expand function with each one null (it
    /// may send one of two alternatives: `image` or `virtual_machine_image_id`).
    attrs: Vec<AttrPath>,
}

impl Sample {
    fn build(&mut self, ty: &Type, path: &AttrPath) -> Value {
        match ty {
            Type::String | Type::Dynamic => {
                self.next += 1;
                let token = format!("wire{}x", self.next);
                self.strings.push((token.clone(), path.clone()));
                Value::string(token)
            }
            Type::Number => {
                self.next += 1;
                let n = 7000 + self.next;
                self.numbers.push((n, path.clone()));
                Value::int(n)
            }
            Type::Bool => {
                self.bools.push(path.clone());
                Value::Bool(false)
            }
            Type::List(t) => Value::List(vec![self.build(t, &path.index(0))]),
            Type::Set(t) => Value::Set(vec![self.build(t, &path.index(0))]),
            Type::Map(t) => {
                let v = self.build(t, &path.key("k"));
                Value::Map([("k".to_string(), v)].into())
            }
            Type::Object(attrs) => Value::Object(
                attrs
                    .iter()
                    .map(|(k, t)| {
                        self.attrs.push(path.child(k));
                        (k.clone(), self.build(t, &path.child(k)))
                    })
                    .collect(),
            ),
            Type::Tuple(ts) => Value::Tuple(
                ts.iter()
                    .enumerate()
                    .map(|(i, t)| self.build(t, &path.index(i)))
                    .collect(),
            ),
        }
    }
}

/// The attribute path up to its first list index or map key: an error about one registry
/// points at the `registry` blocks, not at a guessed element.
fn up_to_collection(p: &AttrPath) -> AttrPath {
    AttrPath(
        p.0.iter()
            .take_while(|s| matches!(s, Step::Attr(_)))
            .cloned()
            .collect(),
    )
}

/// Sets the bool at `path` of `v`.
fn set_at(v: &mut Value, path: &[Step], to: Value) {
    match (path.first(), v) {
        (None, v) => *v = to,
        (Some(Step::Attr(k)), Value::Object(m)) | (Some(Step::Key(k)), Value::Map(m)) => {
            if let Some(inner) = m.get_mut(k) {
                set_at(inner, &path[1..], to);
            }
        }
        (Some(Step::Index(i)), Value::List(items) | Value::Set(items)) => {
            if let Some(inner) = items.get_mut(*i as usize) {
                set_at(inner, &path[1..], to);
            }
        }
        _ => {}
    }
}

/// Every scalar of `j` with its wire path.
fn leaves(j: &Json, path: &mut Vec<String>, out: &mut Vec<(Vec<String>, Json)>) {
    match j {
        Json::Object(m) => {
            for (k, v) in m {
                path.push(k.clone());
                leaves(v, path, out);
                path.pop();
            }
        }
        Json::Array(items) => {
            for v in items {
                leaves(v, path, out);
            }
        }
        v => out.push((path.clone(), v.clone())),
    }
}

fn common_prefix(paths: &[AttrPath]) -> AttrPath {
    let mut prefix = paths.first().cloned().unwrap_or_default();
    for p in paths {
        let n = prefix
            .0
            .iter()
            .zip(&p.0)
            .take_while(|(a, b)| a == b)
            .count();
        prefix.0.truncate(n);
    }
    prefix
}

impl WirePaths {
    /// The mapping for `expand` over the model `M` of type `ty`. Empty when the sample does not
    /// read into `M` (the model's round-trip test fails first).
    pub fn derive<M, B>(ty: &Type, expand: impl Fn(&M) -> B) -> WirePaths
    where
        M: DeserializeOwned,
        B: Serialize,
    {
        let mut sample = Sample {
            next: 0,
            strings: vec![],
            numbers: vec![],
            bools: vec![],
            attrs: vec![],
        };
        let base = sample.build(ty, &AttrPath::root());
        let run = |v: &Value| -> Option<Vec<(Vec<String>, Json)>> {
            let m: M = from_value(v).ok()?;
            let j = serde_json::to_value(expand(&m)).ok()?;
            let mut out = Vec::new();
            leaves(&j, &mut Vec::new(), &mut out);
            Some(out)
        };
        let Some(base_leaves) = run(&base) else {
            return WirePaths::default();
        };
        // One list of (wire path, attribute) per run of the expand function, the full sample
        // first.
        let tokens_in = |leaves: &[(Vec<String>, Json)]| {
            let mut found = Vec::new();
            for (wire, v) in leaves {
                match v {
                    Json::String(s) => {
                        for (token, attr) in &sample.strings {
                            if s.contains(token.as_str()) {
                                found.push((wire.clone(), attr.clone()));
                            }
                        }
                    }
                    Json::Number(n) => {
                        for (k, attr) in &sample.numbers {
                            if n.as_i64() == Some(*k) {
                                found.push((wire.clone(), attr.clone()));
                            }
                        }
                    }
                    _ => {}
                }
            }
            found
        };
        let mut runs = vec![tokens_in(&base_leaves)];
        for attr in &sample.attrs {
            let mut variant = base.clone();
            set_at(&mut variant, &attr.0, Value::Null);
            if let Some(l) = run(&variant) {
                runs.push(tokens_in(&l));
            }
        }
        // Leaves grouped by wire path (arrays put several under one path).
        let grouped = |leaves: Vec<(Vec<String>, Json)>| {
            let mut g: BTreeMap<Vec<String>, Vec<Json>> = BTreeMap::new();
            for (wire, v) in leaves {
                g.entry(wire).or_default().push(v);
            }
            g
        };
        let before = grouped(base_leaves.clone());
        for attr in &sample.bools {
            let mut flipped = base.clone();
            set_at(&mut flipped, &attr.0, Value::Bool(true));
            let Some(after) = run(&flipped) else { continue };
            runs.push(
                grouped(after)
                    .into_iter()
                    .filter(|(wire, v)| before.get(wire) != Some(v))
                    .map(|(wire, _)| (wire, attr.clone()))
                    .collect(),
            );
        }
        let mut entries: Vec<(Vec<String>, AttrPath)> = Vec::new();
        let mut objects: Vec<(Vec<String>, AttrPath)> = Vec::new();
        for found in runs {
            // Objects and arrays map to the longest path the blocks holding their leaves share
            // in the run (`imageReference` -> `image`), unless that is the whole resource; the
            // first run that names one wins.
            let mut inner: BTreeMap<Vec<String>, Vec<AttrPath>> = BTreeMap::new();
            for (wire, attr) in &found {
                for n in 1..wire.len() {
                    inner
                        .entry(wire[..n].to_vec())
                        .or_default()
                        .push(AttrPath(attr.0[..attr.0.len().saturating_sub(1)].to_vec()));
                }
            }
            for (wire, attrs) in inner {
                let p = up_to_collection(&common_prefix(&attrs));
                if !p.is_root() && !objects.iter().any(|(w, _)| *w == wire) {
                    objects.push((wire, p));
                }
            }
            entries.extend(found.into_iter().map(|(w, a)| (w, up_to_collection(&a))));
        }
        entries.extend(objects);
        let mut paths = WirePaths { entries };
        paths.dedup();
        paths
    }

    /// Both mappings (e.g. Pool_Add's and Pool_Resize's).
    #[must_use]
    pub fn merge(mut self, other: WirePaths) -> WirePaths {
        self.entries.extend(other.entries);
        self.dedup();
        self
    }

    fn dedup(&mut self) {
        let mut seen = Vec::new();
        self.entries.retain(|e| {
            if seen.contains(e) {
                false
            } else {
                seen.push(e.clone());
                true
            }
        });
    }

    /// The attribute a Batch `PropertyName` names: a full dotted wire path
    /// (`virtualMachineConfiguration.imageReference.virtualMachineImageId`) or its trailing
    /// segments when they name one attribute (`subnetId`), ignoring case and list indices.
    pub fn lookup(&self, property: &str) -> Option<AttrPath> {
        let (want, candidates) = self.candidates(property)?;
        Self::resolve(want, &candidates)
    }

    /// The wire path segments `property` names and the entries ending with them.
    fn candidates(&self, property: &str) -> Option<(usize, Vec<&Entry>)> {
        let want: Vec<String> = property
            .split('.')
            .map(|s| s.split('[').next().unwrap_or(s).to_ascii_lowercase())
            .filter(|s| !s.is_empty())
            .collect();
        if want.is_empty() {
            return None;
        }
        let ends_with = |wire: &[String]| {
            wire.len() >= want.len()
                && wire[wire.len() - want.len()..]
                    .iter()
                    .zip(&want)
                    .all(|(a, b)| a.eq_ignore_ascii_case(b))
        };
        let candidates = self.entries.iter().filter(|(w, _)| ends_with(w)).collect();
        Some((want.len(), candidates))
    }

    /// The one attribute the candidates for a name of `want` segments agree on.
    fn resolve(want: usize, candidates: &[&Entry]) -> Option<AttrPath> {
        if let Some((_, exact)) = candidates.iter().find(|(w, _)| w.len() == want) {
            // A full path from the root wins over deeper paths ending the same way.
            if candidates
                .iter()
                .filter(|(w, _)| w.len() == want)
                .all(|(_, a)| a == exact)
            {
                return Some(exact.clone());
            }
        }
        let first = &candidates.first()?.1;
        candidates
            .iter()
            .all(|(_, a)| a == first)
            .then(|| first.clone())
    }

    /// [`Self::lookup`] for an error about a request body `sent`: when the name alone ends
    /// several properties (a bare `maxTaskRetryCount`, of the job's and of its manager task's
    /// constraints), the one whose sent value is Batch's `value` (`PropertyValue`).
    pub fn lookup_sent(
        &self,
        property: &str,
        value: Option<&str>,
        sent: &Json,
    ) -> Option<AttrPath> {
        let (want, candidates) = self.candidates(property)?;
        if let Some(p) = Self::resolve(want, &candidates) {
            return Some(p);
        }
        let value = value?;
        let mut sent_leaves = Vec::new();
        leaves(sent, &mut Vec::new(), &mut sent_leaves);
        let holds_value = |wire: &[String]| {
            sent_leaves.iter().any(|(w, v)| {
                w.as_slice() == wire
                    && match v {
                        Json::String(s) => s.eq_ignore_ascii_case(value),
                        other => serde_json::from_str::<Json>(value).ok().as_ref() == Some(other),
                    }
            })
        };
        let matching: Vec<_> = candidates
            .into_iter()
            .filter(|(w, _)| holds_value(w))
            .collect();
        let first = &matching.first()?.1;
        matching
            .iter()
            .all(|(_, a)| a == first)
            .then(|| first.clone())
    }

    /// The attribute a failed call's error names (`PropertyName`, told apart by
    /// `PropertyValue` against the request body `sent` where the name is ambiguous).
    pub fn error_path(&self, err: &BatchError, sent: &impl Serialize) -> Option<AttrPath> {
        let se = err.service()?;
        let property = se.value("PropertyName")?;
        let sent = serde_json::to_value(sent).unwrap_or(Json::Null);
        self.lookup_sent(property, se.value("PropertyValue"), &sent)
    }

    /// Asserts what each Batch property name (`cases`: name, attribute path) names. For tests.
    #[cfg(test)]
    #[track_caller]
    pub fn assert_lookups(&self, cases: &[(&str, Option<&str>)]) {
        for (prop, want) in cases {
            assert_eq!(
                self.lookup(prop).map(|p| p.to_string()).as_deref(),
                *want,
                "{prop}"
            );
        }
    }

    /// Every wire path (dotted) with its attribute, for tests and debugging.
    pub fn entries(&self) -> impl Iterator<Item = (String, &AttrPath)> {
        self.entries.iter().map(|(w, a)| (w.join("."), a))
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use tfplugin::model::Tf;

    use super::*;

    /// A small resource: a block, a list block, a map, a bool and two alternatives.
    #[derive(Deserialize, Default)]
    #[serde(default)]
    struct Model {
        name: Tf<String>,
        size: Tf<i64>,
        enabled: Tf<bool>,
        tags: Tf<BTreeMap<String, String>>,
        net: Tf<Net>,
        disks: Vec<Disk>,
        image: Tf<String>,
        image_id: Tf<String>,
    }
    #[derive(Deserialize, Default, Clone)]
    #[serde(default)]
    struct Net {
        subnet: Tf<String>,
    }
    #[derive(Deserialize, Default, Clone)]
    #[serde(default)]
    struct Disk {
        lun: Tf<i64>,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Body {
        id: Option<String>,
        target_size: Option<i64>,
        enable_thing: bool,
        metadata: Vec<(String, String)>,
        network_configuration: Option<NetBody>,
        data_disks: Vec<DiskBody>,
        image_reference: ImageBody,
    }
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct NetBody {
        subnet_id: Option<String>,
    }
    #[derive(Serialize)]
    struct DiskBody {
        lun: Option<i64>,
    }
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct ImageBody {
        offer: Option<String>,
        virtual_machine_image_id: Option<String>,
    }

    fn ty() -> Type {
        Type::object([
            ("name", Type::String),
            ("size", Type::Number),
            ("enabled", Type::Bool),
            ("tags", Type::map(Type::String)),
            ("net", Type::object([("subnet", Type::String)])),
            ("disks", Type::list(Type::object([("lun", Type::Number)]))),
            ("image", Type::String),
            ("image_id", Type::String),
        ])
    }

    fn expand(m: &Model) -> Body {
        Body {
            id: m.name.known().map(|n| format!("prefix-{n}")),
            target_size: m.size.known().copied(),
            enable_thing: m.enabled.known() == Some(&true),
            metadata: m
                .tags
                .known()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .collect(),
            network_configuration: m.net.known().map(|n| NetBody {
                subnet_id: n.subnet.known().cloned(),
            }),
            data_disks: m
                .disks
                .iter()
                .map(|d| DiskBody {
                    lun: d.lun.known().copied(),
                })
                .collect(),
            // Exactly one of the two is sent, the image first.
            image_reference: match m.image.known() {
                Some(i) => ImageBody {
                    offer: Some(i.clone()),
                    virtual_machine_image_id: None,
                },
                None => ImageBody {
                    offer: None,
                    virtual_machine_image_id: m.image_id.known().cloned(),
                },
            },
        }
    }

    fn lookup(w: &WirePaths, p: &str) -> Option<String> {
        w.lookup(p).map(|p| p.to_string())
    }

    #[test]
    fn derives_leaves_blocks_lists_bools_and_alternatives() {
        let w = WirePaths::derive(&ty(), expand);
        let cases = [
            ("id", Some("name")),
            ("targetSize", Some("size")),
            ("enableThing", Some("enabled")),
            ("networkConfiguration.subnetId", Some("net.subnet")),
            ("subnetid", Some("net.subnet")),
            ("networkConfiguration", Some("net")),
            ("dataDisks[2].lun", Some("disks")),
            ("lun", Some("disks")),
            ("imageReference.offer", Some("image")),
            ("imageReference.virtualMachineImageId", Some("image_id")),
            ("metadata", Some("tags")),
            ("nothing", None),
        ];
        for (prop, want) in cases {
            assert_eq!(lookup(&w, prop).as_deref(), want, "{prop}");
        }
    }

    #[test]
    fn ambiguous_last_segments_name_nothing_and_merge_adds_calls() {
        #[derive(Serialize)]
        struct Two {
            a: Inner,
            b: Inner,
        }
        #[derive(Serialize)]
        struct Inner {
            value: Option<String>,
        }
        let two = |m: &Model| Two {
            a: Inner {
                value: m.name.known().cloned(),
            },
            b: Inner {
                value: m.image.known().cloned(),
            },
        };
        let w = WirePaths::derive(&ty(), two);
        assert_eq!(lookup(&w, "value"), None, "two attributes end in `value`");
        assert_eq!(lookup(&w, "b.value").as_deref(), Some("image"));
        assert_eq!(lookup(&w, "targetSize"), None);
        let w = w.merge(WirePaths::derive(&ty(), expand));
        assert_eq!(lookup(&w, "targetSize").as_deref(), Some("size"));
        assert!(w.entries().count() > 10);
    }

    #[test]
    fn a_model_that_cannot_read_the_sample_derives_nothing() {
        #[derive(Deserialize)]
        struct Wrong {
            #[allow(dead_code)]
            name: i64,
        }
        let w = WirePaths::derive(&ty(), |_: &Wrong| serde_json::json!({"id": "x"}));
        assert_eq!(w.entries().count(), 0);
    }
}
