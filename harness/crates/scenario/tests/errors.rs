//! A table of bad scenarios with the exact error each must produce: message, line, column and
//! field. The messages are part of the interface (users act on them), so changing one is a
//! deliberate act that shows up here.

use std::path::Path;

use scenario::{ErrorKind, ScenarioError};

const HEAD: &str = "[scenario]\nname = \"t\"\n\n[target]\nkind = \"in-process\"\n";
const STAGE: &str = "\n[[stages]]\nduration = \"10s\"\nworkers = 2\n";
const SPAWN_HEAD: &str =
    "[scenario]\nname = \"t\"\n\n[target]\nkind = \"spawn\"\ncommand = [\"engine\", \"serve\"]\n";
const HEALTH: &str = "\n[[requests]]\nname = \"health\"\npath = \"/api/v11/health\"\n";

fn err(src: &str) -> ScenarioError {
    match scenario::parse(src, Path::new("scenarios/x.toml")) {
        Ok(plan) => panic!("expected an error, got a plan: {plan:?}\n--- source:\n{src}"),
        Err(e) => e,
    }
}

struct Case {
    what: &'static str,
    src: String,
    line: Option<usize>,
    column: Option<usize>,
    field: &'static str,
    message: &'static str,
    kind: ErrorKind,
}

fn case(
    what: &'static str,
    src: String,
    at: Option<(usize, usize)>,
    field: &'static str,
    message: &'static str,
    kind: ErrorKind,
) -> Case {
    Case {
        what,
        src,
        line: at.map(|a| a.0),
        column: at.map(|a| a.1),
        field,
        message,
        kind,
    }
}

use ErrorKind::{Invalid, Syntax};

fn cases() -> Vec<Case> {
    vec![
        case(
            "unknown key in a stage",
            format!("{HEAD}\n[[stages]]\nduration = \"10s\"\nworker = 2\n"),
            Some((9, 1)),
            "stages[0].worker",
            "unknown field `worker`, expected one of `name`, `duration`, `operations`, `workers`, `rate`, `tps`, `warmup`",
            Syntax,
        ),
        case(
            "unknown top-level table",
            format!("{HEAD}{STAGE}\n[outputs]\ndir = \"x\"\n"),
            Some((11, 2)),
            "outputs",
            "unknown field `outputs`, expected one of `scenario`, `target`, `workload`, `http`, `data`, `requests`, `stages`, `criteria`, `capacity`, `output`",
            Syntax,
        ),
        case(
            "wrong type",
            format!("{HEAD}\n[workload]\naccounts = \"lots\"\n{STAGE}"),
            Some((8, 12)),
            "workload.accounts",
            "invalid type: string \"lots\", expected a non-negative integer",
            Syntax,
        ),
        case(
            "bad enum value",
            format!("{HEAD}\n[workload]\ndesign = \"fast\"\n{STAGE}"),
            Some((8, 10)),
            "workload.design",
            "unknown variant `fast`, expected `single-writer` or `cas`",
            Syntax,
        ),
        case(
            "bad duration",
            format!("{HEAD}{STAGE}\n[[stages]]\nduration = \"5 minutes\"\nworkers = 2\n"),
            Some((12, 12)),
            "stages[1].duration",
            "expected a duration such as \"5m\" or \"500ms\", found \"5 minutes\"",
            Invalid,
        ),
        case(
            "negative duration",
            format!("{HEAD}\n[[stages]]\nduration = \"-3s\"\nworkers = 2\n"),
            Some((8, 12)),
            "stages[0].duration",
            "expected a duration such as \"5m\" or \"500ms\", found \"-3s\"",
            Invalid,
        ),
        case(
            "duration as a bare number",
            format!("{HEAD}\n[[stages]]\nduration = 30\nworkers = 2\n"),
            Some((8, 12)),
            "stages[0].duration",
            "expected a duration such as \"5m\" or \"500ms\", found integer 30",
            Invalid,
        ),
        case(
            "neither a duration nor operations",
            format!("{HEAD}\n[[stages]]\nworkers = 2\n"),
            Some((7, 1)),
            "stages[0].duration",
            "a stage needs `duration` (or `operations = N` for a fixed amount of work)",
            Invalid,
        ),
        case(
            "missing scenario table",
            "[target]\nkind = \"in-process\"\n".to_string(),
            Some((1, 1)),
            "scenario",
            "required key `scenario` is missing",
            Syntax,
        ),
        case(
            "missing stages",
            HEAD.to_string(),
            None,
            "stages",
            "at least one [[stages]] entry is required",
            Invalid,
        ),
        case(
            "both workers and rate",
            format!("{HEAD}\n[[stages]]\nduration = \"10s\"\nworkers = 2\nrate = \"10k/s\"\n"),
            Some((10, 8)),
            "stages[0].rate",
            "set exactly one of `workers`, `rate` or `tps` per stage, found both `workers` and `rate`",
            Invalid,
        ),
        case(
            "no load at all",
            format!("{HEAD}\n[[stages]]\nduration = \"10s\"\n"),
            Some((7, 1)),
            "stages[0].workers",
            "a stage needs exactly one of `workers` (closed model), `rate` or `tps` (open model)",
            Invalid,
        ),
        case(
            "nonsense rate",
            format!("{HEAD}\n[[stages]]\nduration = \"10s\"\nrate = \"NaNk/s\"\n"),
            Some((9, 8)),
            "stages[0].rate",
            "expected a rate such as \"10k/s\" or \"8.51M/s\", or a number, found \"NaNk/s\"",
            Invalid,
        ),
        case(
            "tps on an http GET",
            format!("{SPAWN_HEAD}{HEALTH}\n[[stages]]\nduration = \"10s\"\ntps = \"1M/s\"\n"),
            Some((14, 7)),
            "stages[0].tps",
            "an open-model `tps` stage needs an in-process target or requests with body = \"binary-batch\", but requests[0] (\"health\", GET /api/v11/health) has body none; use `rate` for requests per second",
            Invalid,
        ),
        case(
            "builtin HTTP/1.1 client with http2",
            format!("{SPAWN_HEAD}\n[http]\nhttp2 = true\nclient = \"builtin\"\n{HEALTH}{STAGE}"),
            Some((10, 10)),
            "http.client",
            "the builtin client speaks HTTP/1.1 only: http2 = true needs client = \"hyper\" (or no client key)",
            Invalid,
        ),
        case(
            "pipeline depth 0",
            format!("{SPAWN_HEAD}\n[http]\npipeline = 0\n{HEALTH}{STAGE}"),
            Some((9, 12)),
            "http.pipeline",
            "must be from 1 to 1024, found 0",
            Invalid,
        ),
        case(
            "pipelining on hyper's client",
            format!("{SPAWN_HEAD}\n[http]\nclient = \"hyper\"\npipeline = 16\n{HEALTH}{STAGE}"),
            Some((10, 12)),
            "http.pipeline",
            "pipelining is the builtin client's: hyper's HTTP/1.1 client connection sends one request at a time; set client = \"builtin\" (or no client key) or pipeline = 1",
            Invalid,
        ),
        case(
            "pipelining over HTTP/2",
            format!("{SPAWN_HEAD}\n[http]\nhttp2 = true\npipeline = 4\n{HEALTH}{STAGE}"),
            Some((10, 12)),
            "http.pipeline",
            "HTTP/2 multiplexes requests instead of pipelining them: pipeline > 1 needs http2 = false and the builtin client",
            Invalid,
        ),
        case(
            "pipelining with a connection per request",
            format!("{SPAWN_HEAD}\n[http]\nconnection = \"close\"\npipeline = 4\n{HEALTH}{STAGE}"),
            Some((10, 12)),
            "http.pipeline",
            "pipelining needs a connection that carries several requests, but connection = \"close\" (or max_requests_per_connection = 1) opens one per request; use connection = \"keep-alive\" or pipeline = 1",
            Invalid,
        ),
        case(
            "close with a request limit",
            format!("{SPAWN_HEAD}\n[http]\nconnection = \"close\"\nmax_requests_per_connection = 10\n{HEALTH}{STAGE}"),
            Some((10, 31)),
            "http.max_requests_per_connection",
            "connection = \"close\" already means one request per connection: remove max_requests_per_connection, or set connection = \"keep-alive\" to reuse each connection for up to that many requests",
            Invalid,
        ),
        case(
            "zero requests per connection",
            format!("{SPAWN_HEAD}\n[http]\nmax_requests_per_connection = 0\n{HEALTH}{STAGE}"),
            Some((9, 31)),
            "http.max_requests_per_connection",
            "must be from 1 to 1000000000, found 0",
            Invalid,
        ),
        case(
            "unknown connection mode",
            format!("{SPAWN_HEAD}\n[http]\nconnection = \"sometimes\"\n{HEALTH}{STAGE}"),
            Some((9, 14)),
            "http.connection",
            "unknown variant `sometimes`, expected `keep-alive` or `close`",
            Syntax,
        ),
        case(
            "a connection header in a template",
            format!("{SPAWN_HEAD}\n[[requests]]\npath = \"/\"\nheaders = {{ Connection = \"close\" }}\n{STAGE}"),
            Some((10, 13)),
            "requests[0].headers.Connection",
            "the client decides when connections close: set [http] connection = \"close\" or max_requests_per_connection instead of a connection header",
            Invalid,
        ),
        case(
            "bad url",
            "[scenario]\nname = \"t\"\n\n[target]\nkind = \"http\"\nurl = \"localhost:8080\"\n"
                .to_string()
                + HEALTH
                + STAGE,
            Some((6, 7)),
            "target.url",
            "expected a URL such as \"http://127.0.0.1:8080\", found \"localhost:8080\": it must start with \"http://\" or \"https://\"",
            Invalid,
        ),
        case(
            "bad port",
            "[scenario]\nname = \"t\"\n\n[target]\nkind = \"http\"\nurl = \"http://127.0.0.1:99999/\"\n"
                .to_string()
                + HEALTH
                + STAGE,
            Some((6, 7)),
            "target.url",
            "expected a URL such as \"http://127.0.0.1:8080\", found \"http://127.0.0.1:99999/\": the port \"99999\" is not a number from 1 to 65535",
            Invalid,
        ),
        case(
            "url on an in-process target",
            format!("{HEAD}url = \"http://127.0.0.1:1\"\n{STAGE}"),
            Some((6, 7)),
            "target.url",
            "only allowed with kind = \"http\", but target.kind = \"in-process\"",
            Invalid,
        ),
        case(
            "overflowing supply",
            format!("{HEAD}\n[workload]\naccounts = 1_000_000_000\ninitial_balance = 1_000_000_000_000\n{STAGE}"),
            Some((9, 19)),
            "workload.initial_balance",
            "total supply accounts * initial_balance = 1000000000 * 1000000000000 overflows u64 (max 18446744073709551615); lower one of them",
            Invalid,
        ),
        case(
            "fraction above one",
            format!("{HEAD}\n[workload.invalid]\nbad_nonce = 1.5\n{STAGE}"),
            Some((8, 13)),
            "workload.invalid.bad_nonce",
            "must be between 0 and 1 (0% to 100%), found float 1.5",
            Invalid,
        ),
        case(
            "fractions summing above one",
            format!("{HEAD}\n[workload.invalid]\nbad_nonce = \"60%\"\nzero_amount = 0.5\n{STAGE}"),
            Some((7, 1)),
            "workload.invalid",
            "the fractions sum to 1.1, more than 1 (100% of transactions)",
            Invalid,
        ),
        case(
            "requests on an in-process target",
            format!("{HEAD}{HEALTH}{STAGE}"),
            Some((7, 1)),
            "requests[0]",
            "[[requests]] are only for http and spawn targets; an in-process target drives the engine directly",
            Invalid,
        ),
        case(
            "http target without requests",
            format!("[scenario]\nname = \"t\"\n\n[target]\nkind = \"http\"\nurl = \"http://127.0.0.1:8080\"\n{STAGE}"),
            Some((5, 8)),
            "requests",
            "an http or spawn target needs at least one [[requests]] entry",
            Invalid,
        ),
        case(
            "empty command",
            format!("[scenario]\nname = \"t\"\n\n[target]\nkind = \"spawn\"\ncommand = []\n{HEALTH}{STAGE}"),
            Some((6, 11)),
            "target.command",
            "must not be empty: give the program and its arguments",
            Invalid,
        ),
        case(
            "late warm-up stage",
            format!("{HEAD}{STAGE}\n[[stages]]\nduration = \"2s\"\nworkers = 1\nwarmup = true\n"),
            Some((14, 10)),
            "stages[1].warmup",
            "warm-up stages must come first, but stage \"stage-1\" before it is not a warm-up",
            Invalid,
        ),
        case(
            "warm-up as long as the run",
            format!("[scenario]\nname = \"t\"\nwarmup = \"10s\"\n\n[target]\nkind = \"in-process\"\n{STAGE}"),
            Some((3, 10)),
            "scenario.warmup",
            "the warm-up (10s) must be shorter than the whole run (10s), or nothing is measured",
            Invalid,
        ),
        case(
            "goose with an open model",
            format!("[scenario]\nname = \"t\"\ndriver = \"goose\"\n\n[target]\nkind = \"spawn\"\ncommand = [\"engine\"]\n{HEALTH}\n[[stages]]\nduration = \"10s\"\nrate = \"1k/s\"\n"),
            Some((15, 8)),
            "stages[0].rate",
            "driver = \"goose\" supports only closed-model stages (`workers`): goose has no arrival-rate model, so a rate could not be honoured",
            Invalid,
        ),
        case(
            "goose in-process",
            format!("[scenario]\nname = \"t\"\ndriver = \"goose\"\n\n[target]\nkind = \"in-process\"\n{STAGE}"),
            Some((3, 10)),
            "scenario.driver",
            "driver = \"goose\" needs an http or spawn target: goose drives HTTP services only",
            Invalid,
        ),
        case(
            "capacity without an open model",
            format!("{HEAD}{STAGE}\n[capacity]\npercentile = 99.0\nmax_latency = \"5ms\"\n"),
            Some((11, 1)),
            "capacity",
            "[capacity] needs open-model stages (`rate` or `tps`): the ramp raises the arrival rate until latency breaks (or use mode = \"search\")",
            Invalid,
        ),
        case(
            "a search without its start",
            format!("{HEAD}\n[capacity]\nmode = \"search\"\npercentile = 99.0\nmax_latency = \"5ms\"\nmax = \"4M/s\"\n"),
            None,
            "capacity.start",
            "a search needs `start` (a rate such as \"1M/s\")",
            Invalid,
        ),
        case(
            "a search with a measured stage",
            format!("{HEAD}{STAGE}\n[capacity]\nmode = \"search\"\npercentile = 99.0\nmax_latency = \"5ms\"\nstart = \"1M/s\"\nmax = \"4M/s\"\n"),
            Some((7, 1)),
            "stages[0]",
            "a capacity search (mode = \"search\") runs its own probes: its [[stages]] may only be warm-up stages (warmup = true), run once before the first probe",
            Invalid,
        ),
        case(
            "a ramp with a search key",
            format!("{HEAD}\n[[stages]]\nduration = \"10s\"\nrate = \"1k/s\"\n\n[capacity]\npercentile = 99.0\nmax_latency = \"5ms\"\nprecision = \"2%\"\n"),
            Some((14, 13)),
            "capacity.precision",
            "is a search setting: add mode = \"search\" to [capacity], or remove it (a ramp's rates are its stages')",
            Invalid,
        ),
        case(
            "a search judged by criteria",
            format!("{HEAD}\n[criteria]\nmax_p99 = \"5ms\"\n[capacity]\nmode = \"search\"\npercentile = 99.0\nmax_latency = \"5ms\"\nstart = \"1M/s\"\nmax = \"4M/s\"\n"),
            Some((8, 11)),
            "criteria.max_p99",
            "a capacity search judges each probe by [capacity] (percentile, max_latency, max_error_rate); [criteria] may only set late_dispatch, max_late_dispatch and tolerances",
            Invalid,
        ),
        case(
            "use_calibration that is not a boolean",
            format!("{HEAD}\n[criteria]\nmax_p99 = \"5ms\"\nuse_calibration = \"yes\"\n{STAGE}"),
            Some((9, 19)),
            "criteria.use_calibration",
            "expected true or false, found \"yes\"",
            Invalid,
        ),
        case(
            "a search that would use a calibration",
            format!("{HEAD}\n[criteria]\nuse_calibration = true\n[capacity]\nmode = \"search\"\npercentile = 99.0\nmax_latency = \"5ms\"\nstart = \"1M/s\"\nmax = \"4M/s\"\n"),
            Some((8, 19)),
            "criteria.use_calibration",
            "a capacity search judges each probe by [capacity] (percentile, max_latency, max_error_rate); [criteria] may only set late_dispatch, max_late_dispatch and tolerances",
            Invalid,
        ),
        case(
            "a search whose max is below its start",
            format!("{HEAD}\n[capacity]\nmode = \"search\"\npercentile = 99.0\nmax_latency = \"5ms\"\nstart = \"4M/s\"\nmax = \"1M/s\"\n"),
            Some((12, 7)),
            "capacity.max",
            "must be at least `start` (4000000), found 1000000",
            Invalid,
        ),
        case(
            "a search with no time for a probe",
            format!("{HEAD}\n[capacity]\nmode = \"search\"\npercentile = 99.0\nmax_latency = \"5ms\"\nstart = \"1M/s\"\nmax = \"4M/s\"\nmax_time = \"10s\"\n"),
            Some((13, 12)),
            "capacity.max_time",
            "must leave time for at least one probe (settle + probe = 25s)",
            Invalid,
        ),
        case(
            "goose asked to search",
            format!("[scenario]\nname = \"t\"\ndriver = \"goose\"\n\n[target]\nkind = \"spawn\"\ncommand = [\"engine\", \"serve\"]\n{HEALTH}\n[capacity]\nmode = \"search\"\npercentile = 99.0\nmax_latency = \"5ms\"\nstart = \"1k/s\"\nmax = \"4k/s\"\n"),
            Some((14, 8)),
            "capacity.mode",
            "driver = \"goose\" cannot run a capacity search: each probe holds an arrival rate, and goose has no arrival-rate model; use driver = \"native\"",
            Invalid,
        ),
        case(
            "an unknown capacity mode",
            format!("{HEAD}{STAGE}\n[capacity]\nmode = \"bisect\"\npercentile = 99.0\nmax_latency = \"5ms\"\n"),
            Some((12, 8)),
            "capacity.mode",
            "expected \"ramp\" or \"search\", found \"bisect\"",
            Invalid,
        ),
        case(
            "bad size",
            format!("{HEAD}{STAGE}\n[criteria]\nmax_rss = \"256 MiB\"\n"),
            Some((12, 11)),
            "criteria.max_rss",
            "expected a size such as \"256MiB\" or \"100MB\", or a whole number of bytes, found \"256 MiB\"",
            Invalid,
        ),
        case(
            "a memory slope without its hour",
            format!("{HEAD}{STAGE}\n[criteria]\nmax_rss_slope = \"1MiB\"\n"),
            Some((12, 17)),
            "criteria.max_rss_slope",
            "expected a size per hour such as \"1MiB/h\", found \"1MiB\"",
            Invalid,
        ),
        case(
            "a memory slope with a bad size",
            format!("{HEAD}{STAGE}\n[criteria]\nmax_rss_slope = \"1 lot/h\"\n"),
            Some((12, 17)),
            "criteria.max_rss_slope",
            "expected a size per hour such as \"1MiB/h\", found \"1 lot/h\"",
            Invalid,
        ),
        case(
            "bad percentage",
            format!("{HEAD}{STAGE}\n[criteria]\nmax_error_rate = \"fast\"\n"),
            Some((12, 18)),
            "criteria.max_error_rate",
            "expected a percentage such as \"0.01%\" or a fraction from 0 to 1, found \"fast\"",
            Invalid,
        ),
        case(
            "unknown tolerance metric",
            format!("{HEAD}{STAGE}\n[criteria.tolerance]\nthroughput = 0.1\n"),
            Some((12, 1)),
            "criteria.tolerance.throughput",
            "unknown metric \"throughput\"; expected one of tps, instructions, p50, p90, p99, p999, error_rate, rss, cpu",
            Invalid,
        ),
        case(
            "throughput tolerance above one",
            format!("{HEAD}{STAGE}\n[criteria.tolerance]\ntps = 1.5\n"),
            Some((12, 7)),
            "criteria.tolerance.tps",
            "must be between 0 and 1 (0% to 100%), found float 1.5",
            Invalid,
        ),
        case(
            "latency tolerance above ten",
            format!("{HEAD}{STAGE}\n[criteria.tolerance]\np999 = 12\n"),
            Some((12, 8)),
            "criteria.tolerance.p999",
            "must be between 0 and 10 (0% to 1000%), found integer 12",
            Invalid,
        ),
        case(
            "bad scenario name",
            "[scenario]\nname = \"my run\"\n\n[target]\nkind = \"in-process\"\n".to_string() + STAGE,
            Some((2, 8)),
            "scenario.name",
            "expected 1 to 100 characters from [A-Za-z0-9_-] (it names report directories), found \"my run\"",
            Invalid,
        ),
        case(
            "unknown template placeholder",
            format!("{SPAWN_HEAD}\n[[requests]]\nmethod = \"POST\"\npath = \"/tx\"\nbody = {{ template = \"{{{{from}}}}\" }}\n{STAGE}"),
            Some((11, 8)),
            "requests[0].body.template",
            "unknown variable {{from}}; known: {{seq}} {{account}} {{sender}} {{receiver}} {{nonce}} {{amount}} {{worker}}",
            Invalid,
        ),
        case(
            "interval too short",
            format!("{HEAD}{STAGE}\n[output]\ninterval = \"50ms\"\n"),
            Some((12, 12)),
            "output.interval",
            "must be at least 100ms, found 50ms",
            Invalid,
        ),
        case(
            "a fixed amount of work before another stage",
            format!("{HEAD}\n[[stages]]\noperations = 10\nworkers = 1\n{STAGE}"),
            Some((8, 14)),
            "stages[0].operations",
            "only the last stage can be a fixed amount of work: the run ends when it is done",
            Invalid,
        ),
        case(
            "a fixed amount of work at an arrival rate",
            format!("{HEAD}\n[[stages]]\noperations = 10\nrate = 100\n"),
            Some((8, 14)),
            "stages[0].operations",
            "a fixed amount of work needs a closed-model stage (`workers`): an arrival rate already fixes the work by time",
            Invalid,
        ),
        case(
            "no operations",
            format!("{HEAD}\n[[stages]]\noperations = 0\nworkers = 1\n"),
            Some((8, 14)),
            "stages[0].operations",
            "must be from 1 to 1000000000000, found 0",
            Invalid,
        ),
        case(
            "toml syntax error",
            format!("{HEAD}{STAGE}\n[criteria\n"),
            Some((11, 10)),
            "",
            "unclosed table, expected `]`",
            Syntax,
        ),
    ]
}

#[test]
fn bad_scenarios_give_exact_errors() {
    let mut failures = Vec::new();
    for c in cases() {
        let e = err(&c.src);
        let field = e.field.clone().unwrap_or_default();
        if (e.line, e.column, field.as_str(), e.message.as_str(), e.kind)
            != (c.line, c.column, c.field, c.message, c.kind)
        {
            failures.push(format!(
                "{}:\n  got      {:?}:{:?} [{field}] {:?} {:?}\n  expected {:?}:{:?} [{}] {:?} {:?}",
                c.what, e.line, e.column, e.message, e.kind, c.line, c.column, c.field, c.message, c.kind
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn display_names_file_line_column_and_field() {
    let src = format!("{HEAD}{STAGE}\n[[stages]]\nduration = \"5 minutes\"\nworkers = 2\n");
    assert_eq!(
        err(&src).to_string(),
        "scenarios/x.toml:12:12: stages[1].duration: expected a duration such as \"5m\" or \"500ms\", found \"5 minutes\""
    );
}

#[test]
fn unreadable_file_names_the_path() {
    let e = scenario::load(Path::new("/nonexistent/dir/missing.toml")).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Io);
    assert_eq!(e.file, Path::new("/nonexistent/dir/missing.toml"));
    assert!(
        e.to_string()
            .starts_with("/nonexistent/dir/missing.toml: cannot read scenario file: "),
        "{e}"
    );
}

#[test]
fn minimal_scenario_gets_documented_defaults() {
    let plan = scenario::parse(&format!("{HEAD}{STAGE}"), Path::new("m.toml")).expect("valid");
    assert_eq!(plan.driver, scenario::Driver::Native);
    assert_eq!(plan.workload.accounts, 1_000_000);
    assert_eq!(plan.workload.seed, 1);
    assert_eq!(plan.stages[0].name, "stage-1");
    assert_eq!(plan.warmup, std::time::Duration::ZERO);
    assert_eq!(plan.output.interval, std::time::Duration::from_secs(1));
    assert_eq!(plan.output.profile_hz, 99);
    assert_eq!(plan.duration_scale, 1.0);
    assert_eq!(plan.criteria, scenario::Criteria::default());
    assert!(plan.requests.is_empty());
}
