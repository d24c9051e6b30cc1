//! The CLI as a user runs it: through the real binary.

use assert_cmd::Command;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// The tests here that put load on the machine take turns: run side by side, the smoke run
/// (two engine workers and an open stage at 2M tx/s) shared two cores with another smoke run
/// and a calibration, and CI (2026-12-01) saw 3.46 % of its sends over 1 ms late, which the
/// instrument rightly called invalid.
fn alone() -> MutexGuard<'static, ()> {
    static LOAD: Mutex<()> = Mutex::new(());
    LOAD.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

#[test]
fn every_shipped_scenario_validates() {
    let files: Vec<PathBuf> = std::fs::read_dir(root().join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    assert!(files.len() >= 5);
    Command::cargo_bin("harness")
        .unwrap()
        .arg("validate")
        .args(&files)
        .assert()
        .success();
}

#[test]
fn a_bad_scenario_names_file_line_and_field_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("bad.toml");
    std::fs::write(
        &f,
        "[scenario]\nname = \"bad\"\n[target]\nkind = \"in-process\"\n[[stages]]\nduration = \"5 minutes\"\nworkers = 1\n",
    )
    .unwrap();
    for sub in ["validate", "run"] {
        let out = Command::cargo_bin("harness")
            .unwrap()
            .arg(sub)
            .arg(&f)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{sub}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("bad.toml:6:"), "{sub}: {err}");
        assert!(err.contains("stages[0].duration"), "{sub}: {err}");
    }
    let out = Command::cargo_bin("harness")
        .unwrap()
        .args(["run", "no/such/file.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no/such/file.toml"));
}

/// `harness run scenarios/smoke.toml` into `out`: its output, and whether a stall of the VM
/// (steal, or other tests' processes) disturbed it: invalid for late sends alone.
fn run_smoke(out: &Path) -> (std::process::Output, bool) {
    let o = Command::cargo_bin("harness")
        .unwrap()
        .current_dir(root())
        .args([
            "run",
            "scenarios/smoke.toml",
            "--duration-scale",
            "0.3",
            "--out",
        ])
        .arg(out)
        .output()
        .unwrap();
    let late = o.status.code() == Some(4)
        && results::RunResult::read(out.join("smoke/latest/results.json")).is_ok_and(|r| {
            let mut why = r.verdict.reasons.iter().filter(|w| !w.starts_with("note:"));
            why.clone().next().is_some() && why.all(|w| w.contains("late"))
        });
    (o, late)
}

#[test]
fn smoke_runs_end_to_end_and_writes_every_output() {
    let _turn = alone();
    let dir = tempfile::tempdir().unwrap();
    let (mut out, mut late) = run_smoke(dir.path());
    for _ in 1..3 {
        if !late {
            break;
        }
        eprintln!(
            "disturbed, run again:\n{}",
            String::from_utf8_lossy(&out.stdout)
        );
        (out, late) = run_smoke(dir.path());
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("smoke: PASS"), "{stdout}");
    let run = dir.path().join("smoke/latest");
    for f in [
        "results.json",
        "latency.hlog",
        "report.md",
        "report.html",
        "junit.xml",
    ] {
        assert!(run.join(f).exists(), "{f} missing");
    }
    let r = results::RunResult::read(run.join("results.json")).unwrap();
    assert_eq!(r.scenario.duration_scale, 0.3);
    assert!(r.audit.unwrap().ok);
    let hlog = std::fs::read_to_string(run.join("latency.hlog")).unwrap();
    assert!(
        hlog.lines().filter(|l| l.contains("HISTF")).count() >= 2,
        "{hlog}"
    );
}

#[test]
fn sigint_writes_a_partial_report_marked_aborted_and_exits_3() {
    let _turn = alone();
    let dir = tempfile::tempdir().unwrap();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_harness"))
        .current_dir(root())
        .args([
            "run",
            "scenarios/smoke.toml",
            "--quiet",
            "--no-reports",
            "--out",
        ])
        .arg(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(3500));
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = results::RunResult::read(dir.path().join("smoke/latest/results.json")).unwrap();
    assert_eq!(r.verdict.status, results::Status::Aborted);
    assert!(
        r.summary.committed > 0,
        "what ran before the interrupt is kept"
    );
    assert!(
        r.intervals.len() >= 2 && r.intervals.len() <= 6,
        "{} intervals",
        r.intervals.len()
    );
    assert!(r.audit.unwrap().ok);
}

/// No criteria is "not judged", never "pass": exit 0 (nothing failed), and every output says
/// so; JUnit still holds the run as a (skipped) testcase, so CI never sees an empty suite.
#[test]
fn a_run_without_criteria_is_not_judged_in_every_output_and_exits_0() {
    let _turn = alone();
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("nocrit.toml");
    std::fs::write(
        &f,
        "[scenario]\nname = \"nocrit\"\n[target]\nkind = \"in-process\"\n[workload]\naccounts = 1000\nbatch_size = 64\n[output]\ninterval = \"200ms\"\n[[stages]]\nduration = \"1s\"\nworkers = 1\n",
    )
    .unwrap();
    let out = Command::cargo_bin("harness")
        .unwrap()
        .args(["run", "--out"])
        .arg(dir.path())
        .arg(&f)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("nocrit: NOT JUDGED"), "{stdout}");
    assert!(!stdout.contains("PASS"), "{stdout}");
    let run = dir.path().join("nocrit/latest");
    let r = results::RunResult::read(run.join("results.json")).unwrap();
    assert_eq!(r.verdict.status, results::Status::NotJudged);
    let json = std::fs::read_to_string(run.join("results.json")).unwrap();
    assert!(json.contains("\"status\": \"not_judged\""));
    let md = std::fs::read_to_string(run.join("report.md")).unwrap();
    assert!(md.contains("**NOT JUDGED**"), "{md}");
    let html = std::fs::read_to_string(run.join("report.html")).unwrap();
    assert!(html.contains("verdict not-judged") && html.contains("NOT JUDGED"));
    assert!(run.join("report.pdf").is_file());
    let xml = std::fs::read_to_string(run.join("junit.xml")).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let cases: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert!(!cases.is_empty(), "{xml}");
    let case = cases
        .iter()
        .find(|c| c.attribute("name") == Some("run"))
        .expect("the run is a testcase");
    let skipped = case.children().find(|n| n.has_tag_name("skipped")).unwrap();
    assert!(skipped
        .attribute("message")
        .unwrap()
        .starts_with("no criteria: not judged"));
}

/// `harness calibrate --quick`: the table (every figure with its meaning) on stdout and one
/// JSON file named by host and time holding every figure, measured on this machine.
#[test]
fn calibrate_quick_prints_the_table_and_writes_every_figure() {
    let _turn = alone();
    let dir = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("harness")
        .unwrap()
        .args(["calibrate", "--quick", "--out"])
        .arg(dir.path())
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    for row in [
        "figure",
        "meaning",
        "thread wait of 10 µs",
        "pacer wait of 1.00 ms",
        "tokio wait of 10.0 ms",
        "dispatch rate (in-process, 1 worker)",
        "dispatch precision (HTTP, 1 generator thread)",
        "operations may start up to",
        "loopback round trip (keep-alive HTTP/1.1)",
        "recording one latency (HDR)",
        "clock source",
        "other processes' CPU meanwhile",
    ] {
        assert!(stdout.contains(row), "{row:?} missing:\n{stdout}");
    }
    let files: Vec<PathBuf> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(stdout.contains(&files[0].display().to_string()), "{stdout}");
    let (host, cpu) = harness::calibrate::machine::identity();
    let name = files[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.ends_with("Z.json") && name.len() > host.len(),
        "{name}"
    );
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&files[0]).unwrap()).unwrap();
    assert_eq!(j["host"], host.as_str());
    assert_eq!(j["cpu_model"], cpu.as_str());
    assert_eq!(j["mode"], "quick");
    assert!(j["measured_at"].as_str().unwrap().ends_with('Z'));
    assert!(j["harness_version"].is_string());
    assert!(j.get("git_commit").is_some());
    assert!(j["wall_s"].as_f64().unwrap() > 0.0);
    assert_eq!(j["timers"].as_array().unwrap().len(), 12);
    let t0 = &j["timers"][0];
    assert!(t0["overshoot_p99_us"].as_f64().unwrap() >= t0["overshoot_p50_us"].as_f64().unwrap());
    for (i, driver) in ["threads", "http"].iter().enumerate() {
        let d = &j["dispatch"][i];
        assert_eq!(d["driver"], *driver, "{j}");
        let step = &d["steps"][0];
        assert_eq!(step["rate"], 1000.0);
        assert!(step["ops"].as_u64().unwrap() > 0, "{d}");
        assert!(step["lag_p99_us"].as_f64().unwrap() > 0.0, "{d}");
        assert!(d.get("max_rate_p99_under_1ms").is_some());
    }
    let lb = &j["loopback"];
    assert!(lb["requests"].as_u64().unwrap() > 0 && lb["p50_us"].as_f64().unwrap() > 0.0);
    assert!(j["recorder"]["ns_per_value"].as_f64().unwrap() > 0.0);
    assert!(j["clock"]["read_ns"].as_f64().unwrap() > 0.0);
    assert!(j["machine"]["cores"].as_u64().unwrap() >= 1);
    assert!(j["machine"].get("others_cpu_pct").is_some());
    assert!(j["clock"].get("constant_tsc").is_some());
}

/// A calibration whose dispatch lag (every step, both drivers) is `lag_us` at p99, of this
/// host and CPU, measured now.
fn calibration_json(lag_us: f64) -> String {
    let (host, cpu) = harness::calibrate::machine::identity();
    let step = serde_json::json!({
        "rate": 1000.0, "seconds": 1.0, "ops": 1000, "achieved_per_s": 1000.0,
        "lag_p50_us": lag_us / 2.0, "lag_p90_us": lag_us * 0.9, "lag_p99_us": lag_us,
        "lag_p999_us": lag_us * 1.5, "lag_max_us": lag_us * 2.0
    });
    let dispatch = |driver: &str| {
        serde_json::json!({ "driver": driver, "steps": [step.clone()],
            "max_rate_p99_under_100us": null, "max_rate_p99_under_1ms": null })
    };
    serde_json::json!({
        "version": 1, "host": host, "cpu_model": cpu,
        "measured_at": humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        "harness_version": "0.1.0", "git_commit": null, "mode": "quick", "wall_s": 10.0,
        "machine": { "cores": 2 }, "clock": { "constant_tsc": true, "nonstop_tsc": true, "read_ns": 20.0 },
        "timers": [], "dispatch": [dispatch("threads"), dispatch("http")], "loopback": null,
        "recorder": { "values": 1, "ns_per_value": 5.0 }
    })
    .to_string()
}

/// Runs `scenario` into `out` with `extra` flags; the exit code and the results.
fn run_judged(scenario: &Path, out: &Path, extra: &[&str]) -> (Option<i32>, results::RunResult) {
    let o = Command::cargo_bin("harness")
        .unwrap()
        .args(["run", "--quiet", "--no-reports", "--out"])
        .arg(out)
        .args(extra)
        .arg(scenario)
        .output()
        .unwrap();
    let name = scenario.file_stem().unwrap().to_string_lossy().into_owned();
    let r = results::RunResult::read(out.join(name).join("latest/results.json")).unwrap();
    let _ = String::from_utf8_lossy(&o.stderr);
    (o.status.code(), r)
}

/// A p99 limit of 50 ms is judged as before without a calibration; held against one whose
/// dispatch lag p99 is 80 ms it cannot be judged: invalid (exit 4), with the reason. The
/// scenario's `use_calibration` finds the same file under the output root's calibration/, and
/// finding none is a note, not a failure.
#[test]
fn a_latency_limit_below_the_calibrated_precision_makes_the_run_invalid() {
    let _turn = alone();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let body = "[target]\nkind = \"in-process\"\n[workload]\naccounts = 1000\nbatch_size = 64\n\
        [output]\ninterval = \"200ms\"\n[[stages]]\nduration = \"1s\"\nworkers = 1\n\
        [criteria]\nmax_p99 = \"50ms\"\n";
    let plain = d.join("tight.toml");
    std::fs::write(&plain, format!("[scenario]\nname = \"tight\"\n{body}")).unwrap();
    let opted = d.join("opted.toml");
    std::fs::write(
        &opted,
        format!("[scenario]\nname = \"opted\"\n{body}use_calibration = true\n"),
    )
    .unwrap();
    let coarse = d.join("coarse.json");
    std::fs::write(&coarse, calibration_json(80_000.0)).unwrap();

    let (code, r) = run_judged(&plain, &d.join("a"), &[]);
    assert_eq!(code, Some(0), "{:?}", r.verdict);
    assert_eq!(r.verdict.status, results::Status::Pass);

    let (code, r) = run_judged(
        &plain,
        &d.join("b"),
        &["--calibration", coarse.to_str().unwrap()],
    );
    assert_eq!(code, Some(4), "{:?}", r.verdict);
    assert_eq!(r.verdict.status, results::Status::Invalid);
    let why = r.verdict.reasons.join("\n");
    assert!(
        why.contains("the p99 latency limit 50.0 ms is below this machine's dispatch precision: operations may start up to 80.0 ms late at p99"),
        "{why}"
    );
    assert!(why.contains("coarse.json"), "{why}");

    // use_calibration without any calibration: judged as before, with a note.
    let (code, r) = run_judged(&opted, &d.join("c"), &[]);
    assert_eq!(code, Some(0), "{:?}", r.verdict);
    assert!(
        r.verdict
            .reasons
            .iter()
            .any(|n| n.starts_with("note: use_calibration: no calibration of")),
        "{:?}",
        r.verdict
    );
    // ... and with one of this host under the output root's calibration/: invalid.
    std::fs::create_dir_all(d.join("e/calibration")).unwrap();
    std::fs::copy(&coarse, d.join("e/calibration/this-host.json")).unwrap();
    let (code, r) = run_judged(&opted, &d.join("e"), &[]);
    assert_eq!(code, Some(4), "{:?}", r.verdict);
    assert!(
        r.verdict.reasons[0].contains("e/calibration/this-host.json"),
        "{:?}",
        r.verdict
    );
    // A calibration fine enough leaves the verdict alone.
    let fine = d.join("fine.json");
    std::fs::write(&fine, calibration_json(20.0)).unwrap();
    let (code, _) = run_judged(
        &plain,
        &d.join("f"),
        &["--calibration", fine.to_str().unwrap()],
    );
    assert_eq!(code, Some(0));
}

/// The hidden `--coarse-timer` reaches the calibration's waits: at 5 ms the in-process
/// dispatch precision is most of a quantum at p99 and the table says the timer was made coarse;
/// a run whose p99 limit (3 ms) is finer, held against that file, is invalid.
#[test]
fn a_coarse_timer_calibration_is_coarse_and_a_run_held_against_it_is_invalid() {
    let _turn = alone();
    let dir = tempfile::tempdir().unwrap();
    let cal = dir.path().join("calibration");
    let out = Command::cargo_bin("harness")
        .unwrap()
        .args(["calibrate", "--quick", "--coarse-timer", "5ms", "--out"])
        .arg(&cal)
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("waits coarsened to 5.00 ms on purpose"),
        "{stdout}"
    );
    let file = std::fs::read_dir(&cal)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(j["coarse_timer_us"], 5000.0);
    let threads = &j["dispatch"][0];
    assert_eq!(threads["driver"], "threads");
    // A lower bound: operations cannot start early, so this fails only if the quantum was lost.
    let p99 = threads["steps"][0]["lag_p99_us"].as_f64().unwrap();
    assert!(p99 >= 4_000.0, "{threads}");
    assert_eq!(threads["max_rate_p99_under_1ms"], serde_json::Value::Null);
    let timer = &j["timers"][0];
    assert!(
        timer["overshoot_p50_us"].as_f64().unwrap() >= 4_900.0,
        "{timer}"
    );

    let f = dir.path().join("tight.toml");
    std::fs::write(
        &f,
        "[scenario]\nname = \"tight\"\n[target]\nkind = \"in-process\"\n[workload]\naccounts = 1000\n\
         batch_size = 64\n[output]\ninterval = \"200ms\"\n[[stages]]\nduration = \"1s\"\nworkers = 1\n\
         [criteria]\nmax_p99 = \"3ms\"\n",
    )
    .unwrap();
    let (code, r) = run_judged(
        &f,
        &dir.path().join("runs"),
        &["--calibration", file.to_str().unwrap()],
    );
    assert_eq!(code, Some(4), "{:?}", r.verdict);
    assert!(
        r.verdict.reasons[0].starts_with("the p99 latency limit 3.00 ms is below"),
        "{:?}",
        r.verdict
    );
}
