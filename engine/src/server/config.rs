//! Command-line flags (raw, as clap parses them) and the validated configuration built from
//! them once.
//!
//! The split follows ripgrep's low-level/high-level args: [`ServeArgs`] mirrors the flags one to
//! one; [`ServeArgs::into_config`] checks them and produces the immutable [`ServerConfig`] that
//! [`crate::server::run`] takes. Tests build [`ServeOptions`] directly.

use crate::server::TlsFiles;
use crate::{Config, Design};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// The `engine` binary's command line.
#[derive(Debug, Parser)]
#[command(
    name = "engine",
    version,
    about = "Lock-free transaction engine and its HTTP server"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// The binary's subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the engine over HTTP, or HTTPS with --tls-cert and --tls-key (prints
    /// `listening on http://ADDR`, or `https://ADDR`, as its first line).
    Serve(ServeArgs),
    /// Drive the engine in-process for a few seconds and print committed tx/s and the audit.
    Bench(BenchArgs),
}

/// Which design the server applies batches with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DesignArg {
    /// Any request handler applies its batch inline (compare-and-swap sender claims).
    Cas,
    /// Applier threads own shards; handlers split batches by sender shard and hand them over.
    SingleWriter,
}

impl From<DesignArg> for Design {
    fn from(d: DesignArg) -> Design {
        match d {
            DesignArg::Cas => Design::Cas,
            DesignArg::SingleWriter => Design::SingleWriter,
        }
    }
}

/// Flags of `engine serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port; the bound address is printed).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Number of accounts (ids 0..N).
    #[arg(long, default_value_t = 1_000_000)]
    pub accounts: u64,
    /// Every account's balance at genesis.
    #[arg(long, default_value_t = 1_000_000_000)]
    pub initial_balance: u64,
    /// How batches are applied.
    #[arg(long, value_enum, default_value = "cas")]
    pub design: DesignArg,
    /// Requested number of account shards (single-writer design).
    #[arg(long, default_value_t = 64)]
    pub shards: u32,
    /// HTTP worker threads (default: available cores).
    #[arg(long)]
    pub workers: Option<usize>,
    /// Applier threads for the single-writer design (default: the worker count).
    #[arg(long)]
    pub appliers: Option<usize>,
    /// Largest request body accepted, e.g. 64MiB, 512KiB, 1000000.
    #[arg(long, default_value = "64MiB", value_parser = parse_size)]
    pub max_body: u64,
    /// Open connections allowed at once; more are closed after a 503.
    #[arg(long, default_value_t = 1024)]
    pub max_connections: usize,
    /// Requests handled at once; more get 503 with Retry-After.
    #[arg(long, default_value_t = 256)]
    pub max_inflight: usize,
    /// Seconds a client may take to send a request's headers.
    #[arg(long, default_value_t = 10)]
    pub header_timeout_secs: u64,
    /// Seconds in-flight requests get to finish after SIGINT/SIGTERM.
    #[arg(long, default_value_t = 30)]
    pub shutdown_grace_secs: u64,
    /// Serve /debug/pprof/profile (loopback clients only).
    #[arg(long)]
    pub enable_profiling: bool,
    /// Units of synthetic work (one dependent add each) added to every committed transfer
    /// (regression-gate tests).
    #[arg(long, default_value_t = 0)]
    pub synthetic_cost: u32,
    /// Serve HTTPS with this PEM certificate chain (server certificate first). Needs
    /// --tls-key. ALPN offers h2 and http/1.1 and the negotiated one is served. Without it the
    /// server speaks plain HTTP.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert's certificate: PKCS#8 ("BEGIN PRIVATE KEY"), RSA
    /// ("BEGIN RSA PRIVATE KEY") or EC ("BEGIN EC PRIVATE KEY"). Needs --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Seconds a TLS client may take to complete its handshake before it is disconnected.
    #[arg(long, default_value_t = 10)]
    pub tls_handshake_timeout_secs: u64,
}

/// Flags of `engine bench`.
#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    #[arg(long, default_value_t = 1_000_000)]
    pub accounts: u64,
    #[arg(long, default_value_t = 5)]
    pub seconds: u64,
    #[arg(long, default_value_t = 2)]
    pub threads: u32,
    #[arg(long, default_value_t = 1024)]
    pub batch: usize,
    #[arg(long, value_enum, default_value = "single-writer")]
    pub design: DesignArg,
}

/// A flag value that cannot work, named by its flag.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("--{flag} must be at least 1")]
    Zero { flag: &'static str },
    #[error("--max-body {0} does not fit in this machine's address space")]
    BodyTooLarge(u64),
    /// One of `--tls-cert` and `--tls-key` without the other.
    #[error("--{0} needs --{1}: HTTPS takes both a certificate and its key")]
    TlsHalf(&'static str, &'static str),
}

/// Limits and switches of one server instance, independent of how it was started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeOptions {
    /// Largest request body, in bytes.
    pub max_body: u64,
    pub max_connections: usize,
    pub max_inflight: usize,
    pub header_read_timeout: Duration,
    /// How long a TLS client may take to complete its handshake (HTTPS only).
    pub tls_handshake_timeout: Duration,
    /// How long in-flight requests may take to finish after shutdown is signalled; connections
    /// still open then are dropped.
    pub shutdown_grace: Duration,
    pub enable_profiling: bool,
    /// Applier threads (single-writer design only).
    pub appliers: usize,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            max_body: 64 << 20,
            max_connections: 1024,
            max_inflight: 256,
            header_read_timeout: Duration::from_secs(10),
            tls_handshake_timeout: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(30),
            enable_profiling: false,
            appliers: 2,
        }
    }
}

/// Everything [`crate::server::run`] needs: where to listen, plain HTTP or TLS, the engine's
/// genesis, the runtime size and the server's limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    pub addr: SocketAddr,
    /// The certificate and key to serve HTTPS with; `None` serves plain HTTP. The files are read
    /// by `run`, which reports what is wrong with them, naming the file.
    pub tls: Option<TlsFiles>,
    pub engine: Config,
    /// Tokio worker threads.
    pub workers: usize,
    pub serve: ServeOptions,
}

impl ServeArgs {
    /// Checks the flags and builds the configuration.
    pub fn into_config(self) -> Result<ServerConfig, ConfigError> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let workers = self.workers.unwrap_or(cores);
        let appliers = self.appliers.unwrap_or(workers);
        let positive = [
            ("workers", workers as u64),
            ("appliers", appliers as u64),
            ("max-body", self.max_body),
            ("max-connections", self.max_connections as u64),
            ("max-inflight", self.max_inflight as u64),
            ("header-timeout-secs", self.header_timeout_secs),
            (
                "tls-handshake-timeout-secs",
                self.tls_handshake_timeout_secs,
            ),
        ];
        if let Some((flag, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(ConfigError::Zero { flag });
        }
        if usize::try_from(self.max_body).is_err() {
            return Err(ConfigError::BodyTooLarge(self.max_body));
        }
        // clap's `requires` refuses one without the other on the command line; this catches
        // a `ServeArgs` built in code.
        let tls = match (self.tls_cert, self.tls_key) {
            (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
            (None, None) => None,
            (Some(_), None) => return Err(ConfigError::TlsHalf("tls-cert", "tls-key")),
            (None, Some(_)) => return Err(ConfigError::TlsHalf("tls-key", "tls-cert")),
        };
        Ok(ServerConfig {
            addr: self.addr,
            tls,
            engine: Config {
                accounts: self.accounts,
                initial_balance: self.initial_balance,
                design: self.design.into(),
                shards: self.shards,
                synthetic_cost: self.synthetic_cost,
                prefetch: true,
            },
            workers,
            serve: ServeOptions {
                max_body: self.max_body,
                max_connections: self.max_connections,
                max_inflight: self.max_inflight,
                header_read_timeout: Duration::from_secs(self.header_timeout_secs),
                tls_handshake_timeout: Duration::from_secs(self.tls_handshake_timeout_secs),
                shutdown_grace: Duration::from_secs(self.shutdown_grace_secs),
                enable_profiling: self.enable_profiling,
                appliers,
            },
        })
    }
}

/// Parses a byte size: a whole number with an optional unit `B`, `KiB`, `MiB`, `GiB` (powers of
/// 1024) or `KB`, `MB`, `GB` (powers of 1000), case-insensitive.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{s:?} is not a size such as 64MiB or 1000000"))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kib" | "k" => 1 << 10,
        "mib" | "m" => 1 << 20,
        "gib" | "g" => 1 << 30,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        other => {
            return Err(format!(
                "unknown size unit {other:?} in {s:?} (use B, KiB, MiB, GiB, KB, MB or GB)"
            ))
        }
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("size {s:?} overflows 64 bits"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_units() {
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert_eq!(parse_size("2 kb"), Ok(2000));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert!(parse_size("MiB").is_err());
        assert!(parse_size("5 parsecs").is_err());
        assert!(parse_size("99999999999999GiB").is_err());
    }

    #[test]
    fn zero_limits_are_refused_by_name() {
        let cli = Cli::parse_from(["engine", "serve", "--max-inflight", "0"]);
        let Command::Serve(args) = cli.command else {
            panic!("expected serve")
        };
        assert_eq!(
            args.into_config(),
            Err(ConfigError::Zero {
                flag: "max-inflight"
            })
        );
    }

    #[test]
    fn flags_build_the_config() {
        let cli = Cli::parse_from([
            "engine",
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--accounts",
            "1000",
            "--design",
            "single-writer",
            "--workers",
            "3",
            "--max-body",
            "1KiB",
        ]);
        let Command::Serve(args) = cli.command else {
            panic!("expected serve")
        };
        let c = args.into_config().unwrap();
        assert_eq!(c.engine.accounts, 1000);
        assert_eq!(c.engine.design, Design::SingleWriter);
        assert_eq!(c.workers, 3);
        assert_eq!(c.serve.appliers, 3);
        assert_eq!(c.serve.max_body, 1024);
    }

    #[test]
    fn tls_takes_both_files_or_neither() {
        let serve = |args: &[&str]| {
            let cli = Cli::try_parse_from(["engine", "serve"].iter().chain(args))?;
            let Command::Serve(args) = cli.command else {
                panic!("expected serve")
            };
            Ok::<_, clap::Error>(args)
        };
        let plain = serve(&[]).unwrap().into_config().unwrap();
        assert_eq!(plain.tls, None);
        let tls = serve(&["--tls-cert", "c.pem", "--tls-key", "k.pem"])
            .unwrap()
            .into_config()
            .unwrap();
        assert_eq!(
            tls.tls,
            Some(TlsFiles {
                cert: "c.pem".into(),
                key: "k.pem".into()
            })
        );
        assert_eq!(tls.serve.tls_handshake_timeout, Duration::from_secs(10));
        let e = serve(&["--tls-cert", "c.pem"]).unwrap_err();
        assert_eq!(e.kind(), clap::error::ErrorKind::MissingRequiredArgument);
        assert!(serve(&["--tls-key", "k.pem"]).is_err());
        // Built in code, one without the other is refused by name too.
        let mut half = serve(&[]).unwrap();
        half.tls_key = Some("k.pem".into());
        assert_eq!(
            half.into_config(),
            Err(ConfigError::TlsHalf("tls-key", "tls-cert"))
        );
    }
}
