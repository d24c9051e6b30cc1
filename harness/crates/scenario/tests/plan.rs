//! `Plan`'s derived views: scaling, stage lookup by elapsed time, worker counts, op rates.

use std::path::Path;
use std::time::Duration;

use scenario::{Load, Plan, Ramp};

const SRC: &str = r#"
[scenario]
name = "p"

[target]
kind = "in-process"

[workload]
batch_size = 1000

[[stages]]
name = "warm"
duration = "2s"
workers = 2
warmup = true

[[stages]]
name = "ramp"
duration = "10s"
workers = { from = 1, to = 50 }

[[stages]]
name = "open"
duration = "8s"
tps = { from = "1M/s", to = "3M/s" }
"#;

fn plan() -> Plan {
    scenario::parse(SRC, Path::new("p.toml")).unwrap_or_else(|e| panic!("{e}"))
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

#[test]
fn totals_and_warmup() {
    let p = plan();
    assert_eq!(p.total_duration(), secs(20.0));
    assert_eq!(p.warmup, secs(2.0));
    assert!(p.stages[0].warmup && !p.stages[1].warmup);
}

#[test]
fn stage_at_walks_the_stages() {
    let p = plan();
    assert_eq!(p.stage_at(Duration::ZERO), Some((0, 0.0)));
    assert_eq!(p.stage_at(secs(1.0)), Some((0, 0.5)));
    // A boundary belongs to the stage that starts there.
    assert_eq!(p.stage_at(secs(2.0)), Some((1, 0.0)));
    assert_eq!(p.stage_at(secs(9.5)), Some((1, 0.75)));
    assert_eq!(p.stage_at(secs(16.0)), Some((2, 0.5)));
    assert_eq!(p.stage_at(secs(20.0)), None);
    assert_eq!(p.stage_at(secs(1000.0)), None);
}

#[test]
fn max_workers_is_the_largest_closed_model_count() {
    assert_eq!(plan().max_workers(), 50);
    let open_only = SRC
        .replace("workers = 2", "rate = \"1k/s\"")
        .replace("workers = { from = 1, to = 50 }", "rate = \"2k/s\"");
    let p = scenario::parse(&open_only, Path::new("p.toml")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(p.max_workers(), 0);
}

#[test]
fn scaled_multiplies_durations_and_records_the_factor() {
    let p = plan();
    let s = p.scaled(0.1);
    assert_eq!(
        s.stages.iter().map(|st| st.duration).collect::<Vec<_>>(),
        [secs(0.2), secs(1.0), secs(0.8)]
    );
    assert_eq!(s.warmup, secs(0.2));
    assert_eq!(s.total_duration(), secs(2.0));
    assert_eq!(s.duration_scale, 0.1);
    // Everything else is untouched.
    assert_eq!(s.stages[1].load, p.stages[1].load);
    assert_eq!(s.output, p.output);
    assert_eq!(s.criteria, p.criteria);
    // Factors compose.
    let back = s.scaled(10.0);
    assert_eq!(back.total_duration(), p.total_duration());
    assert!((back.duration_scale - 1.0).abs() < 1e-12);
    // A scenario-level warm-up is scaled too.
    let q = scenario::parse(
        &SRC.replace("warmup = true", "")
            .replace("name = \"p\"", "name = \"p\"\nwarmup = \"4s\""),
        Path::new("q.toml"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(q.warmup, secs(4.0));
    assert_eq!(q.scaled(0.5).warmup, secs(2.0));
}

#[test]
#[should_panic(expected = "duration scale must be finite and > 0")]
fn scaled_rejects_a_zero_factor() {
    let _ = plan().scaled(0.0);
}

#[test]
fn ramps_and_op_rates() {
    let p = plan();
    let Load::Closed { workers } = p.stages[1].load else {
        panic!("closed expected")
    };
    assert_eq!(
        workers,
        Ramp {
            from: 1.0,
            to: 50.0
        }
    );
    assert_eq!(workers.value_at(0.5), 25.5);
    assert_eq!(workers.value_at(2.0), 50.0);
    assert_eq!(p.ops_per_sec(1, 0.5), None);
    // tps is divided by batch_size for in-process runs.
    assert_eq!(p.ops_per_sec(2, 0.0), Some(1000.0));
    assert_eq!(p.ops_per_sec(2, 0.5), Some(2000.0));
    assert_eq!(p.ops_per_sec(9, 0.5), None);
}

#[test]
fn plan_serializes_for_the_run_result() {
    let p = plan();
    let json = serde_json::to_value(&p).expect("a Plan serializes");
    assert_eq!(json["name"], "p");
    assert_eq!(json["target"]["kind"], "in_process");
    assert_eq!(json["stages"][1]["load"]["model"], "closed");
    assert_eq!(json["stages"][2]["load"]["unit"], "tx_per_sec");
    assert_eq!(json["workload"]["design"], "single-writer");
    // And reads back, so renderers can load a results.json.
    let back: Plan = serde_json::from_value(json).expect("a Plan deserializes");
    assert_eq!(back, p);
}

#[test]
fn the_http_client_defaults_to_builtin_for_http1_and_hyper_for_http2() {
    let client = |http: &str| {
        let src = format!(
            "[scenario]\nname = \"c\"\n[target]\nkind = \"http\"\nurl = \"http://127.0.0.1:8080\"\n{http}\n[[requests]]\npath = \"/\"\n[[stages]]\nduration = \"1s\"\nworkers = 1\n"
        );
        scenario::parse(&src, Path::new("c.toml"))
            .unwrap_or_else(|e| panic!("{e}"))
            .http
            .client
    };
    use scenario::HttpClient::{Builtin, Hyper};
    assert_eq!(client(""), Builtin);
    assert_eq!(client("[http]\ntimeout = \"1s\""), Builtin);
    assert_eq!(client("[http]\nhttp2 = true"), Hyper);
    assert_eq!(client("[http]\nclient = \"hyper\""), Hyper);
    assert_eq!(client("[http]\nclient = \"builtin\""), Builtin);
}

#[test]
fn connection_reuse_and_pipelining_default_to_keep_alive_without_pipelining() {
    let http = |http: &str| {
        let src = format!(
            "[scenario]\nname = \"c\"\n[target]\nkind = \"http\"\nurl = \"http://127.0.0.1:8080\"\n{http}\n[[requests]]\npath = \"/\"\n[[stages]]\nduration = \"1s\"\nworkers = 1\n"
        );
        let h = scenario::parse(&src, Path::new("c.toml"))
            .unwrap_or_else(|e| panic!("{e}"))
            .http;
        (h.max_requests_per_connection, h.pipeline)
    };
    assert_eq!(http(""), (None, 1));
    assert_eq!(http("[http]\nconnection = \"keep-alive\""), (None, 1));
    // "close" is one request per connection, the same plan as a limit of 1.
    assert_eq!(http("[http]\nconnection = \"close\""), (Some(1), 1));
    assert_eq!(
        http("[http]\nmax_requests_per_connection = 1"),
        (Some(1), 1)
    );
    assert_eq!(
        http("[http]\nconnection = \"keep-alive\"\nmax_requests_per_connection = 100"),
        (Some(100), 1)
    );
    assert_eq!(http("[http]\npipeline = 16"), (None, 16));
    // Pipelining over connections that are recycled every 1000 requests.
    assert_eq!(
        http("[http]\npipeline = 16\nmax_requests_per_connection = 1000"),
        (Some(1000), 16)
    );
    // Depth 1 is no pipelining, whatever the client.
    assert_eq!(http("[http]\nclient = \"hyper\"\npipeline = 1"), (None, 1));
}

#[test]
fn plans_written_before_connection_modes_read_back_as_keep_alive() {
    let src = "[scenario]\nname = \"c\"\n[target]\nkind = \"http\"\nurl = \"http://127.0.0.1:8080\"\n[[requests]]\npath = \"/\"\n[[stages]]\nduration = \"1s\"\nworkers = 1\n";
    let p = scenario::parse(src, Path::new("c.toml")).unwrap();
    let mut json = serde_json::to_value(&p).unwrap();
    let http = json["http"].as_object_mut().unwrap();
    http.remove("max_requests_per_connection");
    http.remove("pipeline");
    let back: Plan = serde_json::from_value(json).expect("old plans still deserialize");
    assert_eq!(back, p);
}
