//! `Serializer` into `Value`, then shaped by the schema's type: any `#[derive(Serialize)]` model
//! writes a Terraform value.

use std::collections::BTreeMap;

use serde::ser::{self, Impossible, Serialize};

use super::{ModelError, UNKNOWN_MARKER};
use crate::types::Type;
use crate::value::{Number, Value};

/// Writes a model as a value of type `ty` (a resource's `schema.value_type()` or a part of it).
pub fn to_value<T: Serialize + ?Sized>(model: &T, ty: &Type) -> Result<Value, ModelError> {
    let raw = model.serialize(ValueSer)?;
    conform(raw, ty)
}

/// Gives an untyped value the shape `ty` says: list/set and map/object kinds, null for
/// attributes the model leaves out, an error for attributes the type does not have.
fn conform(v: Value, ty: &Type) -> Result<Value, ModelError> {
    Ok(match (v, ty) {
        (v @ (Value::Null | Value::Unknown), _) => v,
        (v, Type::Dynamic) => v,
        (Value::List(items) | Value::Set(items) | Value::Tuple(items), Type::List(t)) => {
            Value::List(conform_all(items, t)?)
        }
        (Value::List(items) | Value::Set(items) | Value::Tuple(items), Type::Set(t)) => {
            Value::Set(conform_all(items, t)?)
        }
        (Value::List(items) | Value::Set(items) | Value::Tuple(items), Type::Tuple(ts)) => {
            if items.len() != ts.len() {
                return Err(ModelError::new(format!(
                    "expected a tuple of {} elements, found {}",
                    ts.len(),
                    items.len()
                )));
            }
            Value::Tuple(
                items
                    .into_iter()
                    .zip(ts)
                    .map(|(v, t)| conform(v, t))
                    .collect::<Result<_, _>>()?,
            )
        }
        (Value::Map(m) | Value::Object(m), Type::Map(t)) => {
            let mut out = BTreeMap::new();
            for (k, v) in m {
                let v = conform(v, t).map_err(|e| e.within(&format!("[{k:?}]")))?;
                out.insert(k, v);
            }
            Value::Map(out)
        }
        (Value::Map(mut m) | Value::Object(mut m), Type::Object(attrs)) => {
            let mut out = BTreeMap::new();
            for (name, t) in attrs {
                let v = m.remove(name).unwrap_or(Value::Null);
                out.insert(name.clone(), conform(v, t).map_err(|e| e.within(name))?);
            }
            if let Some(extra) = m.keys().next() {
                return Err(ModelError::new(format!(
                    "the model has {extra:?}, which the schema does not declare"
                )));
            }
            Value::Object(out)
        }
        (v @ Value::String(_), Type::String)
        | (v @ Value::Bool(_), Type::Bool)
        | (v @ Value::Number(_), Type::Number) => v,
        // Enums and numbers written as text stay text where the schema says string.
        (Value::Number(n), Type::String) => Value::String(n.canonical()),
        (v, ty) => {
            return Err(ModelError::new(format!(
                "the model wrote {v:?} where the schema has type {}",
                ty.to_json()
            )));
        }
    })
}

fn conform_all(items: Vec<Value>, t: &Type) -> Result<Vec<Value>, ModelError> {
    items
        .into_iter()
        .enumerate()
        .map(|(i, v)| conform(v, t).map_err(|e| e.within(&format!("[{i}]"))))
        .collect()
}

struct ValueSer;

type R = Result<Value, ModelError>;

impl ser::Serializer for ValueSer {
    type Ok = Value;
    type Error = ModelError;
    type SerializeSeq = SeqSer;
    type SerializeTuple = SeqSer;
    type SerializeTupleStruct = SeqSer;
    type SerializeTupleVariant = Impossible<Value, ModelError>;
    type SerializeMap = MapSer;
    type SerializeStruct = MapSer;
    type SerializeStructVariant = Impossible<Value, ModelError>;

    fn serialize_bool(self, v: bool) -> R {
        Ok(Value::Bool(v))
    }
    fn serialize_i8(self, v: i8) -> R {
        Ok(Value::int(v.into()))
    }
    fn serialize_i16(self, v: i16) -> R {
        Ok(Value::int(v.into()))
    }
    fn serialize_i32(self, v: i32) -> R {
        Ok(Value::int(v.into()))
    }
    fn serialize_i64(self, v: i64) -> R {
        Ok(Value::int(v))
    }
    fn serialize_u8(self, v: u8) -> R {
        Ok(Value::int(v.into()))
    }
    fn serialize_u16(self, v: u16) -> R {
        Ok(Value::int(v.into()))
    }
    fn serialize_u32(self, v: u32) -> R {
        Ok(Value::int(v.into()))
    }
    fn serialize_u64(self, v: u64) -> R {
        Ok(match i64::try_from(v) {
            Ok(i) => Value::int(i),
            Err(_) => Value::Number(Number::Big(v.to_string())),
        })
    }
    fn serialize_f32(self, v: f32) -> R {
        self.serialize_f64(v.into())
    }
    fn serialize_f64(self, v: f64) -> R {
        Ok(Value::Number(Number::Float(v)))
    }
    fn serialize_char(self, v: char) -> R {
        Ok(Value::String(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> R {
        Ok(Value::string(v))
    }
    fn serialize_bytes(self, _v: &[u8]) -> R {
        Err(ModelError::new(
            "bytes have no Terraform type; use a string",
        ))
    }
    fn serialize_none(self) -> R {
        Ok(Value::Null)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> R {
        v.serialize(self)
    }
    fn serialize_unit(self) -> R {
        Ok(Value::Null)
    }
    fn serialize_unit_struct(self, name: &'static str) -> R {
        Ok(if name == UNKNOWN_MARKER {
            Value::Unknown
        } else {
            Value::Null
        })
    }
    fn serialize_unit_variant(self, _n: &'static str, _i: u32, variant: &'static str) -> R {
        Ok(Value::string(variant))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _n: &'static str, v: &T) -> R {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _n: &'static str,
        _i: u32,
        variant: &'static str,
        _v: &T,
    ) -> R {
        Err(ModelError::new(format!(
            "enum variant {variant} carries data; only unit variants map to strings"
        )))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<SeqSer, ModelError> {
        Ok(SeqSer(Vec::with_capacity(len.unwrap_or(0))))
    }
    fn serialize_tuple(self, len: usize) -> Result<SeqSer, ModelError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _n: &'static str, len: usize) -> Result<SeqSer, ModelError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _n: &'static str,
        _i: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, ModelError> {
        Err(ModelError::new(format!(
            "enum variant {variant} carries data"
        )))
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<MapSer, ModelError> {
        Ok(MapSer::default())
    }
    fn serialize_struct(self, _n: &'static str, _len: usize) -> Result<MapSer, ModelError> {
        Ok(MapSer::default())
    }
    fn serialize_struct_variant(
        self,
        _n: &'static str,
        _i: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, ModelError> {
        Err(ModelError::new(format!(
            "enum variant {variant} carries data"
        )))
    }
}

struct SeqSer(Vec<Value>);

impl ser::SerializeSeq for SeqSer {
    type Ok = Value;
    type Error = ModelError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), ModelError> {
        self.0.push(v.serialize(ValueSer)?);
        Ok(())
    }
    fn end(self) -> R {
        Ok(Value::List(self.0))
    }
}

impl ser::SerializeTuple for SeqSer {
    type Ok = Value;
    type Error = ModelError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), ModelError> {
        ser::SerializeSeq::serialize_element(self, v)
    }
    fn end(self) -> R {
        ser::SerializeSeq::end(self)
    }
}

impl ser::SerializeTupleStruct for SeqSer {
    type Ok = Value;
    type Error = ModelError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), ModelError> {
        ser::SerializeSeq::serialize_element(self, v)
    }
    fn end(self) -> R {
        ser::SerializeSeq::end(self)
    }
}

#[derive(Default)]
struct MapSer {
    map: BTreeMap<String, Value>,
    key: Option<String>,
}

impl ser::SerializeMap for MapSer {
    type Ok = Value;
    type Error = ModelError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, k: &T) -> Result<(), ModelError> {
        match k.serialize(ValueSer)? {
            Value::String(s) => {
                self.key = Some(s);
                Ok(())
            }
            other => Err(ModelError::new(format!(
                "map keys must be strings, found {other:?}"
            ))),
        }
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), ModelError> {
        let k = self
            .key
            .take()
            .ok_or_else(|| ModelError::new("map value without a key"))?;
        let v = v.serialize(ValueSer).map_err(|e| e.within(&k))?;
        self.map.insert(k, v);
        Ok(())
    }
    fn end(self) -> R {
        Ok(Value::Map(self.map))
    }
}

impl ser::SerializeStruct for MapSer {
    type Ok = Value;
    type Error = ModelError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        name: &'static str,
        v: &T,
    ) -> Result<(), ModelError> {
        let v = v.serialize(ValueSer).map_err(|e| e.within(name))?;
        self.map.insert(name.to_string(), v);
        Ok(())
    }
    fn end(self) -> R {
        Ok(Value::Object(self.map))
    }
}
