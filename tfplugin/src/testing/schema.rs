//! The schema as Terraform sees it: read back from the `GetProviderSchema` answer (not from the
//! framework's own `Schema`), so the harness checks what the provider actually told Terraform.

use std::collections::BTreeMap;

use tfplugin_proto::tfplugin6 as pb;

use crate::types::Type;
use crate::value::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    Single,
    Group,
    List,
    Set,
    Map,
}

#[derive(Clone, Debug)]
pub(crate) struct Attr {
    pub name: String,
    pub ty: Type,
    pub required: bool,
    pub optional: bool,
    pub computed: bool,
    pub sensitive: bool,
    pub write_only: bool,
}

#[derive(Clone, Debug)]
pub(crate) struct Nested {
    pub name: String,
    pub mode: Mode,
    pub block: Block,
    pub min_items: i64,
    pub max_items: i64,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Block {
    pub attrs: Vec<Attr>,
    pub blocks: Vec<Nested>,
}

/// One resource, data source or provider schema.
#[derive(Clone, Debug)]
pub(crate) struct TfSchema {
    pub version: i64,
    pub block: Block,
    pub ty: Type,
}

impl TfSchema {
    /// Reads a schema, applying the rules Terraform checks when it loads one (`InternalValidate`).
    pub fn from_proto(s: &pb::Schema, errs: &mut Vec<String>) -> TfSchema {
        let block = s
            .block
            .as_ref()
            .map(|b| read_block(b, "", false, errs))
            .unwrap_or_default();
        let ty = block.value_type();
        TfSchema {
            version: s.version,
            block,
            ty,
        }
    }
}

fn valid_name(n: &str) -> bool {
    !n.is_empty()
        && n.bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_')
}

fn nested_attr_type(o: &pb::schema::Object, errs: &mut Vec<String>, path: &str) -> Type {
    use pb::schema::object::NestingMode as M;
    let obj = Type::object(o.attributes.iter().map(|a| {
        let t = attr_type(a, errs, &format!("{path}.{}", a.name));
        (a.name.clone(), t)
    }));
    match M::try_from(o.nesting) {
        Ok(M::Single) => obj,
        Ok(M::List) => Type::list(obj),
        Ok(M::Set) => Type::set(obj),
        Ok(M::Map) => Type::map(obj),
        _ => {
            errs.push(format!("{path}: invalid nesting mode {}", o.nesting));
            obj
        }
    }
}

fn attr_type(a: &pb::schema::Attribute, errs: &mut Vec<String>, path: &str) -> Type {
    match (&a.nested_type, a.r#type.is_empty()) {
        (Some(o), true) => nested_attr_type(o, errs, path),
        (None, false) => serde_json::from_slice::<serde_json::Value>(&a.r#type)
            .map_err(|e| e.to_string())
            .and_then(|j| Type::from_json(&j))
            .unwrap_or_else(|e| {
                errs.push(format!("{path}: invalid type: {e}"));
                Type::Dynamic
            }),
        _ => {
            errs.push(format!(
                "{path}: exactly one of type and nested_type must be set"
            ));
            Type::Dynamic
        }
    }
}

fn read_block(b: &pb::schema::Block, path: &str, in_set: bool, errs: &mut Vec<String>) -> Block {
    use pb::schema::nested_block::NestingMode as M;
    let mut out = Block::default();
    let mut seen = std::collections::HashSet::new();
    let join = |n: &str| {
        if path.is_empty() {
            n.to_string()
        } else {
            format!("{path}.{n}")
        }
    };
    for a in &b.attributes {
        let p = join(&a.name);
        if !valid_name(&a.name) {
            errs.push(format!(
                "{p}: name may contain only lowercase letters, digits and underscores"
            ));
        }
        if !seen.insert(a.name.clone()) {
            errs.push(format!("{p}: defined more than once"));
        }
        if !a.required && !a.optional && !a.computed {
            errs.push(format!("{p}: must set Optional, Required or Computed"));
        }
        if a.required && (a.optional || a.computed) {
            errs.push(format!(
                "{p}: cannot set both Required and Optional/Computed"
            ));
        }
        if a.write_only && a.computed {
            errs.push(format!("{p}: write-only attributes cannot be Computed"));
        }
        if a.write_only && in_set {
            errs.push(format!("{p}: write-only attributes cannot be inside a set"));
        }
        if !a.deprecated && !a.deprecation_message.is_empty() {
            errs.push(format!("{p}: deprecation_message without deprecated"));
        }
        out.attrs.push(Attr {
            name: a.name.clone(),
            ty: attr_type(a, errs, &p),
            required: a.required,
            optional: a.optional,
            computed: a.computed,
            sensitive: a.sensitive,
            write_only: a.write_only,
        });
    }
    for nb in &b.block_types {
        let p = join(&nb.type_name);
        if !valid_name(&nb.type_name) {
            errs.push(format!(
                "{p}: name may contain only lowercase letters, digits and underscores"
            ));
        }
        if !seen.insert(nb.type_name.clone()) {
            errs.push(format!("{p}: defined more than once"));
        }
        let mode = match M::try_from(nb.nesting) {
            Ok(M::Single) => Mode::Single,
            Ok(M::Group) => Mode::Group,
            Ok(M::List) => Mode::List,
            Ok(M::Set) => Mode::Set,
            Ok(M::Map) => Mode::Map,
            _ => {
                errs.push(format!("{p}: invalid nesting mode {}", nb.nesting));
                Mode::Single
            }
        };
        let (min, max) = (nb.min_items, nb.max_items);
        match mode {
            Mode::Single | Mode::Group if min != max || min > 1 => errs.push(format!(
                "{p}: MinItems and MaxItems must be equal and 0 or 1 in NestingSingle/Group mode"
            )),
            Mode::Map if min != 0 || max != 0 => errs.push(format!(
                "{p}: MinItems and MaxItems must both be 0 in NestingMap mode"
            )),
            Mode::List | Mode::Set if min < 0 || max < 0 || (max != 0 && min > max) => {
                errs.push(format!("{p}: MinItems must be at most MaxItems"))
            }
            _ => {}
        }
        let inner = nb
            .block
            .as_ref()
            .map(|ib| read_block(ib, &p, in_set || mode == Mode::Set, errs))
            .unwrap_or_default();
        out.blocks.push(Nested {
            name: nb.type_name.clone(),
            mode,
            block: inner,
            min_items: min,
            max_items: max,
        });
    }
    out
}

impl Nested {
    pub fn value_type(&self) -> Type {
        let obj = self.block.value_type();
        match self.mode {
            Mode::Single | Mode::Group => obj,
            Mode::List => Type::list(obj),
            Mode::Set => Type::set(obj),
            Mode::Map => Type::map(obj),
        }
    }
}

impl Block {
    pub fn value_type(&self) -> Type {
        let mut m = BTreeMap::new();
        for a in &self.attrs {
            m.insert(a.name.clone(), a.ty.clone());
        }
        for b in &self.blocks {
            m.insert(b.name.clone(), b.value_type());
        }
        Type::Object(m)
    }

    /// The value of an empty configuration block (Terraform's `Block.EmptyValue`): attributes
    /// null, single blocks null, group blocks empty objects, collection blocks empty.
    pub fn empty_value(&self) -> Value {
        let mut m = BTreeMap::new();
        for a in &self.attrs {
            m.insert(a.name.clone(), Value::Null);
        }
        for b in &self.blocks {
            m.insert(b.name.clone(), b.empty_value());
        }
        Value::Object(m)
    }

    /// Fills in what Terraform's config decoder always produces: every attribute present (null when
    /// unset), absent collection blocks as empty collections, group blocks as objects. Lets tests
    /// write configs with only the attributes they care about.
    pub fn complete(&self, v: &Value) -> Value {
        let Value::Object(src) = v else {
            return v.clone();
        };
        let mut m = src.clone();
        for a in &self.attrs {
            m.entry(a.name.clone()).or_insert(Value::Null);
        }
        for b in &self.blocks {
            let cur = m.get(&b.name).cloned().unwrap_or(Value::Null);
            let new = match (b.mode, cur) {
                (_, Value::Unknown) => Value::Unknown,
                (Mode::Single, Value::Null) => Value::Null,
                (Mode::Single | Mode::Group, o @ Value::Object(_)) => b.block.complete(&o),
                (Mode::Group, _) => b.block.empty_value(),
                (_, Value::Null) => b.empty_value(),
                (Mode::List, Value::List(items) | Value::Set(items) | Value::Tuple(items)) => {
                    Value::List(items.iter().map(|i| b.block.complete(i)).collect())
                }
                (Mode::Set, Value::List(items) | Value::Set(items) | Value::Tuple(items)) => {
                    Value::Set(items.iter().map(|i| b.block.complete(i)).collect())
                }
                (Mode::Map, Value::Map(items) | Value::Object(items)) => Value::Map(
                    items
                        .iter()
                        .map(|(k, i)| (k.clone(), b.block.complete(i)))
                        .collect(),
                ),
                (_, other) => other,
            };
            m.insert(b.name.clone(), new);
        }
        Value::Object(m)
    }
}

impl Nested {
    pub fn empty_value(&self) -> Value {
        match self.mode {
            Mode::Single => Value::Null,
            Mode::Group => self.block.empty_value(),
            Mode::List => Value::List(vec![]),
            Mode::Set => Value::Set(vec![]),
            Mode::Map => Value::Map(BTreeMap::new()),
        }
    }
}
