//! The msgpack DynamicValue encoding (go-cty's `msgpack` package), driven by the schema's type.

use std::collections::BTreeMap;

use rmp::Marker;
use rmp::encode as enc;

use super::Loc;
use super::{
    CodecError, WireNumber, check_object_attrs, infer_type, map_entries, mismatch, parse_decimal,
    seq_elements, type_name, wire_number,
};
use crate::types::Type;
use crate::value::{Number, Value};

/// Extension code go-cty uses for an unknown value carrying refinements.
const REFINED_UNKNOWN_EXT: i8 = 12;
/// Nesting bound when skipping over refinement payloads we do not interpret.
const MAX_SKIP_DEPTH: usize = 64;
/// Nesting bound of decoded values (collections and dynamic values), like serde_json's limit
/// for JSON: a dynamic value can nest another at 11 bytes a level, so without it a message of a
/// few megabytes would overflow the stack.
const MAX_DEPTH: usize = 128;

/// Decodes a msgpack DynamicValue of type `ty`.
pub fn decode_msgpack(bytes: &[u8], ty: &Type) -> Result<Value, CodecError> {
    let root = Loc::Root;
    let mut r = Reader {
        buf: bytes,
        pos: 0,
        depth: 0,
    };
    let v = decode(&mut r, ty, &root)?;
    if r.pos != bytes.len() {
        return Err(CodecError::at(
            &root,
            format!("{} trailing bytes after the value", bytes.len() - r.pos),
        ));
    }
    Ok(v)
}

/// Encodes `v` as a msgpack DynamicValue of type `ty`.
pub fn encode_msgpack(v: &Value, ty: &Type) -> Result<Vec<u8>, CodecError> {
    let mut out = Vec::new();
    encode(&mut out, v, ty, &Loc::Root)?;
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Decoding

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    /// Current nesting of [`decode`].
    depth: usize,
}

impl<'a> Reader<'a> {
    fn peek(&self, path: &Loc<'_>) -> Result<Marker, CodecError> {
        self.buf
            .get(self.pos)
            .map(|b| Marker::from_u8(*b))
            .ok_or_else(|| CodecError::at(path, "unexpected end of msgpack data"))
    }

    fn marker(&mut self, path: &Loc<'_>) -> Result<Marker, CodecError> {
        let m = self.peek(path)?;
        self.pos += 1;
        Ok(m)
    }

    fn take(&mut self, n: usize, path: &Loc<'_>) -> Result<&'a [u8], CodecError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|e| *e <= self.buf.len())
            .ok_or_else(|| CodecError::at(path, "unexpected end of msgpack data"))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn array<const N: usize>(&mut self, path: &Loc<'_>) -> Result<[u8; N], CodecError> {
        let s = self.take(N, path)?;
        Ok(s.try_into().expect("take returned N bytes"))
    }

    fn u8(&mut self, path: &Loc<'_>) -> Result<u8, CodecError> {
        Ok(self.array::<1>(path)?[0])
    }
    fn u16(&mut self, path: &Loc<'_>) -> Result<u16, CodecError> {
        Ok(u16::from_be_bytes(self.array(path)?))
    }
    fn u32(&mut self, path: &Loc<'_>) -> Result<u32, CodecError> {
        Ok(u32::from_be_bytes(self.array(path)?))
    }
    fn u64(&mut self, path: &Loc<'_>) -> Result<u64, CodecError> {
        Ok(u64::from_be_bytes(self.array(path)?))
    }

    /// Reads the length that follows a str/bin marker, or None for another marker.
    fn bytes_len(&mut self, m: Marker, path: &Loc<'_>) -> Result<Option<usize>, CodecError> {
        Ok(Some(match m {
            Marker::FixStr(n) => n as usize,
            Marker::Str8 | Marker::Bin8 => self.u8(path)? as usize,
            Marker::Str16 | Marker::Bin16 => self.u16(path)? as usize,
            Marker::Str32 | Marker::Bin32 => self.u32(path)? as usize,
            _ => return Ok(None),
        }))
    }

    fn array_len(&mut self, m: Marker, path: &Loc<'_>) -> Result<Option<usize>, CodecError> {
        Ok(Some(match m {
            Marker::FixArray(n) => n as usize,
            Marker::Array16 => self.u16(path)? as usize,
            Marker::Array32 => self.u32(path)? as usize,
            _ => return Ok(None),
        }))
    }

    fn map_len(&mut self, m: Marker, path: &Loc<'_>) -> Result<Option<usize>, CodecError> {
        Ok(Some(match m {
            Marker::FixMap(n) => n as usize,
            Marker::Map16 => self.u16(path)? as usize,
            Marker::Map32 => self.u32(path)? as usize,
            _ => return Ok(None),
        }))
    }

    /// Reads an extension's length and code after its marker, or None for another marker.
    fn ext_header(&mut self, m: Marker, path: &Loc<'_>) -> Result<Option<(usize, i8)>, CodecError> {
        let len = match m {
            Marker::FixExt1 => 1,
            Marker::FixExt2 => 2,
            Marker::FixExt4 => 4,
            Marker::FixExt8 => 8,
            Marker::FixExt16 => 16,
            Marker::Ext8 => self.u8(path)? as usize,
            Marker::Ext16 => self.u16(path)? as usize,
            Marker::Ext32 => self.u32(path)? as usize,
            _ => return Ok(None),
        };
        let code = self.u8(path)? as i8;
        Ok(Some((len, code)))
    }

    /// A string (str or bin holding UTF-8).
    fn string(&mut self, path: &Loc<'_>, what: &str) -> Result<String, CodecError> {
        let m = self.marker(path)?;
        let n = self.bytes_len(m, path)?.ok_or_else(|| {
            CodecError::at(
                path,
                format!("expected {what}, got msgpack {}", marker_name(m)),
            )
        })?;
        let b = self.take(n, path)?;
        String::from_utf8(b.to_vec())
            .map_err(|_| CodecError::at(path, format!("{what} is not valid UTF-8")))
    }

    /// Skips one msgpack value of any kind (used for refinements we do not interpret).
    fn skip(&mut self, depth: usize, path: &Loc<'_>) -> Result<(), CodecError> {
        if depth > MAX_SKIP_DEPTH {
            return Err(CodecError::at(path, "msgpack data nested too deeply"));
        }
        let m = self.marker(path)?;
        let n = match m {
            Marker::FixPos(_) | Marker::FixNeg(_) | Marker::Null | Marker::True | Marker::False => {
                0
            }
            Marker::U8 | Marker::I8 => 1,
            Marker::U16 | Marker::I16 => 2,
            Marker::U32 | Marker::I32 | Marker::F32 => 4,
            Marker::U64 | Marker::I64 | Marker::F64 => 8,
            Marker::Reserved => return Err(CodecError::at(path, "invalid msgpack marker 0xc1")),
            _ => {
                if let Some(n) = self.bytes_len(m, path)? {
                    n
                } else if let Some((n, _)) = self.ext_header(m, path)? {
                    n
                } else if let Some(n) = self.array_len(m, path)? {
                    for _ in 0..n {
                        self.skip(depth + 1, path)?;
                    }
                    0
                } else if let Some(n) = self.map_len(m, path)? {
                    for _ in 0..2 * n {
                        self.skip(depth + 1, path)?;
                    }
                    0
                } else {
                    unreachable!("every marker is covered")
                }
            }
        };
        self.take(n, path)?;
        Ok(())
    }
}

fn marker_name(m: Marker) -> &'static str {
    match m {
        Marker::Null => "nil",
        Marker::True | Marker::False => "bool",
        Marker::FixPos(_)
        | Marker::FixNeg(_)
        | Marker::U8
        | Marker::U16
        | Marker::U32
        | Marker::U64
        | Marker::I8
        | Marker::I16
        | Marker::I32
        | Marker::I64 => "integer",
        Marker::F32 | Marker::F64 => "float",
        Marker::FixStr(_) | Marker::Str8 | Marker::Str16 | Marker::Str32 => "string",
        Marker::Bin8 | Marker::Bin16 | Marker::Bin32 => "binary",
        Marker::FixArray(_) | Marker::Array16 | Marker::Array32 => "array",
        Marker::FixMap(_) | Marker::Map16 | Marker::Map32 => "map",
        Marker::FixExt1
        | Marker::FixExt2
        | Marker::FixExt4
        | Marker::FixExt8
        | Marker::FixExt16
        | Marker::Ext8
        | Marker::Ext16
        | Marker::Ext32 => "extension",
        Marker::Reserved => "reserved marker 0xc1",
    }
}

fn decode(r: &mut Reader, ty: &Type, path: &Loc<'_>) -> Result<Value, CodecError> {
    if r.depth >= MAX_DEPTH {
        return Err(CodecError::at(
            path,
            format!("msgpack value nested more than {MAX_DEPTH} levels deep"),
        ));
    }
    r.depth += 1;
    let v = decode_nested(r, ty, path);
    r.depth -= 1;
    v
}

fn decode_nested(r: &mut Reader, ty: &Type, path: &Loc<'_>) -> Result<Value, CodecError> {
    let m = r.peek(path)?;
    // Like go-cty, every extension is an unknown value. Refinements (ext 12) are dropped, but the
    // payload must at least be a well-formed msgpack value.
    let start = r.pos;
    r.pos += 1;
    if let Some((len, code)) = r.ext_header(m, path)? {
        let payload = r.take(len, path)?;
        if code == REFINED_UNKNOWN_EXT && len > 1 {
            let mut sub = Reader {
                buf: payload,
                pos: 0,
                depth: 0,
            };
            let pm = sub.marker(path)?;
            if sub.map_len(pm, path)?.is_none() {
                return Err(CodecError::at(
                    path,
                    "refined unknown value: refinements must be a msgpack map",
                ));
            }
            sub.pos = 0;
            sub.skip(0, path)?;
        }
        return Ok(Value::Unknown);
    }
    if m == Marker::Null {
        return Ok(Value::Null);
    }
    r.pos = start;

    let expected = |m: Marker| {
        CodecError::at(
            path,
            format!("expected {}, got msgpack {}", type_name(ty), marker_name(m)),
        )
    };
    match ty {
        Type::Dynamic => {
            let m = r.marker(path)?;
            match r.array_len(m, path)? {
                Some(2) => {}
                Some(n) => {
                    return Err(CodecError::at(
                        path,
                        format!("dynamic value must be a [type, value] array, got {n} elements"),
                    ));
                }
                None => return Err(expected(m)),
            }
            let type_json = {
                let m = r.marker(path)?;
                let n = r.bytes_len(m, path)?.ok_or_else(|| {
                    CodecError::at(
                        path,
                        format!(
                            "dynamic value type must be JSON bytes, got {}",
                            marker_name(m)
                        ),
                    )
                })?;
                r.take(n, path)?
            };
            let t = serde_json::from_slice(type_json)
                .map_err(|e| e.to_string())
                .and_then(|j| Type::from_json(&j))
                .map_err(|e| CodecError::at(path, format!("dynamic value type: {e}")))?;
            let inner = decode(r, &t, path)?;
            Ok(match t {
                Type::Dynamic => inner,
                t => Value::Dynamic(Box::new(t), Box::new(inner)),
            })
        }
        Type::String => r.string(path, "string").map(Value::String),
        Type::Bool => match r.marker(path)? {
            Marker::True => Ok(Value::Bool(true)),
            Marker::False => Ok(Value::Bool(false)),
            m => Err(expected(m)),
        },
        Type::Number => decode_number(r, path, &expected).map(Value::Number),
        Type::List(et) | Type::Set(et) => {
            let m = r.marker(path)?;
            let n = r.array_len(m, path)?.ok_or_else(|| expected(m))?;
            // Each element takes at least one byte: a claimed length beyond the data cannot
            // reserve more than the message could hold.
            let mut items = Vec::with_capacity(n.min(r.buf.len() - r.pos));
            for i in 0..n {
                items.push(decode(r, et, &path.index(i))?);
            }
            Ok(if matches!(ty, Type::Set(_)) {
                Value::Set(items)
            } else {
                Value::List(items)
            })
        }
        Type::Tuple(ts) => {
            let m = r.marker(path)?;
            let n = r.array_len(m, path)?.ok_or_else(|| expected(m))?;
            if n != ts.len() {
                return Err(CodecError::at(
                    path,
                    format!("tuple of {} elements, got {n}", ts.len()),
                ));
            }
            let items = ts
                .iter()
                .enumerate()
                .map(|(i, t)| decode(r, t, &path.index(i)))
                .collect::<Result<_, _>>()?;
            Ok(Value::Tuple(items))
        }
        Type::Map(et) => {
            let m = r.marker(path)?;
            let n = r.map_len(m, path)?.ok_or_else(|| expected(m))?;
            let mut out = BTreeMap::new();
            for _ in 0..n {
                let k = r.string(path, "map key")?;
                let v = decode(r, et, &path.key(&k))?;
                out.insert(k, v);
            }
            Ok(Value::Map(out))
        }
        Type::Object(attrs) => {
            let m = r.marker(path)?;
            let n = r.map_len(m, path)?.ok_or_else(|| expected(m))?;
            let mut out = BTreeMap::new();
            for _ in 0..n {
                let k = r.string(path, "attribute name")?;
                let at = attrs
                    .get(&k)
                    .ok_or_else(|| CodecError::at(path, format!("unsupported attribute {k:?}")))?;
                let v = decode(r, at, &path.child(&k))?;
                out.insert(k, v);
            }
            // Terraform always sends every attribute; be lenient and treat absent ones as null.
            if out.len() != attrs.len() {
                for k in attrs.keys() {
                    if !out.contains_key(k) {
                        out.insert(k.clone(), Value::Null);
                    }
                }
            }
            Ok(Value::Object(out))
        }
    }
}

fn decode_number(
    r: &mut Reader,
    path: &Loc<'_>,
    expected: &dyn Fn(Marker) -> CodecError,
) -> Result<Number, CodecError> {
    let m = r.marker(path)?;
    Ok(match m {
        Marker::FixPos(n) => Number::Int(n as i64),
        Marker::FixNeg(n) => Number::Int(n as i64),
        Marker::U8 => Number::Int(r.u8(path)? as i64),
        Marker::U16 => Number::Int(r.u16(path)? as i64),
        Marker::U32 => Number::Int(r.u32(path)? as i64),
        Marker::U64 => {
            let u = r.u64(path)?;
            i64::try_from(u)
                .map(Number::Int)
                .unwrap_or_else(|_| Number::Big(u.to_string()))
        }
        Marker::I8 => Number::Int(r.u8(path)? as i8 as i64),
        Marker::I16 => Number::Int(r.u16(path)? as i16 as i64),
        Marker::I32 => Number::Int(r.u32(path)? as i32 as i64),
        Marker::I64 => Number::Int(r.u64(path)? as i64),
        Marker::F32 => Number::Float(f32::from_bits(r.u32(path)?) as f64),
        Marker::F64 => Number::Float(f64::from_bits(r.u64(path)?)),
        Marker::FixStr(_) | Marker::Str8 | Marker::Str16 | Marker::Str32 => {
            r.pos -= 1;
            let s = r.string(path, "number")?;
            // Only numbers a double cannot hold exactly come as text; keep them exact.
            match parse_decimal(&s) {
                Some(WireNumber::Int(i)) => Number::Int(i),
                Some(_) => Number::Big(s.trim().to_string()),
                None => return Err(CodecError::at(path, format!("invalid number {s:?}"))),
            }
        }
        m => return Err(expected(m)),
    })
}

// ---------------------------------------------------------------------------------------------
// Encoding

/// Writing into a Vec<u8> cannot fail; rmp still returns io results.
fn ok<T, E: std::fmt::Debug>(r: Result<T, E>) {
    r.expect("writing msgpack into a Vec<u8> cannot fail");
}

fn len32(len: usize, path: &Loc<'_>) -> Result<u32, CodecError> {
    u32::try_from(len).map_err(|_| CodecError::at(path, "collection too large for msgpack"))
}

fn encode(out: &mut Vec<u8>, v: &Value, ty: &Type, path: &Loc<'_>) -> Result<(), CodecError> {
    match v {
        Value::Null => {
            ok(enc::write_nil(out));
            return Ok(());
        }
        Value::Unknown => {
            // go-cty's unrefined unknown: fixext1 with code 0 and a zero byte.
            ok(enc::write_ext_meta(out, 1, 0));
            out.push(0);
            return Ok(());
        }
        Value::Dynamic(t, inner) if *ty != Type::Dynamic => {
            // A dynamic wrapper where the schema has a concrete type: fine if the types agree.
            if **t == *ty {
                return encode(out, inner, ty, path);
            }
            return Err(CodecError::at(
                path,
                format!(
                    "expected {}, got a value of type {}",
                    type_name(ty),
                    type_name(t)
                ),
            ));
        }
        _ => {}
    }
    match ty {
        Type::Dynamic => {
            let (t, inner) = match v {
                Value::Dynamic(t, inner) => ((**t).clone(), &**inner),
                other => (infer_type(other, path)?, other),
            };
            if t == Type::Dynamic {
                return encode(out, inner, &t, path);
            }
            let tj = serde_json::to_vec(&t.to_json()).expect("a type serializes to JSON");
            ok(enc::write_array_len(out, 2));
            ok(enc::write_bin(out, &tj));
            encode(out, inner, &t, path)
        }
        Type::String => match v {
            Value::String(s) => {
                ok(enc::write_str(out, s));
                Ok(())
            }
            other => Err(mismatch(ty, other, path)),
        },
        Type::Bool => match v {
            Value::Bool(b) => {
                ok(enc::write_bool(out, *b));
                Ok(())
            }
            other => Err(mismatch(ty, other, path)),
        },
        Type::Number => match v {
            Value::Number(n) => {
                match wire_number(n, path)? {
                    WireNumber::Int(i) => ok(enc::write_sint(out, i)),
                    WireNumber::Float(f) => ok(enc::write_f64(out, f)),
                    WireNumber::Text(s) => ok(enc::write_str(out, &s)),
                }
                Ok(())
            }
            other => Err(mismatch(ty, other, path)),
        },
        Type::List(et) | Type::Set(et) => {
            let items = seq_elements(v, ty, path)?;
            let n = len32(items.len(), path)?;
            ok(enc::write_array_len(out, n));
            for (i, x) in items.iter().enumerate() {
                encode(out, x, et, &path.index(i))?;
            }
            Ok(())
        }
        Type::Tuple(ts) => {
            let items = seq_elements(v, ty, path)?;
            if items.len() != ts.len() {
                return Err(CodecError::at(
                    path,
                    format!("tuple of {} elements, got {}", ts.len(), items.len()),
                ));
            }
            let n = len32(items.len(), path)?;
            ok(enc::write_array_len(out, n));
            for (i, (x, t)) in items.iter().zip(ts).enumerate() {
                encode(out, x, t, &path.index(i))?;
            }
            Ok(())
        }
        Type::Map(et) => {
            let m = map_entries(v, ty, path)?;
            let n = len32(m.len(), path)?;
            ok(enc::write_map_len(out, n));
            for (k, x) in m {
                ok(enc::write_str(out, k));
                encode(out, x, et, &path.key(k))?;
            }
            Ok(())
        }
        Type::Object(attrs) => {
            let m = map_entries(v, ty, path)?;
            check_object_attrs(m, attrs, path)?;
            let n = len32(attrs.len(), path)?;
            ok(enc::write_map_len(out, n));
            // Both maps are sorted the same way and `m`'s keys are among `attrs`' (checked
            // above): walk them together instead of looking up every attribute.
            let mut vals = m.iter().peekable();
            for (k, at) in attrs {
                let x = match vals.peek() {
                    Some((mk, _)) if *mk == k => vals.next().map_or(&Value::Null, |(_, x)| x),
                    _ => &Value::Null,
                };
                ok(enc::write_str(out, k));
                encode(out, x, at, &path.child(k))?;
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(bytes: &[u8], ty: &Type) -> Value {
        decode_msgpack(bytes, ty).unwrap_or_else(|e| panic!("decode {bytes:02x?}: {e}"))
    }
    fn enc(v: &Value, ty: &Type) -> Vec<u8> {
        encode_msgpack(v, ty).unwrap_or_else(|e| panic!("encode {v:?}: {e}"))
    }
    fn num(v: &Value) -> &Number {
        match v {
            Value::Number(n) => n,
            other => panic!("not a number: {other:?}"),
        }
    }
    fn s(x: &str) -> Value {
        Value::string(x)
    }

    #[test]
    fn codec_msgpack_null_and_unknown() {
        for ty in [Type::String, Type::Dynamic, Type::list(Type::Number)] {
            assert_eq!(dec(&[0xc0], &ty), Value::Null);
            assert_eq!(enc(&Value::Null, &ty), [0xc0]);
            assert_eq!(dec(&[0xd4, 0x00, 0x00], &ty), Value::Unknown);
            assert_eq!(enc(&Value::Unknown, &ty), [0xd4, 0x00, 0x00]);
        }
        // Any extension of length <= 1 is unknown, whatever its code.
        assert_eq!(dec(&[0xd4, 0x05, 0x00], &Type::Bool), Value::Unknown);
        assert_eq!(dec(&[0xc7, 0x00, 0x00], &Type::Bool), Value::Unknown);
        assert_eq!(dec(&[0xc7, 0x01, 0x7f, 0x00], &Type::Bool), Value::Unknown);
    }

    #[test]
    fn codec_msgpack_refined_unknown_is_unknown() {
        // ext 12, payload {1: true} (not null)
        assert_eq!(
            dec(&[0xc7, 0x03, 0x0c, 0x81, 0x01, 0xc3], &Type::String),
            Value::Unknown
        );
        // ext 12, payload {1: true, 2: "ab"} (string prefix), inside an object attribute
        let ty = Type::object([("id", Type::String)]);
        let bytes = [
            0x81, 0xa2, b'i', b'd', 0xc7, 0x07, 0x0c, 0x82, 0x01, 0xc3, 0x02, 0xa2, b'a', b'b',
        ];
        assert_eq!(
            dec(&bytes, &ty),
            Value::Object(BTreeMap::from([("id".into(), Value::Unknown)]))
        );
        // ext 12, {3: [0, true], 4: [10, false]} number bounds
        assert_eq!(
            dec(
                &[
                    0xc7, 0x09, 0x0c, 0x82, 0x03, 0x92, 0x00, 0xc3, 0x04, 0x92, 0x0a, 0xc2
                ][..],
                &Type::Number
            ),
            Value::Unknown
        );
        // A refinement payload that is not a map, or is truncated, is rejected.
        let e = decode_msgpack(&[0xc7, 0x02, 0x0c, 0x92, 0xc0], &Type::String).unwrap_err();
        assert!(e.message.contains("must be a msgpack map"), "{e}");
        let e = decode_msgpack(&[0xc7, 0x02, 0x0c, 0x81, 0x01], &Type::String).unwrap_err();
        assert!(e.message.contains("end of msgpack data"), "{e}");
    }

    #[test]
    fn codec_msgpack_strings() {
        assert_eq!(dec(b"\xa5hello", &Type::String), s("hello"));
        assert_eq!(enc(&s("hello"), &Type::String), b"\xa5hello");
        assert_eq!(dec(b"\xd9\x03abc", &Type::String), s("abc"));
        assert_eq!(dec(b"\xda\x00\x03abc", &Type::String), s("abc"));
        let long = "x".repeat(40);
        let bytes = enc(&s(&long), &Type::String);
        assert_eq!(&bytes[..2], [0xd9, 40]);
        assert_eq!(dec(&bytes, &Type::String), s(&long));
        let e = decode_msgpack(b"\xa2\xff\xfe", &Type::String).unwrap_err();
        assert!(e.message.contains("UTF-8"), "{e}");
    }

    #[test]
    fn codec_msgpack_integers_of_each_width() {
        let cases: &[(&[u8], i64)] = &[
            (&[0x05], 5),
            (&[0x7f], 127),
            (&[0xff], -1),
            (&[0xe0], -32),
            (&[0xcc, 0xff], 255),
            (&[0xcd, 0x01, 0x00], 256),
            (&[0xce, 0x00, 0x01, 0x00, 0x00], 65536),
            (&[0xcf, 0, 0, 0, 1, 0, 0, 0, 0], 1 << 32),
            (&[0xd0, 0x80], -128),
            (&[0xd1, 0xff, 0x7f], -129),
            (&[0xd2, 0xff, 0xff, 0x7f, 0xff], -32769),
            (&[0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0], i64::MIN),
        ];
        for (bytes, want) in cases {
            let v = dec(bytes, &Type::Number);
            assert!(
                matches!(num(&v), Number::Int(i) if i == want),
                "{bytes:02x?} → {v:?}"
            );
        }
        // Encoding picks the smallest form, like go-cty.
        assert_eq!(enc(&Value::int(5), &Type::Number), [0x05]);
        assert_eq!(enc(&Value::int(-1), &Type::Number), [0xff]);
        assert_eq!(enc(&Value::int(255), &Type::Number), [0xcc, 0xff]);
        assert_eq!(enc(&Value::int(-129), &Type::Number), [0xd1, 0xff, 0x7f]);
        assert_eq!(
            enc(&Value::int(i64::MIN), &Type::Number),
            [0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0]
        );
        // u64 above i64::MAX does not fit Int.
        let v = dec(
            &[0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            &Type::Number,
        );
        assert!(matches!(num(&v), Number::Big(b) if b == "18446744073709551615"));
    }

    #[test]
    fn codec_msgpack_floats_and_big_numbers() {
        let f15 = [0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0];
        assert!(matches!(num(&dec(&f15, &Type::Number)), Number::Float(f) if *f == 1.5));
        assert_eq!(enc(&Value::Number(Number::Float(1.5)), &Type::Number), f15);
        let f32_15 = [0xca, 0x3f, 0xc0, 0x00, 0x00];
        assert!(matches!(num(&dec(&f32_15, &Type::Number)), Number::Float(f) if *f == 1.5));
        // An integral float goes as an int, as go-cty does.
        assert_eq!(
            enc(&Value::Number(Number::Float(2.0)), &Type::Number),
            [0x02]
        );
        assert!(encode_msgpack(&Value::Number(Number::Float(f64::NAN)), &Type::Number).is_err());

        let big = "123456789012345678901234567890";
        let bytes = enc(&Value::Number(Number::Big(big.into())), &Type::Number);
        assert_eq!(bytes[0], 0xa0 | big.len() as u8);
        assert_eq!(&bytes[1..], big.as_bytes());
        assert!(matches!(num(&dec(&bytes, &Type::Number)), Number::Big(b) if b == big));
        // go-cty sends 0.1 (not a double) as text: it must stay exact text.
        assert!(matches!(num(&dec(b"\xa30.1", &Type::Number)), Number::Big(b) if b == "0.1"));
        assert_eq!(
            enc(&Value::Number(Number::Big("0.1".into())), &Type::Number),
            b"\xa30.1"
        );
        // Integral text within i64 becomes Int; Big within i64 goes as an int.
        assert!(matches!(
            num(&dec(b"\xa212", &Type::Number)),
            Number::Int(12)
        ));
        assert_eq!(
            enc(&Value::Number(Number::Big("12".into())), &Type::Number),
            [0x0c]
        );
        let e = decode_msgpack(b"\xa3abc", &Type::Number).unwrap_err();
        assert_eq!(e.to_string(), "at (root): invalid number \"abc\"");
    }

    fn nested_type() -> Type {
        Type::object([
            ("name", Type::String),
            ("ports", Type::list(Type::Number)),
            ("labels", Type::map(Type::String)),
            ("enabled", Type::Bool),
        ])
    }

    #[test]
    fn codec_msgpack_nested_object_with_list_and_map() {
        let v = Value::Object(BTreeMap::from([
            ("name".into(), s("x")),
            (
                "ports".into(),
                Value::List(vec![Value::int(1), Value::int(2)]),
            ),
            (
                "labels".into(),
                Value::Map(BTreeMap::from([("a".into(), s("b"))])),
            ),
            ("enabled".into(), Value::Null),
        ]));
        // Attributes in name order; the null attribute is written as nil.
        let want: &[u8] =
            b"\x84\xa7enabled\xc0\xa6labels\x81\xa1a\xa1b\xa4name\xa1x\xa5ports\x92\x01\x02";
        assert_eq!(enc(&v, &nested_type()), want);
        assert_eq!(dec(want, &nested_type()), v);
        // Keys in any order decode the same; an absent attribute is null.
        let reordered: &[u8] = b"\x83\xa5ports\x92\x01\x02\xa4name\xa1x\xa6labels\x81\xa1a\xa1b";
        assert_eq!(dec(reordered, &nested_type()), v);
        // An attribute missing from the value is encoded as nil.
        let mut partial = v.clone();
        partial.as_map_mut().unwrap().remove("enabled");
        assert_eq!(enc(&partial, &nested_type()), want);
    }

    #[test]
    fn codec_msgpack_set() {
        let ty = Type::set(Type::String);
        let v = Value::Set(vec![s("a"), s("b")]);
        assert_eq!(enc(&v, &ty), b"\x92\xa1a\xa1b");
        // Order has no meaning for sets.
        let got = dec(b"\x92\xa1b\xa1a", &ty);
        assert!(matches!(got, Value::Set(_)));
        assert_eq!(got, v);
    }

    #[test]
    fn codec_msgpack_tuple() {
        let ty = Type::Tuple(vec![Type::String, Type::Number]);
        let v = Value::Tuple(vec![s("a"), Value::int(1)]);
        assert_eq!(enc(&v, &ty), b"\x92\xa1a\x01");
        assert_eq!(dec(b"\x92\xa1a\x01", &ty), v);
        let e = decode_msgpack(b"\x91\xa1a", &ty).unwrap_err();
        assert!(e.message.contains("tuple of 2 elements, got 1"), "{e}");
        let e = encode_msgpack(&Value::Tuple(vec![s("a")]), &ty).unwrap_err();
        assert!(e.message.contains("tuple of 2 elements, got 1"), "{e}");
    }

    #[test]
    fn codec_msgpack_dynamic() {
        let want: &[u8] = b"\x92\xc4\x08\"string\"\xa2hi";
        let v = Value::Dynamic(Box::new(Type::String), Box::new(s("hi")));
        assert_eq!(enc(&v, &Type::Dynamic), want);
        assert_eq!(dec(want, &Type::Dynamic), v);
        // The type may also come as str instead of bin.
        assert_eq!(dec(b"\x92\xa8\"string\"\xa2hi", &Type::Dynamic), v);
        // A plain value under dynamic gets its type inferred.
        assert_eq!(enc(&s("hi"), &Type::Dynamic), want);
        let list = Value::List(vec![Value::int(1), Value::Null]);
        let bytes = enc(&list, &Type::Dynamic);
        assert_eq!(bytes, b"\x92\xc4\x11[\"list\",\"number\"]\x92\x01\xc0");
        assert_eq!(
            dec(&bytes, &Type::Dynamic),
            Value::Dynamic(Box::new(Type::list(Type::Number)), Box::new(list))
        );
        // A typed null or unknown keeps its type; an untyped one is bare.
        let typed_unknown = Value::Dynamic(Box::new(Type::Bool), Box::new(Value::Unknown));
        let bytes = enc(&typed_unknown, &Type::Dynamic);
        assert_eq!(bytes, b"\x92\xc4\x06\"bool\"\xd4\x00\x00");
        assert_eq!(dec(&bytes, &Type::Dynamic), typed_unknown);
        // A dynamic wrapper under its own concrete type is unwrapped.
        assert_eq!(enc(&v, &Type::String), b"\xa2hi");
        // Mixed element types cannot be inferred.
        let e =
            encode_msgpack(&Value::List(vec![s("a"), Value::int(1)]), &Type::Dynamic).unwrap_err();
        assert_eq!(e.path.to_string(), "[1]");
        assert!(e.message.contains("cannot infer"), "{e}");
    }

    #[test]
    fn codec_msgpack_errors_name_the_path() {
        let ty = Type::object([(
            "container",
            Type::object([(
                "registry",
                Type::list(Type::object([("server", Type::String)])),
            )]),
        )]);
        let v = Value::Object(BTreeMap::from([(
            "container".into(),
            Value::Object(BTreeMap::from([(
                "registry".into(),
                Value::List(vec![Value::Object(BTreeMap::from([(
                    "server".into(),
                    Value::Bool(true),
                )]))]),
            )])),
        )]));
        let e = encode_msgpack(&v, &ty).unwrap_err();
        assert_eq!(
            e.to_string(),
            "at container.registry[0].server: expected string, got bool"
        );
        let wire = b"\x81\xa9container\x81\xa8registry\x91\x81\xa6server\xc3";
        let e = decode_msgpack(wire, &ty).unwrap_err();
        assert_eq!(
            e.to_string(),
            "at container.registry[0].server: expected string, got msgpack bool"
        );

        // Unknown attributes are rejected both ways.
        let e = decode_msgpack(b"\x81\xa5bogus\xc0", &nested_type()).unwrap_err();
        assert!(e.message.contains("unsupported attribute \"bogus\""), "{e}");
        let extra = Value::Object(BTreeMap::from([("bogus".into(), Value::Null)]));
        let e = encode_msgpack(&extra, &nested_type()).unwrap_err();
        assert!(e.message.contains("\"bogus\" is not part"), "{e}");

        // Map keys show up in the path.
        let ty = Type::map(Type::Number);
        let e = decode_msgpack(b"\x81\xa1k\xa1x", &ty).unwrap_err();
        assert_eq!(e.path, crate::AttrPath::root().key("k"));

        // Malformed input.
        assert!(decode_msgpack(b"", &Type::String).is_err());
        let e = decode_msgpack(b"\xa5hel", &Type::String).unwrap_err();
        assert!(e.message.contains("end of msgpack data"), "{e}");
        let e = decode_msgpack(b"\xc0\xc0", &Type::String).unwrap_err();
        assert!(e.message.contains("trailing"), "{e}");
        let e = decode_msgpack(b"\x93\xc4\x01x\xc0\xc0", &Type::Dynamic).unwrap_err();
        assert!(e.message.contains("[type, value]"), "{e}");
        let e = decode_msgpack(b"\x92\xc4\x05\"foo\"\xc0", &Type::Dynamic).unwrap_err();
        assert!(e.message.contains("dynamic value type"), "{e}");
        let e = decode_msgpack(b"\xc3", &Type::list(Type::String)).unwrap_err();
        assert!(e.message.contains("expected [\"list\",\"string\"]"), "{e}");
        let e = encode_msgpack(&Value::int(1), &Type::set(Type::Number)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "at (root): expected [\"set\",\"number\"], got number"
        );
        let wrong = Value::Dynamic(Box::new(Type::Bool), Box::new(Value::Bool(true)));
        assert!(encode_msgpack(&wrong, &Type::String).is_err());
    }
}
