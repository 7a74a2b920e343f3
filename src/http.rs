//! Just enough HTTP/1.1 for `serve` and `receive`, on `std::net` with a
//! thread per connection: read one request (line, headers, Content-Length
//! body), answer it, close. Cross-origin posts from a published site are
//! allowed by echoing their `Origin` (the receiver takes anonymous posts).

use std::io::{self, BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;

/// Requests larger than this are refused: forms and consent records are small.
const MAX_BODY: usize = 1 << 20;
const MAX_HEAD: usize = 64 << 10;

#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// The path without its query string, percent-decoding left to the handler.
    pub path: String,
    pub query: String,
    /// Names in lowercase.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The media type of the body, without parameters: `application/json`.
    pub fn content_type(&self) -> String {
        self.header("content-type")
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    }
}

#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        Response {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: body.into(),
        }
    }

    pub fn json(status: u16, value: &serde_json::Value) -> Self {
        Response::new(status, "application/json", value.to_string())
    }

    pub fn text(status: u16, text: &str) -> Self {
        Response::new(status, "text/plain; charset=utf-8", text)
    }

    pub fn redirect(location: &str) -> Self {
        Response::new(303, "text/plain; charset=utf-8", "See Other")
            .with_header("Location", location)
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// What a handler does with a request: answer it, or keep the connection
/// (for server-sent events) after the given response head is written.
pub enum Reply {
    Full(Response),
    Stream(Response, Box<dyn FnOnce(TcpStream) + Send>),
}

pub type Handler = Arc<dyn Fn(&Request) -> Reply + Send + Sync>;

/// Binds 127.0.0.1:`port`, or with `next_free` the first free port after it.
pub fn bind(port: u16, next_free: bool) -> io::Result<TcpListener> {
    let tries = if next_free { 50 } else { 1 };
    let mut last = None;
    for candidate in (port..=u16::MAX).take(tries) {
        match TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], candidate))) {
            Ok(listener) => return Ok(listener),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no port to try")))
}

/// Accepts connections until the process ends, one thread each.
pub fn run(listener: TcpListener, handler: Handler) {
    for stream in listener.incoming().filter_map(Result::ok) {
        let handler = handler.clone();
        std::thread::spawn(move || {
            let _ = answer(stream, &handler);
        });
    }
}

fn answer(stream: TcpStream, handler: &Handler) -> io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut stream = stream;
    let request = match read_request(&mut reader) {
        Ok(Some(r)) => r,
        Ok(None) => return Ok(()),
        Err(e) => {
            return write_response(&mut stream, &Response::text(400, &e.to_string()));
        }
    };
    if request.method == "OPTIONS" {
        return write_response(&mut stream, &preflight(&request));
    }
    match handler(&request) {
        Reply::Full(response) => write_response(&mut stream, &with_cors(&request, response)),
        Reply::Stream(head, keep) => {
            write_head(&mut stream, &with_cors(&request, head), None)?;
            stream.flush()?;
            keep(stream);
            Ok(())
        }
    }
}

/// Reads one request; `None` when the peer closed before sending anything.
pub fn read_request(reader: &mut impl BufRead) -> io::Result<Option<Request>> {
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_string());
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let (Some(method), Some(target), Some(_version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(bad("malformed request line"));
    };
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut request = Request {
        method: method.to_string(),
        path: path.to_string(),
        query: query.to_string(),
        headers: Vec::new(),
        body: Vec::new(),
    };
    let mut head_size = line.len();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 {
            return Err(bad("connection closed inside the headers"));
        }
        head_size += header.len();
        if head_size > MAX_HEAD {
            return Err(bad("headers too large"));
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header
            .split_once(':')
            .ok_or_else(|| bad("malformed header"))?;
        request
            .headers
            .push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    let length: usize = match request.header("content-length") {
        Some(v) => v.parse().map_err(|_| bad("malformed Content-Length"))?,
        None => 0,
    };
    if length > MAX_BODY {
        return Err(bad("body too large"));
    }
    request.body = vec![0; length];
    reader.read_exact(&mut request.body)?;
    Ok(Some(request))
}

pub fn write_response(stream: &mut impl Write, response: &Response) -> io::Result<()> {
    write_head(stream, response, Some(response.body.len()))?;
    stream.write_all(&response.body)?;
    stream.flush()
}

fn write_head(
    stream: &mut impl Write,
    response: &Response,
    length: Option<usize>,
) -> io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\n",
        response.status,
        reason(response.status)
    );
    for (name, value) in &response.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if let Some(length) = length {
        head.push_str(&format!(
            "Content-Length: {length}\r\nConnection: close\r\n"
        ));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())
}

/// The answer to a CORS preflight: posts of JSON from any origin.
fn preflight(request: &Request) -> Response {
    with_cors(request, Response::new(204, "text/plain", ""))
        .with_header("Access-Control-Allow-Methods", "POST, OPTIONS")
        .with_header("Access-Control-Allow-Headers", "Content-Type")
        .with_header("Access-Control-Max-Age", "600")
}

fn with_cors(request: &Request, response: Response) -> Response {
    match request.header("origin") {
        Some(origin) => response
            .with_header("Access-Control-Allow-Origin", origin)
            .with_header("Vary", "Origin"),
        None => response,
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        303 => "See Other",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        415 => "Unsupported Media Type",
        _ => "Internal Server Error",
    }
}

/// Decodes `application/x-www-form-urlencoded` into pairs, in order.
pub fn parse_urlencoded(body: &str) -> Vec<(String, String)> {
    body.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(name), percent_decode(value))
        })
        .collect()
}

pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex_digit(bytes[i + 1]), hex_digit(bytes[i + 2]))
            {
                (Some(high), Some(low)) => {
                    out.push(high << 4 | low);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_digit(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_read_with_its_headers_and_body() {
        let raw = b"POST /requests?x=1 HTTP/1.1\r\nHost: a\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: 4\r\n\r\n{}\r\nextra";
        let request = read_request(&mut &raw[..]).unwrap().unwrap();
        assert_eq!(request.method, "POST");
        assert_eq!(request.path, "/requests");
        assert_eq!(request.query, "x=1");
        assert_eq!(request.content_type(), "application/json");
        assert_eq!(request.body, b"{}\r\n");
    }

    #[test]
    fn urlencoded_bodies_are_decoded() {
        let pairs = parse_urlencoded("name=Ana+Lima&email=ana%40x.org&note=100%&empty=");
        assert_eq!(pairs[0], ("name".into(), "Ana Lima".into()));
        assert_eq!(pairs[1], ("email".into(), "ana@x.org".into()));
        assert_eq!(pairs[2], ("note".into(), "100%".into()));
        assert_eq!(pairs[3], ("empty".into(), "".into()));
    }
}
