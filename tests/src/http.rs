//! A minimal blocking HTTP/1.1 client for loopback services (Docker Engine API on a unix socket,
//! the emulator's admin API), so that synchronous tests need no async runtime.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::time::Duration;

/// Where to send the request.
pub enum Target<'a> {
    Unix(&'a str),
    Tcp(&'a str),
}

/// Sends one request (`Connection: close`) and returns `(status, body)`.
pub fn request(
    target: Target<'_>,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> Result<(u16, String), String> {
    let timeout = Some(Duration::from_secs(60));
    let mut stream: Box<dyn ReadWrite> = match target {
        Target::Unix(p) => {
            let s = UnixStream::connect(p).map_err(|e| format!("{p}: {e}"))?;
            s.set_read_timeout(timeout).map_err(|e| e.to_string())?;
            Box::new(s)
        }
        Target::Tcp(a) => {
            let s = TcpStream::connect(a).map_err(|e| format!("{a}: {e}"))?;
            s.set_read_timeout(timeout).map_err(|e| e.to_string())?;
            Box::new(s)
        }
    };
    let body = body.unwrap_or("");
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream
        .write_all(req.as_bytes())
        .map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("malformed HTTP response: {text:?}"))?;
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("malformed status line: {head:?}"))?;
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_string()
    };
    Ok((status, body))
}

trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn dechunk_joins_chunks() {
        assert_eq!(
            super::dechunk("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"),
            "hello world"
        );
        assert_eq!(super::dechunk("0\r\n\r\n"), "");
    }
}
