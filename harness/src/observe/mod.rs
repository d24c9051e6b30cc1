//! Watching the run from outside the load: CPU and memory of the target and the harness
//! ([`sampler`]), the machine's other work and steal ([`machine`]), the harness's busiest thread
//! ([`threads`]), where the time goes ([`profile`]), the instructions callgrind counted
//! ([`callgrind`]), and what machine this was ([`environment`]).

pub mod callgrind;
pub mod environment;
pub mod machine;
pub mod profile;
pub mod sampler;
pub mod threads;

/// Tests that spin a thread and read the process's CPU take this, so they do not count each
/// other's spinning.
#[cfg(test)]
pub(crate) static SPIN_TESTS: std::sync::Mutex<()> = std::sync::Mutex::new(());
