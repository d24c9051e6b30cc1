//! results.json survives a write/read cycle unchanged, and bad files give errors naming them.

use results::{fixture, ResultsError, RunResult, SCHEMA_VERSION};

#[test]
fn every_fixture_round_trips_through_a_file() {
    let dir = tempfile::tempdir().unwrap();
    for (name, r) in [
        ("sample", fixture::sample()),
        ("aborted", fixture::aborted()),
        ("no_intervals", fixture::no_intervals()),
        ("http_goose", fixture::http_goose()),
    ] {
        let path = dir.path().join(format!("{name}.json"));
        r.write(&path).unwrap();
        let back = RunResult::read(&path).unwrap();
        assert_eq!(back, r, "{name} changed in a round trip");
    }
}

#[test]
fn u128_supply_beyond_u64_round_trips() {
    let mut r = fixture::sample();
    let audit = r.audit.as_mut().unwrap();
    audit.total_supply_expected = u128::from(u64::MAX) * 1000 + 7;
    audit.total_supply_actual = audit.total_supply_expected;
    let json = r.to_json_pretty().unwrap();
    let back = RunResult::from_json_slice(json.as_bytes(), "mem".as_ref()).unwrap();
    assert_eq!(back, r);
}

#[test]
fn unknown_schema_version_is_rejected_naming_file_and_versions() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("results.json");
    let mut json = serde_json::to_value(fixture::sample()).unwrap();
    json["schema_version"] = 99.into();
    // A future layout may also have changed fields: the version check must come first.
    json.as_object_mut().unwrap().remove("summary");
    std::fs::write(&path, serde_json::to_string(&json).unwrap()).unwrap();
    let err = RunResult::read(&path).unwrap_err();
    assert!(
        matches!(err, ResultsError::SchemaVersion { found: 99, .. }),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert!(
        msg.contains("99") && msg.contains(&SCHEMA_VERSION.to_string()),
        "{msg}"
    );
}

#[test]
fn missing_file_and_bad_json_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.json");
    let msg = RunResult::read(&missing).unwrap_err().to_string();
    assert!(msg.contains("nope.json"), "{msg}");
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"schema_version\": 1, \"scenario\": 3}").unwrap();
    let msg = RunResult::read(&bad).unwrap_err().to_string();
    assert!(msg.contains("bad.json"), "{msg}");
}

#[test]
fn write_leaves_no_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("results.json");
    fixture::sample().write(&path).unwrap();
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("results.json")]);
}

#[test]
fn write_refuses_a_nan_that_would_not_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("results.json");
    let mut r = fixture::sample();
    r.summary.committed_tps = f64::NAN;
    let err = r.write(&path).unwrap_err();
    assert!(matches!(err, ResultsError::NotReadable { .. }), "{err:?}");
    assert!(err.to_string().contains("results.json"), "{err}");
    assert!(!path.exists(), "nothing written");
}
