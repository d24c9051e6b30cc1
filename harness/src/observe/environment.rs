//! The machine and build a run happened on, recorded in every result.

use results::Environment;
use sysinfo::{CpuRefreshKind, MemoryRefreshKind, RefreshKind, System};

/// RFC 3339 UTC, seconds precision.
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

/// Captures the environment; `finished_at` is filled in at the end of the run.
pub fn capture(started_at: String) -> Environment {
    let sys = System::new_with_specifics(
        RefreshKind::nothing()
            .with_cpu(CpuRefreshKind::nothing())
            .with_memory(MemoryRefreshKind::nothing().with_ram()),
    )
    .ok();
    let cpu_model = sys
        .as_ref()
        .and_then(|s| s.cpus().first().map(|c| c.brand().trim().to_string()))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_string());
    let os = [System::name().ok(), System::os_version().ok()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    Environment {
        os: if os.is_empty() {
            std::env::consts::OS.to_string()
        } else {
            os
        },
        kernel: System::kernel_version().ok(),
        cpu_model,
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        memory_bytes: sys.as_ref().map_or(0, |s| s.total_memory()),
        hostname: System::host_name().ok(),
        rustc: option_env!("HARNESS_RUSTC_VERSION").map(str::to_string),
        harness_version: env!("CARGO_PKG_VERSION").to_string(),
        // The build's commit (see build.rs), never the working directory's at run time.
        git_commit: option_env!("HARNESS_GIT_COMMIT").map(str::to_string),
        started_at,
        finished_at: String::new(),
    }
}
