//! Refusals that the HTTP parser makes before a request exists — a URI over hyper's
//! 64 KiB limit (414), a head too large or with too many header fields (431), a
//! malformed request line, header or `Content-Length` (400) — carry the same JSON error
//! body as every other refusal.
//!
//! hyper answers these itself with an empty body and closes the connection; no service
//! ever sees them. The listener here wraps each connection so that such an answer, which
//! has no `content-type` and only `content-length: 0`, `connection` and `date` fields, is
//! rewritten on its way out with a body carrying the error code. Answers of the gateway's
//! own handlers always carry a `content-type`, so they pass untouched.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use axum::serve::Listener;
use schema::error::ErrorCode;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// A TCP listener whose connections answer parser refusals with a JSON body.
pub struct RefusingListener(pub TcpListener);

impl Listener for RefusingListener {
    type Io = WithRefusalBodies<TcpStream>;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (stream, address) = Listener::accept(&mut self.0).await;
        (WithRefusalBodies::new(stream), address)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Listener::local_addr(&self.0)
    }
}

/// One connection; rewrites a bodiless parser refusal written through it.
pub struct WithRefusalBodies<S> {
    inner: S,
    /// A rewritten refusal not yet fully written, and how much of it was.
    pending: Option<(Vec<u8>, usize)>,
}

impl<S> WithRefusalBodies<S> {
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            pending: None,
        }
    }
}

impl<S: AsyncWrite + Unpin> WithRefusalBodies<S> {
    /// Writes what is left of a rewritten refusal.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some((bytes, written)) = &mut self.pending {
            if *written == bytes.len() {
                self.pending = None;
                break;
            }
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &bytes[*written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *written += n;
        }
        Poll::Ready(Ok(()))
    }

    /// Takes `head` in place of the caller's bytes when it is a parser refusal.
    fn replace(&mut self, head: &[u8], cx: &mut Context<'_>) -> Option<io::Result<()>> {
        let rewritten = rewrite(head)?;
        self.pending = Some((rewritten, 0));
        match self.poll_pending(cx) {
            Poll::Ready(Err(error)) => Some(Err(error)),
            // The rest goes out with the next write, flush or shutdown.
            _ => Some(Ok(())),
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for WithRefusalBodies<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for WithRefusalBodies<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        ready!(self.poll_pending(cx))?;
        if let Some(replaced) = self.replace(buf, cx) {
            return Poll::Ready(replaced.map(|()| buf.len()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        ready!(self.poll_pending(cx))?;
        // hyper writes a head in one slice of its own; a refusal has nothing after it.
        if let [head] = bufs
            .iter()
            .filter(|slice| !slice.is_empty())
            .collect::<Vec<_>>()
            .as_slice()
            && let Some(replaced) = self.replace(head, cx)
        {
            return Poll::Ready(replaced.map(|()| head.len()));
        }
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The refusal `head` with a JSON body, when `head` is one of hyper's own: a whole
/// 400, 414 or 431 head with no field but `content-length: 0`, `connection` and `date`.
fn rewrite(head: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(head).ok()?;
    let lines = text.strip_suffix("\r\n\r\n")?;
    let mut lines = lines.split("\r\n");
    let status_line = lines.next()?;
    let (code, message) = match status_line.strip_prefix("HTTP/1.1 ")?.get(..3)? {
        "400" => (
            ErrorCode::BadRequest,
            "the request is not well-formed HTTP/1.1 (request line, a header, or Content-Length)",
        ),
        "414" => (
            ErrorCode::UriTooLong,
            "the request URI is longer than 64 KiB: send the document in a POST body",
        ),
        "431" => (
            ErrorCode::HeadersTooLarge,
            "the request's header fields are too large or too many",
        ),
        _ => return None,
    };
    let mut kept = Vec::new();
    let mut empty_body = false;
    for line in lines {
        let (name, value) = line.split_once(':')?;
        match name.to_ascii_lowercase().as_str() {
            "content-length" if value.trim() == "0" => empty_body = true,
            "connection" | "date" => kept.push(line),
            _ => return None,
        }
    }
    if !empty_body {
        return None;
    }
    let body = serde_json::to_vec(&serde_json::json!({
        "errors": super::error::errors(code, message)
    }))
    .ok()?;
    let mut out = Vec::with_capacity(head.len() + body.len() + 64);
    out.extend_from_slice(status_line.as_bytes());
    out.extend_from_slice(b"\r\ncontent-type: application/json\r\n");
    out.extend_from_slice(format!("content-length: {}\r\n", body.len()).as_bytes());
    for line in kept {
        out.extend_from_slice(line.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&body);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::rewrite;

    #[test]
    fn parser_refusals_get_a_body_and_handler_answers_do_not() {
        let refusal = rewrite(
            b"HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\ncontent-length: 0\r\ndate: Sun, 29 Nov 2026 00:00:00 GMT\r\n\r\n",
        )
        .expect("a parser refusal is rewritten");
        let text = String::from_utf8(refusal).expect("utf-8");
        let (head, body) = text.split_once("\r\n\r\n").expect("a head and a body");
        assert!(head.starts_with("HTTP/1.1 431 "));
        assert!(head.contains("content-type: application/json"));
        assert!(head.contains(&format!("content-length: {}", body.len())));
        assert!(head.contains("connection: close"));
        let body: serde_json::Value = serde_json::from_str(body).expect("JSON");
        assert_eq!(body["errors"][0]["extensions"]["code"], "HEADERS_TOO_LARGE");

        // A handler's answer has a content type, or a body, or another status.
        for head in [
            &b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 0\r\n\r\n"[..],
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 12\r\n\r\n",
            b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n",
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n",
        ] {
            assert_eq!(rewrite(head), None, "{}", String::from_utf8_lossy(head));
        }
    }
}
