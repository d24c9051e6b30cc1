//! https targets end to end: real `harness run`s (the binary, or `run::execute` where the test
//! reads the result directly) of small scenarios against a TLS server made in the test
//! (`tls/server.rs`: certificates from rcgen at test time, tokio-rustls, hyper's auto server),
//! which records the SNI name, resumption, ALPN and client certificate of every handshake.
//!
//! Bounded: every stage is at most 1 s with 1 or 2 workers, every server is on 127.0.0.1 port 0;
//! the remote-refusal test names a 10.x address that must be refused before any packet.

mod common;
#[path = "tls/server.rs"]
mod server;

use common::write_scenario;
use harness::exit::Exit;
use harness::plan::Prepared;
use harness::run::{execute, RunOptions};
use harness::targets::http::HttpError;
use results::RunResult;
use server::{Options, Pki, Server};
use std::path::Path;
use std::process::Command;

/// A closed-model scenario: `workers` for 1 s against `url`, with `[http]` and `[http.tls]`
/// lines and request templates (`requests`, TOML).
fn scenario(name: &str, url: &str, workers: u32, http: &str, tls: &str, requests: &str) -> String {
    format!(
        "[scenario]\nname = \"{name}\"\n[target]\nkind = \"http\"\nurl = \"{url}\"\n[http]\ntimeout = \"2s\"\n{http}\n[http.tls]\n{tls}\n{requests}\n[[stages]]\nname = \"steady\"\nduration = \"1s\"\nworkers = {workers}\n"
    )
}

const GET: &str = "[[requests]]\nname = \"root\"\npath = \"/\"\n";

/// The test server as most tests start it: `leaf`'s certificate, HTTP/1.1 by ALPN, keep-alive,
/// no client certificate asked. A test that needs another setting changes that one field
/// (`Options { close: true, ..options(&leaf) }`), so what it varies stands out.
fn options(leaf: &server::Leaf) -> Options<'_> {
    Options {
        leaf,
        require_client_cert: None,
        alpn: &["http/1.1"],
        close: false,
    }
}

/// Runs a scenario file through the library, as `harness run --quiet --no-reports` does.
fn run(file: &Path, out: &Path) -> anyhow::Result<harness::run::RunOutcome> {
    let plan = Prepared::whole(scenario::load(file).unwrap_or_else(|e| panic!("{e}")));
    execute(
        &plan,
        &RunOptions {
            out: Some(out.to_path_buf()),
            quiet: true,
            no_reports: true,
            ..RunOptions::default()
        },
    )
}

/// Runs a scenario file through the `harness` binary; returns its exit code and run directory.
fn run_binary(file: &Path, out: &Path) -> (Option<i32>, std::path::PathBuf) {
    let o = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["run", "--quiet", "--out"])
        .arg(out)
        .arg(file)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    let results = stdout
        .lines()
        .find_map(|l| l.strip_prefix("results: "))
        .unwrap_or_else(|| {
            panic!(
                "no results line: {stdout}\n{}",
                String::from_utf8_lossy(&o.stderr)
            )
        });
    let dir = Path::new(results.trim()).parent().unwrap().to_path_buf();
    (o.status.code(), dir)
}

fn tls_of(r: &RunResult) -> &results::TlsInfo {
    r.driver
        .tls
        .as_ref()
        .expect("an https run says how TLS went")
}

fn errors_of(r: &RunResult, kind: &str) -> u64 {
    r.summary.errors_by_kind.get(kind).copied().unwrap_or(0)
}

#[test]
fn builtin_client_answers_over_tls_with_ca_file_and_sni() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(dir.path());
    let leaf = pki.leaf("server", &["localhost", "127.0.0.1"], false, false);
    let srv = Server::start(options(&leaf));
    let requests = "[[requests]]\nname = \"big\"\npath = \"/big\"\n\
        [[requests]]\nname = \"created\"\npath = \"/created\"\nexpect_status = 201\n\
        [[requests]]\nname = \"echo\"\nmethod = \"POST\"\npath = \"/echo\"\nbody = { template = \"{{seq}}-{{worker}}-payload\" }\n";
    let url = format!("https://{}", srv.addr);
    // Relative to the scenario's directory; the certificate is also valid for the IP, and
    // server_name makes the client send (and check) "localhost".
    let tls = "ca_file = \"ca.pem\"\nserver_name = \"localhost\"\n";
    let f = write_scenario(
        dir.path(),
        "tls-ok",
        &scenario("tls-ok", &url, 2, "", tls, requests),
    );
    let o = run(&f, dir.path()).unwrap();
    let r = &o.result;
    assert!(r.summary.ops > 20, "{} requests", r.summary.ops);
    assert_eq!(
        r.summary.errors_by_kind,
        Default::default(),
        "every answer parsed and as expected"
    );
    let t = tls_of(r);
    assert!(!t.insecure);
    assert_eq!(t.server_name, "localhost");
    assert_eq!(t.ca_file.as_deref(), Some(pki.ca_file().to_str().unwrap()));
    assert_eq!(t.alpn, ["http/1.1"]);
    // One keep-alive connection per worker, each timed.
    assert_eq!(t.handshakes, 2);
    let hs = r
        .summary
        .tls_handshake_us
        .as_ref()
        .expect("handshake times");
    assert_eq!(hs.count, 2);
    assert!(hs.max > 0.0);
    assert_eq!(
        r.summary.connect_us.as_ref().expect("connect times").count,
        2
    );
    // The server saw the SNI name on every connection (the control path's probe included).
    let seen = srv.handshakes();
    assert!(seen.len() >= 3, "{seen:?}");
    assert!(
        seen.iter().all(|h| h.sni.as_deref() == Some("localhost")),
        "{seen:?}"
    );

    // Without server_name, an IP-address URL is checked against the certificate's IP entry
    // and no SNI is sent (RFC 6066 has none for addresses).
    let f = write_scenario(
        dir.path(),
        "tls-ip",
        &scenario("tls-ip", &url, 1, "", "ca_file = \"ca.pem\"\n", GET),
    );
    let before = srv.handshakes().len();
    let o = run(&f, dir.path()).unwrap();
    assert_eq!(
        o.result.summary.errors, 0,
        "{:?}",
        o.result.summary.errors_by_kind
    );
    assert!(srv.handshakes()[before..].iter().all(|h| h.sni.is_none()));
}

#[test]
fn pipelined_requests_over_tls_are_answered_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(dir.path());
    let leaf = pki.leaf("server", &["localhost"], false, false);
    let srv = Server::start(options(&leaf));
    // Mixed at random: 100 kB answers spanning several TLS records, 201s and echoed bodies;
    // an answer matched to the wrong request would be a status error (201 vs 200).
    let requests = "[[requests]]\nname = \"big\"\npath = \"/big\"\n\
        [[requests]]\nname = \"created\"\npath = \"/created\"\nexpect_status = 201\n\
        [[requests]]\nname = \"echo\"\nmethod = \"POST\"\npath = \"/echo\"\nbody = { template = \"{{seq}}-payload\" }\n";
    let url = format!("https://{}", srv.addr);
    let tls = "ca_file = \"ca.pem\"\nserver_name = \"localhost\"\n";
    let f = write_scenario(
        dir.path(),
        "tls-pipe",
        &scenario("tls-pipe", &url, 2, "pipeline = 8", tls, requests),
    );
    let r = run(&f, dir.path()).unwrap().result;
    assert!(r.summary.ops > 50, "{} requests", r.summary.ops);
    assert_eq!(r.summary.errors_by_kind, Default::default());
    // Both workers kept their one connection: nothing failed and reconnected.
    assert_eq!(tls_of(&r).handshakes, 2);
    assert!(r.driver.notes.join("\n").contains("pipelining, depth 8"));
}

#[test]
fn wrong_name_and_expired_certificates_are_tls_errors_and_the_run_still_reports() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(dir.path());
    let wrong = pki.leaf("wrong", &["wrong.example"], false, false);
    let expired = pki.leaf("expired", &["localhost", "127.0.0.1"], false, true);
    for (leaf, expect) in [
        (&wrong, "certificate not valid for name \"127.0.0.1\""),
        (
            &expired,
            "certificate expired (not valid after 2020-01-01T00:00:00Z)",
        ),
    ] {
        let srv = Server::start(options(leaf));
        let url = format!("https://{}", srv.addr);
        let f = write_scenario(
            dir.path(),
            "tls-bad",
            &scenario("tls-bad", &url, 1, "", "ca_file = \"ca.pem\"\n", GET),
        );
        let out = dir.path().join(format!(
            "out-{}",
            leaf.cert_file.file_stem().unwrap().to_string_lossy()
        ));
        let (code, run_dir) = run_binary(&f, &out);
        // Nothing succeeded: a failed run (exit 1), never a crash, with everything written.
        assert_eq!(code, Some(1));
        let r = RunResult::read(run_dir.join("results.json")).unwrap();
        assert!(errors_of(&r, "tls") > 0, "{:?}", r.summary.errors_by_kind);
        assert_eq!(
            r.summary.errors_by_kind.len(),
            1,
            "only tls: {:?}",
            r.summary.errors_by_kind
        );
        let t = tls_of(&r);
        assert_eq!(t.handshakes, 0);
        assert_eq!(t.errors.len(), 1, "one message, counted: {:?}", t.errors);
        let message = &t.errors[0].message;
        assert!(
            message.starts_with("TLS handshake with 127.0.0.1 failed: invalid peer certificate: "),
            "{message}"
        );
        assert!(message.contains(expect), "{message}");
        assert_eq!(t.errors[0].count, errors_of(&r, "tls"));
        let md = std::fs::read_to_string(run_dir.join("report.md")).unwrap();
        assert!(md.contains(expect), "the report names the failure");
        assert!(run_dir.join("report.html").is_file());
        // The server completed no handshake with us.
        assert!(srv.handshakes().is_empty());
    }
}

#[test]
fn insecure_accepts_a_bad_certificate_and_every_output_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(dir.path());
    let expired = pki.leaf("expired", &["wrong.example"], false, true);
    let srv = Server::start(options(&expired));
    let url = format!("https://{}", srv.addr);
    let f = write_scenario(
        dir.path(),
        "tls-insecure",
        &scenario("tls-insecure", &url, 1, "", "insecure = true\n", GET),
    );
    let (code, run_dir) = run_binary(&f, &dir.path().join("out"));
    assert_eq!(code, Some(0), "not judged: no criteria");
    let r = RunResult::read(run_dir.join("results.json")).unwrap();
    assert_eq!(r.summary.errors, 0, "{:?}", r.summary.errors_by_kind);
    assert!(tls_of(&r).insecure);
    let json = std::fs::read_to_string(run_dir.join("results.json")).unwrap();
    assert!(json.contains("\"insecure\": true"));
    let md = std::fs::read_to_string(run_dir.join("report.md")).unwrap();
    let scenario_section = &md[md.find("## Scenario").unwrap()..md.find("## Environment").unwrap()];
    assert!(scenario_section.contains("INSECURE"), "{scenario_section}");
}

#[test]
fn mutual_tls_is_accepted_with_a_client_certificate_and_refused_without() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(dir.path());
    let leaf = pki.leaf("server", &["127.0.0.1"], false, false);
    let client = pki.leaf("client", &["client.test"], true, false);
    let srv = Server::start(Options {
        require_client_cert: Some(&pki),
        ..options(&leaf)
    });
    let url = format!("https://{}", srv.addr);
    // Absolute paths this time (relative ones are tested above), and hyper's HTTP/1.1 client.
    let with = format!(
        "ca_file = \"ca.pem\"\nclient_cert = {:?}\nclient_key = {:?}\n",
        client.cert_file, client.key_file
    );
    let f = write_scenario(
        dir.path(),
        "tls-mtls",
        &scenario("tls-mtls", &url, 1, "client = \"hyper\"", &with, GET),
    );
    let o = run(&f, dir.path()).unwrap();
    assert!(o.result.summary.ops > 5);
    assert_eq!(
        o.result.summary.errors, 0,
        "{:?}",
        o.result.summary.errors_by_kind
    );
    assert!(tls_of(&o.result)
        .client_cert
        .as_deref()
        .is_some_and(|c| c.ends_with("client.pem")));
    let seen = srv.handshakes();
    assert!(
        !seen.is_empty() && seen.iter().all(|h| h.client_cert),
        "{seen:?}"
    );

    // No certificate: TLS 1.3 finishes the client's handshake, then the server's alert ends
    // the connection at the first read: still a `tls` error, with the alert named.
    let f = write_scenario(
        dir.path(),
        "tls-mtls",
        &scenario("tls-mtls", &url, 1, "", "ca_file = \"ca.pem\"\n", GET),
    );
    let o = run(&f, dir.path()).unwrap();
    let r = &o.result;
    assert!(errors_of(r, "tls") > 0, "{:?}", r.summary.errors_by_kind);
    assert_eq!(
        r.summary.errors,
        errors_of(r, "tls"),
        "{:?}",
        r.summary.errors_by_kind
    );
    let messages: Vec<&str> = tls_of(r)
        .errors
        .iter()
        .map(|e| e.message.as_str())
        .collect();
    assert!(
        messages.iter().any(|m| m.contains("CertificateRequired")),
        "{messages:?}"
    );
    assert_eq!(o.exit, Exit::Fail);
}

#[test]
fn http2_over_tls_is_negotiated_by_alpn_and_refused_when_the_server_will_not() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(dir.path());
    let leaf = pki.leaf("server", &["127.0.0.1"], false, false);
    let h2 = Server::start(Options {
        alpn: &["h2", "http/1.1"],
        ..options(&leaf)
    });
    let url = format!("https://{}", h2.addr);
    let f = write_scenario(
        dir.path(),
        "tls-h2",
        &scenario(
            "tls-h2",
            &url,
            2,
            "http2 = true",
            "ca_file = \"ca.pem\"\n",
            GET,
        ),
    );
    let o = run(&f, dir.path()).unwrap();
    assert!(o.result.summary.ops > 10);
    assert_eq!(
        o.result.summary.errors, 0,
        "{:?}",
        o.result.summary.errors_by_kind
    );
    assert_eq!(tls_of(&o.result).alpn, ["h2"]);
    let seen = h2.handshakes();
    // The control probe speaks HTTP/1.1; the two load connections h2.
    assert_eq!(
        seen.iter()
            .filter(|h| h.alpn.as_deref() == Some("h2"))
            .count(),
        2,
        "{seen:?}"
    );

    // A server that offers only HTTP/1.1 refuses the handshake; one without ALPN completes it
    // without agreeing to h2: both are tls errors, never a quiet HTTP/1.1.
    for (alpn, expect) in [
        (
            &["http/1.1"][..],
            "the server speaks none of the protocols asked for by ALPN (h2",
        ),
        (
            &[][..],
            "the server did not agree to HTTP/2 by ALPN (it chose none)",
        ),
    ] {
        let h1 = Server::start(Options {
            alpn,
            ..options(&leaf)
        });
        let url = format!("https://{}", h1.addr);
        let f = write_scenario(
            dir.path(),
            "tls-h2",
            &scenario(
                "tls-h2",
                &url,
                1,
                "http2 = true",
                "ca_file = \"ca.pem\"\n",
                GET,
            ),
        );
        let o = run(&f, dir.path()).unwrap();
        let r = &o.result;
        assert!(
            errors_of(r, "tls") > 0 && r.summary.errors == errors_of(r, "tls"),
            "{:?}",
            r.summary.errors_by_kind
        );
        let m = &tls_of(r).errors[0].message;
        assert!(m.contains(expect), "{m}");
    }
}

#[test]
fn resumption_on_resumes_reconnections_and_off_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(dir.path());
    let leaf = pki.leaf("server", &["127.0.0.1"], false, false);
    for resumption in [true, false] {
        // The server closes after every answer: every request is a new connection.
        let srv = Server::start(Options {
            close: true,
            ..options(&leaf)
        });
        let url = format!("https://{}", srv.addr);
        let tls = format!("ca_file = \"ca.pem\"\nresumption = {resumption}\n");
        let f = write_scenario(
            dir.path(),
            "tls-resume",
            &scenario("tls-resume", &url, 1, "", &tls, GET),
        );
        let o = run(&f, dir.path()).unwrap();
        let r = &o.result;
        assert_eq!(r.summary.errors, 0, "{:?}", r.summary.errors_by_kind);
        let t = tls_of(r);
        assert!(t.handshakes >= 10, "{} handshakes", t.handshakes);
        // Every handshake is in the histogram, and every connection's connect time too.
        assert_eq!(
            r.summary.tls_handshake_us.as_ref().unwrap().count,
            t.handshakes
        );
        assert_eq!(r.summary.connect_us.as_ref().unwrap().count, t.handshakes);
        let server_resumed = srv.handshakes().iter().filter(|h| h.resumed).count() as u64;
        if resumption {
            // All but possibly the first resume (the control probe's handshake left tickets).
            assert!(
                t.resumed + 1 >= t.handshakes,
                "{} of {} resumed",
                t.resumed,
                t.handshakes
            );
            assert!(
                server_resumed >= t.resumed,
                "the server saw {server_resumed}"
            );
        } else {
            assert_eq!((t.resumed, server_resumed), (0, 0));
        }
    }
}

#[test]
fn an_https_remote_target_is_refused_before_any_connection() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ca.pem"),
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let f = write_scenario(
        dir.path(),
        "tls-remote",
        &scenario(
            "tls-remote",
            "https://10.1.2.3:8443",
            1,
            "",
            "ca_file = \"ca.pem\"\n",
            GET,
        )
        .replace(
            "kind = \"http\"\n",
            "kind = \"http\"\nallow_remote = true\n",
        ),
    );
    let err = run(&f, dir.path()).err().expect("refused");
    let http = err.downcast_ref::<HttpError>().expect("an HttpError");
    assert!(matches!(http, HttpError::Remote { .. }), "{http}");
    assert!(http.to_string().contains("https://10.1.2.3:8443"), "{http}");
}

#[test]
fn the_shipped_https_example_runs_with_its_example_certificates() {
    let scenarios = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let tls = scenarios.join("tls");
    let leaf = server::Leaf {
        chain: scenario::pem::certificates(&tls.join("server.pem")).unwrap(),
        key: scenario::pem::private_key(&tls.join("server.key")).unwrap(),
        cert_file: tls.join("server.pem"),
        key_file: tls.join("server.key"),
    };
    let srv = Server::start(options(&leaf));
    // The example as shipped (its CA, SNI "localhost"), at this server's port and 1 s long.
    let mut plan = scenario::load(&scenarios.join("https-example.toml"))
        .unwrap()
        .scaled(0.05);
    plan.target = scenario::Target::Http {
        base_url: format!("https://127.0.0.1:{}", srv.addr.port()),
        allow_remote: false,
    };
    let dir = tempfile::tempdir().unwrap();
    let o = execute(
        &Prepared::whole(plan),
        &RunOptions {
            out: Some(dir.path().to_path_buf()),
            quiet: true,
            no_reports: true,
            ..RunOptions::default()
        },
    )
    .unwrap();
    let r = &o.result;
    assert!(r.summary.ops > 0);
    assert_eq!(r.summary.errors, 0, "{:?}", r.summary.errors_by_kind);
    assert_eq!(tls_of(r).handshakes, 8, "one connection per worker");
    assert!(srv
        .handshakes()
        .iter()
        .all(|h| h.sni.as_deref() == Some("localhost")));
}

#[test]
fn goose_reaches_https_with_system_roots_only_so_a_private_ca_is_a_tls_error() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(dir.path());
    let leaf = pki.leaf("server", &["127.0.0.1"], false, false);
    let srv = Server::start(options(&leaf));
    let url = format!("https://{}", srv.addr);
    // goose cannot be given ca_file, and the test CA is in no system store: every request
    // fails its handshake, counted as tls, and the run still reports.
    let text = scenario("tls-goose", &url, 1, "", "", GET)
        .replace("[scenario]\n", "[scenario]\ndriver = \"goose\"\n");
    let f = write_scenario(dir.path(), "tls-goose", &text);
    let (code, run_dir) = run_binary(&f, &dir.path().join("out"));
    assert_eq!(code, Some(1));
    let r = RunResult::read(run_dir.join("results.json")).unwrap();
    assert!(errors_of(&r, "tls") > 0, "{:?}", r.summary.errors_by_kind);
    assert_eq!(
        r.summary.errors,
        errors_of(&r, "tls"),
        "{:?}",
        r.summary.errors_by_kind
    );
    assert!(
        r.driver.tls.is_none(),
        "goose's TLS is not ours to describe"
    );
    assert!(r
        .driver
        .notes
        .iter()
        .any(|n| n.starts_with("https: goose's own client")));
    assert!(run_dir.join("report.md").is_file());
    // And a setting goose cannot honour is refused before anything runs (exit 2).
    std::fs::write(
        &f,
        text.replace("[http.tls]\n", "[http.tls]\nca_file = \"ca.pem\"\n"),
    )
    .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["run", "--quiet", "--out"])
        .arg(dir.path().join("out2"))
        .arg(&f)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("http.tls.ca_file") && stderr.contains("goose"),
        "{stderr}"
    );
}
