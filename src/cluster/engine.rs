//! The exchange between ranks on timely dataflow: the only module that
//! names `timely`. Each rank runs one timely worker over the connections
//! made by [`super::net`]; the rest of the program sees rounds in which
//! every rank sends byte messages to any ranks and receives, once the
//! round is complete everywhere, all that was sent to it.

use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;
use std::cell::RefCell;
use std::net::TcpStream;
use std::rc::Rc;
use std::sync::Mutex;
use std::sync::mpsc;
use std::time::Duration;
use timely::communication::Hooks;
use timely::communication::allocator::zero_copy::initialize::initialize_networking_from_sockets;
use timely::communication::allocator::{AllocatorBuilder, ProcessBuilder};
use timely::container::CapacityContainerBuilder;
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::operators::generic::operator::Operator;
use timely::dataflow::operators::{Input, Probe};
use timely::dataflow::{InputHandle, ProbeHandle};
use timely::worker::Worker;

/// One message of a round: the bytes, and who sent them to whom.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Msg {
    round: u32,
    from: u32,
    to: u32,
    body: ByteBuf,
}

/// A rank's side of the exchange, handed to the job [`run`] runs.
pub(super) struct Rounds<'w> {
    worker: &'w mut Worker,
    input: InputHandle<u32, CapacityContainerBuilder<Vec<Msg>>>,
    probe: ProbeHandle<u32>,
    inbox: Rc<RefCell<Vec<Msg>>>,
    round: u32,
    /// Payload bytes this rank sent to other ranks, and received from them.
    pub sent: u64,
    pub received: u64,
}

impl Rounds<'_> {
    pub fn rank(&self) -> usize {
        self.worker.index()
    }

    pub fn ranks(&self) -> usize {
        self.worker.peers()
    }

    /// Sends each `(rank, bytes)` of `out` and returns every `(sender,
    /// bytes)` sent to this rank in this round, senders in rank order and
    /// each sender's messages in the order it sent them. Every rank must
    /// call it the same number of times.
    pub fn exchange(&mut self, out: Vec<(usize, Vec<u8>)>) -> Vec<(usize, Vec<u8>)> {
        let (me, round) = (self.rank() as u32, self.round);
        for (to, body) in out {
            if to as u32 != me {
                self.sent += body.len() as u64;
            }
            self.input.send(Msg { round, from: me, to: to as u32, body: ByteBuf::from(body) });
        }
        self.round += 1;
        self.input.advance_to(self.round);
        while self.probe.less_than(self.input.time()) {
            self.worker.step_or_park(None);
        }
        let mut inbox = self.inbox.borrow_mut();
        // A faster rank's messages of the next round may be here already.
        let (mut now, later): (Vec<Msg>, Vec<Msg>) = inbox.drain(..).partition(|m| m.round == round);
        *inbox = later;
        // Stable: a sender's messages keep their order.
        now.sort_by_key(|m| m.from);
        now.into_iter()
            .map(|m| {
                if m.from != me {
                    self.received += m.body.len() as u64;
                }
                (m.from as usize, m.body.into_vec())
            })
            .collect()
    }
}

/// Runs `job` as rank `rank` of `sockets.len()` over the connected
/// `sockets` (None at `rank`), and returns what it returned. When a peer
/// fails, the engine's threads panic ([`super::failure`] records why) and
/// this returns Err at once: the process should then exit, as threads of
/// the engine may still be blocked.
pub(super) fn run<T, F>(sockets: Vec<Option<TcpStream>>, rank: usize, job: F) -> Result<T, String>
where
    T: Send + 'static,
    F: FnOnce(&mut Rounds<'_>) -> T + Send + 'static,
{
    let hooks = Hooks::default();
    let local = ProcessBuilder::new_typed_vector(1, hooks.refill.clone(), hooks.spill.clone());
    let (tcp, comms) = initialize_networking_from_sockets(local, sockets, rank, 1, hooks)
        .map_err(|e| format!("starting the network threads: {e}"))?;
    let builders = tcp.into_iter().map(AllocatorBuilder::Tcp).collect();
    let job = Mutex::new(Some(job));
    let (tx, rx) = mpsc::channel::<T>();
    let tx = Mutex::new(tx);
    let guards =
        timely::execute::execute_from(builders, Box::new(comms), timely::WorkerConfig::default(), move |worker| {
            let Some(job) = job.lock().ok().and_then(|mut j| j.take()) else { return };
            let inbox: Rc<RefCell<Vec<Msg>>> = Rc::default();
            let mut input = InputHandle::new();
            let probe = ProbeHandle::new();
            let sink = Rc::clone(&inbox);
            worker.dataflow::<u32, _, _>(|scope| {
                scope
                    .input_from(&mut input)
                    .unary::<CapacityContainerBuilder<Vec<()>>, _, _, _>(
                        Exchange::new(|m: &Msg| m.to as u64),
                        "Inbox",
                        move |_, _| {
                            move |input, _output| {
                                input.for_each(|_cap, data| sink.borrow_mut().append(data));
                            }
                        },
                    )
                    .probe_with(&probe);
            });
            let mut rounds = Rounds { worker, input, probe, inbox, round: 0, sent: 0, received: 0 };
            let result = job(&mut rounds);
            // Closing the input ends the dataflow; the worker then steps it out.
            drop(rounds);
            if let Ok(tx) = tx.lock() {
                let _ = tx.send(result);
            }
        })?;
    // Wait for the result, or for the engine to fail: a panicked peer
    // connection leaves the worker to panic too, sometimes only later.
    let result = loop {
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(r) => break r,
            Err(mpsc::RecvTimeoutError::Timeout) if !super::failure::failed() => {}
            Err(_) => {
                std::mem::forget(guards);
                return Err(super::failure::cause());
            }
        }
    };
    // Joining waits until every peer has shut its connections down cleanly.
    let joined = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || guards.join()));
    match joined {
        Ok(results) if results.iter().all(Result::is_ok) && !super::failure::failed() => Ok(result),
        _ => Err(super::failure::cause()),
    }
}
