//! Schemas as the framework describes them: attributes with descriptions, validators, defaults,
//! plan modifiers and semantic equality, nested attributes and blocks, cross-attribute rules, and
//! the conversion to the protocol's `Schema`.

mod modifiers;
mod rules;

use std::sync::Arc;

use tfplugin_proto::tfplugin6 as pb;

use crate::semantics::Semantics;
use crate::types::Type;
use crate::validators::Validator;
use crate::value::Value;

pub use modifiers::{
    AttrPlanRequest, AttrPlanResponse, PlanModifier, RequiresReplace, RequiresReplaceIf,
    UseStateForUnknown,
};
pub use rules::Rule;

/// A resource, data source or provider schema.
#[derive(Clone)]
pub struct Schema {
    pub version: i64,
    pub block: Block,
    /// The block's value type, built once: every request decodes and encodes with it.
    ty: std::sync::OnceLock<Type>,
    /// Whether a plan modifier reads the whole planned object (so plans must snapshot it).
    snapshot: std::sync::OnceLock<bool>,
}

impl Schema {
    pub fn new(block: Block) -> Self {
        Schema {
            version: 0,
            block,
            ty: std::sync::OnceLock::new(),
            snapshot: std::sync::OnceLock::new(),
        }
    }
    /// True when some attribute's plan modifier reads `AttrPlanRequest::planned_state`.
    pub fn modifiers_read_planned_state(&self) -> bool {
        fn any(b: &Block) -> bool {
            b.attributes.iter().any(|a| {
                a.plan_modifiers.iter().any(|m| m.reads_planned_state())
                    || a.nested.as_ref().is_some_and(|n| any(&n.block))
            }) || b.blocks.iter().any(|n| any(&n.block))
        }
        *self.snapshot.get_or_init(|| any(&self.block))
    }
    pub fn to_proto(&self) -> pb::Schema {
        pb::Schema {
            version: self.version,
            block: Some(self.block.to_proto()),
        }
    }
    /// Mistakes in the schema the protocol types cannot catch: rules naming something the block
    /// does not have. Empty when the schema is sound; the framework asserts this in debug builds.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.block.problems(&mut Vec::new(), &mut out);
        out
    }
    /// The object type every value of this schema has.
    pub fn value_type(&self) -> &Type {
        self.ty.get_or_init(|| self.block.value_type())
    }
}

/// The attributes inside a nested attribute (the protocol's `Schema.Object`): held as a block
/// with attributes only, so the framework walks them as it walks nested blocks.
#[derive(Clone)]
pub struct NestedAttributes {
    pub nesting: Nesting,
    pub block: Block,
}

#[derive(Clone)]
pub struct Attribute {
    pub name: String,
    pub ty: Type,
    pub description: String,
    pub required: bool,
    pub optional: bool,
    pub computed: bool,
    pub sensitive: bool,
    pub write_only: bool,
    pub deprecated: Option<String>,
    pub validators: Vec<Arc<dyn Validator>>,
    /// Run in this order after defaults and unknown-marking.
    pub plan_modifiers: Vec<Arc<dyn PlanModifier>>,
    /// Value planned when the config leaves the attribute null (the attribute must be computed).
    pub default: Option<Value>,
    /// When two values mean the same (see [`crate::semantics`]).
    pub semantics: Option<Arc<dyn Semantics>>,
    /// The value the service fills in when the attribute is unset; read back as null then.
    pub server_default: Option<Value>,
    /// Set for a nested attribute: its value is an object, or a list, set or map of objects.
    pub nested: Option<NestedAttributes>,
}

impl Attribute {
    pub fn new(name: &str, ty: Type) -> Self {
        Attribute {
            name: name.to_string(),
            ty,
            description: String::new(),
            required: false,
            optional: false,
            computed: false,
            sensitive: false,
            write_only: false,
            deprecated: None,
            validators: Vec::new(),
            plan_modifiers: Vec::new(),
            default: None,
            semantics: None,
            server_default: None,
            nested: None,
        }
    }
    /// A nested attribute (protocol `nested_type`): an object (`Single`), or a list, set or map
    /// of objects with the given attributes. Unlike a nested block it can be null, computed,
    /// have a default and be replaced as a whole.
    pub fn nested(name: &str, nesting: Nesting, attributes: Vec<Attribute>) -> Self {
        Self::nested_object(
            name,
            nesting,
            Block {
                attributes,
                ..Default::default()
            },
        )
    }
    /// Like [`Attribute::nested`], with the element object given as a block of attributes, so it
    /// can carry rules (`exactly_one_of`, ...) checked on every element. The protocol has no
    /// blocks inside nested attributes: `object` must have none.
    pub fn nested_object(name: &str, nesting: Nesting, object: Block) -> Self {
        assert!(
            object.blocks.is_empty(),
            "nested attribute {name}: nested attributes cannot contain blocks"
        );
        let block = object;
        let obj = block.value_type();
        let ty = match nesting {
            Nesting::Single => obj,
            Nesting::List => Type::list(obj),
            Nesting::Set => Type::set(obj),
            Nesting::Map => Type::map(obj),
        };
        let mut a = Self::new(name, ty);
        a.nested = Some(NestedAttributes { nesting, block });
        a
    }
    pub fn string(name: &str) -> Self {
        Self::new(name, Type::String)
    }
    pub fn number(name: &str) -> Self {
        Self::new(name, Type::Number)
    }
    pub fn bool(name: &str) -> Self {
        Self::new(name, Type::Bool)
    }
    pub fn string_map(name: &str) -> Self {
        Self::new(name, Type::map(Type::String))
    }
    pub fn string_list(name: &str) -> Self {
        Self::new(name, Type::list(Type::String))
    }
    pub fn string_set(name: &str) -> Self {
        Self::new(name, Type::set(Type::String))
    }
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }
    pub fn optional(mut self) -> Self {
        self.optional = true;
        self
    }
    pub fn computed(mut self) -> Self {
        self.computed = true;
        self
    }
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }
    pub fn write_only(mut self) -> Self {
        self.write_only = true;
        self
    }
    pub fn description(mut self, d: impl Into<String>) -> Self {
        self.description = d.into();
        self
    }
    pub fn validate(mut self, v: impl Validator + 'static) -> Self {
        self.validators.push(Arc::new(v));
        self
    }
    pub fn requires_replace(self) -> Self {
        self.plan_modifier(RequiresReplace)
    }
    pub fn use_state_for_unknown(self) -> Self {
        self.plan_modifier(UseStateForUnknown)
    }
    /// Adds a plan modifier; modifiers run in the order they are added.
    pub fn plan_modifier(mut self, m: impl PlanModifier + 'static) -> Self {
        self.plan_modifiers.push(Arc::new(m));
        self
    }
    /// Declares when two values of this attribute mean the same thing.
    pub fn semantics(mut self, s: impl Semantics + 'static) -> Self {
        self.semantics = Some(Arc::new(s));
        self
    }
    /// The value the service fills in when the attribute is unset: a read (or apply) that returns
    /// it where the prior (or planned) value is null keeps null.
    pub fn server_default(mut self, v: Value) -> Self {
        self.server_default = Some(v);
        self
    }
    /// The semantics' sentence for documentation, if the attribute declares semantics.
    pub fn semantics_description(&self) -> Option<String> {
        self.semantics.as_ref().map(|s| s.describe())
    }
    /// True when `a` and `b` mean the same: semantically equal for known, non-null values when
    /// the attribute declares semantics, else `==`.
    pub fn same_value(&self, a: &Value, b: &Value) -> bool {
        if a == b {
            return true;
        }
        match &self.semantics {
            Some(s) if is_known_set(a) && is_known_set(b) => s.equal(a, b),
            _ => false,
        }
    }
    /// Optional + computed with a static default used when the config leaves it unset.
    pub fn default(mut self, v: Value) -> Self {
        self.optional = true;
        self.computed = true;
        self.default = Some(v);
        self
    }
    pub fn deprecated(mut self, msg: impl Into<String>) -> Self {
        self.deprecated = Some(msg.into());
        self
    }
    pub fn has_modifier(&self, m: impl Fn(&dyn PlanModifier) -> bool) -> bool {
        self.plan_modifiers.iter().any(|p| m(p.as_ref()))
    }
    /// True when any change of the attribute replaces the object (an unconditional `RequiresReplace`).
    pub fn is_requires_replace(&self) -> bool {
        self.has_modifier(|m| m.is_requires_replace())
    }

    fn to_proto(&self) -> pb::schema::Attribute {
        let (r#type, nested_type) = match &self.nested {
            None => (
                serde_json::to_vec(&self.ty.to_json()).expect("type json"),
                None,
            ),
            Some(n) => (Vec::new(), Some(n.to_proto())),
        };
        pb::schema::Attribute {
            name: self.name.clone(),
            r#type,
            nested_type,
            description: self.description.clone(),
            required: self.required,
            optional: self.optional,
            computed: self.computed,
            sensitive: self.sensitive,
            description_kind: pb::StringKind::Markdown as i32,
            deprecated: self.deprecated.is_some(),
            write_only: self.write_only,
            deprecation_message: self.deprecated.clone().unwrap_or_default(),
        }
    }
}

fn is_known_set(v: &Value) -> bool {
    !v.is_null() && !v.is_unknown()
}

impl NestedAttributes {
    fn to_proto(&self) -> pb::schema::Object {
        use pb::schema::object::NestingMode;
        let nesting = match self.nesting {
            Nesting::Single => NestingMode::Single,
            Nesting::List => NestingMode::List,
            Nesting::Set => NestingMode::Set,
            Nesting::Map => NestingMode::Map,
        };
        #[allow(deprecated)]
        pb::schema::Object {
            attributes: self
                .block
                .attributes
                .iter()
                .map(Attribute::to_proto)
                .collect(),
            nesting: nesting as i32,
            min_items: 0,
            max_items: 0,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nesting {
    /// At most one block; its value is an object or null.
    Single,
    List,
    Set,
    Map,
}

#[derive(Clone)]
pub struct NestedBlock {
    pub name: String,
    pub nesting: Nesting,
    pub block: Block,
    pub min_items: i64,
    pub max_items: i64,
    /// Adding, removing or changing the block replaces the object.
    pub requires_replace: bool,
}

impl NestedBlock {
    pub fn single(name: &str, block: Block) -> Self {
        NestedBlock {
            name: name.into(),
            nesting: Nesting::Single,
            block,
            min_items: 0,
            max_items: 0,
            requires_replace: false,
        }
    }
    pub fn list(name: &str, block: Block) -> Self {
        NestedBlock {
            name: name.into(),
            nesting: Nesting::List,
            block,
            min_items: 0,
            max_items: 0,
            requires_replace: false,
        }
    }
    pub fn set(name: &str, block: Block) -> Self {
        NestedBlock {
            name: name.into(),
            nesting: Nesting::Set,
            block,
            min_items: 0,
            max_items: 0,
            requires_replace: false,
        }
    }
    pub fn min_items(mut self, n: i64) -> Self {
        self.min_items = n;
        self
    }
    pub fn max_items(mut self, n: i64) -> Self {
        self.max_items = n;
        self
    }
    pub fn requires_replace(mut self) -> Self {
        self.requires_replace = true;
        self
    }
    pub fn value_type(&self) -> Type {
        let obj = self.block.value_type();
        match self.nesting {
            Nesting::Single => obj,
            Nesting::List => Type::list(obj),
            Nesting::Set => Type::set(obj),
            Nesting::Map => Type::map(obj),
        }
    }
    fn to_proto(&self) -> pb::schema::NestedBlock {
        use pb::schema::nested_block::NestingMode;
        let nesting = match self.nesting {
            Nesting::Single => NestingMode::Single,
            Nesting::List => NestingMode::List,
            Nesting::Set => NestingMode::Set,
            Nesting::Map => NestingMode::Map,
        };
        // Terraform wants min == max (0 or 1) on SINGLE blocks and 0/0 on MAP blocks.
        let (min, max) = match self.nesting {
            Nesting::Single => (self.min_items.min(1), self.min_items.min(1)),
            Nesting::Map => (0, 0),
            _ => (self.min_items, self.max_items),
        };
        pb::schema::NestedBlock {
            type_name: self.name.clone(),
            block: Some(self.block.to_proto()),
            nesting: nesting as i32,
            min_items: min,
            max_items: max,
        }
    }
}

#[derive(Clone, Default)]
pub struct Block {
    pub description: String,
    pub attributes: Vec<Attribute>,
    pub blocks: Vec<NestedBlock>,
    pub deprecated: Option<String>,
    /// Cross-attribute rules checked on every instance of the block.
    pub rules: Vec<Rule>,
}

impl Block {
    pub fn new(description: impl Into<String>) -> Self {
        Block {
            description: description.into(),
            ..Default::default()
        }
    }
    pub fn attr(mut self, a: Attribute) -> Self {
        self.attributes.push(a);
        self
    }
    pub fn block(mut self, b: NestedBlock) -> Self {
        self.blocks.push(b);
        self
    }
    /// Exactly one of the named attributes or blocks must be set.
    pub fn exactly_one_of(mut self, names: &[&str]) -> Self {
        self.rules.push(Rule::ExactlyOneOf(owned(names)));
        self
    }
    /// At least one of the named attributes or blocks must be set.
    pub fn at_least_one_of(mut self, names: &[&str]) -> Self {
        self.rules.push(Rule::AtLeastOneOf(owned(names)));
        self
    }
    /// When `a` is set, none of `others` may be.
    pub fn conflicts_with(mut self, a: &str, others: &[&str]) -> Self {
        self.rules
            .push(Rule::ConflictsWith(a.to_string(), owned(others)));
        self
    }
    /// When `a` is set, each of `others` must be set too.
    pub fn also_requires(mut self, a: &str, others: &[&str]) -> Self {
        self.rules
            .push(Rule::AlsoRequires(a.to_string(), owned(others)));
        self
    }
    /// The block's cross-attribute rules (for documentation: `Rule::describe`).
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }
    pub fn nested(&self, name: &str) -> Option<&NestedBlock> {
        self.blocks.iter().find(|b| b.name == name)
    }
    /// The block with each nested block turned into an optional nested attribute of the same
    /// nesting, recursively: for an object written as `name = { ... }` (e.g. the element of a
    /// map of objects), which cannot contain blocks. The nested blocks' `requires_replace`,
    /// `min_items` and `max_items` are dropped: a nested attribute replaces as its attributes say.
    pub fn to_nested_attributes(&self) -> Block {
        let mut b = Block {
            description: self.description.clone(),
            attributes: self.attributes.clone(),
            blocks: Vec::new(),
            deprecated: self.deprecated.clone(),
            rules: self.rules.clone(),
        };
        for n in &self.blocks {
            let mut a =
                Attribute::nested_object(&n.name, n.nesting, n.block.to_nested_attributes())
                    .optional()
                    .description(n.block.description.clone());
            a.deprecated = n.block.deprecated.clone();
            b.attributes.push(a);
        }
        b
    }
    pub fn value_type(&self) -> Type {
        let mut attrs = std::collections::BTreeMap::new();
        for a in &self.attributes {
            attrs.insert(a.name.clone(), a.ty.clone());
        }
        for b in &self.blocks {
            attrs.insert(b.name.clone(), b.value_type());
        }
        Type::Object(attrs)
    }
    fn problems(&self, path: &mut Vec<String>, out: &mut Vec<String>) {
        for r in &self.rules {
            for n in r.names() {
                if self.attribute(n).is_none() && self.nested(n).is_none() {
                    let at = if path.is_empty() {
                        "the top level".to_string()
                    } else {
                        format!("`{}`", path.join("."))
                    };
                    out.push(format!(
                        "rule {:?} names `{n}`, which {at} does not have",
                        r.describe()
                    ));
                }
            }
        }
        let nested = self
            .attributes
            .iter()
            .filter_map(|a| a.nested.as_ref().map(|n| (&a.name, &n.block)))
            .chain(self.blocks.iter().map(|b| (&b.name, &b.block)));
        for (name, block) in nested {
            path.push(name.clone());
            block.problems(path, out);
            path.pop();
        }
    }
    fn to_proto(&self) -> pb::schema::Block {
        pb::schema::Block {
            version: 0,
            attributes: self.attributes.iter().map(Attribute::to_proto).collect(),
            block_types: self.blocks.iter().map(NestedBlock::to_proto).collect(),
            description: self.description.clone(),
            description_kind: pb::StringKind::Markdown as i32,
            deprecated: self.deprecated.is_some(),
            deprecation_message: self.deprecated.clone().unwrap_or_default(),
        }
    }
}

fn owned(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

/// The conventional `timeouts` block with Go duration strings (`"30m"`, `"2h45m"`) for the named
/// operations. It is plain configuration: changing it alone plans an update that makes no API call.
pub fn timeouts_block(ops: &[(&str, &str)]) -> NestedBlock {
    let mut b = Block::new("How long each operation may take before Terraform reports a timeout.");
    for (op, default) in ops {
        b = b.attr(
            Attribute::string(op)
                .optional()
                .description(format!(
                    "How long to wait for {op} to finish, as a Go duration such as `30m` or `1h30m`. Default `{default}`."
                ))
                .validate(crate::validators::GoDuration),
        );
    }
    NestedBlock::single("timeouts", b)
}

#[cfg(test)]
mod nested_attribute_tests {
    use super::*;

    #[test]
    fn blocks_become_optional_nested_attributes_of_the_same_nesting() {
        let b = Block::new("top")
            .attr(Attribute::string("a").required())
            .block(
                NestedBlock::single(
                    "one",
                    Block::new("one").block(NestedBlock::list(
                        "inner",
                        Block::new("inner").attr(Attribute::number("n").optional()),
                    )),
                )
                .requires_replace(),
            )
            .block(NestedBlock::list(
                "many",
                Block::new("many").attr(Attribute::bool("f").optional()),
            ));
        let n = b.to_nested_attributes();
        assert!(n.blocks.is_empty());
        assert_eq!(
            n.value_type(),
            b.value_type(),
            "the value type is unchanged"
        );
        let one = n.attribute("one").unwrap();
        assert!(one.optional && !one.required && !one.is_requires_replace());
        assert_eq!(one.nested.as_ref().unwrap().nesting, Nesting::Single);
        assert_eq!(one.description, "one");
        let inner = one
            .nested
            .as_ref()
            .unwrap()
            .block
            .attribute("inner")
            .unwrap();
        assert_eq!(inner.nested.as_ref().unwrap().nesting, Nesting::List);
        let many = n.attribute("many").unwrap();
        assert_eq!(many.nested.as_ref().unwrap().nesting, Nesting::List);
    }
}
