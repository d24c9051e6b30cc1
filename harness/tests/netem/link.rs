//! Test hosts and an impaired link between them: network namespaces joined by TUN devices, with
//! a relay thread per direction carrying every IP packet across after a delay, dropping a share
//! of them, or all of them while the link is cut.
//!
//! Why not veth and `tc qdisc ... netem`: this machine's kernel is built without netem
//! (`CONFIG_NET_SCH_NETEM is not set` in /proc/config.gz; `tc qdisc add dev lo root netem delay
//! 1ms` says "Specified qdisc kind is unknown"), and no qdisc it has can delay packets. The relay
//! is netem in user space, at the same level: it sees whole IP packets, so TCP on both hosts
//! runs over a real lossy, slow link, with its own retransmissions, timers and RTT estimates.
//! Delays are held with `ppoll` at nanosecond resolution (a 0.5 ms delay needs better than
//! poll's milliseconds).

use std::collections::VecDeque;
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A network namespace made for a test; deleted (with its devices) on drop.
pub struct Host {
    pub name: String,
}

impl Host {
    /// `ip netns add NAME` with loopback up. Fails without CAP_NET_ADMIN.
    pub fn new(name: &str) -> Result<Host, String> {
        let _ = ip(&["netns", "del", name]);
        ip(&["netns", "add", name])?;
        let host = Host { name: name.into() };
        ip(&["-n", name, "link", "set", "lo", "up"])?;
        Ok(host)
    }

    /// A command run inside this host (`ip netns exec`).
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name]).arg(program);
        c
    }

    /// Runs `f` on a thread that has entered this host's network namespace (its sockets are
    /// the host's); the caller's threads stay where they are.
    pub fn within<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> std::io::Result<T> + Send + 'static,
    ) -> std::io::Result<T> {
        let path = format!("/var/run/netns/{}", self.name);
        std::thread::spawn(move || {
            let ns = File::open(path)?;
            // SAFETY: setns(2) on a namespace file we opened; it moves only this thread.
            if unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
                return Err(std::io::Error::last_os_error());
            }
            f()
        })
        .join()
        .expect("the namespace thread does not panic")
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        let _ = ip(&["netns", "del", &self.name]);
    }
}

/// Runs `ip ARGS`; its stderr as the error.
pub fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("ip: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// What the link does to packets, changeable while it runs.
#[derive(Default)]
struct Impairment {
    /// One-way delay, in nanoseconds (the round trip adds twice this).
    delay_ns: AtomicU64,
    /// Share of packets dropped, in parts per million, each direction.
    loss_ppm: AtomicU64,
    cut: AtomicBool,
}

/// A point-to-point link between two hosts: `a` at `a_ip`, `b` at `b_ip`.
pub struct Link {
    impairment: Arc<Impairment>,
    stop: Arc<AtomicBool>,
    relays: Vec<JoinHandle<()>>,
}

/// One end of a link: the host, its device's name (at most 15 bytes) and its address.
pub struct End<'a> {
    pub host: &'a Host,
    pub dev: &'a str,
    pub ip: &'a str,
}

impl Link {
    pub fn new(a: End<'_>, b: End<'_>) -> Result<Link, String> {
        let ta = tun_in(a.host, a.dev).map_err(|e| format!("tun {}: {e}", a.dev))?;
        let tb = tun_in(b.host, b.dev).map_err(|e| format!("tun {}: {e}", b.dev))?;
        for (end, peer) in [(&a, &b), (&b, &a)] {
            let n = &end.host.name;
            ip(&[
                "-n", n, "addr", "add", end.ip, "peer", peer.ip, "dev", end.dev,
            ])?;
            ip(&["-n", n, "link", "set", end.dev, "up"])?;
        }
        let impairment = Arc::new(Impairment::default());
        let stop = Arc::new(AtomicBool::new(false));
        let clone = |f: &File| f.try_clone().map_err(|e| format!("dup: {e}"));
        let (ta2, tb2) = (clone(&ta)?, clone(&tb)?);
        let relays = [(ta, tb2, 1), (tb, ta2, 2)]
            .into_iter()
            .map(|(from, to, seed)| {
                let (imp, stop) = (impairment.clone(), stop.clone());
                std::thread::spawn(move || relay(from, to, &imp, &stop, seed))
            })
            .collect();
        Ok(Link {
            impairment,
            stop,
            relays,
        })
    }

    /// Delays every packet by `one_way` in each direction (a round trip gains twice that) and
    /// drops `loss` (0..1) of them in each direction.
    pub fn impair(&self, one_way: Duration, loss: f64) {
        let imp = &self.impairment;
        imp.delay_ns
            .store(one_way.as_nanos() as u64, Ordering::Relaxed);
        imp.loss_ppm
            .store((loss * 1e6).round() as u64, Ordering::Relaxed);
    }

    /// Drops every packet from now on, both ways: a cable pulled out, nothing said to either host.
    pub fn cut(&self) {
        self.impairment.cut.store(true, Ordering::Relaxed);
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for r in self.relays.drain(..) {
            let _ = r.join();
        }
    }
}

/// Opens a TUN device named `dev` inside `host` (a device is made in the namespace of the
/// thread that creates it). No packet-information header: reads and writes are bare IP packets.
fn tun_in(host: &Host, dev: &str) -> std::io::Result<File> {
    let dev = dev.to_string();
    host.within(move || {
        let tun = File::options()
            .read(true)
            .write(true)
            .open("/dev/net/tun")?;
        // SAFETY: ifreq is plain old data; all-zero is a valid value.
        let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
        for (slot, &b) in req.ifr_name.iter_mut().zip(dev.as_bytes().iter().take(15)) {
            *slot = b as libc::c_char;
        }
        req.ifr_ifru.ifru_flags = (libc::IFF_TUN | libc::IFF_NO_PI) as libc::c_short;
        // SAFETY: TUNSETIFF reads an ifreq we own, for an fd we own.
        if unsafe { libc::ioctl(tun.as_raw_fd(), libc::TUNSETIFF, &req) } < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(tun)
    })
}

/// Carries packets from `from` to `to` until `stop`: each waits its delay in a FIFO (one delay
/// for all keeps their order, as one link does); lost and cut ones are never written.
fn relay(mut from: File, mut to: File, imp: &Impairment, stop: &AtomicBool, seed: u64) {
    let mut queue: VecDeque<(Instant, Vec<u8>)> = VecDeque::new();
    let mut buf = vec![0u8; 65536];
    let mut rng = Lcg(seed);
    // Bounded: the loop wakes at least every 20 ms to see `stop`.
    while !stop.load(Ordering::Relaxed) {
        let now = Instant::now();
        let wait = queue.front().map_or(Duration::from_millis(20), |(due, _)| {
            due.saturating_duration_since(now)
                .min(Duration::from_millis(20))
        });
        if readable(&from, wait) {
            let Ok(n) = from.read(&mut buf) else { return };
            let dropped = imp.cut.load(Ordering::Relaxed)
                || rng.below_ppm(imp.loss_ppm.load(Ordering::Relaxed));
            if !dropped {
                let delay = Duration::from_nanos(imp.delay_ns.load(Ordering::Relaxed));
                queue.push_back((Instant::now() + delay, buf[..n].to_vec()));
            }
        }
        while queue.front().is_some_and(|(due, _)| *due <= Instant::now()) {
            let (_, packet) = queue.pop_front().expect("front checked");
            // A packet the other end refuses (device down) is lost, as on a wire.
            if !imp.cut.load(Ordering::Relaxed) {
                let _ = to.write(&packet);
            }
        }
    }
}

/// Waits up to `wait` for `f` to have a packet (`ppoll`: nanosecond timeouts).
fn readable(f: &File, wait: Duration) -> bool {
    let mut fd = libc::pollfd {
        fd: f.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    let ts = libc::timespec {
        tv_sec: wait.as_secs() as libc::time_t,
        tv_nsec: wait.subsec_nanos() as libc::c_long,
    };
    // SAFETY: one pollfd we own, a timespec we own, no signal mask.
    let n = unsafe { libc::ppoll(&mut fd, 1, &ts, std::ptr::null()) };
    n > 0 && fd.revents & libc::POLLIN != 0
}

/// A seeded linear congruential generator: losses repeat from run to run (Knuth's MMIX
/// constants; quality is no concern for a 1 % coin).
struct Lcg(u64);

impl Lcg {
    fn below_ppm(&mut self, ppm: u64) -> bool {
        if ppm == 0 {
            return false;
        }
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % 1_000_000 < ppm
    }
}
