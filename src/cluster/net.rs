//! Connecting the ranks: a full mesh of TCP connections made by gpucount
//! itself, with one deadline and errors naming the peer (timely's own
//! connecting prints on stdout and retries forever). Rank i connects to
//! every rank below it and accepts every rank above it; each connection
//! starts with a hello that proves both ends run the same job.

use super::failure::describe;
use socket2::{SockRef, TcpKeepalive};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// The first bytes on every connection.
const MAGIC: [u8; 8] = *b"GPUCNT\0\x01";

/// A hello: who is speaking, how many ranks it expects, and its job (a
/// digest of the program version, the options and the inputs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Hello {
    rank: u32,
    ranks: u32,
    job: u64,
}

impl Hello {
    fn write(&self, s: &mut TcpStream) -> io::Result<()> {
        let mut b = Vec::with_capacity(24);
        b.extend_from_slice(&MAGIC);
        b.extend_from_slice(&self.rank.to_le_bytes());
        b.extend_from_slice(&self.ranks.to_le_bytes());
        b.extend_from_slice(&self.job.to_le_bytes());
        s.write_all(&b)
    }

    /// Reads a hello (unbuffered: what follows belongs to the engine).
    fn read(s: &mut TcpStream) -> io::Result<Hello> {
        let mut b = [0u8; 24];
        s.read_exact(&mut b)?;
        if b[..8] != MAGIC {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "not a gpucount cluster process"));
        }
        let word = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let job = u64::from_le_bytes(b[16..24].try_into().unwrap_or_default());
        Ok(Hello { rank: word(8), ranks: word(12), job })
    }
}

/// How long an accepted connection may take to say hello: a rank says it
/// at once, so only a stranger is this slow.
const HELLO_TIMEOUT: Duration = Duration::from_secs(2);

/// Connects `rank` with every other rank of `hosts` before `timeout`
/// passes: the streams by rank (None at `rank`). `listener`: already bound
/// (else `hosts[rank]` is bound here).
pub(super) fn connect(
    hosts: &[String],
    rank: usize,
    listener: Option<TcpListener>,
    job: u64,
    timeout: Duration,
) -> Result<Vec<Option<TcpStream>>, String> {
    let ranks = hosts.len();
    let me = Hello { rank: rank as u32, ranks: ranks as u32, job };
    let mut streams: Vec<Option<TcpStream>> = (0..ranks).map(|_| None).collect();
    if ranks == 1 {
        return Ok(streams);
    }
    let listener = match listener {
        Some(l) => l,
        None => bind(&hosts[rank])?,
    };
    listener.set_nonblocking(true).map_err(|e| format!("cannot listen on {}: {e}", hosts[rank]))?;
    let deadline = Instant::now() + timeout;
    let mut last_error: Vec<Option<String>> = vec![None; ranks];
    loop {
        let mut progress = false;
        for peer in 0..rank {
            if streams[peer].is_some() {
                continue;
            }
            match dial(&hosts[peer], deadline) {
                Ok(mut s) => {
                    let theirs = me.write(&mut s).and_then(|()| Hello::read(&mut s));
                    match theirs {
                        Ok(h) => {
                            check(&me, &h, peer)?;
                            streams[peer] = Some(s);
                            progress = true;
                        }
                        Err(e) => last_error[peer] = Some(e.to_string()),
                    }
                }
                Err(e) => last_error[peer] = Some(e),
            }
        }
        // Every connection waiting, so that none waits on the dialing above.
        loop {
            match listener.accept() {
                Ok((mut s, from)) => {
                    progress = true;
                    // A stranger (a port scan, a wrong process) is dropped, not fatal.
                    let Some(h) = greet(&mut s, &me) else { continue };
                    let peer = h.rank as usize;
                    if peer > rank && peer < ranks {
                        check(&me, &h, peer)?;
                        // A peer that gave up on a slow hello connects again: the newest stands.
                        streams[peer] = Some(s);
                    } else if h.job == me.job {
                        return Err(format!("{from} said it was rank {peer}, which is not a rank that connects here"));
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(format!("accepting connections on {}: {e}", hosts[rank])),
            }
        }
        if streams.iter().enumerate().all(|(i, s)| i == rank || s.is_some()) {
            break;
        }
        if Instant::now() >= deadline {
            let missing = (0..ranks).find(|&i| i != rank && streams[i].is_none()).unwrap_or(0);
            let secs = timeout.as_secs_f64();
            return Err(match &last_error[missing] {
                Some(e) => format!("could not connect to {} within {secs}s (last error: {e})", describe(missing)),
                None => format!("{} did not connect within {secs}s", describe(missing)),
            });
        }
        if !progress {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    for s in streams.iter().flatten() {
        ready(s).map_err(|e| format!("setting up a connection: {e}"))?;
    }
    Ok(streams)
}

/// Binds `host` (a `host:port`).
pub fn bind(host: &str) -> Result<TcpListener, String> {
    let addrs = resolve(host)?;
    TcpListener::bind(&addrs[..]).map_err(|e| format!("cannot listen on {host}: {e}"))
}

fn resolve(host: &str) -> Result<Vec<SocketAddr>, String> {
    let addrs: Vec<SocketAddr> = host.to_socket_addrs().map_err(|e| format!("cannot resolve {host}: {e}"))?.collect();
    if addrs.is_empty() {
        return Err(format!("cannot resolve {host}: no address"));
    }
    Ok(addrs)
}

/// One attempt to connect to `host`, given a second at most.
fn dial(host: &str, deadline: Instant) -> Result<TcpStream, String> {
    let wait =
        deadline.saturating_duration_since(Instant::now()).clamp(Duration::from_millis(10), Duration::from_secs(1));
    let addrs = resolve(host)?;
    let mut last = String::new();
    for a in addrs {
        match TcpStream::connect_timeout(&a, wait) {
            Ok(s) => {
                // The answer comes when the peer gets to accepting: wait for it up to the deadline.
                let left = deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(10));
                s.set_read_timeout(Some(left)).map_err(|e| e.to_string())?;
                return Ok(s);
            }
            Err(e) => last = e.to_string(),
        }
    }
    // Refused at once: the peer has not started yet; don't spin.
    std::thread::sleep(Duration::from_millis(20));
    Err(last)
}

/// Reads an accepted connection's hello and answers it; None if it is not
/// a gpucount rank.
fn greet(s: &mut TcpStream, me: &Hello) -> Option<Hello> {
    s.set_nonblocking(false).ok()?;
    s.set_read_timeout(Some(HELLO_TIMEOUT)).ok()?;
    let theirs = Hello::read(s).ok()?;
    // Answered even when it differs, so both ends can say why.
    me.write(s).ok()?;
    Some(theirs)
}

/// Checks that the hello from `peer` is of the same job.
fn check(me: &Hello, theirs: &Hello, peer: usize) -> Result<(), String> {
    if theirs.rank as usize != peer {
        return Err(format!("{} answered as rank {}: check the order of the hosts file", describe(peer), theirs.rank));
    }
    if theirs.ranks != me.ranks {
        return Err(format!("{} was started with {} ranks, this one with {}", describe(peer), theirs.ranks, me.ranks));
    }
    if theirs.job != me.job {
        return Err(format!(
            "{} was started with other options, inputs or gpucount version (every rank must be given the same)",
            describe(peer)
        ));
    }
    Ok(())
}

/// Readies a connected stream for the engine: no timeouts (the engine
/// takes any error as fatal), no Nagle delay, and keepalive so that a
/// peer whose machine vanishes is noticed instead of waited for.
fn ready(s: &TcpStream) -> io::Result<()> {
    s.set_nonblocking(false)?;
    s.set_read_timeout(None)?;
    s.set_write_timeout(None)?;
    s.set_nodelay(true)?;
    let sock = SockRef::from(s);
    let keepalive =
        TcpKeepalive::new().with_time(Duration::from_secs(10)).with_interval(Duration::from_secs(2)).with_retries(3);
    sock.set_tcp_keepalive(&keepalive)?;
    #[cfg(target_os = "linux")]
    sock.set_tcp_user_timeout(Some(Duration::from_secs(30)))?;
    Ok(())
}
