//! `Tf<T>`: a value that may be null or not yet known, as plan-time code sees it.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{Deserialize, Deserializer, Visitor};
use serde::ser::{Serialize, Serializer};

use super::{TF_MARKER, UNKNOWN_MARKER};

/// A Terraform value of type `T` with null and unknown made explicit (terraform-plugin-framework's
/// `types.String` and friends). Use it where plan-time code must tell "not set" from "known after
/// apply"; elsewhere `Option<T>` is simpler.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Tf<T> {
    #[default]
    Null,
    Unknown,
    Known(T),
}

impl<T> Tf<T> {
    pub fn is_null(&self) -> bool {
        matches!(self, Tf::Null)
    }
    pub fn is_unknown(&self) -> bool {
        matches!(self, Tf::Unknown)
    }
    pub fn is_known(&self) -> bool {
        matches!(self, Tf::Known(_))
    }
    /// The known value, if any.
    pub fn known(&self) -> Option<&T> {
        match self {
            Tf::Known(v) => Some(v),
            _ => None,
        }
    }
    pub fn into_known(self) -> Option<T> {
        match self {
            Tf::Known(v) => Some(v),
            _ => None,
        }
    }
    pub fn as_ref(&self) -> Tf<&T> {
        match self {
            Tf::Null => Tf::Null,
            Tf::Unknown => Tf::Unknown,
            Tf::Known(v) => Tf::Known(v),
        }
    }
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Tf<U> {
        match self {
            Tf::Null => Tf::Null,
            Tf::Unknown => Tf::Unknown,
            Tf::Known(v) => Tf::Known(f(v)),
        }
    }
}

impl<T> From<Option<T>> for Tf<T> {
    fn from(o: Option<T>) -> Self {
        o.map_or(Tf::Null, Tf::Known)
    }
}

impl<T: Serialize> Serialize for Tf<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Tf::Null => s.serialize_none(),
            Tf::Unknown => s.serialize_unit_struct(UNKNOWN_MARKER),
            Tf::Known(v) => v.serialize(s),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Tf<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Tf<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a Terraform value")
            }
            fn visit_none<E>(self) -> Result<Tf<T>, E> {
                Ok(Tf::Null)
            }
            fn visit_unit<E>(self) -> Result<Tf<T>, E> {
                Ok(Tf::Unknown)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Tf<T>, D::Error> {
                T::deserialize(d).map(Tf::Known)
            }
            // Deserializers other than ours (e.g. serde_json in tests) see a newtype struct.
            fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Tf<T>, D::Error> {
                Option::<T>::deserialize(d).map(Tf::from)
            }
        }
        d.deserialize_newtype_struct(TF_MARKER, V(PhantomData))
    }
}
