//! results.json survives a write/read cycle unchanged, and bad files give errors naming them.

use std::path::{Path, PathBuf};

use results::{fixture, ResultsError, RunResult, SCHEMA_VERSION};

#[test]
fn every_fixture_round_trips_through_a_file() {
    let dir = tempfile::tempdir().unwrap();
    for (name, r) in [
        ("sample", fixture::sample()),
        ("aborted", fixture::aborted()),
        ("no_intervals", fixture::no_intervals()),
        ("http_goose", fixture::http_goose()),
        ("https_native", fixture::https_native()),
        ("http_templates", fixture::http_templates()),
    ] {
        let path = dir.path().join(format!("{name}.json"));
        r.write(&path).unwrap();
        let back = RunResult::read(&path).unwrap();
        assert_eq!(back, r, "{name} changed in a round trip");
    }
}

#[test]
fn template_figures_are_absent_when_empty_and_their_checks_only_when_some_failed() {
    let json = fixture::sample().to_json_pretty().unwrap();
    assert!(!json.contains("\"templates\""), "an empty list is left out");
    let mut r = fixture::http_templates();
    let json = r.to_json_pretty().unwrap();
    assert!(json.contains("\"templates\"") && !json.contains("\"checks_failed\""));
    r.templates[0]
        .checks_failed
        .insert("json /ok equals true".into(), 3);
    let back = RunResult::from_json_slice(r.to_json_pretty().unwrap().as_bytes(), "m".as_ref());
    assert_eq!(back.unwrap(), r);
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

/// `json` with its `schema_version` edited by hand to `v`, written to `dir/name`.
fn with_version(dir: &Path, name: &str, json: &str, v: u64) -> PathBuf {
    let today = format!("\"schema_version\": {SCHEMA_VERSION},");
    assert!(json.contains(&today), "the pretty JSON names its version");
    let path = dir.join(name);
    let edited = json.replacen(&today, &format!("\"schema_version\": {v},"), 1);
    std::fs::write(&path, edited).unwrap();
    path
}

#[test]
fn todays_and_older_versions_are_read_newer_ones_refused() {
    let dir = tempfile::tempdir().unwrap();
    let sample = fixture::sample();
    // Today's version, as written.
    let today = dir.path().join("results.json");
    sample.write(&today).unwrap();
    assert_eq!(RunResult::read(&today).unwrap(), sample);
    let json = std::fs::read_to_string(&today).unwrap();
    // Every older version (hand-edited; the figures are the same, only the number differs).
    for v in 1..=u64::from(SCHEMA_VERSION) {
        let path = with_version(dir.path(), &format!("v{v}.json"), &json, v);
        let back = RunResult::read(&path).unwrap_or_else(|e| panic!("version {v}: {e}"));
        assert_eq!(back.schema_version, v as u32);
        assert_eq!(back.summary, sample.summary);
    }
    // One newer: refused, naming the file, the version found and the newest this build reads.
    let newer = u64::from(SCHEMA_VERSION) + 1;
    let path = with_version(dir.path(), "newer.json", &json, newer);
    let err = RunResult::read(&path).unwrap_err();
    assert!(
        matches!(err, ResultsError::SchemaVersion { found, newest, .. } if found == newer && newest == SCHEMA_VERSION),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "{}: results schema_version {newer} is newer than this build reads (versions 1 to {SCHEMA_VERSION}); \
             read it with a harness at least as new as the one that wrote it",
            path.display()
        )
    );
    // 0 is no version at all.
    let path = with_version(dir.path(), "zero.json", &json, 0);
    let err = RunResult::read(&path).unwrap_err();
    assert!(
        matches!(err, ResultsError::SchemaVersionZero { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("zero.json"), "{err}");
}

#[test]
fn optional_fields_added_since_a_version_do_not_stop_its_files_reading() {
    // A file of the same version from before the optional fields were added: they are absent.
    let mut json = serde_json::to_value(fixture::http_goose()).unwrap();
    for stage in json["stages"].as_array_mut().unwrap() {
        stage.as_object_mut().unwrap().remove("histogram");
    }
    for interval in json["intervals"].as_array_mut().unwrap() {
        let interval = interval.as_object_mut().unwrap();
        interval.remove("machine_cpu_pct");
        interval.remove("cpu_per_core_pct");
    }
    let segment = json["segment"].as_object_mut().unwrap();
    for key in ["share", "clock_origin_unix_s", "start", "senders", "merged"] {
        segment.remove(key);
    }
    let bytes = serde_json::to_vec(&json).unwrap();
    let back = RunResult::from_json_slice(&bytes, Path::new("old.json")).unwrap();
    assert_eq!(back.schema_version, SCHEMA_VERSION);
    assert_eq!(back.intervals.len(), fixture::http_goose().intervals.len());
    assert_eq!(
        back.segment.map(|s| s.share),
        Some(1.0),
        "the documented default"
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
