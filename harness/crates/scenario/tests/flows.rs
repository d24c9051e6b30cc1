//! Issue 19: `[[data]]` feeders, `{{ }}` variables, checks, extractions, setup templates and
//! `[http] max_body`. A full scenario parses to the plan values the run reads; every refusal
//! names the scenario file, line, column and field, and a data file's problem also names that
//! file and its line.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use scenario::{
    check_driver, Check, DataFormat, DataSource, Driver, DriverError, ErrorKind, Extract,
    ExtractFrom, FeedStrategy, ScenarioError,
};

const USERS: &str = "id,name\n1,\"Lee, Ann\"\n2,Bob\n";
const ITEMS: &str = "{\"sku\":\"a-1\",\"n\":3}\n\n{\"n\":4,\"sku\":\"b-2\"}\n";

/// A directory of its own for test `name` (tests run in parallel) holding `data/users.csv`
/// and `items.jsonl`.
fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("scenario-flows-{}-{name}", std::process::id()));
    std::fs::create_dir_all(d.join("data")).unwrap();
    std::fs::write(d.join("data/users.csv"), USERS).unwrap();
    std::fs::write(d.join("items.jsonl"), ITEMS).unwrap();
    d
}

/// A scenario on an http target: `driver`, then `rest` (data and requests), then one stage.
fn src(driver: &str, rest: &str) -> String {
    format!(
        "[scenario]\nname = \"f\"\ndriver = \"{driver}\"\n\n[target]\nkind = \"http\"\nurl = \"http://127.0.0.1:8080\"\n\n{rest}\n[[stages]]\nduration = \"1s\"\nworkers = 1\n"
    )
}

const USERS_DATA: &str = "[[data]]\nname = \"users\"\nfile = \"data/users.csv\"\n\n";

const FLOW: &str = r#"[http]
max_body = "64KiB"

[[data]]
name = "users"
file = "data/users.csv"
strategy = "shuffle"

[[data]]
name = "items"
file = "items.jsonl"

[[requests]]
name = "login"
method = "POST"
path = "/login/{{ users.id }}"
headers = { "X-User" = "{{users.name}}" }
body = { template = "{\"user\":\"{{users.name}}\"}" }
setup = true
check = [ { body_contains = "ok" }, { json = "/status", equals = "active" }, { header = "Content-Type", equals = "application/json" }, { json = "/id" } ]
extract = [ { var = "token", json = "/token" }, { var = "sid", header = "X-Session" }, { var = "csrf", regex = 'value="([^"]+)"' } ]

[[requests]]
name = "buy"
method = "POST"
path = "/items/{{items.sku}}?seq={{seq}}"
headers = { authorization = "Bearer {{token}}" }
body = { template = "{\"n\": {{items.n}}, \"from\": {{sender}}, \"csrf\": \"{{csrf}}\"}" }
check = [ { json = "/n", equals = 3 }, { json = "/ok", equals = true }, { json = "/x", equals = 1.5 } ]
weight = 3
"#;

fn parse(d: &Path, text: &str) -> Result<scenario::Plan, ScenarioError> {
    scenario::parse(text, &d.join("s.toml"))
}

/// The error for `text`, and the `line:column` where `needle` starts in it.
fn err_at(d: &Path, text: &str, needle: &str) -> (ScenarioError, String) {
    let e = match parse(d, text) {
        Ok(_) => panic!("expected an error\n--- source:\n{text}"),
        Err(e) => e,
    };
    let offset = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in the source"));
    let (line, column) = scenario::line_column(text, offset);
    (e, format!("{}:{line}:{column}", d.join("s.toml").display()))
}

#[test]
fn a_flow_with_feeders_checks_extractions_and_setup_makes_the_plan() {
    let d = dir("good");
    let plan = parse(&d, &src("native", FLOW)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(plan.http.max_body, 64 << 10);
    assert_eq!(
        plan.data,
        [
            DataSource {
                name: "users".into(),
                file: d.join("data/users.csv"),
                format: DataFormat::Csv,
                strategy: FeedStrategy::Shuffle,
                columns: vec!["id".into(), "name".into()],
                rows: Arc::new(vec![
                    vec!["1".into(), "Lee, Ann".into()],
                    vec!["2".into(), "Bob".into()],
                ]),
            },
            DataSource {
                name: "items".into(),
                file: d.join("items.jsonl"),
                format: DataFormat::Jsonl,
                strategy: FeedStrategy::Queue,
                columns: vec!["sku".into(), "n".into()],
                rows: Arc::new(vec![
                    vec!["a-1".into(), "3".into()],
                    vec!["b-2".into(), "4".into()],
                ]),
            },
        ]
    );
    let login = &plan.requests[0];
    assert!(login.setup);
    assert_eq!(login.weight, 0, "a setup template is never drawn");
    assert_eq!(login.path, "/login/{{ users.id }}");
    assert_eq!(
        login.headers,
        [("x-user".to_string(), "{{users.name}}".to_string())]
    );
    assert_eq!(
        login.checks,
        [
            Check::BodyContains("ok".into()),
            Check::Json {
                pointer: "/status".into(),
                equals: Some(serde_json::json!("active"))
            },
            Check::Header {
                name: "content-type".into(),
                equals: Some("application/json".into())
            },
            Check::Json {
                pointer: "/id".into(),
                equals: None
            },
        ]
    );
    let extract = |var: &str, from| Extract {
        var: var.into(),
        from,
    };
    assert_eq!(
        login.extract,
        [
            extract("token", ExtractFrom::Json("/token".into())),
            extract("sid", ExtractFrom::Header("x-session".into())),
            extract("csrf", ExtractFrom::Regex("value=\"([^\"]+)\"".into())),
        ]
    );
    assert!(login.reads_body());
    assert_eq!(login.data_used(), ["users"]);

    let buy = &plan.requests[1];
    assert!(!buy.setup);
    assert_eq!(buy.weight, 3);
    let equals: Vec<_> = buy
        .checks
        .iter()
        .map(|c| match c {
            Check::Json { equals, .. } => equals.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        equals,
        [
            Some(serde_json::json!(3)),
            Some(serde_json::json!(true)),
            Some(serde_json::json!(1.5))
        ]
    );
    assert_eq!(buy.data_used(), ["items"]);
    assert_eq!(
        buy.variables()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        [
            "{{items.sku}}",
            "{{seq}}",
            "{{token}}",
            "{{items.n}}",
            "{{sender}}",
            "{{csrf}}"
        ]
    );
    assert_eq!(check_driver(&plan), Ok(()));
}

#[test]
fn defaults_when_the_keys_are_absent() {
    let d = dir("defaults");
    let plan = parse(&d, &src("native", "[[requests]]\npath = \"/\"\n")).unwrap();
    assert_eq!(plan.http.max_body, 1 << 20);
    assert!(plan.data.is_empty());
    let r = &plan.requests[0];
    assert_eq!((r.setup, r.weight), (false, 1));
    assert!(r.checks.is_empty() && r.extract.is_empty() && !r.reads_body());
}

#[test]
fn a_missing_data_file_names_the_resolved_path() {
    let d = dir("missing");
    let text = src(
        "native",
        "[[data]]\nname = \"users\"\nfile = \"data/nope.csv\"\n\n[[requests]]\npath = \"/\"\n",
    );
    let (e, at) = err_at(&d, &text, "\"data/nope.csv\"");
    assert_eq!(e.kind, ErrorKind::Data);
    assert_eq!(
        e.to_string(),
        format!(
            "{at}: data[0].file: {}: cannot read data file: No such file or directory (os error 2)",
            d.join("data/nope.csv").display()
        )
    );
}

#[test]
fn data_file_errors_name_the_data_file_and_its_line() {
    let d = dir("rows");
    std::fs::write(d.join("short.csv"), "id,name\n1,Ann\n\n2\n").unwrap();
    std::fs::write(
        d.join("u.ndjson"),
        "{\"id\":1,\"name\":\"a\"}\n\n\n{\"name\":\"b\"}\n",
    )
    .unwrap();
    let with = |file: &str| {
        src(
            "native",
            &format!("[[data]]\nname = \"u\"\nfile = \"{file}\"\n\n[[requests]]\npath = \"/\"\n"),
        )
    };
    let (e, at) = err_at(&d, &with("short.csv"), "\"short.csv\"");
    assert_eq!(e.kind, ErrorKind::Data);
    assert_eq!(
        e.to_string(),
        format!(
            "{at}: data[0].file: {}:4: row has 1 field, the header has 2",
            d.join("short.csv").display()
        )
    );
    let (e, at) = err_at(&d, &with("u.ndjson"), "\"u.ndjson\"");
    assert_eq!(
        e.to_string(),
        format!(
            "{at}: data[0].file: {}:4: missing key \"id\"",
            d.join("u.ndjson").display()
        )
    );
    std::fs::write(d.join("empty.csv"), "").unwrap();
    let (e, at) = err_at(&d, &with("empty.csv"), "\"empty.csv\"");
    assert_eq!(
        e.to_string(),
        format!(
            "{at}: data[0].file: {}: is empty: expected a header row, then at least one row",
            d.join("empty.csv").display()
        )
    );
}

#[test]
fn data_entries_are_checked_at_their_keys() {
    let d = dir("entries");
    let one = |data: &str| src("native", &format!("{data}[[requests]]\npath = \"/\"\n"));
    let (e, at) = err_at(
        &d,
        &one("[[data]]\nname = \"users\"\nfile = \"data/users.txt\"\n\n"),
        "\"data/users.txt\"",
    );
    assert_eq!(e.to_string(), format!("{at}: data[0].format: cannot tell the format of \"data/users.txt\" from its extension (.csv, .jsonl or .ndjson): set format = \"csv\" or \"jsonl\""));
    let (e, at) = err_at(
        &d,
        &one(&format!(
            "{USERS_DATA}[[data]]\nname = \"users\"\nfile = \"items.jsonl\"\n\n"
        )),
        "\"users\"\nfile = \"items",
    );
    assert_eq!(
        e.to_string(),
        format!("{at}: data[1].name: duplicate data name \"users\"")
    );
    let (e, at) = err_at(
        &d,
        &one("[[data]]\nname = \"seq\"\nfile = \"items.jsonl\"\n\n"),
        "\"seq\"",
    );
    assert_eq!(
        e.to_string(),
        format!("{at}: data[0].name: \"seq\" is a built-in placeholder ({{{{seq}}}}); choose another name")
    );
    let (e, at) = err_at(
        &d,
        &one("[[data]]\nname = \"u\"\nfile = \"items.jsonl\"\nstrategy = \"lifo\"\n\n"),
        "\"lifo\"",
    );
    assert_eq!(e.kind, ErrorKind::Syntax);
    assert_eq!(e.to_string(), format!("{at}: data[0].strategy: unknown variant `lifo`, expected one of `queue`, `shuffle`, `random`, `circular`"));
}

#[test]
fn variables_must_be_known() {
    let d = dir("vars");
    let req = |path: &str| {
        src(
            "native",
            &format!("{USERS_DATA}[[requests]]\npath = \"{path}\"\nextract = [{{ var = \"token\", json = \"/t\" }}]\n"),
        )
    };
    let (e, at) = err_at(&d, &req("/u/{{users.nope}}"), "\"/u/");
    assert_eq!(e.kind, ErrorKind::Invalid);
    assert_eq!(
        e.to_string(),
        format!(
            "{at}: requests[0].path: unknown column {{{{users.nope}}}}: data \"users\" ({}) has columns id, name",
            d.join("data/users.csv").display()
        )
    );
    let (e, at) = err_at(&d, &req("/u/{{tokn}}"), "\"/u/");
    assert_eq!(e.to_string(), format!("{at}: requests[0].path: unknown variable {{{{tokn}}}}; known: {{{{seq}}}} {{{{account}}}} {{{{worker}}}} {{{{users.id}}}} {{{{users.name}}}} {{{{token}}}}"));
    let (e, at) = err_at(&d, &req("/u/{{sender}}"), "\"/u/");
    assert_eq!(e.to_string(), format!("{at}: requests[0].path: {{{{sender}}}} is the body's transfer and only for body templates; a path or header value may use {{{{seq}}}}, {{{{account}}}}, {{{{worker}}}}, data columns and extracted variables"));
    let (e, at) = err_at(&d, &req("/u/{{users.id"), "\"/u/");
    assert_eq!(
        e.to_string(),
        format!("{at}: requests[0].path: unclosed \"{{{{\"")
    );
    // Spaces inside the braces are the variable's, not the path's; outside they are refused.
    parse(&d, &req("/u/{{ users.id }}/{{token}}")).unwrap();
    let (e, _) = err_at(&d, &req("/u /{{users.id}}"), "\"/u");
    assert_eq!(
        e.message,
        "must not contain whitespace or control characters, found \"/u /{{users.id}}\""
    );
}

#[test]
fn a_data_value_unfit_for_a_header_is_named_by_its_line() {
    let d = dir("unfit");
    std::fs::write(d.join("n.csv"), "id,name\n1,ok\n2,\"two\nlines\"\n").unwrap();
    let text = src(
        "native",
        "[[data]]\nname = \"n\"\nfile = \"n.csv\"\n\n[[requests]]\npath = \"/{{n.name}}\"\n",
    );
    let (e, at) = err_at(&d, &text, "\"/{{n.name}}\"");
    assert_eq!(e.kind, ErrorKind::Data);
    assert_eq!(e.to_string(), format!("{at}: requests[0].path: {}:3: column name is \"two\\nlines\" here, which requests[0].path uses: a path must not contain whitespace, control characters or '#'", d.join("n.csv").display()));
    // The body takes any value.
    let body = text.replace(
        "path = \"/{{n.name}}\"",
        "path = \"/\"\nmethod = \"POST\"\nbody = { template = \"{{n.name}}\" }",
    );
    parse(&d, &body).unwrap();
}

#[test]
fn checks_and_extractions_are_checked_at_their_keys() {
    let d = dir("checks");
    let with = |entries: &str| {
        src(
            "native",
            &format!("{USERS_DATA}[[requests]]\npath = \"/\"\n{entries}\n"),
        )
    };
    let (e, at) = err_at(
        &d,
        &with("check = [{ json = \"/a\", header = \"x\" }]"),
        "\"x\" }",
    );
    assert_eq!(e.to_string(), format!("{at}: requests[0].check[0].header: set exactly one of `body_contains`, `json` or `header` per check, found both `json` and `header`"));
    let (e, at) = err_at(&d, &with("check = [{ equals = 1 }]"), "{ equals");
    assert_eq!(
        e.to_string(),
        format!("{at}: requests[0].check[0]: a check needs exactly one of `body_contains`, `json` or `header`")
    );
    let (e, at) = err_at(&d, &with("check = [{ json = \"status\" }]"), "\"status\"");
    assert_eq!(e.to_string(), format!("{at}: requests[0].check[0].json: expected a JSON pointer (RFC 6901) such as \"/status\" or \"/items/0/id\" (\"\" is the whole body), found \"status\""));
    let (e, _) = err_at(&d, &with("check = [{ json = \"/a~2\" }]"), "\"/a~2\"");
    assert!(
        e.message
            .starts_with("in a JSON pointer \"~\" must be followed by 0 or 1"),
        "{e}"
    );
    let (e, at) = err_at(
        &d,
        &with("check = [{ json = \"/a\", equals = [1] }]"),
        "[1]",
    );
    assert_eq!(e.to_string(), format!("{at}: requests[0].check[0].equals: expected a string, integer, float or boolean to compare with, found an array"));
    let (e, at) = err_at(&d, &with("check = [{ jsn = \"/a\" }]"), "jsn");
    assert_eq!(e.kind, ErrorKind::Syntax);
    assert_eq!(e.to_string(), format!("{at}: requests[0].check[0].jsn: unknown field `jsn`, expected one of `body_contains`, `json`, `header`, `equals`"));
    let (e, at) = err_at(
        &d,
        &with("extract = [{ var = \"t\", regex = \"(a\" }]"),
        "\"(a\"",
    );
    assert!(
        e.to_string().starts_with(&format!(
            "{at}: requests[0].extract[0].regex: does not compile: regex parse error:"
        )),
        "{e}"
    );
    let (e, at) = err_at(
        &d,
        &with("extract = [{ var = \"t\", regex = \"(a)(b)\" }]"),
        "\"(a)(b)\"",
    );
    assert_eq!(e.to_string(), format!("{at}: requests[0].extract[0].regex: has 2 capture groups, so which one is the value is unclear: keep one around the value and make the others non-capturing, (?:...)"));
    let (e, at) = err_at(
        &d,
        &with("extract = [{ var = \"users\", json = \"/u\" }]"),
        "\"users\", json",
    );
    assert_eq!(e.to_string(), format!("{at}: requests[0].extract[0].var: \"users\" is the name of a [[data]] source ({{{{users.column}}}}); choose another name"));
    let (e, at) = err_at(&d, &with("extract = [{ var = \"t\" }]"), "{ var");
    assert_eq!(e.to_string(), format!("{at}: requests[0].extract[0]: an extraction needs exactly one of `json`, `header` or `regex`"));
    let head = with("method = \"HEAD\"\ncheck = [{ body_contains = \"ok\" }]");
    let (e, at) = err_at(&d, &head, "\"ok\"");
    assert_eq!(e.to_string(), format!("{at}: requests[0].check[0].body_contains: an answer to HEAD has no body to read; use a header check or another method"));
}

#[test]
fn setup_templates_are_not_drawn() {
    let d = dir("setup");
    let two = |second: &str| {
        src(
            "native",
            &format!("[[requests]]\nname = \"a\"\npath = \"/a\"\nsetup = true\n\n[[requests]]\nname = \"b\"\npath = \"/b\"\n{second}\n"),
        )
    };
    let (e, at) = err_at(&d, &two("setup = true"), "true\n\n[[stages");
    assert_eq!(e.to_string(), format!("{at}: requests[1].setup: every template has setup = true, so none is drawn to make the load: at least one must be a regular template"));
    let (e, at) = err_at(&d, &two("setup = true\nweight = 2"), "2\n");
    assert_eq!(e.to_string(), format!("{at}: requests[1].weight: a setup template is not drawn by weight (it runs once on each new connection, before the connection's first timed request): remove weight or setup"));
}

#[test]
fn pipelining_refuses_extract_and_setup() {
    let d = dir("pipeline");
    let text = |req: &str| {
        src(
            "native",
            &format!("[http]\npipeline = 4\n\n[[requests]]\nname = \"a\"\npath = \"/a\"\n{req}\n[[requests]]\nname = \"b\"\npath = \"/b\"\n"),
        )
    };
    let (e, at) = err_at(
        &d,
        &text("extract = [{ var = \"t\", json = \"/t\" }]"),
        "{ var",
    );
    assert_eq!(e.to_string(), format!("{at}: requests[0].extract: [http] pipeline = 4 writes each request before the answers ahead of it arrive, so no answer can set a variable for it: drop extract or set pipeline = 1"));
    let (e, at) = err_at(&d, &text("setup = true"), "true");
    assert!(
        e.to_string()
            .starts_with(&format!("{at}: requests[0].setup: ")),
        "{e}"
    );
    // Checks and feeders need no earlier answer: fine when pipelined.
    parse(&d, &text("check = [{ body_contains = \"ok\" }]")).unwrap();
}

#[test]
fn max_body_is_a_size_from_1kib_to_1gib() {
    let d = dir("max-body");
    let with = |v: &str| {
        src(
            "native",
            &format!("[http]\nmax_body = {v}\n\n[[requests]]\npath = \"/\"\n"),
        )
    };
    assert_eq!(
        parse(&d, &with("\"512KiB\"")).unwrap().http.max_body,
        512 << 10
    );
    assert_eq!(parse(&d, &with("4096")).unwrap().http.max_body, 4096);
    let (e, at) = err_at(&d, &with("\"2GiB\""), "\"2GiB\"");
    assert_eq!(
        e.to_string(),
        format!("{at}: http.max_body: must be from 1KiB to 1GiB, found 2147483648 bytes")
    );
    let (e, _) = err_at(&d, &with("\"lots\""), "\"lots\"");
    assert_eq!(e.message, "expected a size such as \"256MiB\" or \"100MB\", or a whole number of bytes, found \"lots\"");
}

#[test]
fn goose_refuses_each_feature_at_its_key() {
    let d = dir("goose");
    let refused = |rest: &str, needle: &str| {
        let text = src("goose", rest);
        let (e, at) = err_at(&d, &text, needle);
        let plain = e.to_string();
        assert!(plain.starts_with(&at), "{plain} does not start with {at}");
        // The same plan through `--driver goose` is refused by check_driver too.
        let native = parse(
            &d,
            &text.replace("driver = \"goose\"", "driver = \"native\""),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let mut overridden = native.clone();
        overridden.driver = Driver::Goose;
        (
            plain[at.len() + 2..].to_string(),
            check_driver(&overridden).unwrap_err(),
        )
    };
    let (e, d_err) = refused(
        &format!("{USERS_DATA}[[requests]]\npath = \"/\"\n"),
        "[[data]]",
    );
    assert_eq!(e, "data[0]: driver = \"goose\" cannot feed [[data]] rows: goose's users draw no rows from data files here; remove [[data]] and its variables or use driver = \"native\"");
    assert_eq!(
        d_err,
        DriverError::Data {
            name: "users".into()
        }
    );
    let (e, d_err) = refused("[[requests]]\npath = \"/{{seq}}\"\n", "\"/{{seq}}\"");
    assert_eq!(e, "requests[0].path: driver = \"goose\" sends paths and header values as written, without {{ }} variables; remove the variable or use driver = \"native\"");
    assert_eq!(
        d_err,
        DriverError::Variable {
            name: "request-1".into(),
            key: "path"
        }
    );
    assert_eq!(d_err.to_string(), "driver goose: request template \"request-1\" has a {{ }} variable in its path, but goose sends paths and header values as written; remove the variable or use driver native");
    let (e, _) = refused(
        "[[requests]]\npath = \"/\"\nheaders = { a = \"x\", b = \"{{worker}}\" }\n",
        "\"{{worker}}\"",
    );
    assert!(e.starts_with("requests[0].headers.b: "), "{e}");
    let (e, d_err) = refused(
        "[[requests]]\npath = \"/\"\nsetup = true\n\n[[requests]]\npath = \"/b\"\n",
        "true",
    );
    assert_eq!(e, "requests[0].setup: driver = \"goose\" runs no per-connection setup templates; remove setup or use driver = \"native\"");
    assert_eq!(
        d_err,
        DriverError::Setup {
            name: "request-1".into()
        }
    );
    let (e, d_err) = refused(
        "[[requests]]\npath = \"/\"\ncheck = [{ header = \"x\" }]\n",
        "{ header",
    );
    assert_eq!(e, "requests[0].check: driver = \"goose\" judges an answer by its status alone; remove check or use driver = \"native\"");
    assert_eq!(
        d_err,
        DriverError::Check {
            name: "request-1".into()
        }
    );
    let (e, d_err) = refused(
        "[[requests]]\npath = \"/\"\nextract = [{ var = \"t\", header = \"x\" }]\n",
        "{ var",
    );
    assert_eq!(e, "requests[0].extract: driver = \"goose\" keeps no variables between requests; remove extract or use driver = \"native\"");
    assert_eq!(
        d_err,
        DriverError::Extract {
            name: "request-1".into()
        }
    );
    // A body template's placeholders are goose's own business, as before.
    parse(
        &d,
        &src(
            "goose",
            "[[requests]]\nmethod = \"POST\"\npath = \"/\"\nbody = { template = \"{{seq}}\" }\n",
        ),
    )
    .unwrap();
}

#[test]
fn data_is_only_for_http_targets() {
    let text = format!(
        "[scenario]\nname = \"f\"\n\n[target]\nkind = \"in-process\"\n\n{USERS_DATA}[[stages]]\nduration = \"1s\"\nworkers = 1\n"
    );
    let d = dir("in-process");
    let (e, at) = err_at(&d, &text, "[[data]]");
    assert_eq!(
        e.to_string(),
        format!("{at}: data[0]: [[data]] feeds request templates, which only http and spawn targets have")
    );
}
