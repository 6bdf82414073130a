//! Downloads: URLs fetched in parallel, each body streamed into the counter as
//! it arrives.
//!
//! The counter reads documents strictly in input order, one at a time, so a
//! download cannot hand its body over whole (a 1 GB body would sit in memory)
//! nor wait for its turn (the parallelism would be lost). Instead each
//! download streams into a bounded pipe of blocks (4 MiB in all): the consumer
//! reads from the pipe, and a full pipe blocks the download (TCP backpressure
//! then slows the server).
//!
//! `jobs` worker threads (plain std threads, off any rayon pool: they block
//! on the network) take URLs from one FIFO queue, so slots are granted in
//! submission order. A worker holds its slot from the request until the
//! consumer has read the body to its end or dropped it: memory stays at
//! `jobs` pipes however far ahead URLs are submitted.
//!
//! Timeouts (ureq 3 sets none by default): `connect_timeout` bounds name
//! resolution and connecting (`timeout_resolve`, `timeout_connect`);
//! `read_timeout` bounds the wait for the response head
//! (`timeout_recv_response`) and every single transport read and write
//! (`timeout_per_read`, `timeout_per_write`), so a stalled server fails while
//! a long download that keeps moving never does (no whole-body timeout).

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TryRecvError, bounded};
use encoding_rs::Encoding;
use std::fmt;
use std::io::{self, Read};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;
use ureq::http::{Response, StatusCode, header};

/// Bytes asked of each network read; a block in the pipe holds at most this.
const BLOCK: usize = 64 * 1024;
/// Blocks a pipe holds: 4 MiB per download.
const PIPE_BLOCKS: usize = 64;
/// The longest wait between tries, whatever Retry-After or the doubling say.
const MAX_WAIT: Duration = Duration::from_secs(30);

/// How URLs are fetched.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// Downloads at once (0 is treated as 1).
    pub jobs: usize,
    /// Longest wait for name resolution, and then for the connection.
    pub connect_timeout: Duration,
    /// Longest wait for any bytes (the response head or the body).
    pub read_timeout: Duration,
    pub max_redirects: u32,
    /// Extra tries after a connection error, a 429 or a 5xx (all before any
    /// body byte was handed on).
    pub retries: u32,
    /// Wait before the first retry; doubles each retry. A Retry-After in
    /// seconds replaces it (up to 30 s).
    pub backoff: Duration,
    pub user_agent: String,
    /// Told of each download's progress (for progress bars).
    pub watch: Option<Watch>,
}

/// What a download reports as it goes; `id` tells downloads apart (the
/// same URL may be fetched twice).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event<'a> {
    /// The head arrived; the body's length when known.
    Started { id: u64, url: &'a str, length: Option<u64> },
    /// More body bytes arrived.
    Read { id: u64, bytes: u64 },
    /// The body ended (whole or not).
    Ended { id: u64 },
}

/// A callback for download [`Event`]s.
#[derive(Clone)]
pub struct Watch(pub Arc<dyn Fn(Event<'_>) + Send + Sync>);

impl fmt::Debug for Watch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Watch")
    }
}

impl Default for FetchOptions {
    fn default() -> FetchOptions {
        FetchOptions {
            jobs: 8,
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
            max_redirects: 10,
            retries: 3,
            backoff: Duration::from_millis(500),
            user_agent: concat!("gpucount/", env!("CARGO_PKG_VERSION")).into(),
            watch: None,
        }
    }
}

/// Whether a command-line operand is a URL (http:// or https://, scheme case-insensitive).
pub fn is_url(arg: &str) -> bool {
    ["http://", "https://"].iter().any(|p| arg.get(..p.len()).is_some_and(|s| s.eq_ignore_ascii_case(p)))
}

/// A response whose body is being streamed.
#[derive(Debug)]
pub struct Download {
    /// As given.
    pub url: String,
    /// The Content-Type header value, as sent.
    pub content_type: Option<String>,
    /// From Content-Type's charset parameter.
    pub charset: Option<&'static Encoding>,
    /// Of the decoded body when known (None when a Content-Encoding is undone).
    pub content_length: Option<u64>,
    /// The decoded body.
    pub body: Body,
}

/// What a download thread puts in the pipe.
enum Block {
    Data(Vec<u8>),
    /// The whole body arrived: the explicit end, so that a thread that stops
    /// without one is an error rather than a silent short body.
    End,
    Failed(io::Error),
}

/// Where a [`Body`] stands.
enum State {
    Open,
    Ended,
    /// Repeated on every later read.
    Failed(io::ErrorKind, String),
}

/// A download's decoded body, read as it arrives. A body cut short ends with
/// an error saying so, never with a silent end. Dropping it stops the
/// download and frees its slot: at once while data flows (the thread is
/// waiting on the pipe), within `read_timeout` when the server has stalled
/// (a blocked network read cannot be interrupted).
pub struct Body {
    blocks: Receiver<Block>,
    block: Vec<u8>,
    pos: usize,
    state: State,
    /// The download thread waits for this to go before taking the next URL,
    /// so that the slot is held until the body is read to its end or dropped.
    slot: Option<Sender<()>>,
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Body")
    }
}

impl Body {
    fn fail(&mut self, e: io::Error) -> io::Error {
        self.state = State::Failed(e.kind(), e.to_string());
        self.slot = None;
        e
    }
}

impl Read for Body {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.pos < self.block.len() || buf.is_empty() {
                let n = buf.len().min(self.block.len() - self.pos);
                buf[..n].copy_from_slice(&self.block[self.pos..self.pos + n]);
                self.pos += n;
                return Ok(n);
            }
            match &self.state {
                State::Open => {}
                State::Ended => return Ok(0),
                State::Failed(kind, msg) => return Err(io::Error::new(*kind, msg.clone())),
            }
            match self.blocks.recv() {
                Ok(Block::Data(b)) => (self.block, self.pos) = (b, 0),
                Ok(Block::End) => {
                    self.state = State::Ended;
                    self.slot = None;
                    self.block = Vec::new();
                    return Ok(0);
                }
                Ok(Block::Failed(e)) => return Err(self.fail(e)),
                Err(_) => return Err(self.fail(io::Error::other("download stopped unexpectedly"))),
            }
        }
    }
}

/// Why a URL failed, as one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchError(pub String);

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FetchError {}

/// A URL waiting for a download thread.
struct Job {
    id: u64,
    url: String,
    result: Sender<Result<Download, FetchError>>,
    /// Disconnected once the [`Pending`] is dropped.
    cancel: Receiver<()>,
}

struct Shared {
    agent: ureq::Agent,
    opts: FetchOptions,
    queue: Sender<Job>,
    queue_rx: Receiver<Job>,
    /// Download threads started so far (at most `jobs`).
    workers: Mutex<usize>,
    /// Downloads submitted so far (each one's id in [`Event`]s).
    submitted: std::sync::atomic::AtomicU64,
}

/// Downloads, at most `jobs` at a time. Cheap to clone (shared inside).
#[derive(Clone)]
pub struct Fetcher {
    shared: Arc<Shared>,
}

impl Fetcher {
    pub fn new(mut opts: FetchOptions) -> Fetcher {
        opts.jobs = opts.jobs.max(1);
        let (connect, read) = (Some(opts.connect_timeout), Some(opts.read_timeout));
        let agent = ureq::Agent::config_builder()
            // 429 and 5xx are read here (Retry-After), not turned into errors.
            .http_status_as_error(false)
            .max_redirects(opts.max_redirects)
            .user_agent(opts.user_agent.as_str())
            .timeout_resolve(connect)
            .timeout_connect(connect)
            .timeout_recv_response(read)
            .timeout_per_read(read)
            .timeout_per_write(read)
            .build()
            .into();
        let (queue, queue_rx) = crossbeam_channel::unbounded();
        Fetcher {
            shared: Arc::new(Shared {
                agent,
                opts,
                queue,
                queue_rx,
                workers: Mutex::new(0),
                submitted: Default::default(),
            }),
        }
    }

    /// Starts fetching `url` as soon as one of the `jobs` slots is free
    /// (slots are granted in submission order); a slot is held from the
    /// request until the body has been read to its end or dropped.
    pub fn submit(&self, url: String) -> Pending {
        let (result_tx, result) = bounded(1);
        let (cancel, cancel_rx) = bounded(0);
        let pending = Pending { result, _cancel: cancel };
        if let Err(why) = self.grow() {
            let _ = result_tx.send(Err(FetchError(format!("cannot start a download thread: {why}"))));
            return pending;
        }
        let id = self.shared.submitted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let job = Job { id, url, result: result_tx, cancel: cancel_rx };
        // The queue's receiver lives in `shared`, so the send cannot fail;
        // were it to, the job's sender drops and `wait` reports it.
        let _ = self.shared.queue.send(job);
        pending
    }

    /// Starts one more download thread while there are fewer than `jobs`
    /// (only as many as URLs submitted). Fails only if none could start.
    fn grow(&self) -> io::Result<()> {
        let s = &self.shared;
        let mut workers = s.workers.lock().map_err(|_| io::Error::other("fetcher poisoned"))?;
        if *workers < s.opts.jobs {
            let (queue, agent, opts) = (s.queue_rx.clone(), s.agent.clone(), s.opts.clone());
            match thread::Builder::new().name("fetch".into()).spawn(move || work(&queue, &agent, &opts)) {
                Ok(_) => *workers += 1,
                Err(e) if *workers == 0 => return Err(e),
                Err(_) => {}
            }
        }
        Ok(())
    }
}

/// A submitted URL. Dropping it unwaited cancels it and frees its slot: a
/// queued URL is never requested, a retry wait ends at once, and a request
/// in flight is dropped when its head arrives (or times out).
pub struct Pending {
    result: Receiver<Result<Download, FetchError>>,
    /// Never sent on: dropping it tells the download thread to give up.
    _cancel: Sender<()>,
}

impl Pending {
    /// Blocks until the response headers arrive (after redirects and
    /// retries) or the URL fails.
    pub fn wait(self) -> Result<Download, FetchError> {
        self.result.recv().unwrap_or_else(|_| Err(FetchError("download stopped unexpectedly".into())))
    }
}

/// A download thread: takes URLs in order until the fetcher is gone and the
/// queue is empty.
fn work(queue: &Receiver<Job>, agent: &ureq::Agent, opts: &FetchOptions) {
    for job in queue.iter() {
        if matches!(job.cancel.try_recv(), Err(TryRecvError::Disconnected)) {
            continue;
        }
        fetch(job, agent, opts);
    }
}

/// Fetches one URL: the head to the [`Pending`], then the body into the pipe;
/// returns once the consumer is done with the body.
fn fetch(job: Job, agent: &ureq::Agent, opts: &FetchOptions) {
    let response = match request(&job.url, &job.cancel, agent, opts) {
        Ok(r) => r,
        Err(e) => {
            // Room for one: never blocks; fails only when nobody waits.
            let _ = job.result.send(Err(e));
            return;
        }
    };
    let (parts, body) = response.into_parts();
    let content_type = parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(String::from);
    let charset = content_type.as_deref().and_then(charset_of);
    // ureq says None when it undoes a Content-Encoding.
    let content_length = body.content_length();
    let (tx, blocks) = bounded(PIPE_BLOCKS);
    let (slot, slot_rx) = bounded::<()>(0);
    let body_end = Body { blocks, block: Vec::new(), pos: 0, state: State::Open, slot: Some(slot) };
    let (id, url) = (job.id, job.url.clone());
    let download = Download { url: job.url, content_type, charset, content_length, body: body_end };
    if job.result.send(Ok(download)).is_err() {
        return; // the Pending was dropped meanwhile
    }
    let tell = |e: Event<'_>| {
        if let Some(w) = &opts.watch {
            (w.0)(e)
        }
    };
    tell(Event::Started { id, url: &url, length: content_length });
    pump(body.into_reader(), content_length, &tx, &|bytes| tell(Event::Read { id, bytes }));
    tell(Event::Ended { id });
    // Returns (disconnected) when the Body has ended, failed or been dropped.
    let _ = slot_rx.recv();
}

/// Streams the body into the pipe; ends with `End` or `Failed`, or quietly
/// when the consumer has dropped the body.
fn pump(mut reader: impl Read, expected: Option<u64>, tx: &Sender<Block>, read: &dyn Fn(u64)) {
    let mut got = 0u64;
    loop {
        let mut block = vec![0u8; BLOCK];
        let last = match reader.read(&mut block) {
            // ureq 3.5 already fails such a read ("Peer disconnected");
            // checked here too, so that a silent short end can never pass.
            Ok(0) if expected.is_some_and(|n| got < n) => {
                Block::Failed(cut_short(got, expected, io::ErrorKind::UnexpectedEof, "connection closed"))
            }
            Ok(0) => Block::End,
            Ok(n) => {
                block.truncate(n);
                got += n as u64;
                read(n as u64);
                if tx.send(Block::Data(block)).is_err() {
                    return;
                }
                continue;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let kind = e.kind();
                let err = ureq::Error::from(e);
                let kind = if matches!(err, ureq::Error::Timeout(_)) { io::ErrorKind::TimedOut } else { kind };
                Block::Failed(cut_short(got, expected, kind, &describe_body(&err)))
            }
        };
        let _ = tx.send(last);
        return;
    }
}

fn cut_short(got: u64, expected: Option<u64>, kind: io::ErrorKind, why: &str) -> io::Error {
    let of = expected.map(|n| format!(" of {n}")).unwrap_or_default();
    io::Error::new(kind, format!("body cut short after {got}{of} bytes: {why}"))
}

/// The charset parameter of a Content-Type value, if a known encoding.
fn charset_of(content_type: &str) -> Option<&'static Encoding> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("charset") {
            return None;
        }
        Encoding::for_label(value.trim().trim_matches('"').as_bytes())
    })
}

/// Sends the request, following redirects (ureq does) and retrying
/// connection errors, 429 and 5xx, until a 2xx head arrives.
fn request(
    url: &str,
    cancel: &Receiver<()>,
    agent: &ureq::Agent,
    opts: &FetchOptions,
) -> Result<Response<ureq::Body>, FetchError> {
    let mut tries = 0u32;
    loop {
        let (why, wait) = match agent.get(url).call() {
            Ok(r) if r.status().is_success() => return Ok(r),
            Ok(r) => {
                let status = r.status();
                // max_redirects 0: ureq hands the redirect back as it is.
                if status.is_redirection() && r.headers().contains_key(header::LOCATION) && opts.max_redirects == 0 {
                    return Err(FetchError("too many redirects (0)".into()));
                }
                let line = status_line(status);
                if status != StatusCode::TOO_MANY_REQUESTS && !status.is_server_error() {
                    return Err(FetchError(line));
                }
                (line, retry_after(&r))
            }
            Err(e) if is_connection_error(&e) => (describe(&e, opts), None),
            Err(e) => return Err(FetchError(describe(&e, opts))),
        };
        if tries == opts.retries {
            let line = match tries {
                0 => why,
                1 => format!("{why} (after 1 retry)"),
                n => format!("{why} (after {n} retries)"),
            };
            return Err(FetchError(line));
        }
        let doubled = opts.backoff.saturating_mul(1 << tries.min(20));
        let wait = wait.unwrap_or(doubled).min(MAX_WAIT);
        tries += 1;
        // Sleeps, but wakes at once if the Pending is dropped.
        if let Err(RecvTimeoutError::Disconnected) = cancel.recv_timeout(wait) {
            return Err(FetchError("cancelled".into()));
        }
    }
}

fn status_line(status: StatusCode) -> String {
    match status.canonical_reason() {
        Some(reason) => format!("HTTP {} {reason}", status.as_u16()),
        None => format!("HTTP {}", status.as_u16()),
    }
}

/// Retry-After in seconds (the HTTP-date form is left to the backoff).
fn retry_after(r: &Response<ureq::Body>) -> Option<Duration> {
    let secs = r.headers().get(header::RETRY_AFTER)?.to_str().ok()?.trim().parse().ok()?;
    Some(Duration::from_secs(secs))
}

/// Errors worth another try: the connection failed, not the request.
fn is_connection_error(e: &ureq::Error) -> bool {
    use io::ErrorKind::*;
    match e {
        ureq::Error::Io(e) => {
            matches!(
                e.kind(),
                ConnectionRefused | ConnectionReset | ConnectionAborted | NotConnected | BrokenPipe | UnexpectedEof
            )
        }
        ureq::Error::ConnectionFailed | ureq::Error::Timeout(ureq::Timeout::Connect) => true,
        _ => false,
    }
}

fn secs(d: Duration) -> String {
    format!("{} s", d.as_secs_f64())
}

/// One line for an error before the body.
fn describe(e: &ureq::Error, opts: &FetchOptions) -> String {
    use ureq::Timeout;
    match e {
        ureq::Error::Timeout(Timeout::Resolve) => {
            format!("timed out resolving the host name after {}", secs(opts.connect_timeout))
        }
        ureq::Error::Timeout(Timeout::Connect) => format!("timed out connecting after {}", secs(opts.connect_timeout)),
        ureq::Error::Timeout(_) => format!("timed out waiting for the server after {}", secs(opts.read_timeout)),
        ureq::Error::HostNotFound => "name resolution failed: no address found".into(),
        ureq::Error::TooManyRedirects => format!("too many redirects ({})", opts.max_redirects),
        ureq::Error::BadUri(s) => format!("bad URL: {s}"),
        ureq::Error::Io(e) if e.to_string().contains("lookup address") => format!("name resolution failed: {e}"),
        other => describe_body(other),
    }
}

/// One line for an error that can also come while reading the body.
fn describe_body(e: &ureq::Error) -> String {
    use io::ErrorKind::*;
    match e {
        ureq::Error::Io(e) => match e.kind() {
            ConnectionRefused => "connection refused".into(),
            ConnectionReset => "connection reset".into(),
            ConnectionAborted => "connection aborted".into(),
            UnexpectedEof => "connection closed".into(),
            _ => e.to_string(),
        },
        ureq::Error::Timeout(_) => "timed out".into(),
        ureq::Error::Protocol(p) => format!("bad HTTP data: {p}"),
        ureq::Error::Decompress(what, e) => format!("corrupt {what} data: {e}"),
        other => other.to_string(),
    }
}

#[cfg(test)]
#[path = "../../tests/http_server.rs"]
mod http_server;

#[cfg(test)]
mod tests {
    use super::http_server::{Route, Server};
    use super::*;
    use std::time::Instant;

    /// Fast retries and short timeouts, so failures show quickly.
    fn quick() -> FetchOptions {
        FetchOptions {
            backoff: Duration::from_millis(20),
            connect_timeout: Duration::from_secs(5),
            read_timeout: Duration::from_secs(5),
            ..FetchOptions::default()
        }
    }

    fn get(opts: FetchOptions, url: String) -> Result<Download, FetchError> {
        Fetcher::new(opts).submit(url).wait()
    }

    fn read_all(d: &mut Download) -> io::Result<Vec<u8>> {
        let mut v = Vec::new();
        d.body.read_to_end(&mut v).map(|_| v)
    }

    fn text(n: usize) -> Vec<u8> {
        (0..n).map(|i| b"abcdefghij klmnopqrstuvwxyz\n"[i % 28]).collect()
    }

    #[test]
    fn urls_are_told_from_paths() {
        assert!(is_url("http://a/b") && is_url("HTTPS://a") && is_url("Http://x"));
        assert!(!is_url("ftp://a") && !is_url("book.txt") && !is_url("http:/a") && !is_url("") && !is_url("h"));
    }

    #[test]
    fn plain_body() {
        let s = Server::start(vec![Route::ok("/a", "hello world")]);
        let mut d = get(quick(), s.url("/a")).expect("fetch");
        assert_eq!(d.url, s.url("/a"));
        assert_eq!(d.content_type.as_deref(), Some("text/plain"));
        assert_eq!(d.content_length, Some(11));
        assert_eq!(d.charset, None);
        assert_eq!(read_all(&mut d).expect("body"), b"hello world");
        assert_eq!(d.body.read(&mut [0; 8]).expect("after the end"), 0);
    }

    #[test]
    fn chunked_body() {
        let body = text(100_000);
        let s = Server::start(vec![Route::ok("/c", body.clone()).chunked()]);
        let mut d = get(quick(), s.url("/c")).expect("fetch");
        assert_eq!(d.content_length, None);
        assert_eq!(read_all(&mut d).expect("body"), body);
    }

    #[test]
    fn gzip_is_undone() {
        let body = text(200_000);
        let s = Server::start(vec![Route::gzip("/z", &body)]);
        let mut d = get(quick(), s.url("/z")).expect("fetch");
        assert_eq!(d.content_length, None);
        assert_eq!(read_all(&mut d).expect("body"), body);
    }

    #[test]
    fn corrupt_gzip_is_an_error() {
        let s = Server::start(vec![Route::ok("/z", text(5000)).header("Content-Encoding", "gzip")]);
        let mut d = get(quick(), s.url("/z")).expect("head");
        let e = read_all(&mut d).expect_err("corrupt gzip");
        assert!(e.to_string().contains("gzip"), "{e}");
    }

    #[test]
    fn truncated_gzip_is_an_error() {
        // Framing intact (Content-Length of what is sent), gzip stream cut.
        let mut route = Route::gzip("/z", &text(200_000));
        route.body.truncate(route.body.len() / 2);
        let s = Server::start(vec![route]);
        let mut d = get(quick(), s.url("/z")).expect("head");
        let e = read_all(&mut d).expect_err("truncated gzip");
        assert!(e.to_string().contains("gzip"), "{e}");
    }

    #[test]
    fn charset_from_content_type() {
        let route = Route::ok("/w", b"caf\xe9".to_vec()).header("Content-Type", "text/plain; charset=windows-1252");
        let s = Server::start(vec![route]);
        let d = get(quick(), s.url("/w")).expect("fetch");
        assert_eq!(d.content_type.as_deref(), Some("text/plain; charset=windows-1252"));
        assert_eq!(d.charset, Some(encoding_rs::WINDOWS_1252));
        assert_eq!(charset_of("text/html; Charset=\"UTF-8\""), Some(encoding_rs::UTF_8));
        assert_eq!(charset_of("text/html; charset=nonsense"), None);
    }

    #[test]
    fn not_found() {
        let s = Server::start(vec![]);
        let e = get(quick(), s.url("/missing")).expect_err("404");
        assert_eq!(e.to_string(), "HTTP 404 Not Found");
        assert_eq!(s.hits("/missing"), 1, "a 404 is not retried");
    }

    #[test]
    fn unavailable_twice_then_ok() {
        let s = Server::start(vec![Route::ok("/r", "fine").fail(2, 503, &[])]);
        let mut d = get(quick(), s.url("/r")).expect("third try");
        assert_eq!(read_all(&mut d).expect("body"), b"fine");
        assert_eq!(s.hits("/r"), 3);
    }

    #[test]
    fn unavailable_for_good() {
        let s = Server::start(vec![Route::ok("/r", "fine").fail(100, 503, &[])]);
        let e = get(quick(), s.url("/r")).expect_err("503s");
        assert_eq!(e.to_string(), "HTTP 503 Service Unavailable (after 3 retries)");
        assert_eq!(s.hits("/r"), 4);
    }

    #[test]
    fn too_many_requests_honours_retry_after() {
        let s = Server::start(vec![Route::ok("/t", "fine").fail(1, 429, &[("Retry-After", "0")])]);
        let opts = FetchOptions { backoff: Duration::from_secs(20), ..quick() };
        let start = Instant::now();
        let mut d = get(opts, s.url("/t")).expect("second try");
        assert_eq!(read_all(&mut d).expect("body"), b"fine");
        assert_eq!(s.hits("/t"), 2);
        assert!(start.elapsed() < Duration::from_secs(10), "Retry-After: 0 replaces the backoff");
    }

    #[test]
    fn redirect_chain() {
        let s = Server::start(vec![
            Route::redirect("/1", "/2"),
            Route::redirect("/2", "/3"),
            Route::redirect("/3", "/end"),
            Route::ok("/end", "landed"),
        ]);
        let mut d = get(quick(), s.url("/1")).expect("fetch");
        assert_eq!(d.url, s.url("/1"));
        assert_eq!(read_all(&mut d).expect("body"), b"landed");
    }

    #[test]
    fn redirect_to_another_host() {
        let b = Server::start(vec![Route::ok("/end", "there")]);
        let a = Server::start(vec![Route::redirect("/go", &b.url("/end"))]);
        let mut d = get(quick(), a.url("/go")).expect("fetch");
        assert_eq!(read_all(&mut d).expect("body"), b"there");
    }

    #[test]
    fn too_many_redirects() {
        let s = Server::start(vec![Route::redirect("/loop", "/loop")]);
        let opts = FetchOptions { max_redirects: 3, ..quick() };
        let e = get(opts, s.url("/loop")).expect_err("loop");
        assert_eq!(e.to_string(), "too many redirects (3)");
        let opts = FetchOptions { max_redirects: 0, ..quick() };
        let e = get(opts, s.url("/loop")).expect_err("no redirects allowed");
        assert_eq!(e.to_string(), "too many redirects (0)");
    }

    #[test]
    fn body_cut_short() {
        let s = Server::start(vec![Route::ok("/cut", text(1000)).cut_after(500)]);
        let mut d = get(quick(), s.url("/cut")).expect("head");
        assert_eq!(d.content_length, Some(1000));
        let e = read_all(&mut d).expect_err("short body");
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
        assert!(e.to_string().starts_with("body cut short after 500 of 1000 bytes"), "{e}");
        // And it stays an error.
        assert!(d.body.read(&mut [0; 8]).is_err());
    }

    #[test]
    fn chunked_body_cut_short() {
        let s = Server::start(vec![Route::ok("/cut", text(50_000)).chunked().cut_after(20_000)]);
        let mut d = get(quick(), s.url("/cut")).expect("head");
        let e = read_all(&mut d).expect_err("short body");
        assert!(e.to_string().starts_with("body cut short after 20000 bytes"), "{e}");
    }

    #[test]
    fn connection_reset_mid_body() {
        let s = Server::start(vec![Route::ok("/rst", text(100_000)).reset_after(30_000)]);
        let mut d = get(quick(), s.url("/rst")).expect("head");
        let e = read_all(&mut d).expect_err("reset");
        assert!(e.to_string().starts_with("body cut short after "), "{e}");
    }

    #[test]
    fn slow_head_times_out() {
        let s = Server::start(vec![Route::ok("/slow", "late").delay(Duration::from_secs(3))]);
        let opts = FetchOptions { read_timeout: Duration::from_millis(300), ..quick() };
        let start = Instant::now();
        let e = get(opts, s.url("/slow")).expect_err("timeout");
        assert_eq!(e.to_string(), "timed out waiting for the server after 0.3 s");
        assert!(start.elapsed() < Duration::from_secs(2), "a response timeout is not retried");
    }

    #[test]
    fn stalled_body_times_out() {
        let route = Route::ok("/stall", text(100_000)).pause_after(10_000, Duration::from_secs(3));
        let s = Server::start(vec![route]);
        let opts = FetchOptions { read_timeout: Duration::from_millis(300), ..quick() };
        let mut d = get(opts, s.url("/stall")).expect("head");
        let e = read_all(&mut d).expect_err("timeout");
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
        assert_eq!(e.to_string(), "body cut short after 10000 of 100000 bytes: timed out");
    }

    #[test]
    fn slow_but_moving_body_is_fine() {
        // Pauses shorter than read_timeout, longer in all: no whole-body timeout.
        let route = Route::ok("/p", text(100_000)).pause_after(50_000, Duration::from_millis(600));
        let s = Server::start(vec![route]);
        let opts = FetchOptions { read_timeout: Duration::from_millis(1000), ..quick() };
        let mut d = get(opts, s.url("/p")).expect("head");
        assert_eq!(read_all(&mut d).expect("body").len(), 100_000);
    }

    #[test]
    fn connection_refused_after_retries() {
        let addr = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("free port");
        let e = get(quick(), format!("http://{addr}/x")).expect_err("nothing listens");
        assert_eq!(e.to_string(), "connection refused (after 3 retries)");
    }

    #[test]
    fn large_body_with_a_slow_reader() {
        let body = text(5 << 20);
        let s = Server::start(vec![Route::ok("/big", body.clone())]);
        let mut d = get(quick(), s.url("/big")).expect("head");
        let mut got = Vec::new();
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = d.body.read(&mut buf).expect("body");
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
            if got.len() < 1 << 20 {
                // Slow at first: the pipe fills and the download waits.
                thread::sleep(Duration::from_millis(20));
            }
        }
        assert!(got == body, "5 MB body arrives byte-exact");
    }

    /// Fetches `n` URLs delayed 400 ms with `jobs`, waiting and reading in order.
    fn fetch_delayed(jobs: usize) -> Duration {
        let n = 6;
        let routes = (0..n).map(|i| Route::ok(&format!("/{i}"), format!("doc {i}")).delay(Duration::from_millis(400)));
        let s = Server::start(routes.collect());
        let fetcher = Fetcher::new(FetchOptions { jobs, ..quick() });
        let start = Instant::now();
        let pending: Vec<Pending> = (0..n).map(|i| fetcher.submit(s.url(&format!("/{i}")))).collect();
        for (i, p) in pending.into_iter().enumerate() {
            let mut d = p.wait().expect("fetch");
            assert_eq!(read_all(&mut d).expect("body"), format!("doc {i}").as_bytes());
        }
        start.elapsed()
    }

    #[test]
    fn parallel_downloads() {
        let t = fetch_delayed(6);
        assert!(t < Duration::from_millis(1500), "6 at once took {t:?}");
        let t = fetch_delayed(1);
        assert!(t >= Duration::from_millis(2400), "one at a time took {t:?}");
    }

    #[test]
    fn dropping_frees_the_slot() {
        let s = Server::start(vec![
            Route::ok("/big", text(20 << 20)),
            Route::ok("/slow", "never read").delay(Duration::from_millis(300)),
            Route::ok("/next", "next"),
        ]);
        let fetcher = Fetcher::new(FetchOptions { jobs: 1, ..quick() });
        // A body dropped unread (bigger than the pipe: its thread was blocked).
        let big = fetcher.submit(s.url("/big"));
        let next = fetcher.submit(s.url("/next"));
        drop(big.wait().expect("head"));
        let mut d = next.wait().expect("second URL");
        assert_eq!(read_all(&mut d).expect("body"), b"next");
        drop(d);
        // A Pending dropped unwaited, in flight and queued.
        let slow = fetcher.submit(s.url("/slow"));
        let queued = fetcher.submit(s.url("/big"));
        let next = fetcher.submit(s.url("/next"));
        drop(slow);
        drop(queued);
        let mut d = next.wait().expect("third URL");
        assert_eq!(read_all(&mut d).expect("body"), b"next");
        assert_eq!(s.hits("/big"), 1, "a dropped queued URL is never requested");
    }

    #[test]
    fn slot_is_held_until_the_body_is_read() {
        let s = Server::start(vec![Route::ok("/a", "a"), Route::ok("/b", "b")]);
        let fetcher = Fetcher::new(FetchOptions { jobs: 1, ..quick() });
        let a = fetcher.submit(s.url("/a"));
        let b = fetcher.submit(s.url("/b"));
        let mut da = a.wait().expect("a");
        thread::sleep(Duration::from_millis(300));
        assert_eq!(s.hits("/b"), 0, "b waits for a's body");
        assert_eq!(read_all(&mut da).expect("body"), b"a");
        let mut db = b.wait().expect("b");
        assert_eq!(read_all(&mut db).expect("body"), b"b");
    }
}
