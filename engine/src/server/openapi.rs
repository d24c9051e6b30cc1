//! `GET /api/v11/openapi.json`: the API's OpenAPI description, served as JSON.
//!
//! `engine/openapi.yaml` is the one source: it is embedded in the binary and converted to JSON
//! on the first request, then the same bytes are served every time. YAML because people edit
//! it (comments, block text for descriptions); JSON because that is what clients and
//! schemathesis fetch. Converting in the server instead of in a build script keeps one file
//! and no generated copy that could drift; the tests below fail the build of the tests if the
//! YAML does not parse or its paths and methods disagree with the routing (`Route`).

use crate::server::routes::{error, respond, Resp};
use bytes::Bytes;
use hyper::header::HeaderValue;
use hyper::StatusCode;
use std::sync::OnceLock;

/// The description as written, embedded at build time.
const YAML: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.yaml"));

/// The description as JSON, or why the embedded YAML could not be converted (a bug the unit
/// tests catch before it ships).
pub(crate) fn document() -> Result<&'static Bytes, &'static str> {
    static JSON: OnceLock<Result<Bytes, String>> = OnceLock::new();
    JSON.get_or_init(|| {
        // serde_norway's Value keeps the file's key order (serde_json's would sort it).
        let value: serde_norway::Value = serde_norway::from_str(YAML)
            .map_err(|e| format!("engine/openapi.yaml does not parse: {e}"))?;
        serde_json::to_vec(&value)
            .map(Bytes::from)
            .map_err(|e| format!("engine/openapi.yaml cannot be written as JSON: {e}"))
    })
    .as_ref()
    .map_err(String::as_str)
}

pub(crate) fn openapi() -> Resp {
    match document() {
        // Cloning `Bytes` shares the buffer.
        Ok(json) => respond(
            StatusCode::OK,
            HeaderValue::from_static("application/json"),
            json.clone(),
        ),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, "no API description", e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::metrics::Route;
    use std::collections::BTreeSet;

    fn spec() -> serde_json::Value {
        serde_json::from_slice(document().unwrap()).unwrap()
    }

    /// A route added to the server without a description, or a description of a route the
    /// server does not have, fails here.
    #[test]
    fn paths_are_exactly_the_routes() {
        let spec = spec();
        assert!(spec["openapi"].as_str().unwrap().starts_with("3."));
        let described: BTreeSet<&str> = spec["paths"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let routed: BTreeSet<&str> = Route::ALL
            .iter()
            .filter(|r| r.allow().is_some())
            .map(|r| r.label())
            .collect();
        assert_eq!(described, routed);
    }

    /// Each path's operations are the methods its 405 lists in `Allow`.
    #[test]
    fn operations_are_exactly_the_allowed_methods() {
        let spec = spec();
        for route in Route::ALL {
            let Some(allow) = route.allow() else { continue };
            let ops: BTreeSet<String> = spec["paths"][route.label()]
                .as_object()
                .unwrap()
                .keys()
                .filter(|k| !matches!(k.as_str(), "parameters" | "summary" | "description"))
                .map(|k| k.to_ascii_uppercase())
                .collect();
            let allowed: BTreeSet<String> = allow.split(", ").map(str::to_string).collect();
            assert_eq!(ops, allowed, "{}", route.label());
        }
    }

    /// Every `$ref` points at something that exists, so no answer is checked against nothing.
    #[test]
    fn references_resolve() {
        fn walk(v: &serde_json::Value, root: &serde_json::Value) {
            match v {
                serde_json::Value::Object(map) => {
                    if let Some(r) = map.get("$ref").and_then(|r| r.as_str()) {
                        let pointer = r.strip_prefix('#').unwrap();
                        assert!(root.pointer(pointer).is_some(), "dangling {r}");
                    }
                    map.values().for_each(|x| walk(x, root));
                }
                serde_json::Value::Array(items) => items.iter().for_each(|x| walk(x, root)),
                _ => {}
            }
        }
        let spec = spec();
        walk(&spec, &spec);
    }
}
