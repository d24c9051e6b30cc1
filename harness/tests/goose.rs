//! The goose driver end to end: one scenario run through goose against the real engine server
//! (spawned on loopback port 0), the plans goose refuses, the stage-to-test-plan mapping, the
//! `--driver` override, and `harness compare` of a goose run against a native one.
//!
//! The engine binary is found (or built once) as in tests/http.rs. Each run is a few seconds.

mod common;
use assert_cmd::Command;
use common::*;
use harness::drivers::goose::{test_plan, test_plan_spec};
use harness::exit::Exit;
use harness::plan::{self, Adjust, PlanError, Prepared};
use harness::run::{execute, RunOptions};
use scenario::Driver;
use scenario::DriverError;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

/// goose keeps process-wide state (its killswitch, its logger); runs in one test process take
/// turns.
static ONE_ATTACK: Mutex<()> = Mutex::new(());

fn spawn_target() -> String {
    format!(
        "[target]\nkind = \"spawn\"\ncommand = [{:?}, \"serve\", \"--addr\", \"127.0.0.1:0\", \"--accounts\", \"10000\", \"--workers\", \"1\"]\nhealth_path = \"/api/v11/health\"\nstartup_timeout = \"20s\"\n",
        engine_bin().display().to_string()
    )
}

/// JSON transfers (weight 3) and health checks (weight 1), 2 users then a ramp to 6.
fn json_scenario(name: &str, driver: &str) -> String {
    format!(
        "[scenario]\nname = \"{name}\"\ndriver = \"{driver}\"\n{}\n[workload]\naccounts = 10_000\n[http]\ntimeout = \"5s\"\n\
         [[requests]]\nname = \"transfer\"\nmethod = \"POST\"\npath = \"/api/v11/transactions\"\nheaders = {{ content-type = \"application/json\" }}\nbody = \"json-transfer\"\nweight = 3\nexpect_status = [200, 202]\n\
         [[requests]]\nname = \"health\"\nmethod = \"GET\"\npath = \"/api/v11/health\"\nexpect_status = [200]\n\
         [[stages]]\nname = \"warmup\"\nduration = \"1s\"\nworkers = 2\nwarmup = true\n\
         [[stages]]\nname = \"ramp\"\nduration = \"2s\"\nworkers = {{ from = 2, to = 6 }}\n\
         [criteria]\nmax_error_rate = \"0.1%\"\n",
        spawn_target()
    )
}

fn opts(_file: &Path, out: &Path) -> RunOptions {
    RunOptions {
        out: Some(out.to_path_buf()),
        quiet: true,
        no_reports: true,
        ..RunOptions::default()
    }
}

fn schema_validator() -> jsonschema::Validator {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("crates/results/schema/results.schema.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    jsonschema::validator_for(&schema).expect("schema compiles")
}

#[test]
fn goose_run_against_the_engine_is_a_valid_result_that_agrees_with_the_engine() {
    let _one = ONE_ATTACK.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let file = write_scenario(dir.path(), "g", &json_scenario("t-goose", "goose"));
    let plan = scenario::load(&file).unwrap();
    assert_eq!(plan.driver, Driver::Goose);
    let o = execute(&Prepared::whole(plan), &opts(&file, dir.path())).unwrap();
    let r = &o.result;

    assert_eq!(r.driver.name, "goose");
    assert_eq!(r.driver.latency_resolution_ns, 1_000);
    assert!(
        r.driver.latency_basis.contains("first byte"),
        "{}",
        r.driver.latency_basis
    );
    assert!(
        r.driver.notes.iter().any(|n| n.contains("2,0;2,1;6,2;0,0")),
        "test plan missing from {:#?}",
        r.driver.notes
    );
    assert_eq!(r.verdict.status, results::Status::Pass, "{:?}", r.verdict);
    assert_eq!(o.exit, Exit::Pass);

    // Committed transfers: what the harness parsed from the answers is what the engine says.
    let audit = r.audit.as_ref().expect("the engine was audited");
    assert!(audit.ok, "{:?}", audit.problems);
    let committed: u64 = r.stages.iter().map(|s| s.committed).sum();
    assert!(committed > 0, "no transfer committed");
    assert_eq!(committed, audit.committed_transfers);
    assert!(
        r.driver
            .notes
            .iter()
            .any(|n| n.contains("engine stats agree") && n.contains(&committed.to_string())),
        "{:#?}",
        r.driver.notes
    );
    // Both templates ran, in goose's weighted order: about 3 transfers per health check.
    let ops: u64 = r.stages.iter().map(|s| s.ops).sum();
    assert!(
        committed * 4 > ops * 2 && committed * 4 < ops * 4,
        "{committed} transfers in {ops} requests"
    );

    // The intervals come from our collector: active users per interval follow the test plan,
    // resources were sampled for both processes.
    assert!(r.intervals.len() >= 3, "{} intervals", r.intervals.len());
    assert!(r.intervals.iter().all(|i| i.harness_cpu_pct.is_some()));
    assert!(r.intervals.iter().any(|i| i.target_rss_bytes.is_some()));
    let most = r
        .intervals
        .iter()
        .map(|i| i.achieved_load)
        .fold(0.0, f64::max);
    assert_eq!(most, 6.0, "most users active in an interval");
    assert!(r.summary.latency_us.p50 > 0.0);

    // The file on disk validates against the checked-in schema.
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(o.dir.join("results.json")).unwrap()).unwrap();
    let v = schema_validator();
    let errors: Vec<String> = v.iter_errors(&json).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn open_model_stages_are_refused_for_goose_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    // Nothing listens on port 1: the refusal must come before any connection or spawn.
    let text =
        "[scenario]\nname = \"t-open\"\n[target]\nkind = \"http\"\nurl = \"http://127.0.0.1:1\"\n\
                [[requests]]\nname = \"h\"\nmethod = \"GET\"\npath = \"/\"\nexpect_status = [200]\n\
                [[stages]]\nname = \"closed\"\nduration = \"1s\"\nworkers = 2\n\
                [[stages]]\nname = \"open\"\nduration = \"1s\"\nrate = \"100/s\"\n";
    let file = write_scenario(dir.path(), "open", text);
    let adjust = Adjust {
        driver: Some(Driver::Goose),
        ..Adjust::default()
    };
    let err = match plan::load(&file, &adjust) {
        Ok(_) => panic!("an open-model stage was accepted for goose"),
        Err(e) => e,
    };
    assert!(
        matches!(&err, PlanError::Driver(DriverError::OpenStage { index: 1, name }) if name == "open"),
        "{err:?}"
    );
    assert!(err.to_string().contains("arrival-rate"), "{err}");

    // Through the CLI: exit 2, naming the stage.
    let out = Command::cargo_bin("harness")
        .unwrap()
        .args(["run", "--driver", "goose", "-q", "--out"])
        .arg(dir.path())
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("stages[1]"), "{stderr}");

    // goose cannot drive the in-process engine either.
    let inproc = write_scenario(
        dir.path(),
        "inproc",
        "[scenario]\nname = \"t-inproc\"\n[target]\nkind = \"in-process\"\n[[stages]]\nname = \"s\"\nduration = \"1s\"\nworkers = 1\n",
    );
    let out = Command::cargo_bin("harness")
        .unwrap()
        .args(["run", "--driver", "goose", "-q", "--out"])
        .arg(dir.path())
        .arg(&inproc)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("in-process"));
}

#[test]
fn ramped_closed_stages_map_to_the_goose_test_plan() {
    let text = "[scenario]\nname = \"t-plan\"\ndriver = \"goose\"\n[target]\nkind = \"http\"\nurl = \"http://127.0.0.1:1\"\n\
                [[requests]]\nname = \"h\"\nmethod = \"GET\"\npath = \"/\"\nexpect_status = [200]\n\
                [[stages]]\nname = \"warmup\"\nduration = \"5s\"\nworkers = 1\nwarmup = true\n\
                [[stages]]\nname = \"ramp\"\nduration = \"40s\"\nworkers = { from = 1, to = 64 }\n\
                [[stages]]\nname = \"hold\"\nduration = \"15s\"\nworkers = 64\n\
                [[stages]]\nname = \"drop\"\nduration = \"10s\"\nworkers = { from = 8, to = 2 }\n";
    let plan = scenario::parse(text, Path::new("t-plan.toml")).unwrap();
    let s = Duration::from_secs;
    let steps = test_plan(&plan).unwrap();
    assert_eq!(
        steps,
        vec![
            (1, s(0)),
            (1, s(5)),
            (64, s(40)),
            (64, s(15)),
            (8, s(0)),
            (2, s(10)),
            (0, s(0)),
        ]
    );
    assert_eq!(
        test_plan_spec(&steps),
        ("1,0;1,5;64,40;64,15;8,0;2,10;0,0".to_string(), false)
    );
    // Scaled down, durations round to goose's whole seconds and say so.
    let (spec, rounded) = test_plan_spec(&test_plan(&plan.scaled(0.1)).unwrap());
    assert_eq!(spec, "1,0;1,1;64,4;64,2;8,0;2,1;0,0");
    assert!(rounded);
}

#[test]
fn driver_flag_overrides_the_scenario_and_compare_shows_both_drivers() {
    let _one = ONE_ATTACK.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    // The file says native; the command line says goose, then native again.
    let file = write_scenario(dir.path(), "n", &json_scenario("t-override", "native"));
    let run = |driver: &str, out: &str| {
        let out_dir = dir.path().join(out);
        let o = Command::cargo_bin("harness")
            .unwrap()
            .args(["run", "-q", "--no-reports", "--driver", driver, "--out"])
            .arg(&out_dir)
            .arg(&file)
            .output()
            .unwrap();
        assert_eq!(
            o.status.code(),
            Some(0),
            "{driver}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let path = out_dir.join("t-override/latest/results.json");
        let r = results::RunResult::read(&path).unwrap();
        (path, r)
    };
    let (goose_json, g) = run("goose", "g");
    assert_eq!(g.driver.name, "goose");
    let (native_json, n) = run("native", "n");
    assert_eq!(n.driver.name, "native");
    assert_eq!(g.scenario.sha256, n.scenario.sha256);

    // Same scenario, different drivers: compare accepts it and shows both side by side, with
    // what each generator cost.
    let out = Command::cargo_bin("harness")
        .unwrap()
        .args(["compare", "--format", "text,markdown"])
        .arg(&native_json)
        .arg(&goose_json)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_ne!(
        out.status.code(),
        Some(2),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("driver native"), "{stdout}");
    assert!(stdout.contains("driver goose"), "{stdout}");
    assert!(
        stdout.contains("drivers differ (base native, new goose)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Load generator CPU-s per 1M ops"),
        "{stdout}"
    );
    assert!(stdout.contains("Load generator peak RSS"), "{stdout}");
}
