//! A peer that dies, seen as one error: timely's threads panic when a
//! connection breaks (its design: fate shared through panics), so their
//! panics are recorded here instead of printed, and the rank reports the
//! connections it lost once.
//!
//! When one rank dies, each survivor loses it and, as the other survivors
//! fail too, their connections as well, in an order no rank controls (rank
//! 0 saw rank 1 go before rank 2, which was killed, in 1 of 24 loaded test
//! runs). So a rank waits [`GRACE`] after the first loss and names every
//! connection lost by then: the dead peer is among them.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, Once};
use std::time::Duration;

/// Where each rank listens, by rank, for messages naming a peer.
static HOSTS: Mutex<Vec<String>> = Mutex::new(Vec::new());
/// The connections lost, by peer, with the first cause of each.
static LOST: Mutex<Vec<(usize, String)>> = Mutex::new(Vec::new());
/// How long a rank waits after its first lost connection for the others.
const GRACE: Duration = Duration::from_millis(500);
/// Any thread of the engine has panicked.
static FAILED: AtomicBool = AtomicBool::new(false);
static INSTALL: Once = Once::new();

/// Panics that follow a first failure (queues poisoned by it, guards
/// joining panicked threads).
const SECONDARY: [&str; 4] = ["MergeQueue poisoned.", "Send thread panic", "Recv thread panic", "Worker panic"];

/// Installs the panic hook (once per process) and names the ranks' addresses.
pub(super) fn install(hosts: &[String]) {
    if let Ok(mut h) = HOSTS.lock() {
        *h = hosts.to_vec();
    }
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let thread = std::thread::current();
            let name = thread.name().unwrap_or("");
            let payload = info.payload();
            let msg = payload
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
                .unwrap_or("");
            if !name.starts_with("timely:") && !SECONDARY.contains(&msg) && !FAILED.load(Ordering::SeqCst) {
                return previous(info);
            }
            // The cause first: the main thread reads it once it sees FAILED.
            let peer = name.strip_prefix("timely:recv-").or_else(|| name.strip_prefix("timely:send-"));
            if let Some(peer) = peer.and_then(|p| p.parse::<usize>().ok())
                && let Ok(mut lost) = LOST.lock()
                && !lost.iter().any(|(p, _)| *p == peer)
            {
                let cause = msg.strip_prefix("timely communication error: ").unwrap_or(msg);
                lost.push((peer, cause.to_string()));
            }
            FAILED.store(true, Ordering::SeqCst);
        }));
    });
}

/// "rank 2 (host:port)".
pub(super) fn describe(rank: usize) -> String {
    let hosts = HOSTS.lock().map(|h| h.get(rank).cloned()).ok().flatten();
    match hosts {
        Some(h) => format!("rank {rank} ({h})"),
        None => format!("rank {rank}"),
    }
}

/// Whether an engine thread has failed.
pub(super) fn failed() -> bool {
    FAILED.load(Ordering::SeqCst)
}

/// The failure, in words: every connection lost within [`GRACE`] of the
/// first, by rank.
pub(super) fn cause() -> String {
    std::thread::sleep(GRACE);
    let mut lost = LOST.lock().map(|l| l.clone()).unwrap_or_default();
    lost.sort();
    let lost: Vec<String> = lost.iter().map(|(peer, cause)| format!("{}: {cause}", describe(*peer))).collect();
    match lost.len() {
        0 => "the exchange between processes failed".into(),
        1 => format!("lost the connection to {}", lost[0]),
        _ => format!("lost the connections to {}", lost.join("; ")),
    }
}
