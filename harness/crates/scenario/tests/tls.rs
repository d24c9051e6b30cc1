//! `[http.tls]`: https URLs are accepted, every key is validated at its field, files resolve
//! against the scenario's directory and are read with the run's own PEM reader, and goose is
//! refused the settings its client cannot honour.

use std::path::{Path, PathBuf};

use scenario::{ClientAuth, ErrorKind, TlsTrust, TlsVersion};

/// A PEM file validation accepts (validation checks PEM structure, not the DER inside; the
/// harness's TLS tests use real certificates).
const CERT: &str = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
const KEY: &str = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";

/// A directory of its own for test `name` (tests run in parallel), holding `certs/ca.pem`,
/// `certs/client.pem`, `certs/client.key` and `bad.pem`.
fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("scenario-tls-{}-{name}", std::process::id()));
    std::fs::create_dir_all(d.join("certs")).unwrap();
    std::fs::write(d.join("certs/ca.pem"), CERT).unwrap();
    std::fs::write(d.join("certs/client.pem"), CERT).unwrap();
    std::fs::write(d.join("certs/client.key"), KEY).unwrap();
    std::fs::write(d.join("bad.pem"), "not pem\n").unwrap();
    d
}

fn src(url: &str, driver: &str, tls: &str) -> String {
    format!(
        "[scenario]\nname = \"t\"\ndriver = \"{driver}\"\n\n[target]\nkind = \"http\"\nurl = \"{url}\"\n\n[http.tls]\n{tls}\n[[requests]]\npath = \"/\"\n\n[[stages]]\nduration = \"1s\"\nworkers = 1\n"
    )
}

fn parse(d: &Path, url: &str, tls: &str) -> Result<scenario::Plan, scenario::ScenarioError> {
    scenario::parse(&src(url, "native", tls), &d.join("s.toml"))
}

#[test]
fn https_urls_and_every_key_make_the_plan() {
    let d = dir("keys");
    let plan = parse(
        &d,
        "https://localhost:8443/",
        "ca_file = \"certs/ca.pem\"\nserver_name = \"example.test\"\nclient_cert = \"certs/client.pem\"\nclient_key = \"certs/client.key\"\nversions = [\"1.3\"]\nresumption = false\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        plan.target,
        scenario::Target::Http {
            base_url: "https://localhost:8443".into(),
            allow_remote: false
        }
    );
    let t = &plan.http.tls;
    assert_eq!(
        t.trust,
        TlsTrust::Roots {
            ca_file: Some(d.join("certs/ca.pem"))
        }
    );
    assert_eq!(t.server_name.as_deref(), Some("example.test"));
    assert_eq!(
        t.client_auth,
        Some(ClientAuth {
            cert: d.join("certs/client.pem"),
            key: d.join("certs/client.key")
        })
    );
    assert_eq!(
        (t.versions.as_slice(), t.resumption),
        (&[TlsVersion::Tls13][..], false)
    );

    // No table: system roots, both versions, resumption on; an absolute path stays as written.
    let plan = parse(&d, "https://127.0.0.1:8443", "").unwrap();
    assert_eq!(plan.http.tls, scenario::TlsOptions::default());
    let abs = d.join("certs/ca.pem");
    let plan = parse(&d, "https://127.0.0.1", &format!("ca_file = {:?}\n", abs)).unwrap();
    assert_eq!(plan.http.tls.trust, TlsTrust::Roots { ca_file: Some(abs) });
    let plan = parse(&d, "https://127.0.0.1", "insecure = true\n").unwrap();
    assert_eq!(plan.http.tls.trust, TlsTrust::Insecure);
}

#[test]
fn bad_settings_and_files_are_named_with_field_and_file() {
    let d = dir("bad");
    let cases: Vec<(&str, &str, &str, String)> = vec![
        (
            "http://127.0.0.1",
            "resumption = true\n",
            "http.tls",
            "[http.tls] applies to https:// targets, but target.url is \"http://127.0.0.1\"".into(),
        ),
        (
            "https://127.0.0.1",
            "ca_file = \"certs/missing.pem\"\n",
            "http.tls.ca_file",
            format!("cannot read {}: ", d.join("certs/missing.pem").display()),
        ),
        (
            "https://127.0.0.1",
            "ca_file = \"bad.pem\"\n",
            "http.tls.ca_file",
            format!(
                "{} holds no certificate (expected a PEM \"-----BEGIN CERTIFICATE-----\" block)",
                d.join("bad.pem").display()
            ),
        ),
        (
            "https://127.0.0.1",
            "client_cert = \"certs/client.pem\"\nclient_key = \"certs/ca.pem\"\n",
            "http.tls.client_key",
            format!("{} holds no private key", d.join("certs/ca.pem").display()),
        ),
        (
            "https://127.0.0.1",
            "client_cert = \"certs/client.pem\"\n",
            "http.tls.client_cert",
            "needs client_key too (the certificate's private key, PEM)".into(),
        ),
        (
            "https://127.0.0.1",
            "ca_file = \"certs/ca.pem\"\ninsecure = true\n",
            "http.tls.insecure",
            "insecure = true accepts any certificate, so ca_file would be ignored: set one or the other".into(),
        ),
        (
            "https://127.0.0.1",
            "versions = [\"1.3\", \"1.1\"]\n",
            "http.tls.versions[1]",
            "expected \"1.2\" or \"1.3\", found \"1.1\"".into(),
        ),
        (
            "https://127.0.0.1",
            "versions = []\n",
            "http.tls.versions",
            "must name at least one of \"1.2\" and \"1.3\"".into(),
        ),
        (
            "https://127.0.0.1",
            "server_name = \"not a name\"\n",
            "http.tls.server_name",
            "expected a DNS name or an IP address, found \"not a name\"".into(),
        ),
        (
            "https://127.0.0.1",
            "ciphers = \"all\"\n",
            "http.tls.ciphers",
            "unknown field `ciphers`, expected one of `ca_file`, `insecure`, `server_name`, `client_cert`, `client_key`, `versions`, `resumption`".into(),
        ),
    ];
    for (url, tls, field, message) in cases {
        let e = parse(&d, url, tls).expect_err(tls);
        assert_eq!(e.field.as_deref(), Some(field), "{tls}: {e}");
        assert!(e.message.starts_with(&message), "{tls}: {e}");
        // The key's own line, or the table's header for the table itself.
        let key = field.trim_start_matches("http.tls").trim_start_matches('.');
        let key = key.split('[').next().unwrap_or_default();
        let line = match tls
            .lines()
            .position(|l| !key.is_empty() && l.starts_with(key))
        {
            Some(i) => 10 + i,
            None => 9,
        };
        assert_eq!(e.line, Some(line), "{tls}: points into [http.tls]: {e}");
    }
}

#[test]
fn goose_is_refused_what_its_client_cannot_honour() {
    let d = dir("goose");
    let goose =
        |tls: &str| scenario::parse(&src("https://127.0.0.1", "goose", tls), &d.join("s.toml"));
    // Its own defaults, said out loud, are fine.
    goose("versions = [\"1.3\", \"1.2\"]\nresumption = true\n").unwrap_or_else(|e| panic!("{e}"));
    for (tls, key) in [
        ("ca_file = \"certs/ca.pem\"\n", "ca_file"),
        ("insecure = true\n", "insecure"),
        ("server_name = \"localhost\"\n", "server_name"),
        (
            "client_cert = \"certs/client.pem\"\nclient_key = \"certs/client.key\"\n",
            "client_cert",
        ),
        ("versions = [\"1.3\"]\n", "versions"),
        ("resumption = false\n", "resumption"),
    ] {
        let e = goose(tls).expect_err(tls);
        assert_eq!(e.kind, ErrorKind::Invalid, "{e}");
        assert_eq!(
            e.field.as_deref(),
            Some(format!("http.tls.{key}").as_str()),
            "{e}"
        );
        assert_eq!(e.line, Some(10), "{e}");
        assert!(e.message.contains("goose's own client (reqwest)"), "{e}");
    }
    // The same settings on the plan, as `--driver goose` checks them.
    let mut plan = scenario::parse(
        &src("https://127.0.0.1", "native", "resumption = false\n"),
        Path::new("x.toml"),
    )
    .unwrap();
    plan.driver = scenario::Driver::Goose;
    assert_eq!(
        scenario::check_driver(&plan),
        Err(scenario::DriverError::Tls { key: "resumption" })
    );
}
