//! Records the compiler version for the environment section of every result.
fn main() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    if let Ok(out) = std::process::Command::new(rustc).arg("-V").output() {
        let v = String::from_utf8_lossy(&out.stdout).trim().to_string();
        println!("cargo:rustc-env=HARNESS_RUSTC_VERSION={v}");
    }
    println!("cargo:rerun-if-env-changed=RUSTC");
}
