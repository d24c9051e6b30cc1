//! When an answer reached the machine, as the kernel stamped it: the moment a connection
//! became free, for the dispatch lag.
//!
//! Why: a generator measures "this connection is free again" when it gets round to reading the
//! answer. A starved generator (its core shared with busy neighbours) reads late, the lateness
//! moves into that moment, and the next request looks sent on time: measured that way, a
//! harness getting a quarter of a core showed a dispatch lag p50 of 0.2 µs while it fell to
//! 18k of 60k requests/s. The kernel's receive timestamp (SO_TIMESTAMPNS, delivered by TCP
//! `recvmsg` for the last segment read) does not move with the generator's scheduling, so the
//! lag is measured from when the answer was there to be read. Linux only; elsewhere no stamp
//! is read and the caller falls back to the time it read the answer, as it does for the first
//! answers of a run (the kernel turns stamping on through a work queue, a few ms after the
//! first socket asks).

use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Asks the kernel to stamp received data on this socket; false when it refuses.
#[cfg(target_os = "linux")]
pub fn enable(fd: std::os::fd::RawFd) -> bool {
    let on: libc::c_int = 1;
    // SAFETY: setsockopt reads one c_int from the pointer it is given, of the size given.
    unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_TIMESTAMPNS,
            (&on as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        ) == 0
    }
}

/// Reads into `buf` like `read(2)`; also returns the kernel's receive stamp of the data read,
/// as an `Instant` (via the wall clock, which the stamp is in).
#[cfg(target_os = "linux")]
pub fn recv(fd: std::os::fd::RawFd, buf: &mut [u8]) -> std::io::Result<(usize, Option<Instant>)> {
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // Room for one SCM_TIMESTAMPNS message (a timespec), 8-byte aligned.
    let mut control = [0u64; 8];
    // SAFETY: msghdr is plain data; every pointer set below outlives the call.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&control) as _;
    // SAFETY: `msg` points at `buf` (its length in iov_len) and `control`, both live and
    // writable for the call.
    let n = unsafe { libc::recvmsg(fd, &mut msg, 0) };
    if n < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok((n as usize, stamp(&msg)))
}

/// The SCM_TIMESTAMPNS of a received message, converted to an `Instant`.
#[cfg(target_os = "linux")]
fn stamp(msg: &libc::msghdr) -> Option<Instant> {
    // SAFETY: the CMSG_* walk stays inside msg_control/msg_controllen as the kernel set them.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(msg);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_TIMESTAMPNS {
                let ts = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast::<libc::timespec>());
                return to_instant(ts.tv_sec as i64, ts.tv_nsec as i64);
            }
            c = libc::CMSG_NXTHDR(msg, c);
        }
    }
    None
}

/// A wall-clock stamp as an `Instant`: now, minus how long ago the stamp was. `None` for a
/// stamp in the future (a clock step) or older than the process could have waited for it.
fn to_instant(sec: i64, nsec: i64) -> Option<Instant> {
    let (now, wall) = (Instant::now(), SystemTime::now());
    let wall_ns = wall.duration_since(UNIX_EPOCH).ok()?.as_nanos() as i128;
    let ago = wall_ns - (i128::from(sec) * 1_000_000_000 + i128::from(nsec));
    if !(0..60_000_000_000).contains(&ago) {
        return None;
    }
    now.checked_sub(std::time::Duration::from_nanos(ago as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stamp_becomes_an_instant_that_long_ago() {
        let wall = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        let ms_ago = wall - std::time::Duration::from_millis(5);
        let at = to_instant(ms_ago.as_secs() as i64, i64::from(ms_ago.subsec_nanos())).unwrap();
        let age = at.elapsed().as_secs_f64() * 1e3;
        assert!((4.9..50.0).contains(&age), "{age} ms");
        assert!(
            to_instant(wall.as_secs() as i64 + 10, 0).is_none(),
            "future"
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn loopback_data_is_stamped_when_it_arrived_not_when_it_was_read() {
        use std::io::Write;
        use std::os::fd::AsRawFd;
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let c = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (mut s, _) = l.accept().unwrap();
        assert!(enable(c.as_raw_fd()));
        // The kernel turns receive stamping on through a work queue: give it a moment.
        std::thread::sleep(std::time::Duration::from_millis(100));
        s.write_all(b"hello").unwrap();
        let sent = Instant::now();
        // Read 30 ms after it arrived: the stamp says when it came, not when it was read.
        std::thread::sleep(std::time::Duration::from_millis(30));
        let mut buf = [0u8; 16];
        let (n, at) = recv(c.as_raw_fd(), &mut buf).unwrap();
        assert_eq!(&buf[..n], b"hello");
        let at = at.expect("stamped");
        let late = at.saturating_duration_since(sent).as_secs_f64() * 1e3;
        assert!(late < 10.0, "stamped {late} ms after the write");
    }
}
