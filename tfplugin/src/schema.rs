//! Schemas as the framework describes them: attributes with descriptions, validators, defaults and
//! plan modifiers, nested blocks, and the conversion to the protocol's `Schema`.

use std::sync::Arc;

use tfplugin_proto::tfplugin6 as pb;

use crate::types::Type;
use crate::validators::Validator;
use crate::value::Value;

/// A resource, data source or provider schema.
#[derive(Clone)]
pub struct Schema {
    pub version: i64,
    pub block: Block,
    /// The block's value type, built once: every request decodes and encodes with it.
    ty: std::sync::OnceLock<Type>,
}

impl Schema {
    pub fn new(block: Block) -> Self {
        Schema {
            version: 0,
            block,
            ty: std::sync::OnceLock::new(),
        }
    }
    pub fn to_proto(&self) -> pb::Schema {
        pb::Schema {
            version: self.version,
            block: Some(self.block.to_proto()),
        }
    }
    /// The object type every value of this schema has.
    pub fn value_type(&self) -> &Type {
        self.ty.get_or_init(|| self.block.value_type())
    }
}

/// Plan modifiers the framework applies to an attribute after computing the default plan.
#[derive(Clone)]
pub enum PlanModifier {
    /// A change of this attribute destroys and re-creates the object.
    RequiresReplace,
    /// Keep the prior state's value instead of "known after apply" when the config leaves it unset.
    UseStateForUnknown,
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
    pub plan_modifiers: Vec<PlanModifier>,
    /// Value planned when the config leaves the attribute null (the attribute must be computed).
    pub default: Option<Value>,
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
        }
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
    pub fn requires_replace(mut self) -> Self {
        self.plan_modifiers.push(PlanModifier::RequiresReplace);
        self
    }
    pub fn use_state_for_unknown(mut self) -> Self {
        self.plan_modifiers.push(PlanModifier::UseStateForUnknown);
        self
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
    pub fn has_modifier(&self, m: fn(&PlanModifier) -> bool) -> bool {
        self.plan_modifiers.iter().any(m)
    }
    pub fn is_requires_replace(&self) -> bool {
        self.has_modifier(|m| matches!(m, PlanModifier::RequiresReplace))
    }

    fn to_proto(&self) -> pb::schema::Attribute {
        pb::schema::Attribute {
            name: self.name.clone(),
            r#type: serde_json::to_vec(&self.ty.to_json()).expect("type json"),
            nested_type: None,
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
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }
    pub fn nested(&self, name: &str) -> Option<&NestedBlock> {
        self.blocks.iter().find(|b| b.name == name)
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
