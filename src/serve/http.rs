//! HTTP/1.1 for the lab, over `std::net`: one request per connection (`Connection:
//! close`), each connection on a thread of its own, with a deadline on reading the request,
//! a cap on its head and body, and the headers every response carries. Also the reply
//! type, JSON errors and the query string.
//!
//! Hand-written (about 300 lines of code with the replies) rather than `tiny_http` (4
//! packages: itself, ascii, chunked_transfer, httpdate): tiny_http reads connections on a
//! pool that grows only when no thread is idle *as it counts them*, and its count lags, so
//! a request arriving in a burst waits in the pool's queue behind connections that hold
//! their thread (idle keep-alive connections, a slow client, an event stream); the test
//! `a_stalled_client_does_not_hold_up_the_others` hung on it. Here nothing is pooled and
//! no connection is kept, so a held connection holds only its own thread. The query is
//! decoded here too (percent-escapes and `+`, 30 lines) rather than by `form_urlencoded`.

use serde_json::{Value, json};
use std::io::Read;
use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

/// The most a request body may hold (a quiz answer or a training configuration is well
/// under 1 KiB).
pub(crate) const MAX_BODY: usize = 64 << 10;

/// The Content-Security-Policy of every response: nothing loads from outside the lab.
pub(crate) const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' \
    'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; \
    form-action 'none'; frame-ancestors 'none'";

/// An answer to a request, before it is sent.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
    /// The methods a path takes, for a 405's `Allow` header.
    pub allow: Option<&'static str>,
    /// Headers of this answer alone (`Retry-After`), after those every answer carries.
    pub extra: Vec<(&'static str, String)>,
}

/// What a request refused for load is told: 503 and try again in a second.
pub(crate) const BUSY: &str = "the lab is busy; try again in a moment";

pub(crate) const JSON: &str = "application/json";

impl Reply {
    /// 200 with `body` of `content_type`.
    pub(crate) fn ok(content_type: &'static str, body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status: 200,
            content_type,
            body: body.into(),
            allow: None,
            extra: Vec::new(),
        }
    }

    /// 200 with a JSON value, on one line and ended by a newline.
    pub(crate) fn json(value: &Value) -> Reply {
        Reply::ok(JSON, format!("{value}\n"))
    }

    /// `status` with `{"error": message}`.
    pub(crate) fn error(status: u16, message: &str) -> Reply {
        Reply {
            status,
            ..Reply::json(&json!({ "error": message }))
        }
    }

    /// 404 for a path the lab does not have.
    pub(crate) fn not_found(path: &str) -> Reply {
        Reply::error(
            404,
            &format!("there is nothing at {}", crate::format::escape(path, 80)),
        )
    }

    /// 405 for a path that takes only `allow`.
    pub(crate) fn method_not_allowed(method: &str, allow: &'static str) -> Reply {
        Reply {
            allow: Some(allow),
            ..Reply::error(
                405,
                &format!(
                    "{} is not allowed here; use {allow}",
                    crate::format::escape(method, 20)
                ),
            )
        }
    }

    /// 503 with `Retry-After: 1`: the lab has no room for this request now.
    pub(crate) fn busy() -> Reply {
        Reply::error(503, BUSY).with_header("Retry-After", "1")
    }

    /// This reply with one more header.
    pub(crate) fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Reply {
        self.extra.push((name, value.into()));
        self
    }

    /// 429 with `Retry-After: 1`: a student over their rate of requests.
    pub(crate) fn too_many() -> Reply {
        Reply::error(429, "too many requests; slow down a little").with_header("Retry-After", "1")
    }

    /// 413 for a body over [`MAX_BODY`].
    pub(crate) fn too_large() -> Reply {
        Reply::error(
            413,
            &format!("the request body is larger than {} KiB", MAX_BODY >> 10),
        )
    }
}

/// The headers of every response, with its content type: the CSP, `nosniff`, no caching
/// of answers that change as the lab does, and no referrer.
pub(crate) fn headers(content_type: &str) -> [(&'static str, String); 5] {
    let content_type = match content_type {
        t if t.starts_with("text/") || t == JSON || t == SVG => format!("{t}; charset=utf-8"),
        t => t.to_string(),
    };
    [
        ("Content-Type", content_type),
        ("Content-Security-Policy", CSP.to_string()),
        ("X-Content-Type-Options", "nosniff".to_string()),
        ("Cache-Control", "no-store".to_string()),
        ("Referrer-Policy", "no-referrer".to_string()),
    ]
}

pub(crate) const SVG: &str = "image/svg+xml";

/// The `key=value` pairs of a query string, decoded, in order (`+` is a space).
pub(crate) fn query(q: &str) -> Result<Vec<(String, String)>, Reply> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            Ok((decode(k, true)?, decode(v, true)?))
        })
        .collect()
}

/// `text` with its `%XX` escapes (and, in a query, `+`) decoded; it must be UTF-8.
pub(crate) fn decode(text: &str, plus_is_space: bool) -> Result<String, Reply> {
    let bad = || {
        Reply::error(
            400,
            &format!(
                "'{}' is not a well-formed URL part",
                crate::format::escape(text, 60)
            ),
        )
    };
    let mut out = Vec::with_capacity(text.len());
    let mut bytes = text.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'%' => {
                let hex = [bytes.next().ok_or_else(bad)?, bytes.next().ok_or_else(bad)?];
                let hex = std::str::from_utf8(&hex).map_err(|_| bad())?;
                out.push(u8::from_str_radix(hex, 16).map_err(|_| bad())?);
            }
            b'+' if plus_is_space => out.push(b' '),
            b => out.push(b),
        }
    }
    String::from_utf8(out).map_err(|_| bad())
}

/// The most a request's head (request line and headers) may hold.
const MAX_HEAD: usize = 16 << 10;

/// How long a client may take to send its request's head (and any single read of it).
const READ_DEADLINE: Duration = Duration::from_secs(20);

/// How long a client may leave an answer unread before the lab gives up on it.
const WRITE_DEADLINE: Duration = Duration::from_secs(30);

/// A request, read whole: the lab answers it with [`Request::respond`] or turns it into a
/// stream of server-sent events with [`Request::events`].
pub(crate) struct Request {
    /// `GET`, `POST`, … as sent.
    pub method: String,
    /// The path, before decoding (`/api/demo/vanishing`).
    pub path: String,
    /// The query string without its `?` (empty if none).
    pub query: String,
    /// At most [`MAX_BODY`] bytes.
    pub body: Vec<u8>,
    /// The headers, names in lowercase, values trimmed, in order.
    pub headers: Vec<(String, String)>,
    stream: TcpStream,
}

impl Request {
    /// Reads a request from `stream`. An unusable one is answered here (400, 408, 413,
    /// 431, 411) and `None` returned; so is a connection closed before a request came.
    pub(crate) fn read(stream: TcpStream) -> Option<Request> {
        let _ = stream.set_read_timeout(Some(READ_DEADLINE));
        let _ = stream.set_write_timeout(Some(WRITE_DEADLINE));
        let _ = stream.set_nodelay(true);
        let mut reader = BufReader::new(stream.try_clone().ok()?);
        let mut head = Vec::new();
        let start = std::time::Instant::now();
        loop {
            if start.elapsed() > READ_DEADLINE {
                return refuse(stream, Reply::error(408, "the request took too long"));
            }
            let before = head.len();
            match (&mut reader)
                .take((MAX_HEAD + 1 - head.len()) as u64)
                .read_until(b'\n', &mut head)
            {
                Ok(0) if head.is_empty() => return None,
                Ok(0) => return refuse(stream, Reply::error(400, "the request ended early")),
                Ok(_) => {}
                Err(_) => return refuse(stream, Reply::error(408, "the request took too long")),
            }
            if head.len() > MAX_HEAD {
                let msg = format!("the request's head is larger than {} KiB", MAX_HEAD >> 10);
                return refuse(stream, Reply::error(431, &msg));
            }
            if matches!(&head[before..], b"\r\n" | b"\n") {
                break;
            }
        }
        let bad = |what: &str| Reply::error(400, &format!("a malformed request: {what}"));
        let Ok(head) = std::str::from_utf8(&head) else {
            return refuse(stream, bad("its head is not UTF-8"));
        };
        let mut lines = head.lines();
        let line = lines.next().unwrap_or_default();
        let mut parts = line.split(' ');
        let (Some(method), Some(target), Some(version), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return refuse(stream, bad("the first line is not METHOD TARGET VERSION"));
        };
        if !version.starts_with("HTTP/1.") || !target.starts_with('/') {
            return refuse(stream, bad("the lab speaks HTTP/1.1 with paths from /"));
        }
        let mut length = 0usize;
        let mut headers = Vec::new();
        for h in lines.take_while(|l| !l.is_empty()) {
            let Some((name, value)) = h.split_once(':') else {
                return refuse(stream, bad("a header without a colon"));
            };
            let value = value.trim();
            headers.push((name.trim().to_ascii_lowercase(), value.to_string()));
            if name.eq_ignore_ascii_case("content-length") {
                match value.parse::<u64>() {
                    Ok(n) if n > MAX_BODY as u64 => return refuse(stream, Reply::too_large()),
                    Ok(n) => length = n as usize,
                    Err(_) => return refuse(stream, bad("Content-Length is not a number")),
                }
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                let msg = "give the body's Content-Length; the lab reads no chunked bodies";
                return refuse(stream, Reply::error(411, msg));
            } else if name.eq_ignore_ascii_case("expect")
                && value.eq_ignore_ascii_case("100-continue")
            {
                let _ = (&stream).write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return refuse(stream, Reply::error(400, "the request body ended early"));
        }
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        Some(Request {
            method: method.to_string(),
            path: path.to_string(),
            query: query.to_string(),
            body,
            headers,
            stream,
        })
    }

    /// The value of the header `name` (lowercase), if sent.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as text (400 if it is not UTF-8).
    pub(crate) fn text(&self) -> Result<&str, Reply> {
        std::str::from_utf8(&self.body)
            .map_err(|_| Reply::error(400, "the request body is not UTF-8"))
    }

    /// Sends `reply` and closes the connection; a client that went away is no error.
    pub(crate) fn respond(self, reply: Reply) {
        let head_only = self.method == "HEAD";
        send(&self.stream, &reply, head_only);
        close(self.stream);
    }

    /// Answers with a stream of server-sent events (`text/event-stream`), for as long as
    /// the returned [`Events`] lives.
    pub(crate) fn events(self) -> std::io::Result<Events> {
        let mut head = String::from("HTTP/1.1 200 OK\r\nConnection: close\r\n");
        for (name, value) in headers("text/event-stream") {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        (&self.stream).write_all(head.as_bytes())?;
        Ok(Events {
            stream: self.stream,
        })
    }
}

/// An open stream of server-sent events.
pub(crate) struct Events {
    stream: TcpStream,
}

impl Events {
    /// Sends one event: `event: NAME` and `data: DATA`, where `data` is one line (JSON
    /// on one line). An error means the client has gone.
    pub(crate) fn send(&mut self, event: &str, data: &str) -> std::io::Result<()> {
        debug_assert!(!data.contains('\n') && !event.contains('\n'));
        write!(self.stream, "event: {event}\ndata: {data}\n\n")?;
        self.stream.flush()
    }
}

/// Answers 503 (`Retry-After: 1`) on a connection the lab has no room for, without reading
/// its request.
pub(crate) fn busy(stream: TcpStream) {
    let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
    send(&stream, &Reply::busy(), false);
    close(stream);
}

/// Answers a request that could not be read, and closes the connection.
fn refuse(stream: TcpStream, reply: Reply) -> Option<Request> {
    send(&stream, &reply, false);
    close(stream);
    None
}

/// Writes `reply` with the headers every response carries.
fn send(mut stream: &TcpStream, reply: &Reply, head_only: bool) {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\nContent-Length: {}\r\nConnection: close\r\n",
        reply.status,
        reason(reply.status),
        reply.body.len()
    );
    for (name, value) in headers(reply.content_type) {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if let Some(allow) = reply.allow {
        head.push_str(&format!("Allow: {allow}\r\n"));
    }
    for (name, value) in &reply.extra {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let body: &[u8] = if head_only { &[] } else { &reply.body };
    let _ = stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(body));
    let _ = stream.flush();
}

/// Closes a connection after its answer: what the client still sends is read and dropped
/// for a moment (up to a body's cap), so that closing with unread bytes does not reset the
/// connection before the client has read the answer.
fn close(stream: TcpStream) {
    let _ = stream.shutdown(Shutdown::Write);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    let _ = std::io::copy(
        &mut (&stream).take(4 * MAX_BODY as u64),
        &mut std::io::sink(),
    );
}

/// The reason phrase of the statuses the lab sends.
fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        411 => "Length Required",
        413 => "Content Too Large",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        _ => "Internal Server Error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_decode_escapes_and_plus() {
        assert_eq!(
            query("depth=20&activation=leaky-relu%3A0.1&x=a+b&flag").unwrap(),
            [
                ("depth".to_string(), "20".to_string()),
                ("activation".into(), "leaky-relu:0.1".into()),
                ("x".into(), "a b".into()),
                ("flag".into(), String::new()),
            ]
        );
        assert_eq!(decode("%E2%88%92", false).unwrap(), "−");
        assert_eq!(decode("a+b", false).unwrap(), "a+b");
        for bad in ["%", "%4", "%zz", "%ff"] {
            assert_eq!(decode(bad, true).unwrap_err().status, 400, "{bad}");
        }
    }

    /// A request over a real connection: `send` writes `request`, the lab's side reads it and
    /// answers with `answer`; returns what the client read.
    fn exchange(request: &[u8], answer: impl FnOnce(Option<Request>) + Send + 'static) -> String {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            answer(Request::read(stream));
        });
        let mut client = TcpStream::connect(addr).unwrap();
        client.write_all(request).unwrap();
        let mut got = String::new();
        client.read_to_string(&mut got).unwrap();
        server.join().unwrap();
        got
    }

    #[test]
    fn a_request_is_read_whole_and_answered_once() {
        let got = exchange(
            b"POST /api/x?a=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello",
            |req| {
                let req = req.unwrap();
                assert_eq!(
                    (req.method.as_str(), req.path.as_str(), req.query.as_str()),
                    ("POST", "/api/x", "a=1")
                );
                assert_eq!(req.text().unwrap(), "hello");
                assert_eq!(req.header("host"), Some("h"));
                assert_eq!(req.header("authorization"), None);
                req.respond(Reply::ok("text/plain", "hi"));
            },
        );
        assert!(
            got.starts_with("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"),
            "{got}"
        );
        assert!(
            got.contains(&format!("Content-Security-Policy: {CSP}\r\n")),
            "{got}"
        );
        assert!(got.ends_with("\r\n\r\nhi"), "{got}");
    }

    #[test]
    fn unusable_requests_are_refused_before_routing() {
        for (request, status) in [
            (
                &b"GET / HTTP/1.1\r\nContent-Length: 70000\r\n\r\n"[..],
                "413",
            ),
            (
                b"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
                "411",
            ),
            (b"GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n", "400"),
            (b"BREW\r\n\r\n", "400"),
            (b"GET http://x/ HTTP/1.1\r\n\r\n", "400"),
        ] {
            let got = exchange(request, |req| assert!(req.is_none()));
            assert!(got.starts_with(&format!("HTTP/1.1 {status} ")), "{got}");
        }
        let huge = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(MAX_HEAD));
        let got = exchange(huge.as_bytes(), |req| assert!(req.is_none()));
        assert!(got.starts_with("HTTP/1.1 431 "), "{got}");
    }

    #[test]
    fn events_stream_one_line_of_data_each() {
        let got = exchange(b"GET /e HTTP/1.1\r\n\r\n", |req| {
            let mut events = req.unwrap().events().unwrap();
            events.send("frame", "{\"step\":1}").unwrap();
            events.send("frame", "{\"step\":2}").unwrap();
        });
        assert!(got.starts_with("HTTP/1.1 200 OK\r\n"), "{got}");
        assert!(
            got.contains("Content-Type: text/event-stream; charset=utf-8\r\n"),
            "{got}"
        );
        assert!(
            got.ends_with(
                "\r\n\r\nevent: frame\ndata: {\"step\":1}\n\nevent: frame\ndata: {\"step\":2}\n\n"
            ),
            "{got}"
        );
    }

    #[test]
    fn every_reply_carries_the_policy() {
        let h = headers("text/html");
        assert_eq!(h[0].1, "text/html; charset=utf-8");
        assert_eq!(h[1], ("Content-Security-Policy", CSP.to_string()));
        assert_eq!(h[2], ("X-Content-Type-Options", "nosniff".to_string()));
        let e = Reply::error(400, "a \"b\"");
        assert_eq!(e.body, b"{\"error\":\"a \\\"b\\\"\"}\n");
    }
}
