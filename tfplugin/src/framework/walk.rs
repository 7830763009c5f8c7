//! One way to walk a schema and its values, shared by planning, normalisation, validation and
//! the consistency checks: nested attributes and nested blocks are both "children" (a name, a
//! nesting mode and a block of attributes), and elements of a collection are matched to other
//! values by position (lists), by key (maps) or as the object itself (single). Set elements have
//! no identity to match on, so they are matched to nothing (Null).

use crate::diag::AttrPath;
use crate::schema::{Block, Nesting};
use crate::value::Value;

pub(crate) static NULL: Value = Value::Null;

/// A nested attribute or a nested block of a block.
pub(crate) struct Child<'a> {
    pub name: &'a str,
    pub nesting: Nesting,
    pub block: &'a Block,
    /// A nested block declared `requires_replace`: any change replaces the object.
    pub replace: bool,
}

/// The nested attributes, then the nested blocks, of a block.
pub(crate) fn children(block: &Block) -> impl Iterator<Item = Child<'_>> {
    let attrs = block.attributes.iter().filter_map(|a| {
        a.nested.as_ref().map(|n| Child {
            name: &a.name,
            nesting: n.nesting,
            block: &n.block,
            replace: false,
        })
    });
    let blocks = block.blocks.iter().map(|b| Child {
        name: &b.name,
        nesting: b.nesting,
        block: &b.block,
        replace: b.requires_replace,
    });
    attrs.chain(blocks)
}

/// True when a container value holds no element to walk (null, unknown or empty); the walks
/// skip such children without building their paths.
pub(crate) fn has_no_elements(v: &Value) -> bool {
    match v {
        Value::Null | Value::Unknown => true,
        Value::List(x) | Value::Set(x) | Value::Tuple(x) => x.is_empty(),
        Value::Map(m) => m.is_empty(),
        _ => false,
    }
}

/// The value of attribute `name` of an object, mutably.
pub(crate) fn get_mut<'v>(v: &'v mut Value, name: &str) -> Option<&'v mut Value> {
    match v {
        Value::Object(m) => m.get_mut(name),
        _ => None,
    }
}

/// Calls `f` on each element object of the container `v` (an object for `Single`), with the
/// matching element of each of `others` and the element's path. Null or unknown containers
/// have no elements.
pub(crate) fn each_element_mut<'o>(
    nesting: Nesting,
    v: &mut Value,
    others: &[&'o Value],
    path: &AttrPath,
    f: &mut dyn FnMut(&mut Value, &[&'o Value], &AttrPath),
) {
    match (nesting, v) {
        (Nesting::Single, v @ Value::Object(_)) => f(v, others, path),
        (Nesting::List, Value::List(items)) => {
            for (i, item) in items.iter_mut().enumerate() {
                let o: Vec<&'o Value> = others
                    .iter()
                    .map(|o| o.elements().get(i).unwrap_or(&NULL))
                    .collect();
                f(item, &o, &path.index(i));
            }
        }
        (Nesting::Set, Value::Set(items)) => {
            let o = vec![&NULL; others.len()];
            for (i, item) in items.iter_mut().enumerate() {
                f(item, &o, &path.index(i));
            }
        }
        (Nesting::Map, Value::Map(items)) => {
            for (k, item) in items.iter_mut() {
                let o: Vec<&'o Value> = others
                    .iter()
                    .map(|o| o.as_map().and_then(|m| m.get(k)).unwrap_or(&NULL))
                    .collect();
                f(item, &o, &path.key(k));
            }
        }
        _ => {}
    }
}

/// Calls `f` on each element object of the container `v` with its path (sets by position).
pub(crate) fn each_element(
    nesting: Nesting,
    v: &Value,
    path: &AttrPath,
    f: &mut dyn FnMut(&Value, &AttrPath),
) {
    match (nesting, v) {
        (Nesting::Single, Value::Object(_)) => f(v, path),
        (Nesting::List | Nesting::Set, Value::List(items) | Value::Set(items)) => {
            for (i, item) in items.iter().enumerate() {
                f(item, &path.index(i));
            }
        }
        (Nesting::Map, Value::Map(items)) => {
            for (k, item) in items {
                f(item, &path.key(k));
            }
        }
        _ => {}
    }
}

/// True when the two container values have different shapes: present vs absent, a different
/// number of list elements, different map keys; sets always differ when unequal.
pub(crate) fn shape_differs(nesting: Nesting, a: &Value, b: &Value) -> bool {
    if a.is_null() != b.is_null() || a.is_unknown() != b.is_unknown() {
        return true;
    }
    match nesting {
        Nesting::Single => false,
        Nesting::List => a.elements().len() != b.elements().len(),
        Nesting::Set => a != b,
        Nesting::Map => match (a.as_map(), b.as_map()) {
            (Some(x), Some(y)) => !x.keys().eq(y.keys()),
            _ => false,
        },
    }
}
