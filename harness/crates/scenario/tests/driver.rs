//! Driver rules: `scenario::check_driver` on a validated plan (as the harness calls it after a
//! `--driver goose` override), and the same rules pointed at the field in a goose scenario file.

use std::path::Path;

use scenario::{check_driver, Driver, DriverError, ErrorKind};

const SPAWN: &str = "[target]\nkind = \"spawn\"\ncommand = [\"engine\"]\n\n[[requests]]\npath = \"/api/v11/health\"\n";

#[test]
fn goose_file_with_http2_is_refused_at_the_field() {
    let src = format!(
        "[scenario]\nname = \"t\"\ndriver = \"goose\"\n\n{SPAWN}\n[http]\nhttp2 = true\n\n[[stages]]\nduration = \"10s\"\nworkers = 2\n"
    );
    let e = scenario::parse(&src, Path::new("scenarios/x.toml")).expect_err("http2 with goose");
    assert_eq!(e.kind, ErrorKind::Invalid);
    assert_eq!(e.field.as_deref(), Some("http.http2"));
    assert_eq!((e.line, e.column), (Some(13), Some(9)));
    assert_eq!(
        e.to_string(),
        "scenarios/x.toml:13:9: http.http2: driver = \"goose\" speaks HTTP/1.1 only (its client is built here without HTTP/2): set http2 = false or use driver = \"native\""
    );
    // The same file on the native driver is fine.
    let native = src.replace("driver = \"goose\"", "driver = \"native\"");
    scenario::parse(&native, Path::new("scenarios/x.toml")).expect("native speaks HTTP/2");
}

#[test]
fn check_driver_refuses_an_open_stage_after_a_driver_override() {
    let src = format!(
        "[scenario]\nname = \"t\"\n\n{SPAWN}\n[[stages]]\nname = \"hold\"\nduration = \"10s\"\nworkers = 2\n\n[[stages]]\nname = \"open\"\nduration = \"10s\"\nrate = \"1k/s\"\n"
    );
    let mut plan = scenario::parse(&src, Path::new("x.toml")).expect("valid for native");
    assert_eq!(check_driver(&plan), Ok(()));
    plan.driver = Driver::Goose;
    let e = check_driver(&plan).expect_err("goose has no arrival-rate model");
    assert_eq!(
        e,
        DriverError::OpenStage {
            index: 1,
            name: "open".into()
        }
    );
    assert_eq!(
        e.to_string(),
        "driver goose supports only closed-model stages (`workers`): stages[1] (\"open\") sets an \
         arrival rate, and goose has no arrival-rate model (its throttle only caps requests per \
         second), so the rate could not be honoured; use driver native"
    );
}

#[test]
fn goose_refuses_connection_modes_and_pipelining_at_the_field() {
    let goose = |http: &str| {
        let src = format!(
            "[scenario]\nname = \"t\"\ndriver = \"goose\"\n\n{SPAWN}\n[http]\n{http}\n\n[[stages]]\nduration = \"10s\"\nworkers = 2\n"
        );
        scenario::parse(&src, Path::new("scenarios/x.toml")).expect_err("goose refuses it")
    };
    let e = goose("connection = \"close\"");
    assert_eq!(e.to_string(), "scenarios/x.toml:13:14: http.connection: driver = \"goose\" cannot open a new connection per request: goose's client keeps every connection alive; remove the key or use driver = \"native\"");
    let e = goose("max_requests_per_connection = 50");
    assert_eq!(e.to_string(), "scenarios/x.toml:13:31: http.max_requests_per_connection: driver = \"goose\" cannot close a connection after 50 requests: goose's client keeps every connection alive; remove the key or use driver = \"native\"");
    let e = goose("pipeline = 8");
    assert_eq!(e.to_string(), "scenarios/x.toml:13:12: http.pipeline: driver = \"goose\" sends one request at a time per user and cannot pipeline: set pipeline = 1 or use driver = \"native\"");
    // Keep-alive and depth 1 are what goose does anyway.
    let src = format!(
        "[scenario]\nname = \"t\"\ndriver = \"goose\"\n\n{SPAWN}\n[http]\nconnection = \"keep-alive\"\npipeline = 1\n\n[[stages]]\nduration = \"10s\"\nworkers = 2\n"
    );
    scenario::parse(&src, Path::new("x.toml")).expect("goose keeps connections alive");
}

#[test]
fn check_driver_refuses_connection_modes_and_pipelining_after_a_driver_override() {
    let src = format!(
        "[scenario]\nname = \"t\"\n\n{SPAWN}\n[http]\npipeline = 4\n\n[[stages]]\nduration = \"10s\"\nworkers = 2\n"
    );
    let mut plan = scenario::parse(&src, Path::new("x.toml")).expect("valid for native");
    assert_eq!(check_driver(&plan), Ok(()));
    plan.driver = Driver::Goose;
    let e = check_driver(&plan).expect_err("goose cannot pipeline");
    assert_eq!(e, DriverError::Pipeline { depth: 4 });
    assert_eq!(
        e.to_string(),
        "driver goose: http.pipeline = 4, but goose sends one request at a time per user; set \
         pipeline = 1 or use driver native"
    );
    plan.http.pipeline = 1;
    plan.http.max_requests_per_connection = Some(1);
    let e = check_driver(&plan).expect_err("goose cannot close per request");
    assert_eq!(e, DriverError::ConnectionReuse { max_requests: 1 });
    assert!(
        e.to_string()
            .contains("a new connection per request (connection = \"close\")"),
        "{e}"
    );
}

#[test]
fn goose_refuses_a_fixed_amount_of_work_at_the_field() {
    let src = format!(
        "[scenario]\nname = \"t\"\ndriver = \"goose\"\n\n{SPAWN}\n[[stages]]\nname = \"work\"\noperations = 100\nworkers = 2\n"
    );
    let e = scenario::parse(&src, Path::new("scenarios/x.toml")).expect_err("goose cannot count");
    assert_eq!(e.field.as_deref(), Some("stages[0].operations"));
    assert_eq!((e.line, e.column), (Some(14), Some(14)));
    assert!(e.message.contains("goose's users run for a time"), "{e}");
    // The native driver runs it.
    let native = src.replace("driver = \"goose\"", "driver = \"native\"");
    let plan = scenario::parse(&native, Path::new("scenarios/x.toml")).expect("native counts");
    assert_eq!(plan.stages[0].operations, Some(100));
}
