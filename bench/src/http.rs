//! Just enough HTTP/1.1 over std sockets: a one-shot client (for the local endpoint and moto) and request parsing
//! and response writing for the Runtime API the harness serves. No dependency, so it adds no timing of its own
//! beyond a syscall or two.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::error::{Context, Error, Result};

/// A request or response head plus body.
#[derive(Debug, Clone, Default)]
pub struct Message {
    /// Request: `METHOD PATH`; response: the status code as text.
    pub start: String,
    /// Headers, names lowercased.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Message {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The status code of a response.
    pub fn status(&self) -> u16 {
        self.start.parse().unwrap_or(0)
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Reads one message from `reader`. `Ok(None)` at a clean end of stream.
pub fn read_message(reader: &mut impl BufRead, is_request: bool) -> Result<Option<Message>> {
    let mut line = String::new();
    if reader.read_line(&mut line).context("cannot read an HTTP start line")? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let start = if is_request {
        format!("{} {}", parts.next().unwrap_or_default(), parts.next().unwrap_or_default())
    } else {
        parts.nth(1).unwrap_or_default().to_owned()
    };
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line).context("cannot read an HTTP header")?;
        let trimmed = line.trim_end();
        if trimmed.is_empty() {
            break;
        }
        if let Some((name, value)) = trimmed.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    let mut message = Message { start, headers, body: Vec::new() };
    if message.header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        message.body = read_chunked(reader)?;
    } else if let Some(length) = message.header("content-length") {
        let length: usize = length.parse().map_err(|_| Error::msg(format!("bad content-length {length}")))?;
        let mut body = vec![0; length];
        reader.read_exact(&mut body).context("cannot read an HTTP body")?;
        message.body = body;
    } else if !is_request {
        reader.read_to_end(&mut message.body).context("cannot read an HTTP body")?;
    }
    Ok(Some(message))
}

fn read_chunked(reader: &mut impl BufRead) -> Result<Vec<u8>> {
    let mut body = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        reader.read_line(&mut line).context("cannot read a chunk size")?;
        let size_text = line.trim().split(';').next().unwrap_or_default();
        let size =
            usize::from_str_radix(size_text, 16).map_err(|_| Error::msg(format!("bad chunk size {size_text}")))?;
        if size == 0 {
            // Trailers end with an empty line.
            loop {
                line.clear();
                if reader.read_line(&mut line).context("cannot read chunk trailers")? == 0 || line.trim().is_empty() {
                    return Ok(body);
                }
            }
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(body.get_mut(start..).unwrap_or_default()).context("cannot read a chunk")?;
        line.clear();
        reader.read_line(&mut line).context("cannot read a chunk end")?;
    }
}

/// Writes a response with a body and extra headers.
pub fn write_response(stream: &mut impl Write, status: u16, headers: &[(&str, &str)], body: &[u8]) -> Result<()> {
    let reason = match status {
        200 => "OK",
        202 => "Accepted",
        404 => "Not Found",
        _ => "Status",
    };
    let mut head = format!("HTTP/1.1 {status} {reason}\r\ncontent-length: {}\r\n", body.len());
    push_headers(&mut head, headers);
    stream.write_all(head.as_bytes()).context("cannot write a response")?;
    stream.write_all(body).context("cannot write a response body")?;
    stream.flush().context("cannot flush a response")
}

/// Appends `name: value` lines and the blank line that ends an HTTP head.
fn push_headers(head: &mut String, headers: &[(&str, &str)]) {
    for (name, value) in headers {
        head.push_str(name);
        head.push_str(": ");
        head.push_str(value);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
}

/// Sends one request on a new connection (`Connection: close`) and reads the response.
pub fn request(
    authority: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    timeout: Duration,
) -> Result<Message> {
    let mut stream =
        TcpStream::connect(authority).with_context(|| format!("cannot connect to {authority} for {method} {path}"))?;
    stream.set_read_timeout(Some(timeout)).context("cannot set a socket timeout")?;
    let _ = stream.set_nodelay(true);
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nhost: {authority}\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    push_headers(&mut head, headers);
    stream.write_all(head.as_bytes()).with_context(|| format!("cannot send {method} {path}"))?;
    stream.write_all(body).with_context(|| format!("cannot send {method} {path}"))?;
    let mut reader = BufReader::new(stream);
    read_message(&mut reader, false)?.with_context(|| format!("{authority} closed the connection on {method} {path}"))
}

/// `host:port` of an `http://host:port[/...]` URL.
pub fn authority(url: &str) -> &str {
    url.trim_start_matches("http://").split('/').next().unwrap_or_default()
}

/// Percent-encodes a path segment (everything but unreserved characters).
pub fn encode_segment(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_content_length_and_chunked_bodies() {
        let raw = b"POST /a HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc";
        let m = read_message(&mut &raw[..], true).unwrap().unwrap();
        assert_eq!((m.start.as_str(), m.body.as_slice()), ("POST /a", &b"abc"[..]));
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        let m = read_message(&mut &chunked[..], false).unwrap().unwrap();
        assert_eq!((m.status(), m.text().as_str()), (200, "abcde"));
    }

    #[test]
    fn encodes_arn_segments() {
        assert_eq!(encode_segment("a:b/$L"), "a%3Ab%2F%24L");
    }
}
