//! Replays every fuzz corpus on stable, so CI catches a regression on an input the fuzzer once
//! found interesting without running a fuzzer (see fuzz/README.md).
//!
//! For each target of `harness::fuzzing::TARGETS` it runs every file of `fuzz/corpus/<name>/`
//! (which must exist and hold files) and of `fuzz/regressions/<name>/` (crash inputs kept as
//! tests, when there are any) through the target's function. It also checks that the list and
//! `fuzz/` agree both ways, so a target added on one side only cannot make this pass vacuously.

use harness::fuzzing::{FuzzFn, TARGETS};
use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// The files directly in `dir`, sorted (an empty list when it does not exist).
fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .map(|e| e.expect("reading a corpus entry").path())
        .filter(|p| p.is_file())
        .collect();
    out.sort();
    out
}

/// Runs `f` on each file, returning the files it panicked on.
fn replay(f: FuzzFn, inputs: &[PathBuf]) -> Vec<String> {
    let mut failed = Vec::new();
    for path in inputs {
        let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if std::panic::catch_unwind(|| f(&data)).is_err() {
            failed.push(path.display().to_string());
        }
    }
    failed
}

#[test]
fn every_corpus_replays_without_a_panic() {
    let mut failed = Vec::new();
    for &(name, f) in TARGETS {
        let corpus = files(&fuzz_dir().join("corpus").join(name));
        assert!(
            !corpus.is_empty(),
            "fuzz/corpus/{name}/ is missing or empty"
        );
        failed.extend(replay(f, &corpus));
        failed.extend(replay(
            f,
            &files(&fuzz_dir().join("regressions").join(name)),
        ));
    }
    assert!(failed.is_empty(), "panicked on: {failed:#?}");
}

#[test]
fn every_fuzz_target_is_listed_and_every_listed_target_exists() {
    let manifest = std::fs::read_to_string(fuzz_dir().join("Cargo.toml")).expect("fuzz/Cargo.toml");
    let on_disk: Vec<String> = files(&fuzz_dir().join("fuzz_targets"))
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    for name in &on_disk {
        assert!(
            TARGETS.iter().any(|(t, _)| t == name),
            "fuzz/fuzz_targets/{name}.rs has no entry in harness::fuzzing::TARGETS"
        );
    }
    for (name, _) in TARGETS {
        let path = fuzz_dir().join("fuzz_targets").join(format!("{name}.rs"));
        let src = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (listed in TARGETS)", path.display()));
        assert!(
            src.contains(&format!("harness::fuzzing::{name}(")),
            "{} does not call harness::fuzzing::{name}",
            path.display()
        );
        assert!(
            manifest.contains(&format!("name = \"{name}\"")),
            "fuzz/Cargo.toml has no [[bin]] named {name}"
        );
    }
}
