//! `Deserializer` for `&Value`: any `#[derive(Deserialize)]` model reads a Terraform value.

use std::collections::btree_map;

use serde::de::{
    self, DeserializeOwned, DeserializeSeed, EnumAccess, IntoDeserializer, MapAccess, SeqAccess,
    VariantAccess, Visitor,
};

use super::{ModelError, TF_MARKER};
use crate::value::{Number, Value};

/// Reads a model from a value (config, plan or state).
pub fn from_value<T: DeserializeOwned>(v: &Value) -> Result<T, ModelError> {
    T::deserialize(ValueDe(v))
}

struct ValueDe<'a>(&'a Value);

/// Unwraps `Dynamic` so that models see the concrete value.
fn concrete(v: &Value) -> &Value {
    match v {
        Value::Dynamic(_, inner) => concrete(inner),
        v => v,
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Unknown => "an unknown value",
        Value::Bool(_) => "a bool",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::List(_) | Value::Tuple(_) => "a list",
        Value::Set(_) => "a set",
        Value::Map(_) => "a map",
        Value::Object(_) => "an object",
        Value::Dynamic(..) => "a dynamic value",
    }
}

impl<'a> ValueDe<'a> {
    fn mismatch(&self, want: &str) -> ModelError {
        ModelError::new(format!("expected {want}, found {}", kind(self.0)))
    }
    fn number<'de, V: Visitor<'de>>(&self, n: &Number, v: V) -> Result<V::Value, ModelError> {
        match n {
            Number::Int(i) => v.visit_i64(*i),
            Number::Float(f) => v.visit_f64(*f),
            Number::Big(s) => match s.parse::<i64>() {
                Ok(i) => v.visit_i64(i),
                Err(_) => match s.parse::<f64>() {
                    Ok(f) => v.visit_f64(f),
                    Err(_) => v.visit_str(s),
                },
            },
        }
    }
}

macro_rules! forward_to_any {
    ($($m:ident)*) => { $(
        fn $m<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ModelError> { self.deserialize_any(v) }
    )* };
}

impl<'de, 'a> de::Deserializer<'de> for ValueDe<'a> {
    type Error = ModelError;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ModelError> {
        match concrete(self.0) {
            Value::Null => v.visit_unit(),
            Value::Unknown => Err(ModelError::new(
                "value is not known yet (known after apply)",
            )),
            Value::Bool(b) => v.visit_bool(*b),
            Value::Number(n) => self.number(n, v),
            Value::String(s) => v.visit_str(s),
            Value::List(items) | Value::Set(items) | Value::Tuple(items) => v.visit_seq(Seq {
                iter: items.iter(),
                index: 0,
            }),
            Value::Map(m) | Value::Object(m) => v.visit_map(Map {
                iter: m.iter(),
                value: None,
            }),
            Value::Dynamic(..) => unreachable!("concrete() unwraps Dynamic"),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ModelError> {
        match concrete(self.0) {
            Value::Null | Value::Unknown => v.visit_none(),
            _ => v.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        v: V,
    ) -> Result<V::Value, ModelError> {
        if name == TF_MARKER {
            return match concrete(self.0) {
                Value::Null => v.visit_none(),
                Value::Unknown => v.visit_unit(),
                _ => v.visit_some(self),
            };
        }
        v.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ModelError> {
        match concrete(self.0) {
            Value::Null => v.visit_seq(Seq {
                iter: [].iter(),
                index: 0,
            }),
            Value::List(_) | Value::Set(_) | Value::Tuple(_) => self.deserialize_any(v),
            _ => Err(self.mismatch("a list or set")),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, v: V) -> Result<V::Value, ModelError> {
        self.deserialize_seq(v)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        v: V,
    ) -> Result<V::Value, ModelError> {
        self.deserialize_seq(v)
    }

    fn deserialize_map<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ModelError> {
        match concrete(self.0) {
            Value::Null => v.visit_map(Map {
                iter: btree_map::Iter::default(),
                value: None,
            }),
            Value::Map(_) | Value::Object(_) => self.deserialize_any(v),
            _ => Err(self.mismatch("a map or object")),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, ModelError> {
        match concrete(self.0) {
            Value::Map(_) | Value::Object(_) => self.deserialize_any(v),
            _ => Err(self.mismatch("an object")),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, ModelError> {
        match concrete(self.0) {
            Value::String(s) => v.visit_enum(UnitVariant(s)),
            _ => Err(self.mismatch("a string")),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ModelError> {
        match concrete(self.0) {
            Value::Null => v.visit_unit(),
            _ => Err(self.mismatch("null")),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        v: V,
    ) -> Result<V::Value, ModelError> {
        self.deserialize_unit(v)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ModelError> {
        v.visit_unit()
    }

    forward_to_any! {
        deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_f32
        deserialize_f64 deserialize_char deserialize_str deserialize_string deserialize_bytes
        deserialize_byte_buf deserialize_identifier deserialize_i128 deserialize_u128
    }
}

struct Seq<'a> {
    iter: std::slice::Iter<'a, Value>,
    index: usize,
}

impl<'de, 'a> SeqAccess<'de> for Seq<'a> {
    type Error = ModelError;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, ModelError> {
        match self.iter.next() {
            None => Ok(None),
            Some(item) => {
                let i = self.index;
                self.index += 1;
                seed.deserialize(ValueDe(item))
                    .map(Some)
                    .map_err(|e| e.within(&format!("[{i}]")))
            }
        }
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

struct Map<'a> {
    iter: btree_map::Iter<'a, String, Value>,
    value: Option<(&'a String, &'a Value)>,
}

impl<'de, 'a> MapAccess<'de> for Map<'a> {
    type Error = ModelError;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, ModelError> {
        match self.iter.next() {
            None => Ok(None),
            Some((k, v)) => {
                self.value = Some((k, v));
                seed.deserialize(k.as_str().into_deserializer()).map(Some)
            }
        }
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, ModelError> {
        let (k, v) = self
            .value
            .take()
            .ok_or_else(|| ModelError::new("value requested before key"))?;
        seed.deserialize(ValueDe(v)).map_err(|e| e.within(k))
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

/// A string read as a unit enum variant.
struct UnitVariant<'a>(&'a str);

impl<'de, 'a> EnumAccess<'de> for UnitVariant<'a> {
    type Error = ModelError;
    type Variant = Self;
    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Self), ModelError> {
        let de: de::value::StrDeserializer<'_, ModelError> = self.0.into_deserializer();
        seed.deserialize(de).map(|v| (v, self))
    }
}

impl<'de, 'a> VariantAccess<'de> for UnitVariant<'a> {
    type Error = ModelError;
    fn unit_variant(self) -> Result<(), ModelError> {
        Ok(())
    }
    fn newtype_variant_seed<T: DeserializeSeed<'de>>(
        self,
        _seed: T,
    ) -> Result<T::Value, ModelError> {
        Err(ModelError::new(
            "only unit enum variants are read from strings",
        ))
    }
    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, _v: V) -> Result<V::Value, ModelError> {
        Err(ModelError::new(
            "only unit enum variants are read from strings",
        ))
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        _v: V,
    ) -> Result<V::Value, ModelError> {
        Err(ModelError::new(
            "only unit enum variants are read from strings",
        ))
    }
}
