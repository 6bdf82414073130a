//! A peer that dies, seen as one error: timely's threads panic when a
//! connection breaks (its design: fate shared through panics), so their
//! panics are recorded here instead of printed, and the rank reports the
//! first cause once.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, Once, OnceLock};

/// Where each rank listens, by rank, for messages naming a peer.
static HOSTS: Mutex<Vec<String>> = Mutex::new(Vec::new());
/// The first connection failure, in words.
static FIRST: OnceLock<String> = OnceLock::new();
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
            if let Some(peer) = peer.and_then(|p| p.parse::<usize>().ok()) {
                let cause = msg.strip_prefix("timely communication error: ").unwrap_or(msg);
                let _ = FIRST.set(format!("lost the connection to {}: {cause}", describe(peer)));
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

/// The failure, in words.
pub(super) fn cause() -> String {
    FIRST.get().cloned().unwrap_or_else(|| "the exchange between processes failed".into())
}
