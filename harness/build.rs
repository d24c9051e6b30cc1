//! Records the compiler version and the commit the harness was built from for the environment
//! section of every result.
//!
//! The commit is the build's, not the working directory's at run time: a binary copied
//! elsewhere, or run from another checkout, still says what it was built from, and a build of
//! changed files says so (`-dirty`), because `harness history` plots runs by commit and a
//! commit must mean the code that ran. Outside a git checkout (a source tarball) there is
//! none, and none is recorded.
use std::path::PathBuf;
use std::process::Command;

fn main() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    if let Ok(out) = Command::new(rustc).arg("-V").output() {
        let v = String::from_utf8_lossy(&out.stdout).trim().to_string();
        println!("cargo:rustc-env=HARNESS_RUSTC_VERSION={v}");
    }
    println!("cargo:rerun-if-env-changed=RUSTC");
    if let Some(commit) = git_commit() {
        println!("cargo:rustc-env=HARNESS_GIT_COMMIT={commit}");
    }
}

/// `git` in the workspace, its output trimmed when it succeeded.
fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(manifest_dir())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The short commit, `-dirty` when tracked files differ from it; also tells cargo what to
/// watch so the value stays true: HEAD and the branch it points to (a commit), the index (a
/// `git add`), and the sources (an edit that makes the build dirty, or clean again).
fn git_commit() -> Option<String> {
    let commit = git(&["rev-parse", "--short=12", "HEAD"]).filter(|c| !c.is_empty())?;
    let watch = |p: PathBuf| println!("cargo:rerun-if-changed={}", p.display());
    if let Some(dir) = git(&["rev-parse", "--absolute-git-dir"]) {
        let dir = PathBuf::from(dir);
        watch(dir.join("HEAD"));
        watch(dir.join("index"));
        if let Some(common) = git(&["rev-parse", "--git-common-dir"]) {
            let common = absolute(&common);
            watch(common.join("packed-refs"));
            if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
                watch(common.join(branch));
            }
        }
    }
    let root = manifest_dir().join("..");
    for src in ["harness/src", "harness/crates", "engine/src", "Cargo.lock"] {
        watch(root.join(src));
    }
    let dirty =
        git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
    Some(if dirty {
        format!("{commit}-dirty")
    } else {
        commit
    })
}

/// `--git-common-dir` is relative to the manifest directory unless it is absolute.
fn absolute(p: &str) -> PathBuf {
    let p = PathBuf::from(p);
    if p.is_absolute() {
        p
    } else {
        manifest_dir().join(p)
    }
}

fn manifest_dir() -> PathBuf {
    PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| ".".into()))
}
