//! Fuzzing the msgpack and JSON value decoders with arbitrary and adversarial input: lengths
//! that claim gigabytes, deep nesting, wrong types. Whatever the bytes, decoding returns (never
//! panics, never overflows the stack), a failure is an error with a message, and the memory a
//! decode allocates is bounded by the message size.
//!
//! `PROPTEST_CASES` sets the case count (256 by default, a few seconds); `scripts/fuzz.sh` runs
//! the same properties with a large count.

use proptest::prelude::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::BTreeMap;
use tfplugin::Type;
use tfplugin::codec::{decode_json, decode_msgpack};

/// Counts the bytes live on this thread and their peak, so a property can measure one decode.
struct Counting;

thread_local! {
    static LIVE: Cell<usize> = const { Cell::new(0) };
    static PEAK: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = LIVE.try_with(|l| {
            let now = l.get() + layout.size();
            l.set(now);
            let _ = PEAK.try_with(|p| p.set(p.get().max(now)));
        });
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let _ = LIVE.try_with(|l| l.set(l.get().saturating_sub(layout.size())));
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Runs `f` and returns its result with the peak bytes it had allocated at any moment.
fn measured<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(base));
    let out = f();
    (out, PEAK.with(Cell::get) - base)
}

/// Peak allocation a decode may make for `len` input bytes: a generous constant factor (a
/// decoded value, its type and the error path are a few hundred bytes per input byte at worst)
/// plus a fixed allowance, but nowhere near what a claimed length would need.
fn budget(len: usize) -> usize {
    64 * 1024 + 512 * len
}

fn arb_type() -> impl Strategy<Value = Type> {
    let leaf = prop_oneof![
        Just(Type::String),
        Just(Type::Number),
        Just(Type::Bool),
        Just(Type::Dynamic),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(Type::list),
            inner.clone().prop_map(Type::set),
            inner.clone().prop_map(Type::map),
            prop::collection::btree_map("[a-c]{1,2}", inner.clone(), 0..4).prop_map(Type::Object),
            prop::collection::vec(inner, 0..3).prop_map(Type::Tuple),
        ]
    })
}

/// Pieces of msgpack that are valid alone or hostile: markers claiming up to 4 GiB of data,
/// dynamic values nesting further dynamic values, deep type JSON, and random bytes.
fn msgpack_piece() -> impl Strategy<Value = Vec<u8>> {
    let huge = |marker: u8| vec![marker, 0xff, 0xff, 0xff, 0xff];
    prop_oneof![
        Just(huge(0xdd)),                               // array32 of 4 Gi elements
        Just(huge(0xdf)),                               // map32 of 4 Gi pairs
        Just(huge(0xdb)),                               // str32 of 4 GiB
        Just(huge(0xc6)),                               // bin32 of 4 GiB
        Just([huge(0xc9), vec![12]].concat()),          // ext32 refinement of 4 GiB
        Just(vec![0xdc, 0xff, 0xff]),                   // array16 of 65535
        Just(vec![0xde, 0xff, 0xff]),                   // map16 of 65535
        (1usize..400).prop_map(dynamic_nest),           // [type "dynamic", [type "dynamic", ...
        (1usize..300).prop_map(deep_type),              // dynamic value with a deeply nested type
        Just(vec![0xc0]),                               // nil
        Just(vec![0xc1]),                               // reserved marker
        Just(vec![0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0]), // NaN
        Just(vec![0xd4, 0, 0]),                         // fixext1 (unknown)
        Just(vec![0xa3, b'a', b'b', b'c']),             // "abc"
        Just(vec![0xa2, 0xff, 0xfe]),                   // invalid UTF-8
        prop::collection::vec(any::<u8>(), 0..32),
    ]
}

fn msgpack_str(s: &str) -> Vec<u8> {
    let mut v = vec![0xd9, s.len() as u8];
    if s.len() > 255 {
        v = vec![0xda];
        v.extend_from_slice(&(s.len() as u16).to_be_bytes());
    }
    v.extend_from_slice(s.as_bytes());
    v
}

fn dynamic_nest(levels: usize) -> Vec<u8> {
    let level = [vec![0x92], msgpack_str("\"dynamic\"")].concat();
    let mut out = level.repeat(levels);
    out.push(0xc0);
    out
}

fn deep_type(levels: usize) -> Vec<u8> {
    let ty = format!(
        "{}\"string\"{}",
        "[\"list\",".repeat(levels),
        "]".repeat(levels)
    );
    let mut out = vec![0x92];
    out.extend(msgpack_str(&ty));
    out.push(0xc0);
    out
}

/// Hostile JSON: deep arrays and objects, numbers with huge exponents or digit counts, dynamic
/// values nesting dynamic values, and random text.
fn json_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        (1usize..2000).prop_map(|n| format!("{}{}", "[".repeat(n), "]".repeat(n))),
        (1usize..2000).prop_map(|n| format!("{}1{}", "{\"a\":".repeat(n), "}".repeat(n))),
        (1usize..400).prop_map(|n| {
            format!(
                "{}null{}",
                "{\"type\":\"dynamic\",\"value\":".repeat(n),
                "}".repeat(n)
            )
        }),
        Just("1e999999999999999".to_string()),
        Just("-1e-999999999999999".to_string()),
        Just("1e9999999999999999999999".to_string()),
        (1usize..20_000).prop_map(|n| format!("1{}", "0".repeat(n))),
        (1usize..20_000).prop_map(|n| format!("0.{}1", "0".repeat(n))),
        Just("\"\\ud800\"".to_string()),
        Just("{\"value\":1,\"type\":[\"list\",\"nope\"]}".to_string()),
        "\\PC{0,40}",
    ]
}

fn check(result: Result<tfplugin::Value, tfplugin::codec::CodecError>, peak: usize, len: usize) {
    if let Err(e) = &result {
        assert!(
            !e.to_string().trim().is_empty(),
            "an error without a message"
        );
    }
    assert!(
        peak <= budget(len),
        "decoding {len} bytes allocated {peak} bytes at peak"
    );
}

proptest! {
    #[test]
    fn msgpack_adversarial(ty in arb_type(), pieces in prop::collection::vec(msgpack_piece(), 1..6)) {
        let bytes = pieces.concat();
        let (r, peak) = measured(|| decode_msgpack(&bytes, &ty));
        check(r, peak, bytes.len());
    }

    #[test]
    fn msgpack_adversarial_as_dynamic(pieces in prop::collection::vec(msgpack_piece(), 1..6)) {
        let bytes = pieces.concat();
        let (r, peak) = measured(|| decode_msgpack(&bytes, &Type::Dynamic));
        check(r, peak, bytes.len());
    }

    #[test]
    fn msgpack_random_bytes(ty in arb_type(), bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let (r, peak) = measured(|| decode_msgpack(&bytes, &ty));
        check(r, peak, bytes.len());
    }

    #[test]
    fn json_adversarial(ty in arb_type(), text in json_piece()) {
        let (r, peak) = measured(|| decode_json(text.as_bytes(), &ty));
        check(r, peak, text.len());
    }

    #[test]
    fn json_random_bytes(ty in arb_type(), bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let (r, peak) = measured(|| decode_json(&bytes, &ty));
        check(r, peak, bytes.len());
    }
}

#[test]
fn a_claimed_gigabyte_is_an_error_not_an_allocation() {
    for (marker, ty) in [
        (0xdd, Type::list(Type::String)),
        (0xdf, Type::map(Type::String)),
        (0xdb, Type::String),
        (0xc6, Type::String),
    ] {
        let bytes = [marker, 0xff, 0xff, 0xff, 0xff];
        let (r, peak) = measured(|| decode_msgpack(&bytes, &ty));
        let e = r.expect_err("4 GiB claimed in 5 bytes");
        assert!(e.to_string().contains("unexpected end"), "{e}");
        assert!(peak <= budget(bytes.len()), "{peak} bytes");
    }
}

#[test]
fn deep_dynamic_nesting_is_an_error_not_a_stack_overflow() {
    // 200 000 levels in 2.2 MB: recursing once per level would overflow the stack.
    let bytes = dynamic_nest(200_000);
    let e = decode_msgpack(&bytes, &Type::Dynamic).expect_err("too deep");
    assert!(e.to_string().contains("nested more than 128 levels"), "{e}");
    let json = format!(
        "{}null{}",
        "{\"type\":\"dynamic\",\"value\":".repeat(200_000),
        "}".repeat(200_000)
    );
    let e = decode_json(json.as_bytes(), &Type::Dynamic).expect_err("too deep");
    assert!(e.to_string().contains("recursion limit"), "{e}");
}

#[test]
fn moderate_nesting_still_decodes() {
    let bytes = dynamic_nest(100);
    assert_eq!(
        decode_msgpack(&bytes, &Type::Dynamic).unwrap(),
        tfplugin::Value::Null
    );
    let obj: BTreeMap<String, Type> = [("a".to_string(), Type::list(Type::String))].into();
    let ty = Type::Object(obj);
    // {"a": ["x"]}
    let bytes = [0x81, 0xa1, b'a', 0x91, 0xa1, b'x'];
    assert!(decode_msgpack(&bytes, &ty).is_ok());
}
