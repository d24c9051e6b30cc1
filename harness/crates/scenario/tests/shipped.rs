//! Every scenario shipped in `scenarios/` must validate, and the headline ones must say what
//! their brief promised (so an edit that silently weakens a claim fails here).

use std::path::PathBuf;
use std::time::Duration;

use scenario::{Body, Driver, Load, RateUnit, Target};

fn scenarios_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../scenarios")
}

fn load(name: &str) -> scenario::Plan {
    let path = scenarios_dir().join(name);
    scenario::load(&path).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn every_shipped_scenario_validates() {
    let mut count = 0;
    let mut names = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(scenarios_dir()).expect("scenarios/ exists") {
        let path = entry.expect("readable dir entry").path();
        if path.extension().is_some_and(|e| e == "toml") {
            let plan = scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(
                Some(plan.name.as_str()),
                path.file_stem().and_then(|s| s.to_str()),
                "scenario name should match its file name"
            );
            assert!(names.insert(plan.name.clone()));
            assert_eq!(plan.sha256.len(), 64);
            count += 1;
        }
    }
    assert!(count >= 9, "expected at least 9 scenarios, found {count}");
}

#[test]
fn smoke_is_short_and_loose() {
    let p = load("smoke.toml");
    assert!(p.total_duration() < Duration::from_secs(20));
    assert_eq!(p.total_duration(), Duration::from_secs(10));
    assert_eq!(p.warmup, Duration::from_secs(2));
    assert_eq!(p.target, Target::InProcess);
    assert_eq!(p.workload.accounts, 100_000);
    assert_eq!(p.workload.batch_size, 1024);
    assert_eq!(p.workload.invalid.bad_nonce, 0.0005);
    assert_eq!(p.criteria.min_tps, Some(1_000_000.0));
    assert_eq!(p.criteria.max_p99, Some(Duration::from_millis(50)));
    assert_eq!(p.criteria.max_error_rate, Some(0.01));
    assert_eq!(p.criteria.max_rss, Some(512 << 20));
    assert_eq!(p.max_workers(), 2);
    assert_eq!(
        p.stages[2].load,
        Load::Open {
            rate: scenario::Ramp::constant(2_000_000.0),
            unit: RateUnit::TxPerSec
        }
    );
    // 2M tx/s in batches of 1024.
    assert_eq!(p.ops_per_sec(2, 0.5), Some(2_000_000.0 / 1024.0));
}

#[test]
fn sustained_states_the_claim() {
    for file in ["sustained-30m.toml", "http-sustained.toml"] {
        let p = load(file);
        assert_eq!(p.warmup, Duration::from_secs(30));
        assert_eq!(p.total_duration(), Duration::from_secs(30 * 60 + 30));
        assert_eq!(p.stages.len(), 7);
        for s in &p.stages {
            assert_eq!(
                s.load,
                Load::Open {
                    rate: scenario::Ramp::constant(8_510_000.0),
                    unit: RateUnit::TxPerSec
                }
            );
        }
        let c = &p.criteria;
        assert_eq!(c.min_tps, Some(8_510_000.0));
        assert_eq!(c.max_p50, Some(Duration::from_millis(1)));
        assert_eq!(c.max_p99, Some(Duration::from_millis(5)));
        assert_eq!(c.max_error_rate, Some(0.0001));
        assert_eq!(c.max_rss, Some(256 << 20));
        assert_eq!(c.max_rss_growth, Some(100 << 20));
        assert_eq!(c.max_cpu_pct, Some(60.0));
    }
}

#[test]
fn http_scenarios_use_the_engine_server() {
    let health = load("http-health.toml");
    match &health.target {
        Target::Spawn {
            command,
            health_path,
            startup_timeout,
            allow_remote,
        } => {
            assert_eq!(command[..2], ["engine", "serve"]);
            assert_eq!(health_path, "/api/v11/health");
            assert_eq!(*startup_timeout, Duration::from_secs(10));
            assert!(!allow_remote);
        }
        other => panic!("expected a spawn target, got {other:?}"),
    }
    assert_eq!(health.max_workers(), 64);
    assert_eq!(health.requests[0].method, "GET");
    assert_eq!(health.driver, Driver::Native);

    let tx = load("http-transactions.toml");
    assert_eq!(tx.requests[0].body, Body::BinaryBatch);
    assert_eq!(
        tx.requests[0].headers,
        vec![(
            "content-type".to_string(),
            "application/octet-stream".to_string()
        )]
    );
    assert!(tx.stages.iter().all(|s| s.load.is_open()));

    let json = load("http-json.toml");
    assert_eq!(json.requests[0].body, Body::JsonTransfer);
    assert!(json.stages.iter().all(|s| !s.load.is_open()));

    // The pipelining example: the builtin client, kept-alive connections, 16 deep.
    let piped = load("pipelined-health.toml");
    assert_eq!(piped.http.pipeline, 16);
    assert_eq!(piped.http.client, scenario::HttpClient::Builtin);
    assert_eq!(piped.http.max_requests_per_connection, None);
    assert!(piped.stages.iter().all(|s| !s.load.is_open()));
}

#[test]
fn the_capacity_scenarios_search() {
    for (file, start, max) in [
        ("capacity.toml", 4e6, 400e6),
        ("http-capacity.toml", 2e6, 64e6),
    ] {
        let p = load(file);
        let cap = p.capacity.as_ref().expect("capacity section");
        assert_eq!(cap.percentile, 99.0);
        assert_eq!(cap.max_latency, Duration::from_millis(5));
        assert_eq!(cap.max_error_rate, Some(0.0001));
        let s = cap.search().expect("a search");
        assert_eq!((s.start, s.max), (start, max), "{file}");
        assert_eq!(
            s.unit,
            RateUnit::TxPerSec,
            "{file}: binary batches count transactions"
        );
        assert_eq!((s.growth, s.precision), (2.0, 0.02));
        assert_eq!(s.probe, Duration::from_secs(20));
        assert_eq!(s.settle, Duration::from_secs(5));
        assert_eq!(s.confirm, Duration::from_secs(60));
        assert_eq!((s.max_probes, s.max_time), (20, Duration::from_secs(900)));
        assert!(
            p.stages.iter().all(|st| st.warmup),
            "{file}: only warm-up stages"
        );
    }
}

#[test]
fn ramp_concurrency_steps_by_five() {
    let p = load("ramp-concurrency.toml");
    let workers: Vec<f64> = p
        .stages
        .iter()
        .map(|s| match s.load {
            Load::Closed { workers } => workers.from,
            Load::Open { .. } => panic!("closed model expected"),
        })
        .collect();
    assert_eq!(
        workers,
        [1.0, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0, 35.0, 40.0, 45.0, 50.0]
    );
    assert!(p
        .stages
        .iter()
        .all(|s| s.duration == Duration::from_secs(20)));
    assert_eq!(p.max_workers(), 50);
}
