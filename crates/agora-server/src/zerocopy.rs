//! Zero-copy sending of kept zips on plain-HTTP connections.
//!
//! hyper writes a body by handing its bytes to the connection, and writing
//! bytes to a socket copies them into the kernel: for a 200 KiB zip that copy
//! was a third of agora's CPU (perf, bench/run.sh), where nginx hands the file
//! to the kernel with `sendfile` and copies nothing. hyper has no way to pass
//! a file through, so this module lets the two meet below it:
//!
//! - [`respond::zip`](crate::respond::zip) marks a response whose body is a
//!   whole zip in memory that is also a local file ([`SendFile`], a response
//!   extension);
//! - the connection's service moves that mark into the connection's
//!   [`ZeroCopy`] slot before hyper writes anything;
//! - [`ZeroCopyIo`], the connection's I/O, recognises a slice hyper asks it to
//!   write as lying inside the marked bytes (by address: the slot holds those
//!   bytes, so no other buffer can sit at that address while it is marked) and
//!   sends that part of the file with `sendfile` instead. Whatever precedes it
//!   (the response head) goes out with `MSG_MORE` so that head and body still
//!   leave in one segment.
//!
//! A stored version never changes, so the file holds exactly the bytes in
//! memory. Should it not (a file cut short behind agora's back, a file system
//! without `sendfile`), the bytes are written from memory as before: the
//! answer is the same either way, only its cost differs.

use std::fs::File;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::rt::TokioIo;
use tokio::io::Interest;
use tokio::net::TcpStream;

/// The smallest body sent from its file: below this, one copy costs less than
/// the extra system call that sending head and body apart takes.
pub const ZERO_COPY_MIN: usize = 32 << 10;

/// A response extension: the body is (a part of) `bytes`, which `file` holds
/// too, from its offset 0.
#[derive(Clone)]
pub struct SendFile {
    bytes: Bytes,
    file: Arc<File>,
}

impl SendFile {
    /// Marks `bytes` as the content of `file`, or `None` when they are too
    /// small to be worth it (or this is not Linux, the one kernel used here).
    pub fn new(bytes: &Bytes, file: &Arc<File>) -> Option<SendFile> {
        (cfg!(target_os = "linux") && bytes.len() >= ZERO_COPY_MIN).then(|| SendFile {
            bytes: bytes.clone(),
            file: file.clone(),
        })
    }

    /// Where `slice` starts in the file, when it lies inside the marked bytes.
    fn offset_of(&self, slice: &[u8]) -> Option<u64> {
        let base = self.bytes.as_ptr() as usize;
        let start = slice.as_ptr() as usize;
        let inside =
            !slice.is_empty() && start >= base && start + slice.len() <= base + self.bytes.len();
        inside.then(|| (start - base) as u64)
    }
}

/// One connection's marked body, shared by its service (which sets it) and
/// its I/O (which reads it).
#[derive(Default)]
pub struct ZeroCopy {
    current: Mutex<Option<SendFile>>,
}

impl ZeroCopy {
    /// Takes the mark off a response about to be written on this connection.
    /// A response without one leaves the previous mark, which is harmless:
    /// only slices inside its bytes are sent from its file.
    pub fn take_from<B>(&self, resp: &mut http::Response<B>) {
        if let Some(mark) = resp.extensions_mut().remove::<SendFile>()
            && let Ok(mut current) = self.current.lock()
        {
            *current = Some(mark);
        }
    }

    /// The first of `bufs` inside the marked bytes: its index, the file and
    /// the offset there.
    fn locate(&self, bufs: &[IoSlice<'_>]) -> Option<(usize, Arc<File>, u64)> {
        let current = self.current.lock().ok()?;
        let mark = current.as_ref()?;
        bufs.iter().enumerate().find_map(|(i, buf)| {
            mark.offset_of(buf)
                .map(|offset| (i, mark.file.clone(), offset))
        })
    }

    fn clear(&self) {
        if let Ok(mut current) = self.current.lock() {
            *current = None;
        }
    }
}

/// A plain TCP connection that sends marked bodies with `sendfile`.
pub struct ZeroCopyIo {
    inner: TokioIo<TcpStream>,
    slot: Arc<ZeroCopy>,
}

impl ZeroCopyIo {
    /// Wraps `stream`; `slot` is the one its service fills.
    pub fn new(stream: TcpStream, slot: Arc<ZeroCopy>) -> Self {
        ZeroCopyIo {
            inner: TokioIo::new(stream),
            slot,
        }
    }
}

impl Read for ZeroCopyIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl Write for ZeroCopyIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_vectored(cx, &[IoSlice::new(buf)])
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if let Some((at, file, offset)) = this.slot.locate(bufs) {
            let stream = this.inner.inner();
            let from_file = bufs[..at].iter().all(|b| b.is_empty());
            let sent = if from_file {
                let len = bufs[at].len();
                ready!(poll_writable(stream, cx, || send_file(
                    stream, &file, offset, len
                )))
            } else {
                ready!(poll_writable(stream, cx, || send_more(stream, &bufs[..at])))
            };
            match sent {
                Ok(n) if n > 0 => {
                    if from_file {
                        crate::metrics::metrics().sent_from_file(n);
                    }
                    return Poll::Ready(Ok(n));
                }
                // The file ends early or cannot be sent from: the same bytes
                // are in memory, written below from now on.
                Ok(_) => this.slot.clear(),
                Err(e) if cannot_send_file(&e) => this.slot.clear(),
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
        Pin::new(&mut this.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// Errors that say the file cannot go out this way, as opposed to a broken
/// connection.
fn cannot_send_file(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::Unsupported
        || matches!(
            e.raw_os_error(),
            Some(code) if code == rustix::io::Errno::INVAL.raw_os_error()
                || code == rustix::io::Errno::NOSYS.raw_os_error()
                || code == rustix::io::Errno::OPNOTSUPP.raw_os_error()
                || code == rustix::io::Errno::IO.raw_os_error()
        )
}

/// Runs the non-blocking write `f` once the socket is writable, again after each
/// `WouldBlock`.
fn poll_writable(
    stream: &TcpStream,
    cx: &mut Context<'_>,
    mut f: impl FnMut() -> io::Result<usize>,
) -> Poll<io::Result<usize>> {
    loop {
        ready!(stream.poll_write_ready(cx))?;
        match stream.try_io(Interest::WRITABLE, &mut f) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            sent => return Poll::Ready(sent),
        }
    }
}

#[cfg(target_os = "linux")]
fn send_file(stream: &TcpStream, file: &File, offset: u64, len: usize) -> io::Result<usize> {
    let mut at = offset;
    rustix::fs::sendfile(stream, file, Some(&mut at), len).map_err(io::Error::from)
}

/// Sends `bufs` with `MSG_MORE`: the body follows at once from its file.
#[cfg(target_os = "linux")]
fn send_more(stream: &TcpStream, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
    use rustix::net::{SendAncillaryBuffer, SendFlags, sendmsg};
    let mut control = SendAncillaryBuffer::default();
    sendmsg(stream, bufs, &mut control, SendFlags::MORE).map_err(io::Error::from)
}

#[cfg(not(target_os = "linux"))]
fn send_file(_: &TcpStream, _: &File, _: u64, _: usize) -> io::Result<usize> {
    Err(io::ErrorKind::Unsupported.into())
}

#[cfg(not(target_os = "linux"))]
fn send_more(_: &TcpStream, _: &[IoSlice<'_>]) -> io::Result<usize> {
    Err(io::ErrorKind::Unsupported.into())
}
