//! The cursor against serde_json: whatever the cursor accepts, serde_json
//! accepts with the same meaning; valid JSON is accepted whole.

use proptest::prelude::*;
use serde::de::IgnoredAny;
use serde_json::Value;

use super::*;
use crate::json_scalar::Text;

/// The cursor's verdict on a whole document as one skipped value.
fn skips(text: &str) -> Fast<()> {
    let mut c = Cursor::new(text);
    c.skip()?;
    c.end()
}

fn serde_accepts(text: &str) -> bool {
    serde_json::from_str::<IgnoredAny>(text).is_ok()
}

/// What the normalizers' serde path makes of a value read as text.
fn serde_text(value: &str) -> Option<Option<String>> {
    let v: Option<Text> = serde_json::from_str(value).ok()?;
    Some(v.map(|t| t.as_str().to_owned()).filter(|t| !t.is_empty()))
}

fn cursor_text(value: &str) -> Fast<Option<String>> {
    let mut c = Cursor::new(value);
    let t = c.text()?.map(Cow::into_owned);
    c.end()?;
    Ok(t)
}

#[test]
fn skips_what_serde_accepts_and_bails_on_the_rest() {
    for ok in [
        "{}",
        "[]",
        " {\"a\" : [1, -2.5e+3, 0, 0.0, true, false, null, \"x\\\"y\\u00e9\"], \"b\":{}}\r\n",
        "\"\\/\\b\\f\\n\\r\\t\"",
        "-0",
        "[[[[]]],{\"\":{\"\":[]}}]",
        "12345678901234567890123",
        "1E400",
    ] {
        assert_eq!(skips(ok), Ok(()), "{ok}");
        assert!(serde_accepts(ok), "{ok}");
    }
    for bad in [
        "",
        "{",
        "{\"a\":1,}",
        "[1,]",
        "[1 2]",
        "{\"a\" 1}",
        "{a:1}",
        "01",
        "1.",
        "1e",
        "-",
        ".5",
        "nul",
        "truex",
        "\"a\tb\"",
        "\"\\x\"",
        "\"\\u12g4\"",
        "\"abc",
        "{} {}",
        "[}",
        "{]",
    ] {
        assert_eq!(skips(bad), Err(Bail), "{bad:?}");
        assert!(!serde_accepts(bad), "{bad:?}");
    }
    // Valid, but left to serde: surrogate escapes, nesting past the limit.
    assert_eq!(skips("\"\\ud83d\\ude00\""), Err(Bail));
    let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
    assert!(serde_accepts(&deep));
    assert_eq!(skips(&deep), Err(Bail));
    let limit = format!("{}{}", "[".repeat(128), "]".repeat(128));
    assert_eq!(skips(&limit), Ok(()));
}

#[test]
fn strings_are_found_across_the_sixteen_byte_blocks() {
    // A quote, backslash or control character at every offset of a long
    // string, so both the block scan and the tail find each.
    for len in 0..70 {
        let body = "x".repeat(len);
        let doc = format!("\"{body}\"");
        let mut c = Cursor::new(&doc);
        assert_eq!(c.string().map(Str::raw), Ok(body.as_str()));
        let escaped = format!("\"{body}\\n{body}\"");
        let mut c = Cursor::new(&escaped);
        let s = c.string().expect("escaped string");
        assert_eq!(
            s.decode().as_deref(),
            Ok(format!("{body}\n{body}").as_str())
        );
        assert_eq!(s.plain(), Err(Bail));
        let control = format!("\"{body}\u{1}{body}\"");
        assert_eq!(Cursor::new(&control).string(), Err(Bail));
        let open = format!("\"{body}");
        assert_eq!(Cursor::new(&open).string(), Err(Bail));
    }
    // Runs of escapes at every offset, so escapes straddle the blocks'
    // edges (a `\u` escape's digits in the next block, a `\"` whose quote
    // is the next block's first byte), then the closing quote.
    for pad in 0..40 {
        let body = format!("{}{}", "x".repeat(pad), "\\\"\\u00e9\\\\\\/".repeat(5));
        let doc = format!("\"{body}\" ,");
        let mut c = Cursor::new(&doc);
        let s = c.string().expect("escaped string");
        assert_eq!(s.raw(), body);
        let want = format!("{}{}", "x".repeat(pad), "\"\u{e9}\\/".repeat(5));
        assert_eq!(s.decode().as_deref(), Ok(want.as_str()));
        assert_eq!(c.peek(), Ok(b','));
        // The same with a control character after the escapes.
        let bad = format!("\"{body}\u{1f}\"");
        assert_eq!(Cursor::new(&bad).string(), Err(Bail));
    }
    // Bytes above 0x7f are text, not control characters.
    let doc = "\"é€😀 ÿ\"";
    assert_eq!(Cursor::new(doc).string().map(Str::raw), Ok("é€😀 ÿ"));
}

#[test]
fn text_reads_scalars_as_the_serde_path_does() {
    for v in [
        "\"abc\"",
        "\"C:\\\\Windows\\\\cmd.exe\"",
        "\"\"",
        "4688",
        "0",
        "true",
        "false",
        "null",
        "{\"a\":[1]}",
        "[]",
        "\"\\u0041\\u00e9\"",
    ] {
        assert_eq!(cursor_text(v).ok(), serde_text(v), "{v}");
    }
    // Numbers whose text serde_json renders itself are left to it.
    for v in ["-1", "1.5", "1e3", "18446744073709551616"] {
        assert_eq!(cursor_text(v), Err(Bail), "{v}");
    }
    assert_eq!(
        Cursor::new("\"plain\"").text(),
        Ok(Some(Cow::Borrowed("plain")))
    );
}

#[test]
fn objects_and_arrays_are_walked_member_by_member() {
    let doc = r#" { "a" : 1 , "b\"" : [ "x" , {"y": null} ] , "c" : {} } "#;
    let mut c = Cursor::new(doc);
    c.object().expect("object");
    let mut first = true;
    let mut keys = Vec::new();
    while let Some(k) = c.next_key(&mut first).expect("key") {
        keys.push(k.raw());
        if k.raw() == "b\\\"" {
            c.array().expect("array");
            let mut first = true;
            let mut n = 0;
            while c.next_element(&mut first).expect("element") {
                c.skip().expect("element value");
                n += 1;
            }
            assert_eq!(n, 2);
        } else {
            c.skip().expect("value");
        }
    }
    c.end().expect("end");
    assert_eq!(keys, ["a", "b\\\"", "c"]);

    for bad in ["{\"a\":1 \"b\":2}", "{\"a\":1,}", "{,}", "[1,]"] {
        let mut c = Cursor::new(bad);
        let r = if bad.starts_with('{') {
            c.object().and_then(|()| {
                let mut first = true;
                while c.next_key(&mut first)?.is_some() {
                    c.skip()?;
                }
                Ok(())
            })
        } else {
            c.array().and_then(|()| {
                let mut first = true;
                while c.next_element(&mut first)? {
                    c.skip()?;
                }
                Ok(())
            })
        };
        assert_eq!(r, Err(Bail), "{bad}");
    }
}

/// The keys of the flat object `doc` read through `keys`, as codes (each
/// key's length), values skipped.
fn cached_codes(keys: &mut KeyCache, doc: &str) -> Fast<Vec<u16>> {
    let mut c = Cursor::new(doc);
    c.object()?;
    let mut first = true;
    let mut at = KeyCache::chain(0);
    let mut codes = Vec::new();
    while let Some(code) = c.cached_key(&mut first, keys, &mut at, |k| k.len() as u16)? {
        codes.push(code);
        c.skip()?;
    }
    c.end()?;
    Ok(codes)
}

#[test]
fn cached_keys_are_taken_only_where_the_bytes_are_the_key() {
    let mut keys = KeyCache::new();
    let doc = r#"{"a":1,"bb":2,"ccc":3}"#;
    for _ in 0..3 {
        assert_eq!(cached_codes(&mut keys, doc), Ok(vec![1, 2, 3]));
    }
    // Other keys where the cache predicts "bb": a prefix of it, a longer
    // key starting with it, an escaped spelling, whitespace, the end.
    for (doc, want) in [
        (r#"{"a":1,"b":2}"#, Ok(vec![1, 1])),
        (r#"{"a":1,"bbb":2,"ccc":3}"#, Ok(vec![1, 3, 3])),
        (r#"{"a":1, "bb" : 2 ,"ccc":3}"#, Ok(vec![1, 2, 3])),
        (r#"{"a":1}"#, Ok(vec![1])),
        (r#"{"a":1,"b\u0062":2}"#, Err(Bail)),
        (r#"{"a":1,"bb"2}"#, Err(Bail)),
        (r#"{"a":1,"bb":2,}"#, Err(Bail)),
    ] {
        assert_eq!(cached_codes(&mut keys, doc), want, "{doc}");
        // The learned order does not outlive a different record.
        assert_eq!(
            cached_codes(&mut keys, r#"{"a":1,"bb":2,"ccc":3}"#),
            Ok(vec![1, 2, 3])
        );
    }
}

#[test]
fn contexts_keep_the_same_name_apart() {
    let mut keys = KeyCache::new();
    for _ in 0..3 {
        // `{"a":1}` read in context 0 with code 10 and in context 1 with
        // code 20: each context keeps its own.
        for (ctx, want) in [(0, 10u16), (1, 20)] {
            let doc = r#"{"a":1}"#;
            let mut c = Cursor::new(doc);
            c.object().expect("object");
            let mut first = true;
            let mut at = KeyCache::chain(ctx);
            let code = c.cached_key(&mut first, &mut keys, &mut at, |_| want);
            assert_eq!(code, Ok(Some(want)), "context {ctx}");
        }
    }
    assert_eq!(keys.len(), 2);
}

#[test]
fn the_key_cache_is_bounded() {
    let mut keys = KeyCache::new();
    let many: Vec<String> = (0..KeyCache::MAX_KEYS + 100)
        .map(|i| format!("\"k{i}\":0"))
        .collect();
    let doc = format!("{{{}}}", many.join(","));
    let long = format!("{{\"{}\":0}}", "x".repeat(KeyCache::MAX_KEY_LEN + 1));
    // Each key's code is its length: kept or not, every key reads right.
    let want: Vec<u16> = (0..KeyCache::MAX_KEYS + 100)
        .map(|i| format!("k{i}").len() as u16)
        .collect();
    for _ in 0..2 {
        assert_eq!(cached_codes(&mut keys, &doc), Ok(want.clone()));
        assert_eq!(
            cached_codes(&mut keys, &long),
            Ok(vec![KeyCache::MAX_KEY_LEN as u16 + 1])
        );
    }
    assert_eq!(keys.len(), KeyCache::MAX_KEYS);
}

/// Any JSON value, as serde_json writes it (compact or pretty).
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1e300f64..1e300).prop_map(Value::from),
        any::<String>().prop_map(Value::String),
        "[\\\\\"/\u{0}-\u{1f}a-z\u{e9}\u{20ac}]{0,40}".prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Valid JSON is skipped whole, compact or pretty.
    #[test]
    fn skips_any_valid_document(v in json_value(), pretty in any::<bool>()) {
        let text = if pretty {
            serde_json::to_string_pretty(&v)
        } else {
            serde_json::to_string(&v)
        }
        .expect("serializable");
        prop_assert_eq!(skips(&text), Ok(()));
    }

    /// Strings decode to the value serde_json wrote.
    #[test]
    fn decodes_any_string(s in any::<String>()) {
        let text = serde_json::to_string(&s).expect("serializable");
        let got = Cursor::new(&text).string().and_then(Str::decode);
        prop_assert_eq!(got.as_deref(), Ok(s.as_str()));
    }

    /// Mangled documents: whatever the cursor accepts, serde_json accepts.
    #[test]
    fn accepts_nothing_serde_refuses(
        v in json_value(),
        cuts in prop::collection::vec((any::<prop::sample::Index>(), "[ -~\t\n\r]{0,3}"), 1..4),
    ) {
        let mut text = serde_json::to_string(&v).expect("serializable");
        for (at, insert) in cuts {
            let mut i = at.index(text.len() + 1);
            while !text.is_char_boundary(i) {
                i -= 1;
            }
            let end = (i + 1).min(text.len());
            let end = if text.is_char_boundary(end) { end } else { i };
            text.replace_range(i..end, &insert);
        }
        if skips(&text).is_ok() {
            prop_assert!(serde_accepts(&text), "cursor accepted {:?}", text);
        }
        // Reading as text agrees wherever the cursor answers.
        if let Ok(t) = cursor_text(&text) {
            prop_assert_eq!(Some(t), serde_text(&text), "{:?}", text);
        }
    }
}

proptest! {
    /// A kept key's word compare says what `starts_with` says, for keys
    /// of every length around the words' edges and inputs shorter and
    /// longer than the words.
    #[test]
    fn kept_key_compare_is_starts_with(
        key in proptest::collection::vec(prop_oneof![Just(b'a'), Just(b'b'), Just(b'"')], 1..45),
        input in proptest::collection::vec(prop_oneof![Just(b'a'), Just(b'b'), Just(b'"')], 0..60),
        prefix in any::<bool>(),
    ) {
        // Half the cases put the key in front of the input.
        let input = if prefix { [key.as_slice(), &input].concat() } else { input };
        let kept = KeptKey::new(&key, 7);
        prop_assert_eq!(kept.starts(&input), input.starts_with(&key));
    }
}

/// With more record shapes than two guesses hold, every key is still
/// predicted once the shapes were seen.
#[test]
fn four_shapes_after_one_key_are_all_predicted() {
    let records = [
        r#"{"id":1,"a":1}"#,
        r#"{"id":2,"b":1}"#,
        r#"{"id":3,"c":1}"#,
        r#"{"id":4,"d":1}"#,
    ];
    let mut keys = KeyCache::new();
    let read = |keys: &mut KeyCache, text: &str| {
        let mut c = Cursor::new(text);
        c.object().expect("object");
        let mut first = true;
        let mut at = KeyCache::chain(0);
        // Keys not predicted, which are scanned and given a code.
        let mut looked_up = 0;
        while c
            .cached_key(&mut first, keys, &mut at, |k| {
                looked_up += 1;
                k.len() as u16
            })
            .expect("key")
            .is_some()
        {
            c.skip().expect("value");
        }
        looked_up
    };
    for r in records {
        read(&mut keys, r);
    }
    for r in records.iter().chain(records.iter().rev()) {
        assert_eq!(read(&mut keys, r), 0, "{r}: a key was looked up");
    }
}
