//! The checked-in JSON schema must match the types, and must accept what we write.
//!
//! Regenerate after changing a type: `UPDATE_SCHEMA=1 cargo test -p results --test schema`.

use std::path::PathBuf;

fn schema_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schema/results.schema.json")
}

#[test]
fn checked_in_schema_matches_types() {
    let generated = results::json_schema();
    let path = schema_path();
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let checked_in = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    assert!(
        checked_in == generated,
        "{} is out of date with the RunResult types; rerun with UPDATE_SCHEMA=1 and commit it",
        path.display()
    );
}

fn validator() -> jsonschema::Validator {
    let text = std::fs::read_to_string(schema_path()).unwrap();
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    jsonschema::validator_for(&schema).expect("schema compiles")
}

#[test]
fn fixtures_validate_against_checked_in_schema() {
    let v = validator();
    for (name, r) in [
        ("sample", results::fixture::sample()),
        ("aborted", results::fixture::aborted()),
        ("no_intervals", results::fixture::no_intervals()),
        ("http_goose", results::fixture::http_goose()),
        ("capacity_search", results::fixture::capacity_search()),
        ("https_native", results::fixture::https_native()),
        ("http_templates", results::fixture::http_templates()),
    ] {
        let json = serde_json::to_value(&r).unwrap();
        let errors: Vec<String> = v.iter_errors(&json).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{name}: {errors:#?}");
    }
}

#[test]
fn schema_rejects_wrong_shapes() {
    let v = validator();
    let mut json = serde_json::to_value(results::fixture::sample()).unwrap();
    json["verdict"]["status"] = "maybe".into();
    assert!(!v.is_valid(&json), "unknown status accepted");
    let mut json = serde_json::to_value(results::fixture::sample()).unwrap();
    json.as_object_mut().unwrap().remove("summary");
    assert!(!v.is_valid(&json), "missing summary accepted");
    let mut json = serde_json::to_value(results::fixture::sample()).unwrap();
    json["criteria"][0]["status"] = "skipped".into();
    assert!(!v.is_valid(&json), "unknown criterion status accepted");
    let mut json = serde_json::to_value(results::fixture::sample()).unwrap();
    json["schema_version"] = 0.into();
    assert!(
        !v.is_valid(&json),
        "schema_version 0 accepted (versions start at 1)"
    );
}
