//! Starting open-model requests on time: one precise sleeper per generator thread.
//!
//! Why: tokio's timer has a 1 ms resolution (deadlines are rounded up to the next tick), so
//! workers that slept with it sent each request up to ~1 ms after its slot and, with the
//! scheduler's jitter on top, 4.3 % of requests more than 1 ms late on a healthy 20k/s run
//! (dispatch lag p90 843 µs, p99 1.10 ms): enough for the late-generator rule to call a healthy
//! run invalid. The in-process driver spins the last 15 µs of each wait and has a lag p99 of
//! ~70 µs; an async worker cannot spin without stalling the other connections on its thread.
//!
//! So on each generator thread one waiting worker, the leader, sleeps on a timerfd (armed to
//! the nanosecond; the thread's timer slack is cut to 1 ns) until the next operation is due.
//! The other idle workers follow: they wait to be woken. A worker that was waiting and gets an
//! operation to run wakes one follower as it goes, so a backlog is taken up by as many idle
//! workers as there are due operations, and the next one to find nothing due leads.
//!
//! The leader's sleep is rounded up to a whole [`QUANTUM`]: a wake-up per operation cost three
//! times the CPU per request of the 1 ms timer at 20k requests/s (58 against 20 CPU-s per
//! million, benches/ab.sh; timerfd_settime and the context switch, each a VM exit here), while
//! a 250 µs quantum keeps every request within ~250 µs of its slot, a quarter of the late
//! threshold, at up to 4,000 wake-ups per second per thread. Off Linux (no timerfd) the leader
//! sleeps on tokio's timer, as before.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::Notify;

/// The leader wakes on multiples of this after it lies down: requests due within one quantum
/// leave together at its end.
pub const QUANTUM: Duration = Duration::from_micros(250);

/// Longest a follower waits before looking at the schedule itself (a stop, a closed stage
/// that needs it): a safety net, not the way followers are meant to wake.
const FOLLOW_AT_MOST: Duration = Duration::from_millis(10);

/// The idle workers of one generator thread.
pub struct Pacer {
    alarm: Option<alarm::Alarm>,
    leader: AtomicBool,
    followers: Notify,
}

impl Pacer {
    /// Call inside the thread's runtime (the timer registers with its reactor).
    pub fn new() -> Pacer {
        Pacer {
            alarm: alarm::Alarm::new(),
            leader: AtomicBool::new(false),
            followers: Notify::new(),
        }
    }

    /// Waits up to `d` for the next operation: precisely when this worker leads (it already
    /// did, `leading`, or no other worker does), else until woken. Returns whether it leads.
    pub async fn wait(&self, d: Duration, leading: bool) -> bool {
        let lead = self.lead(leading);
        self.pause(d, lead).await;
        lead
    }

    /// Whether this worker leads from now on: it already did (`leading`), or no other worker
    /// does and it takes the lead. Split from [`Pacer::pause`] for a pipelined worker, which
    /// waits for its answers at the same time and may drop the pause half-way: the lead it
    /// took stays recorded in its own `leading`, never lost inside a cancelled future.
    pub fn lead(&self, leading: bool) -> bool {
        leading
            || self
                .leader
                .compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
    }

    /// Sleeps precisely for `d` when `lead` (see [`Pacer::lead`]), else until a leader hands
    /// over. Safe to drop before it ends: the timerfd is re-armed by the next sleep (which
    /// also clears an expiry nobody read), and a dropped follower's wake-up goes to another.
    pub async fn pause(&self, d: Duration, lead: bool) {
        if lead {
            let d = quantized(d);
            match &self.alarm {
                Some(a) if a.sleep(d).await.is_ok() => {}
                _ => tokio::time::sleep(d).await,
            }
        } else {
            tokio::select! {
                () = self.followers.notified() => {}
                () = tokio::time::sleep(FOLLOW_AT_MOST) => {}
            }
        }
    }

    /// A worker that was waiting got an operation (or stops): it gives up the lead if it held
    /// it and wakes one follower to take the next due operation or the lead.
    pub fn hand_over(&self, leading: bool) {
        if leading {
            self.leader.store(false, Ordering::Release);
        }
        self.followers.notify_one();
    }
}

/// `d` rounded up to a whole number of quanta (zero stays zero: something is due now).
fn quantized(d: Duration) -> Duration {
    let q = QUANTUM.as_nanos();
    Duration::from_nanos((d.as_nanos().div_ceil(q) * q) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sleeps_end_on_whole_quanta() {
        assert_eq!(quantized(Duration::ZERO), Duration::ZERO);
        assert_eq!(quantized(Duration::from_nanos(1)), QUANTUM);
        assert_eq!(quantized(QUANTUM), QUANTUM);
        assert_eq!(quantized(QUANTUM + Duration::from_nanos(1)), QUANTUM * 2);
    }
}

#[cfg(target_os = "linux")]
mod alarm {
    //! A one-shot timerfd, awaited through tokio's reactor.
    use nix::sys::time::TimeSpec;
    use nix::sys::timerfd::{ClockId, Expiration, TimerFd, TimerFlags, TimerSetTimeFlags};
    use std::os::fd::{AsFd, AsRawFd, RawFd};
    use std::time::Duration;
    use tokio::io::unix::AsyncFd;
    use tokio::io::Interest;

    struct Fd(TimerFd);

    impl AsRawFd for Fd {
        fn as_raw_fd(&self) -> RawFd {
            self.0.as_fd().as_raw_fd()
        }
    }

    pub struct Alarm(AsyncFd<Fd>);

    impl Alarm {
        /// `None` when the kernel refuses a timerfd (the caller falls back to tokio's timer).
        pub fn new() -> Option<Alarm> {
            let flags = TimerFlags::TFD_NONBLOCK | TimerFlags::TFD_CLOEXEC;
            let fd = TimerFd::new(ClockId::CLOCK_MONOTONIC, flags).ok()?;
            // SAFETY: `Fd` owns the timerfd (an OwnedFd inside TimerFd) for as long as the
            // AsyncFd holds it, and always returns that same descriptor.
            unsafe { AsyncFd::register_with_interest(Fd(fd), Interest::READABLE) }
                .ok()
                .map(Alarm)
        }

        pub async fn sleep(&self, d: Duration) -> std::io::Result<()> {
            if d.is_zero() {
                return Ok(());
            }
            let when = Expiration::OneShot(TimeSpec::from_duration(d));
            self.0
                .get_ref()
                .0
                .set(when, TimerSetTimeFlags::empty())
                .map_err(std::io::Error::from)?;
            loop {
                let mut ready = self.0.readable().await?;
                // Reading the expiration count re-arms readiness; WouldBlock: not yet.
                let read = ready.try_io(|fd| {
                    let mut buf = [0u8; 8];
                    nix::unistd::read(fd.get_ref().0.as_fd(), &mut buf)
                        .map_err(std::io::Error::from)
                });
                if let Ok(r) = read {
                    return r.map(|_| ());
                }
            }
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod alarm {
    //! No timerfd: the leader sleeps on tokio's timer.
    pub struct Alarm;

    impl Alarm {
        pub fn new() -> Option<Alarm> {
            None
        }

        pub async fn sleep(&self, _d: std::time::Duration) -> std::io::Result<()> {
            Err(std::io::ErrorKind::Unsupported.into())
        }
    }
}
