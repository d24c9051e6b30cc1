//! The deployment files under `deploy/` cannot run here (no cluster, no container runtime), so
//! they are checked for what the harness relies on: parsed as YAML, the Indexed Job's fields
//! asserted against the environment variables and paths the harness reads, the scenario in the
//! ConfigMap validated by the real scenario loader, the Dockerfile's binary path matched.

use harness::plan::segment::{ENV_K8S_INDEX, ENV_SEGMENT_COUNT};
use serde_norway::Value;
use std::path::{Path, PathBuf};

fn deploy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy")
}

fn yaml(name: &str) -> Value {
    let p = deploy().join("kubernetes").join(name);
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn s<'a>(v: &'a Value, path: &str) -> &'a str {
    at(v, path)
        .as_str()
        .unwrap_or_else(|| panic!("{path} is not a string"))
}

fn at<'a>(v: &'a Value, path: &str) -> &'a Value {
    path.split('.').fold(v, |v, k| match k.parse::<usize>() {
        Ok(i) => &v[i],
        Err(_) => &v[k],
    })
}

fn container(job: &Value) -> &Value {
    at(job, "spec.template.spec.containers.0")
}

fn env_value<'a>(c: &'a Value, name: &str) -> Option<&'a Value> {
    c["env"]
        .as_sequence()?
        .iter()
        .find(|e| e["name"].as_str() == Some(name))
}

fn args(c: &Value) -> Vec<String> {
    c["args"]
        .as_sequence()
        .expect("args")
        .iter()
        .map(|a| match a {
            Value::String(s) => s.clone(),
            other => serde_norway::to_string(other).unwrap().trim().to_string(),
        })
        .collect()
}

fn flag<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .map(|i| args[i + 1].as_str())
}

/// The volume a container path lives on: (volume name, mount path).
fn mount_for<'a>(c: &'a Value, path: &str) -> (&'a str, &'a str) {
    c["volumeMounts"]
        .as_sequence()
        .expect("volumeMounts")
        .iter()
        .map(|m| (s(m, "name"), s(m, "mountPath")))
        .filter(|(_, mp)| path.starts_with(&format!("{}/", mp.trim_end_matches('/'))))
        .max_by_key(|(_, mp)| mp.len())
        .unwrap_or_else(|| panic!("no volume mounted for {path}"))
}

fn volume<'a>(job: &'a Value, name: &str) -> &'a Value {
    at(job, "spec.template.spec.volumes")
        .as_sequence()
        .expect("volumes")
        .iter()
        .find(|v| v["name"].as_str() == Some(name))
        .unwrap_or_else(|| panic!("no volume {name}"))
}

/// `/usr/local/bin/harness` from the runtime stage's COPY of the built binary.
fn dockerfile_binary() -> String {
    let text = std::fs::read_to_string(deploy().join("Dockerfile")).unwrap();
    let froms: Vec<&str> = text.lines().filter(|l| l.starts_with("FROM ")).collect();
    assert_eq!(
        froms.len(),
        2,
        "multi-stage: builder and runtime: {froms:?}"
    );
    assert!(froms[0].starts_with("FROM rust:") && froms[0].ends_with("AS builder"));
    assert!(
        froms[1].starts_with("FROM debian:bookworm-slim"),
        "{}",
        froms[1]
    );
    assert!(text.contains("cargo build --release --locked -p harness --bin harness"));
    let copy = text
        .lines()
        .find(|l| l.starts_with("COPY --from=builder"))
        .expect("the runtime copies the binary from the builder");
    let dest = copy.split_whitespace().last().unwrap().to_string();
    assert!(
        text.contains(&format!("ENTRYPOINT [\"{dest}\"]")),
        "entrypoint is {dest}"
    );
    dest
}

#[test]
fn indexed_job_matches_what_the_harness_reads() {
    let job = yaml("job.yaml");
    assert_eq!(s(&job, "kind"), "Job");
    assert_eq!(s(&job, "spec.completionMode"), "Indexed");
    let completions = at(&job, "spec.completions").as_u64().expect("completions");
    assert_eq!(at(&job, "spec.parallelism").as_u64(), Some(completions));
    assert_eq!(
        at(&job, "spec.backoffLimit").as_u64(),
        Some(0),
        "no retried segments"
    );
    assert_eq!(s(&job, "spec.template.spec.restartPolicy"), "Never");

    let c = container(&job);
    // The count the harness reads, equal to the Job's completions. The index comes from
    // Kubernetes itself (JOB_COMPLETION_INDEX), so the manifest must not override it.
    let count = env_value(c, ENV_SEGMENT_COUNT).expect("HARNESS_SEGMENT_COUNT in env");
    assert_eq!(s(count, "value"), completions.to_string());
    assert!(env_value(c, ENV_K8S_INDEX).is_none());
    assert!(
        env_value(c, "HARNESS_SEGMENT").is_none(),
        "would override the index"
    );

    assert_eq!(s(c, "command.0"), dockerfile_binary());
    let a = args(c);
    assert_eq!(a[0], "run");
    assert!(
        a.iter().any(|x| x == "--allow-remote"),
        "the Service is not loopback"
    );
    assert!(
        flag(&a, "--segment").is_none(),
        "the index comes from the environment"
    );

    // The scenario path is on the ConfigMap volume, under the key the ConfigMap has.
    let scenario = a[1].as_str();
    let (vol, mount) = mount_for(c, scenario);
    let cm_name = s(volume(&job, vol), "configMap.name");
    let cm = yaml("configmap.yaml");
    assert_eq!(s(&cm, "kind"), "ConfigMap");
    assert_eq!(s(&cm, "metadata.name"), cm_name);
    let key = scenario
        .strip_prefix(&format!("{mount}/"))
        .expect("scenario under the mount");
    let text = cm["data"][key]
        .as_str()
        .expect("the ConfigMap has the scenario key");
    let plan =
        scenario::parse(text, Path::new(scenario)).expect("the ConfigMap's scenario is valid");
    assert!(plan.target.is_http());

    // Results and the barrier on the shared volume, the PVC of pvc.yaml.
    let pvc = yaml("pvc.yaml");
    assert_eq!(s(&pvc, "kind"), "PersistentVolumeClaim");
    assert!(at(&pvc, "spec.accessModes")
        .as_sequence()
        .unwrap()
        .iter()
        .any(|m| m.as_str() == Some("ReadWriteMany")));
    for f in ["--out", "--barrier"] {
        let path = flag(&a, f).unwrap_or_else(|| panic!("{f} missing"));
        let (vol, _) = mount_for(c, path);
        assert_eq!(
            s(volume(&job, vol), "persistentVolumeClaim.claimName"),
            s(&pvc, "metadata.name"),
            "{f} {path}"
        );
    }
    // RUN_ID, used in the paths, is defined in env.
    assert!(env_value(c, "RUN_ID").is_some());
}

#[test]
fn merge_job_reads_the_segments_volume() {
    let job = yaml("job.yaml");
    let merge = yaml("merge-job.yaml");
    let c = container(&merge);
    assert_eq!(s(c, "command.0"), dockerfile_binary());
    let a = args(c);
    assert_eq!(a[0], "merge");
    let seg_out = flag(&args(container(&job)), "--out").unwrap().to_string();
    assert_eq!(a[1], seg_out, "merge reads where the segments write");
    let (vol, _) = mount_for(c, &a[1]);
    assert_eq!(
        s(volume(&merge, vol), "persistentVolumeClaim.claimName"),
        s(volume(&job, "results"), "persistentVolumeClaim.claimName")
    );
}
