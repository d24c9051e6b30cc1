//! An RFC 6901 JSON pointer looked up in an answer's bytes without building the document.
//!
//! Why not `serde_json::Value::pointer`: parsing a 250-byte answer into a `Value` allocated a
//! string and a map node per key, and malloc, free and B-tree inserts were a fifth of the
//! generator's CPU with one check and one extraction per request (perf, benches/flows.sh).
//! Here the parser walks the bytes once per pointer: members off the path are skipped with
//! `IgnoredAny` (no allocation), and only the value the pointer names is built. With a key
//! repeated in an object (RFC 8259 leaves that to the reader) the first one counts.

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::borrow::Cow;
use std::fmt;

/// A pointer split into its reference tokens (`~1` and `~0` unescaped).
#[derive(Debug, Clone, PartialEq)]
pub struct Pointer(Vec<String>);

impl Pointer {
    /// Splits `text` ("" for the whole document, else "/a/0/b"); validation checked its form.
    pub fn new(text: &str) -> Pointer {
        Pointer(
            text.split('/')
                .skip(1)
                .map(|t| t.replace("~1", "/").replace("~0", "~"))
                .collect(),
        )
    }

    /// The value at this pointer in `json`, if `json` is a JSON document that has one.
    pub fn lookup(&self, json: &[u8]) -> Option<Value> {
        let mut de = serde_json::Deserializer::from_slice(json);
        let found = Seek(&self.0).deserialize(&mut de).ok()?;
        de.end().ok()?;
        found
    }
}

/// Finds the value under `tokens` in the value being parsed.
struct Seek<'p>(&'p [String]);

impl<'de> DeserializeSeed<'de> for Seek<'_> {
    type Value = Option<Value>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<Value>, D::Error> {
        match self.0 {
            [] => serde::Deserialize::deserialize(d).map(Some),
            _ => d.deserialize_any(self),
        }
    }
}

impl<'de> Visitor<'de> for Seek<'_> {
    type Value = Option<Value>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<Value>, A::Error> {
        let (token, rest) = (&self.0[0], &self.0[1..]);
        let mut found = None;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            if found.is_none() && key == token.as_str() {
                found = map.next_value_seed(Seek(rest))?;
            } else {
                // Every member is read to the end: the parser checks the closing brace.
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Option<Value>, A::Error> {
        let (token, rest) = (&self.0[0], &self.0[1..]);
        let index = token.parse::<usize>().ok().filter(|_| {
            // RFC 6901: no leading zeros, no sign.
            token == "0" || !token.starts_with('0')
        });
        let mut found = None;
        let mut i = 0usize;
        loop {
            if Some(i) == index {
                match seq.next_element_seed(Seek(rest))? {
                    Some(v) => found = v,
                    None => break,
                }
            } else if seq.next_element::<IgnoredAny>()?.is_none() {
                break;
            }
            i += 1;
        }
        Ok(found)
    }

    // A scalar has no member to descend into.
    fn visit_bool<E>(self, _: bool) -> Result<Option<Value>, E> {
        Ok(None)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Option<Value>, E> {
        Ok(None)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Option<Value>, E> {
        Ok(None)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Option<Value>, E> {
        Ok(None)
    }
    fn visit_str<E>(self, _: &str) -> Result<Option<Value>, E> {
        Ok(None)
    }
    fn visit_unit<E>(self) -> Result<Option<Value>, E> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const DOC: &str =
        r#"{"a":{"b":[10,{"c":"x"},null]},"m~n":1,"s/t":true,"":"empty","e\u0041":2}"#;

    #[test]
    fn finds_what_value_pointer_finds() {
        let v: Value = serde_json::from_str(DOC).unwrap();
        for p in [
            "",
            "/a",
            "/a/b",
            "/a/b/0",
            "/a/b/1/c",
            "/a/b/2",
            "/a/b/3",
            "/a/b/01",
            "/m~0n",
            "/s~1t",
            "/",
            "/eA",
            "/nope",
            "/a/b/1/c/d",
            "/a/x",
        ] {
            assert_eq!(
                Pointer::new(p).lookup(DOC.as_bytes()),
                v.pointer(p).cloned(),
                "{p}"
            );
        }
    }

    #[test]
    fn a_body_that_is_not_json_has_no_value() {
        for bad in [&b"{\"a\":1"[..], b"{\"a\":1} x", b"<html>", b""] {
            assert_eq!(Pointer::new("/a").lookup(bad), None);
        }
    }

    fn json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            "[a-z~/]{0,4}".prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map("[a-c~/]{0,2}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn agrees_with_the_document_model(v in json(), path in prop::collection::vec("[a-c0-2~/]{0,2}", 0..4)) {
            let escaped: Vec<String> = path.iter().map(|t| t.replace('~', "~0").replace('/', "~1")).collect();
            let p = if escaped.is_empty() { String::new() } else { format!("/{}", escaped.join("/")) };
            let text = serde_json::to_vec(&v).unwrap();
            prop_assert_eq!(Pointer::new(&p).lookup(&text), v.pointer(&p).cloned());
        }
    }
}
