//! Read deadlines per connection phase, enforced on the socket itself: a connection that does
//! not send its request head in time, or sits idle between requests too long, is closed, whatever
//! the client does with the bytes it has not sent. (The body's deadline is the handler's: it
//! answers 408 when the body does not arrive in time.)
//!
//! Phases: **head** (from the accept, or from the first byte after an idle keep-alive, until the
//! service is called: `HEADER_READ_TIMEOUT_SECONDS`), **busy** (the request is being served: no
//! deadline here), **idle** (after the response, until the next request's first byte:
//! `KEEP_ALIVE_TIMEOUT_SECONDS`).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

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

/// One connection's phase and deadline, shared by its socket and its service.
#[derive(Debug, Clone)]
pub struct Deadlines {
    state: Arc<Mutex<State>>,
    header_read: Duration,
    keep_alive: Duration,
}

impl Deadlines {
    /// A fresh connection: its first head is due within `header_read`.
    pub fn new(header_read: Duration, keep_alive: Duration) -> Self {
        Self {
            state: Arc::new(Mutex::new(State {
                phase: Phase::Head,
                deadline: Some(Instant::now() + header_read),
                waker: None,
            })),
            header_read,
            keep_alive,
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

    /// The response is handed back: the next request must start within the keep-alive timeout.
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

    fn deadline(&self, waker: &Waker) -> Option<Instant> {
        let mut state = self.state.lock().ok()?;
        state.waker = Some(waker.clone());
        state.deadline
    }
}

/// A socket whose reads fail with `TimedOut` once its phase's deadline has passed; hyper then
/// closes the connection.
pub struct DeadlineIo<T> {
    inner: T,
    deadlines: Deadlines,
    sleep: Pin<Box<Sleep>>,
    armed_for: Option<Instant>,
}

impl<T> DeadlineIo<T> {
    pub fn new(inner: T, deadlines: Deadlines) -> Self {
        Self {
            inner,
            deadlines,
            sleep: Box::pin(tokio::time::sleep(Duration::ZERO)),
            armed_for: None,
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
        let Some(deadline) = this.deadlines.deadline(cx.waker()) else {
            return Poll::Pending;
        };
        if this.armed_for != Some(deadline) {
            this.sleep.as_mut().reset(deadline);
            this.armed_for = Some(deadline);
        }
        match this.sleep.as_mut().poll(cx) {
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
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
