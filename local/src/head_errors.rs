//! hyper's own answers to a request head it cannot parse, made the contract's.
//!
//! hyper answers such a head itself, before any service sees the request, and closes the
//! connection: 400 for a malformed request line or header (or a `Transfer-Encoding` other than
//! `chunked`), 414 for a URI over 65,534 bytes, 431 for a head over its read buffer (about
//! 400 KiB) or over 100 header fields. The answer has an empty body, and hyper has no hook to change
//! it (`Http1Transaction::on_error` in hyper 1's `proto/h1/role.rs`; hyperium/hyper#2583). Raising
//! hyper's limits would not help: the URI limit is a constant, and the 400s are parse errors.
//!
//! So [`HeadErrorIo`] sits between hyper and the socket and swaps that answer for the contract's:
//! `{"detail": ...}` with `Cache-Control: no-store` (the same [`ApiError`] response every other
//! error is), keeping hyper's status line and `Date`, and closing the connection as hyper does.
//! It knows hyper's answer by its shape: a head that ends hyper's write buffer, with one of those
//! statuses and `content-length: 0` and no `content-type`, which no answer of the service has
//! (every error it answers has a JSON body). hyper writes it last on the connection, all at once,
//! at the end of its write buffer; the server makes that buffer one flat slice (`writev(false)`),
//! so whatever precedes it (the end of an earlier response on a pipelined connection) is written
//! first, in order.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use http::StatusCode;
use shared::http::{ApiError, detail};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// hyper's heads are short (status line, `connection`, `content-length`, `date`): it is looked for
/// only in this many bytes at the end of a write.
const HEAD_WINDOW: usize = 512;

/// A socket whose writes carry the contract's answer in place of hyper's empty 400, 414 and 431.
pub struct HeadErrorIo<T> {
    inner: T,
    swap: Option<Swap>,
}

/// The contract's answer, being written in place of hyper's head.
struct Swap {
    answer: Vec<u8>,
    written: usize,
    /// The length of hyper's head, reported written once the answer is.
    replaces: usize,
}

impl<T> HeadErrorIo<T> {
    pub fn new(inner: T) -> Self {
        Self { inner, swap: None }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for HeadErrorIo<T> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for HeadErrorIo<T> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let swap = match this.swap.as_mut() {
            Some(swap) => swap,
            None => match hyper_error_head(buf) {
                None => return Pin::new(&mut this.inner).poll_write(cx, buf),
                // What precedes hyper's head goes out first, as it is.
                Some((start, _)) if start > 0 => {
                    return Pin::new(&mut this.inner).poll_write(cx, &buf[..start]);
                }
                Some((_, answer)) => this.swap.insert(Swap {
                    answer,
                    written: 0,
                    replaces: buf.len(),
                }),
            },
        };
        while swap.written < swap.answer.len() {
            let n = ready!(Pin::new(&mut this.inner).poll_write(cx, &swap.answer[swap.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            swap.written += n;
        }
        let replaced = swap.replaces;
        this.swap = None;
        Poll::Ready(Ok(replaced))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    /// Writes come one flat slice at a time, so that hyper's head is always at the end of one.
    fn is_write_vectored(&self) -> bool {
        false
    }
}

/// Where hyper's own error head starts in `buf` (it ends `buf`), and the contract's answer to
/// write in its place.
fn hyper_error_head(buf: &[u8]) -> Option<(usize, Vec<u8>)> {
    const END: &[u8] = b"\r\n\r\n";
    if !buf.ends_with(END) {
        return None;
    }
    let window_start = buf.len().saturating_sub(HEAD_WINDOW);
    let window = &buf[window_start..];
    // The last status line in the window: a head has one, at its start.
    let start = window_start + window.windows(7).rposition(|w| w == b"HTTP/1.")?;
    let head = std::str::from_utf8(&buf[start..buf.len() - END.len()]).ok()?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?;
    let code = status_line.split(' ').nth(1)?.parse::<u16>().ok()?;
    let status = StatusCode::from_u16(code).ok()?;
    let detail = match status {
        StatusCode::BAD_REQUEST => detail::BAD_REQUEST,
        StatusCode::URI_TOO_LONG => detail::URI_TOO_LONG,
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => detail::HEADERS_TOO_LARGE,
        _ => return None,
    };
    let mut empty_body = false;
    let mut kept = Vec::new();
    for line in lines {
        let (name, value) = line.split_once(':')?;
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-type") {
            return None;
        } else if name.eq_ignore_ascii_case("content-length") {
            empty_body = value == "0";
        } else if name.eq_ignore_ascii_case("date") {
            kept.push(line);
        }
    }
    if !empty_body {
        return None;
    }
    let response = ApiError::Detail { status, detail }.into_response();
    let body: &[u8] = response.body().as_ref();
    let mut answer = Vec::with_capacity(256 + body.len());
    answer.extend_from_slice(status_line.as_bytes());
    answer.extend_from_slice(b"\r\n");
    for (name, value) in response.headers() {
        answer.extend_from_slice(name.as_str().as_bytes());
        answer.extend_from_slice(b": ");
        answer.extend_from_slice(value.as_bytes());
        answer.extend_from_slice(b"\r\n");
    }
    for line in kept {
        answer.extend_from_slice(line.as_bytes());
        answer.extend_from_slice(b"\r\n");
    }
    answer
        .extend_from_slice(format!("connection: close\r\ncontent-length: {}\r\n\r\n", body.len()).as_bytes());
    answer.extend_from_slice(body);
    Some((start, answer))
}
