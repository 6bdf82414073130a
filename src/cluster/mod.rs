//! Counting across processes and machines. Every rank lists the inputs,
//! connects to the others ([`net`]), counts its share ([`crate::share`])
//! with the backend it has, and then the partial tables are merged across
//! ranks: records (hash, key, count) go to the rank that owns their key
//! (`hash % ranks`), which merges them with the same collision rules as
//! everywhere, and rank 0 gathers the merged shards and prints the table
//! as one process would have. Only [`engine`] knows the exchange runs on
//! timely dataflow.
//!
//! The rounds of the exchange:
//! 0. every rank sends every rank a summary of its count (its table's
//!    header, or why it failed), so all ranks agree on document places,
//!    problems and whether to go on;
//! 1. records to their owners, each sender's stream ending in a marker
//!    with its record and token totals, checked by the receiver;
//! 2. the owners' shards to rank 0, likewise, with each rank's figures;
//! 3. every rank tells every rank whether all it was sent arrived whole.

mod engine;
mod failure;
mod net;

use crate::pipeline::{self, Options, Outcome};
use crate::saved::{self, Header, KeyOptions};
use crate::share::{Manifest, Plan};
use crate::source::Operand;
use crate::table::CountTable;
use serde::{Deserialize, Serialize};
use std::net::TcpListener;
use std::time::{Duration, Instant};

pub use net::bind;

/// One rank's part in a run of several processes.
#[derive(Debug)]
pub struct Cluster {
    /// Every rank's `host:port`, in rank order.
    pub hosts: Vec<String>,
    pub rank: usize,
    /// This rank's listening socket, when already bound (else `hosts[rank]` is bound).
    pub listener: Option<TcpListener>,
    /// How long to wait for every rank to connect.
    pub connect_timeout: Duration,
    /// A digest of what every rank must be given alike (the options, the
    /// program's version): ranks with different digests refuse each other.
    pub job: u64,
    /// Each rank counts the inputs it was given (machines that don't share
    /// a file system); otherwise every rank is given the same inputs and
    /// counts a share of them.
    pub own_inputs: bool,
    /// Files of this size or more are cut among ranks ([`crate::share::MIN_PIECE`]).
    pub min_piece: u64,
    /// Test hook: how long to wait after counting, before the exchange
    /// (so that a test can stop a rank there).
    pub stall: Duration,
}

/// What a rank ends with.
pub struct Finished {
    /// Rank 0: the outcome of the whole run, as one process would have had it.
    pub outcome: Option<Outcome>,
    /// Problems with inputs, over all ranks (every rank knows them).
    pub problems: usize,
    /// Each rank's figures (on rank 0; this rank's elsewhere).
    pub ranks: Vec<RankStats>,
}

/// What one rank did, for `--stats`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RankStats {
    pub rank: usize,
    pub host: String,
    /// Raw bytes it counted, and their tokens and distinct keys.
    pub bytes: u64,
    pub tokens: u64,
    pub distinct: u64,
    /// Record bytes it sent to and received from other ranks.
    pub sent: u64,
    pub received: u64,
    /// Seconds per phase: list, connect, count, shuffle, gather.
    pub phases: Vec<(String, f64)>,
}

impl RankStats {
    /// One line for people.
    pub fn line(&self) -> String {
        let phases: Vec<String> = self.phases.iter().map(|(n, s)| format!("{n} {s:.3} s")).collect();
        format!(
            "rank {} ({}): {} bytes, {} tokens, {} distinct; sent {} bytes, received {}; {}",
            self.rank,
            self.host,
            crate::report::group_thousands(self.bytes),
            crate::report::group_thousands(self.tokens),
            crate::report::group_thousands(self.distinct),
            crate::report::group_thousands(self.sent),
            crate::report::group_thousands(self.received),
            phases.join(", ")
        )
    }
}

/// Round 0: what a rank counted, or why it could not.
#[derive(Serialize, Deserialize)]
struct Summary {
    header: Option<Header>,
    failed: Option<String>,
    /// Its first document was begun by the rank before (a cut file).
    continues: bool,
    /// What its run warned of (a GPU that failed and a CPU recount).
    warnings: Vec<String>,
}

/// Records a rank sends another at a time, about.
const BLOB: usize = 4 << 20;

/// The kinds of message in rounds 1 and 2 (their first byte).
const RECORDS: u8 = 0;
const END: u8 = 1;
const STATS: u8 = 2;

/// Runs this rank: counts its share of `operands` with `opts` and merges
/// the tables of all ranks. Err: one line saying what failed (a peer that
/// could not be reached or died, another rank's failure); the process
/// should then exit without waiting for anything.
pub fn run(cluster: Cluster, operands: Vec<Operand>, opts: &Options) -> Result<Finished, String> {
    let started = Instant::now();
    let (rank, ranks) = (cluster.rank, cluster.hosts.len());
    if rank >= ranks {
        return Err(format!("rank {rank} is not among the {ranks} hosts listed"));
    }
    failure::install(&cluster.hosts);
    let mut phases = Vec::new();
    let mut lap = {
        let mut t = Instant::now();
        move |name: &str, phases: &mut Vec<(String, f64)>| {
            phases.push((name.to_string(), t.elapsed().as_secs_f64()));
            t = Instant::now();
        }
    };
    let plan = match cluster.own_inputs {
        true => None,
        false => Some(Manifest::list(&operands, opts).map_err(|e| e.to_string())?.plan(ranks, opts, cluster.min_piece)),
    };
    let job = {
        let mut h = xxhash_rust::xxh3::Xxh3Default::new();
        h.update(&cluster.job.to_le_bytes());
        h.update(cluster.hosts.join("\n").as_bytes());
        h.update(&cluster.min_piece.to_le_bytes());
        h.update(env!("CARGO_PKG_VERSION").as_bytes());
        h.update(&serde_json::to_vec(&KeyOptions::of(opts)).unwrap_or_default());
        h.update(&plan.as_ref().map_or(0, Plan::digest).to_le_bytes());
        h.digest()
    };
    lap("list", &mut phases);
    let sockets = net::connect(&cluster.hosts, rank, cluster.listener, job, cluster.connect_timeout)?;
    lap("connect", &mut phases);
    let share = plan.map(|p| p.share(rank));
    let counted = match &share {
        Some(s) => pipeline::run(&|| s.documents(opts.fetch.clone()), opts),
        None => pipeline::count(operands, opts),
    };
    lap("count", &mut phases);
    if !cluster.stall.is_zero() {
        // Tests kill a stalled rank once it says so: it has connected and counted.
        eprintln!("gpucount: rank {rank}: stalling for {} ms (test hook)", cluster.stall.as_millis());
        std::thread::sleep(cluster.stall);
    }
    let keys = KeyOptions::of(opts);
    let hash = opts.hash;
    let continues = share.is_some_and(|s| s.continues);
    let host = cluster.hosts[rank].clone();
    engine::run(sockets, rank, move |rounds| {
        let (summary, local) = match counted {
            Ok(o) => {
                let header = Header::of(&o, keys.clone());
                let warnings = o.warnings.clone();
                (Summary { header: Some(header), failed: None, continues, warnings }, Some(o))
            }
            Err(e) => (Summary { header: None, failed: Some(e.to_string()), continues, warnings: Vec::new() }, None),
        };
        let mut stats = RankStats { rank, host, ..RankStats::default() };
        if let Some(h) = &summary.header {
            (stats.bytes, stats.tokens, stats.distinct) = (h.bytes, h.tokens, h.distinct);
        }
        let sent = serde_json::to_vec(&summary).unwrap_or_default();
        let got = rounds.exchange((0..rounds.ranks()).map(|to| (to, sent.clone())).collect());
        let mut summaries = Vec::with_capacity(ranks);
        for (from, bytes) in got {
            let s: Summary =
                serde_json::from_slice(&bytes).map_err(|e| format!("a bad summary from rank {from}: {e}"))?;
            if let Some(why) = &s.failed {
                return Err(format!("{} failed: {why}", failure::describe(from)));
            }
            summaries.push(s);
        }
        if summaries.len() != ranks {
            return Err(format!("{} summaries for {ranks} ranks", summaries.len()));
        }
        let headers: Vec<Header> = summaries.iter().filter_map(|s| s.header.clone()).collect();
        let offsets = places(&headers, &summaries);
        let Some(mut local) = local else { return Err("this rank's count is missing".into()) };
        let problems = headers.iter().map(|h| h.problems.len()).sum::<usize>();

        // Round 1: records to the ranks that own their keys.
        let table = std::mem::take(&mut local.table);
        let everyone: Vec<usize> = (0..ranks).collect();
        let rekey = keys.per_doc.then_some((offsets[rank], hash));
        let out = shards(&table, &|h| (h % ranks as u64) as usize, &everyone, rekey);
        drop(table);
        let mut shard = CountTable::new();
        // An error from here on is agreed on in round 3, so that every rank
        // takes part in every round and all of them fail together.
        let mut failed = take(rounds.exchange(out), &everyone, &mut shard, &mut |_, _| ()).err();
        lap("shuffle", &mut stats.phases);

        // Round 2: the shards to rank 0, with each rank's figures.
        let mut out = shards(&shard, &|_| 0, &[0], None);
        drop(shard);
        (stats.sent, stats.received) = (rounds.sent, rounds.received);
        stats.phases.splice(0..0, phases);
        out.push((0, [&[STATS][..], &serde_json::to_vec(&stats).unwrap_or_default()].concat()));
        let got = rounds.exchange(out);
        let mut all = Vec::new();
        let mut table = CountTable::new();
        let senders = if rank == 0 { everyone.clone() } else { Vec::new() };
        let gathered = take(got, &senders, &mut table, &mut |_, body| {
            if let Ok(s) = serde_json::from_slice::<RankStats>(body) {
                all.push(s);
            }
        });
        failed = failed.or(gathered.err());

        // Round 3: whether every rank got all it was sent.
        let verdict = failed.unwrap_or_default().into_bytes();
        for (from, why) in rounds.exchange(everyone.iter().map(|&to| (to, verdict.clone())).collect()) {
            if !why.is_empty() {
                return Err(format!("{} failed: {}", failure::describe(from), String::from_utf8_lossy(&why)));
            }
        }
        if rank != 0 {
            return Ok(Finished { outcome: None, problems, ranks: vec![stats] });
        }
        if let Some(mine) = all.iter_mut().find(|s| s.rank == 0) {
            lap("gather", &mut mine.phases);
        }
        let mut parts = Vec::with_capacity(ranks);
        let mut last_place = None;
        for ((mut h, s), &offset) in headers.into_iter().zip(&summaries).zip(&offsets) {
            // A cut file's problem (a malformed byte) is the first its pieces
            // met: one reader reports only the first.
            h.problems.retain(|p| !(s.continues && p.place == 0 && last_place == Some(offset)));
            if let Some(p) = h.problems.last() {
                last_place = Some(offset + p.place);
            }
            parts.push((h, offset));
        }
        let what = format!("{ranks} processes");
        let mixed = "ranks counted on different backends";
        let mut outcome = saved::combined(parts, table, &what, mixed, started).ok_or("no ranks to combine")?;
        all.sort_by_key(|s| s.rank);
        outcome.notes = local.notes;
        outcome.notes.extend(all.iter().map(RankStats::line));
        outcome.stages = local.stages;
        outcome.workers = local.workers;
        outcome.threads = local.threads;
        outcome.warnings = summaries
            .iter()
            .enumerate()
            .flat_map(|(r, s)| s.warnings.iter().map(move |w| format!("rank {r}: {w}")))
            .collect();
        Ok(Finished { outcome: Some(outcome), problems, ranks: all })
    })?
}

/// Where each rank's document places start in the whole run: after the
/// places of the ranks before it, as one reader would have given them. A
/// rank that goes on with a cut file gives it the place the rank before
/// gave it.
fn places(headers: &[Header], summaries: &[Summary]) -> Vec<u64> {
    let mut at = 0u64;
    headers
        .iter()
        .zip(summaries)
        .map(|(h, s)| {
            let offset = at.saturating_sub(s.continues as u64);
            at = offset + h.places;
            offset
        })
        .collect()
}

/// The records of `table` as messages to the ranks `route` gives their
/// hashes, and to each of `targets` an [`END`] with the totals sent it.
/// `rekey`: per-document keys moved by that many places, hashed again.
fn shards(
    table: &CountTable,
    route: &dyn Fn(u64) -> usize,
    targets: &[usize],
    rekey: Option<(u64, crate::KeyHash)>,
) -> Vec<(usize, Vec<u8>)> {
    let ranks = targets.iter().max().map_or(0, |m| m + 1);
    let mut out = Vec::new();
    let mut open: Vec<Vec<u8>> = vec![vec![RECORDS]; ranks];
    let mut totals = vec![(0u64, 0u64); ranks];
    let mut moved = Vec::new();
    for (hash, key, count) in table.iter_keyed() {
        let (hash, key) = match rekey {
            Some((offset, h)) if offset > 0 => match saved::rekey(key, offset, h, &mut moved) {
                Some(hash) => (hash, &moved[..]),
                None => (hash, key),
            },
            _ => (hash, key),
        };
        let dest = route(hash);
        saved::encode_records([(hash, key, count)], &mut open[dest]);
        totals[dest].0 += 1;
        totals[dest].1 += count;
        if open[dest].len() >= BLOB {
            out.push((dest, std::mem::replace(&mut open[dest], vec![RECORDS])));
        }
    }
    for &dest in targets {
        let blob = std::mem::take(&mut open[dest]);
        if blob.len() > 1 {
            out.push((dest, blob));
        }
        let (records, tokens) = totals[dest];
        out.push((dest, [&[END][..], &records.to_le_bytes(), &tokens.to_le_bytes()].concat()));
    }
    out
}

/// Adds the records received in a round to `table`, checking that each of
/// `senders` ended its records with an [`END`] whose totals match; other
/// messages go to `other`.
fn take(
    got: Vec<(usize, Vec<u8>)>,
    senders: &[usize],
    table: &mut CountTable,
    other: &mut dyn FnMut(usize, &[u8]),
) -> Result<(), String> {
    let ranks = senders.iter().max().map_or(0, |m| m + 1);
    // Records arrive in their senders' slot order: into a table much
    // smaller than theirs they would all seek the same few home slots.
    // The end markers say how many come, so the table is sized first.
    let coming: u64 = got
        .iter()
        .filter(|(_, b)| b.len() == 17 && b[0] == END)
        .map(|(_, b)| u64::from_le_bytes(b[1..9].try_into().unwrap_or_default()))
        .sum();
    table.reserve(table.len() + coming.min(1 << 26) as usize);
    let mut seen = vec![saved::Decoded::default(); ranks];
    let mut ended = vec![false; ranks];
    for (from, body) in got {
        let Some((&kind, rest)) = body.split_first() else { continue };
        match kind {
            RECORDS if from < ranks => {
                let d = saved::decode_records(rest, table).map_err(|e| format!("bad records from rank {from}: {e}"))?;
                seen[from].records += d.records;
                seen[from].tokens += d.tokens;
            }
            END if from < ranks => {
                let word = |i: usize| rest.get(i..i + 8).map(|b| u64::from_le_bytes(b.try_into().unwrap_or_default()));
                if (word(0), word(8)) != (Some(seen[from].records), Some(seen[from].tokens)) {
                    return Err(format!("the records from rank {from} do not add up to what it sent"));
                }
                ended[from] = true;
            }
            STATS => other(from, rest),
            _ => return Err(format!("an unexpected message from rank {from}")),
        }
    }
    match senders.iter().find(|&&r| !ended[r]) {
        Some(r) => Err(format!("the records from rank {r} ended early")),
        None => Ok(()),
    }
}
