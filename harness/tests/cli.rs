//! The CLI as a user runs it: through the real binary.

use assert_cmd::Command;
use std::path::{Path, PathBuf};
use std::time::Duration;

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

#[test]
fn smoke_runs_end_to_end_and_writes_every_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("harness")
        .unwrap()
        .current_dir(root())
        .args([
            "run",
            "scenarios/smoke.toml",
            "--duration-scale",
            "0.3",
            "--out",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
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
