//! The builtin client's TCP stream: reads can keep the kernel's receive stamp of the data
//! ([`super::arrival`]), for the dispatch lag of open-model runs.
//!
//! Why a stream type of its own rather than stamping in the client: over https the client
//! reads through rustls, which reads this stream; stamping here means a TLS answer is stamped
//! too, with the arrival of the TCP data that completed its last TLS record (the moment the
//! answer was there to be read, as for plain http). Unstamped reads are the TcpStream's own
//! (one branch more), so closed-model runs pay nothing for it.

#[cfg(target_os = "linux")]
use super::arrival;
use std::io::IoSlice;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// A TCP stream that may stamp what it reads.
pub struct StampedTcp {
    tcp: TcpStream,
    stamp: bool,
    /// The receive stamp of the latest read that had one, until taken.
    arrived: Option<Instant>,
}

impl StampedTcp {
    pub fn new(tcp: TcpStream) -> StampedTcp {
        StampedTcp {
            tcp,
            stamp: false,
            arrived: None,
        }
    }

    /// Reads from now on keep the kernel's receive stamp (Linux; elsewhere nothing changes).
    pub fn stamp_arrivals(&mut self) {
        #[cfg(target_os = "linux")]
        {
            self.stamp = arrival::enable(std::os::fd::AsRawFd::as_raw_fd(&self.tcp));
        }
    }

    /// The stamp of the latest stamped read since the last call.
    pub fn take_arrival(&mut self) -> Option<Instant> {
        self.arrived.take()
    }

    /// One `recvmsg` into `buf`, keeping its stamp.
    #[cfg(target_os = "linux")]
    fn poll_stamped(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let fd = std::os::fd::AsRawFd::as_raw_fd(&self.tcp);
        loop {
            std::task::ready!(self.tcp.poll_read_ready(cx))?;
            // Callers hand in initialized buffers (the client's read buffer, rustls's), so
            // this initializes nothing in practice.
            let dst = buf.initialize_unfilled();
            let room = dst.len();
            // A short read drained the socket (epoll is edge-triggered: more data is a new
            // event), so the read is handed out and readiness cleared, as tokio's own
            // `poll_read` does: `try_io` clears it only on `WouldBlock`, which the closure
            // returns for that. Without it the next answer's first read, right after the
            // request went out, was a `recvmsg` that found nothing: 0.9 of the 1.9 per request
            // failed with EAGAIN (perf trace, 16M tx/s over 64 connections).
            let mut short = None;
            let read = self.tcp.try_io(tokio::io::Interest::READABLE, || {
                let (n, at) = arrival::recv(fd, dst)?;
                if n > 0 && n < room {
                    short = Some((n, at));
                    return Err(std::io::ErrorKind::WouldBlock.into());
                }
                Ok((n, at))
            });
            match short.map(Ok).unwrap_or(read) {
                Ok((n, at)) => {
                    buf.advance(n);
                    self.arrived = at.or(self.arrived);
                    return Poll::Ready(Ok(()));
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

impl AsyncRead for StampedTcp {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let me = self.get_mut();
        #[cfg(target_os = "linux")]
        if me.stamp {
            return me.poll_stamped(cx, buf);
        }
        Pin::new(&mut me.tcp).poll_read(cx, buf)
    }
}

impl AsyncWrite for StampedTcp {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().tcp).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().tcp).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_shutdown(cx)
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn reads_keep_the_arrival_stamp_only_when_asked() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut c = StampedTcp::new(
            tokio::net::TcpStream::connect(l.local_addr().unwrap())
                .await
                .unwrap(),
        );
        let (mut s, _) = l.accept().await.unwrap();
        let mut buf = [0u8; 16];
        s.write_all(b"plain").await.unwrap();
        assert_eq!(c.read(&mut buf).await.unwrap(), 5);
        assert_eq!(c.take_arrival(), None, "not asked to stamp");
        c.stamp_arrivals();
        // The kernel turns receive stamping on through a work queue: give it a moment.
        tokio::time::sleep(Duration::from_millis(100)).await;
        s.write_all(b"hello").await.unwrap();
        let sent = Instant::now();
        // Read 30 ms after it arrived: the stamp says when it came, not when it was read.
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(c.read(&mut buf).await.unwrap(), 5);
        assert_eq!(&buf[..5], b"hello");
        let at = c.take_arrival().expect("stamped");
        let late = at.saturating_duration_since(sent).as_secs_f64() * 1e3;
        assert!(late < 10.0, "stamped {late} ms after the write");
        assert_eq!(c.take_arrival(), None, "taken");
    }
}
