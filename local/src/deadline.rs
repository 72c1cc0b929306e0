//! Deadlines per connection phase, enforced on the socket itself: a connection that does not send
//! its request head in time, sits idle between requests too long, or leaves a response untaken
//! too long, is closed, whatever the client does with the bytes it has not sent or read. (The
//! body's deadline is the handler's: it answers 408 when the body does not arrive in time.)
//!
//! Read phases: **head** (from the accept, or from the first byte after an idle keep-alive, until
//! the service is called: `HEADER_READ_TIMEOUT_SECONDS`), **busy** (the request is being served:
//! no deadline here), **idle** (after the response, until the next request's first byte:
//! `KEEP_ALIVE_TIMEOUT_SECONDS`, counted from the last response byte the client took, and not at
//! all while a write waits on the client: a slow download is not an idle connection).
//!
//! Writes: one that waits on the client (its socket buffer full) for `WRITE_TIMEOUT_SECONDS` fails,
//! in any phase, and hyper closes the connection. Every write that goes out starts the wait anew,
//! so a slow reader gets its whole response and a client that never reads is still dropped.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

use crate::limits::Limits;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Head,
    Busy,
    Idle,
}

#[derive(Debug)]
struct State {
    phase: Phase,
    deadline: Option<Instant>,
    /// The reader waiting on the socket, woken when the deadline changes.
    waker: Option<Waker>,
}

/// One connection's phase and read deadline, shared by its socket and its service.
#[derive(Debug, Clone)]
pub struct Deadlines {
    state: Arc<Mutex<State>>,
    header_read: Duration,
    keep_alive: Duration,
    write: Duration,
}

impl Deadlines {
    /// A fresh connection: its first head is due within the header read timeout.
    pub fn new(limits: &Limits) -> Self {
        Self {
            state: Arc::new(Mutex::new(State {
                phase: Phase::Head,
                deadline: Some(Instant::now() + limits.header_read),
                waker: None,
            })),
            header_read: limits.header_read,
            keep_alive: limits.keep_alive,
            write: limits.write,
        }
    }

    fn set(&self, phase: Phase, deadline: Option<Instant>) {
        if let Ok(mut state) = self.state.lock() {
            state.phase = phase;
            state.deadline = deadline;
            if let Some(waker) = state.waker.take() {
                waker.wake();
            }
        }
    }

    /// The service has the request: no read deadline while it is served.
    pub fn request_started(&self) {
        self.set(Phase::Busy, None);
    }

    /// The response is handed back: the next request must start within the keep-alive timeout of
    /// the response going out ([`Deadlines::response_bytes_taken`] moves it on).
    pub fn response_sent(&self) {
        self.set(Phase::Idle, Some(Instant::now() + self.keep_alive));
    }

    /// Bytes arrived: after an idle keep-alive they start a new head.
    fn bytes_arrived(&self) {
        if let Ok(mut state) = self.state.lock()
            && state.phase == Phase::Idle
        {
            state.phase = Phase::Head;
            state.deadline = Some(Instant::now() + self.header_read);
        }
    }

    /// The client took response bytes: an idle connection's keep-alive counts from now.
    fn response_bytes_taken(&self) {
        if let Ok(mut state) = self.state.lock()
            && state.phase == Phase::Idle
        {
            state.deadline = Some(Instant::now() + self.keep_alive);
            if let Some(waker) = state.waker.take() {
                waker.wake();
            }
        }
    }

    /// The read deadline now; none for an idle connection whose response waits on the client.
    fn read_deadline(&self, waker: &Waker, write_waiting: bool) -> Option<Instant> {
        let mut state = self.state.lock().ok()?;
        state.waker = Some(waker.clone());
        if state.phase == Phase::Idle && write_waiting {
            return None;
        }
        state.deadline
    }
}

/// A socket whose reads fail with `TimedOut` once its phase's deadline has passed, and whose writes
/// fail with `TimedOut` once one has waited on the client for the write timeout; hyper then closes
/// the connection.
pub struct DeadlineIo<T> {
    inner: T,
    deadlines: Deadlines,
    read_sleep: Pin<Box<Sleep>>,
    read_armed_for: Option<Instant>,
    write_sleep: Pin<Box<Sleep>>,
    /// A write is waiting on the client (armed in `write_sleep`).
    write_waiting: bool,
}

impl<T> DeadlineIo<T> {
    pub fn new(inner: T, deadlines: Deadlines) -> Self {
        Self {
            inner,
            deadlines,
            read_sleep: Box::pin(tokio::time::sleep(Duration::ZERO)),
            read_armed_for: None,
            write_sleep: Box::pin(tokio::time::sleep(Duration::ZERO)),
            write_waiting: false,
        }
    }

    /// Bytes went out: the keep-alive counts from now.
    fn took(&self, written: &Poll<io::Result<usize>>) {
        if let Poll::Ready(Ok(n)) = written
            && *n > 0
        {
            self.deadlines.response_bytes_taken();
        }
    }

    /// Passes a write's outcome on, or fails it once it has waited on the client too long.
    fn guard_write<R>(&mut self, cx: &mut Context<'_>, written: Poll<io::Result<R>>) -> Poll<io::Result<R>> {
        match written {
            Poll::Ready(result) => {
                self.write_waiting = false;
                Poll::Ready(result)
            }
            Poll::Pending => {
                if !self.write_waiting {
                    self.write_waiting = true;
                    self.write_sleep
                        .as_mut()
                        .reset(Instant::now() + self.deadlines.write);
                }
                match self.write_sleep.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the client did not take the response in time",
                    ))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for DeadlineIo<T> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    this.deadlines.bytes_arrived();
                }
                return Poll::Ready(Ok(()));
            }
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Pending => {}
        }
        let Some(deadline) = this.deadlines.read_deadline(cx.waker(), this.write_waiting) else {
            return Poll::Pending;
        };
        if this.read_armed_for != Some(deadline) {
            this.read_sleep.as_mut().reset(deadline);
            this.read_armed_for = Some(deadline);
        }
        match this.read_sleep.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client did not send in time",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for DeadlineIo<T> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.took(&written);
        this.guard_write(cx, written)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let flushed = Pin::new(&mut this.inner).poll_flush(cx);
        this.guard_write(cx, flushed)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let shut = Pin::new(&mut this.inner).poll_shutdown(cx);
        this.guard_write(cx, shut)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.took(&written);
        this.guard_write(cx, written)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
