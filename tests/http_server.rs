//! A tiny std-only HTTP/1.1 server for tests: fixed routes on 127.0.0.1, one
//! thread per connection, every answer closes its connection (so no client
//! pool reuse muddles the hit counts). Shared by the fetch unit tests and the
//! integration tests, hence `dead_code` allowed: each uses a different part.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// What the server answers for one path.
#[derive(Debug, Clone)]
pub struct Route {
    pub path: String,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Waited before answering (after reading the request).
    pub delay: Duration,
    /// Announce the whole body but close after this many body bytes.
    pub cut_after: Option<usize>,
    /// Like `cut_after`, but close with a reset (RST) instead of a clean close.
    pub reset_after: Option<usize>,
    /// Stop for a while after this many body bytes, then send the rest.
    pub pause_after: Option<(usize, Duration)>,
    /// Send the body with `Transfer-Encoding: chunked` instead of a Content-Length.
    pub chunked: bool,
    /// Answer `fail_status` (with `fail_headers`) this many times first.
    pub fail_times: usize,
    pub fail_status: u16,
    pub fail_headers: Vec<(String, String)>,
}

impl Route {
    /// 200 with `body` as `text/plain`.
    pub fn ok(path: &str, body: impl Into<Vec<u8>>) -> Route {
        Route {
            path: path.into(),
            status: 200,
            headers: vec![("Content-Type".into(), "text/plain".into())],
            body: body.into(),
            delay: Duration::ZERO,
            cut_after: None,
            reset_after: None,
            pause_after: None,
            chunked: false,
            fail_times: 0,
            fail_status: 503,
            fail_headers: Vec::new(),
        }
    }

    /// 302 to `location` (a path on this server or a whole URL).
    pub fn redirect(path: &str, location: &str) -> Route {
        Route::ok(path, Vec::new()).status(302).header("Location", location)
    }

    /// 200 with `body` gzip-compressed and `Content-Encoding: gzip`.
    pub fn gzip(path: &str, body: &[u8]) -> Route {
        use flate2::{Compression, write::GzEncoder};
        let mut enc = GzEncoder::new(Vec::new(), Compression::default());
        let compressed = enc.write_all(body).and_then(|()| enc.finish()).expect("gzip into memory");
        Route::ok(path, compressed).header("Content-Encoding", "gzip")
    }

    pub fn status(mut self, status: u16) -> Route {
        self.status = status;
        self
    }

    /// Adds a header, replacing one of the same name.
    pub fn header(mut self, name: &str, value: &str) -> Route {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn delay(mut self, delay: Duration) -> Route {
        self.delay = delay;
        self
    }

    pub fn cut_after(mut self, bytes: usize) -> Route {
        self.cut_after = Some(bytes);
        self
    }

    pub fn reset_after(mut self, bytes: usize) -> Route {
        self.reset_after = Some(bytes);
        self
    }

    pub fn pause_after(mut self, bytes: usize, pause: Duration) -> Route {
        self.pause_after = Some((bytes, pause));
        self
    }

    pub fn chunked(mut self) -> Route {
        self.chunked = true;
        self
    }

    /// Answers `status` with `headers` the first `times` requests.
    pub fn fail(mut self, times: usize, status: u16, headers: &[(&str, &str)]) -> Route {
        self.fail_times = times;
        self.fail_status = status;
        self.fail_headers = headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
        self
    }
}

/// A running server; it stops accepting when dropped.
pub struct Server {
    pub addr: SocketAddr,
    hits: Arc<Mutex<HashMap<String, usize>>>,
    stop: Arc<AtomicBool>,
}

impl Server {
    pub fn start(routes: Vec<Route>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("local address");
        let routes: Arc<HashMap<String, Route>> = Arc::new(routes.into_iter().map(|r| (r.path.clone(), r)).collect());
        let hits = Arc::new(Mutex::new(HashMap::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (h, s) = (hits.clone(), stop.clone());
        thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (routes, hits) = (routes.clone(), h.clone());
                thread::spawn(move || {
                    // A client that gives up early makes writes fail: nothing to do.
                    let _ = serve(conn, &routes, &hits);
                });
            }
        });
        Server { addr, hits, stop }
    }

    /// The URL of `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// How many requests `path` has had.
    pub fn hits(&self, path: &str) -> usize {
        self.hits.lock().map_or(0, |h| h.get(path).copied().unwrap_or(0))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so that it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

/// Reads the request line, then (unless the route resets) the rest of the head.
fn serve(mut conn: TcpStream, routes: &HashMap<String, Route>, hits: &Mutex<HashMap<String, usize>>) -> io::Result<()> {
    let line = read_until(&mut conn, b"\r\n")?;
    let path = line.split(' ').nth(1).unwrap_or("").to_string();
    let route = routes.get(&path);
    // Unread request bytes left in the socket make the close a reset.
    if route.is_none_or(|r| r.reset_after.is_none()) {
        read_until(&mut conn, b"\r\n\r\n")?;
    }
    let hit = {
        let mut h = hits.lock().map_err(|_| io::Error::other("poisoned"))?;
        let n = h.entry(path).or_insert(0);
        *n += 1;
        *n
    };
    let Some(route) = route else {
        return conn.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found");
    };
    thread::sleep(route.delay);
    if hit <= route.fail_times {
        let mut head = format!(
            "HTTP/1.1 {} {}\r\nContent-Length: 4\r\nConnection: close\r\n",
            route.fail_status,
            reason(route.fail_status)
        );
        for (n, v) in &route.fail_headers {
            head += &format!("{n}: {v}\r\n");
        }
        return conn.write_all(format!("{head}\r\nbusy").as_bytes());
    }
    let mut head = format!("HTTP/1.1 {} {}\r\nConnection: close\r\n", route.status, reason(route.status));
    if route.chunked {
        head += "Transfer-Encoding: chunked\r\n";
    } else {
        head += &format!("Content-Length: {}\r\n", route.body.len());
    }
    for (n, v) in &route.headers {
        head += &format!("{n}: {v}\r\n");
    }
    head += "\r\n";
    conn.write_all(head.as_bytes())?;
    let stop = route.cut_after.or(route.reset_after).unwrap_or(route.body.len()).min(route.body.len());
    let (pause_at, pause) = route.pause_after.unwrap_or((usize::MAX, Duration::ZERO));
    let mut sent = 0;
    for piece in route.body[..stop].chunks(16 * 1024) {
        let mut piece = piece;
        if sent < pause_at && sent + piece.len() >= pause_at {
            let (a, b) = piece.split_at(pause_at - sent);
            write_piece(&mut conn, a, route.chunked)?;
            conn.flush()?;
            thread::sleep(pause);
            sent += a.len();
            piece = b;
        }
        write_piece(&mut conn, piece, route.chunked)?;
        sent += piece.len();
    }
    if stop == route.body.len() && route.chunked {
        conn.write_all(b"0\r\n\r\n")?;
    }
    conn.flush()
}

fn write_piece(conn: &mut TcpStream, piece: &[u8], chunked: bool) -> io::Result<()> {
    if piece.is_empty() {
        return Ok(());
    }
    if chunked {
        conn.write_all(format!("{:x}\r\n", piece.len()).as_bytes())?;
        conn.write_all(piece)?;
        conn.write_all(b"\r\n")
    } else {
        conn.write_all(piece)
    }
}

/// Reads byte by byte up to and including `end` (heads are tiny).
fn read_until(conn: &mut TcpStream, end: &[u8]) -> io::Result<String> {
    let mut got = Vec::new();
    let mut byte = [0u8; 1];
    while !got.ends_with(end) {
        if conn.read(&mut byte)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        got.push(byte[0]);
    }
    Ok(String::from_utf8_lossy(&got).into_owned())
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Whatever",
    }
}
