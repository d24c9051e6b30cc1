//! How many requests a worker's connection carries before the worker closes it and opens
//! another: `[http] connection` and `max_requests_per_connection` (keep-alive, the default, has
//! no limit).
//!
//! Why the last request on a connection says `Connection: close` rather than the client just
//! dropping the socket after its answer (RFC 9112 section 9.6): the server then knows no
//! request follows, answers and closes first, so the TIME_WAIT state stays on the server's
//! side. A client that closed first would hold a TIME_WAIT socket per request for 60 s; with
//! the 28,232 ephemeral ports of this VM's default range (32768-60999) and no port reuse, that
//! caps a connection-per-request run near 470 requests per second per target address (Linux
//! reuses TIME_WAIT ports on loopback only, `net.ipv4.tcp_tw_reuse = 2`), and a test of the
//! target's accept path would end up measuring the generator's ports. It is also
//! what a client without keep-alive sends, so the server takes its real close path. HTTP/2
//! has no `Connection` header: there the connection is simply dropped after its last answer.

/// What the current connection may still carry.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    /// Requests per connection; `None`: no limit (keep-alive).
    max: Option<u32>,
    /// Requests sent on the current connection.
    used: u32,
}

impl Budget {
    pub fn new(max: Option<u32>) -> Budget {
        Budget { max, used: 0 }
    }

    /// Whether the next request is the connection's last: it says `Connection: close`.
    #[inline]
    pub fn next_is_last(&self) -> bool {
        self.max.is_some_and(|m| self.used + 1 >= m)
    }

    /// Counts a request sent on the current connection.
    #[inline]
    pub fn spend(&mut self) {
        self.used += 1;
    }

    /// Whether the current connection has carried all it may: close it once its answers are in.
    #[inline]
    pub fn exhausted(&self) -> bool {
        self.max.is_some_and(|m| self.used >= m)
    }

    /// The connection was closed: the next one starts afresh.
    #[inline]
    pub fn renew(&mut self) {
        self.used = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_request_of_each_connection_is_marked() {
        let mut keep = Budget::new(None);
        for _ in 0..1000 {
            assert!(!keep.next_is_last() && !keep.exhausted());
            keep.spend();
        }
        let mut close = Budget::new(Some(1));
        assert!(close.next_is_last());
        close.spend();
        assert!(close.exhausted());
        close.renew();
        assert!(close.next_is_last() && !close.exhausted());
        let mut three = Budget::new(Some(3));
        let marks: Vec<bool> = (0..3)
            .map(|_| {
                let last = three.next_is_last();
                three.spend();
                last
            })
            .collect();
        assert_eq!(marks, [false, false, true]);
        assert!(three.exhausted());
    }
}
