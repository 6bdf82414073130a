// count.wgsl: exact histogram of tokens in a GPU-resident open-addressing hash table.
//
// Why a hash table (not sort + run-length reduce): the vocabulary is small next
// to the token stream (Zipf), so one atomic probe sequence per token touches a
// table that stays in cache, the table persists across batches (no re-sorting
// of earlier data), and the host reads back only distinct keys.
//
// Bindings (group 0):
//   0 params   uniform     batch size, table mask, probe limit, arena size
//   1 tokens   read        packed records, 12 bytes a token (see `token`)
//   2 text     read        token bytes; each token starts on a word and is zero-padded
//   3 table    read_write  slots: owner, count, key, word_off, word_len, first two words
//   4 arena    read_write  bytes of every resident slot's token, zero-padded words
//   5 counters read_write  used slots, arena words used, spilled, claimed, overflow
//   6 claimed  read_write  slots claimed by this batch (finalize's work list)
//   7 spill    read_write  indices of tokens the table could not take
//
// Each batch in flight has its own params, tokens, text and spill buffers (a
// "lane", bound as one bind group); table, arena, counters and claimed are
// shared, and queue order runs one batch's kernels after the previous one's.
//
// Token records: one u32 per 256-token block (the block's first token's
// start word, relative to params.base_word), then three u32 per token:
// key_lo, key_hi, and (start word - block base) << 17 | len_bytes. The host
// keeps every token at most 65,536 bytes (17 bits) and ends a dispatch
// before a token starts 32,768 words (15 bits) or more past its block base.
//
// Invariants:
//   * A slot's identity is (64-bit key, token bytes), never the key alone: a
//     token that meets a slot with its key but other bytes probes on, so a hash
//     collision yields two slots, never a merged count.
//   * owner == 0: empty. owner == i + 1: claimed in this batch by token i, whose
//     key and bytes are still in `tokens`/`text` (immutable during the
//     dispatch, so comparing against them is race-free). owner == RESIDENT: key
//     and bytes live in the slot and the arena (written by an earlier dispatch).
//   * finalize turns every slot claimed in this batch into RESIDENT before the
//     next batch is uploaded; the host guarantees the arena has room for it.
//   * A token that finds no slot within max_probes is appended to `spill` and
//     counted by the host. Every token is counted exactly once.
//   * Per-slot counts are u32; the host flushes the table before any could wrap.
//   * No loop runs more than 65,535 times: llvmpipe (lavapipe) silently ends
//     longer loops. The host sends only tokens of at most 64 KiB (16,384 words)
//     and caps max_probes so the probe loop stays below that too.

const EMPTY: u32 = 0u;
const RESIDENT: u32 = 0xffffffffu;
const WORKGROUP: u32 = 256u;

struct Params {
    n_tokens: u32,
    mask: u32,
    base_word: u32,
    max_probes: u32,
    arena_words: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

struct Slot {
    owner: atomic<u32>,
    count: atomic<u32>,
    key_lo: u32,
    key_hi: u32,
    word_off: u32,
    word_len: u32,
    // The token's first two words, so most comparisons never touch the arena.
    head0: u32,
    head1: u32,
}

struct Counters {
    used: atomic<u32>,
    arena_used: atomic<u32>,
    spilled: atomic<u32>,
    claimed: atomic<u32>,
    overflow: atomic<u32>,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> tokens: array<u32>;
@group(0) @binding(2) var<storage, read> text: array<u32>;
@group(0) @binding(3) var<storage, read_write> table: array<Slot>;
@group(0) @binding(4) var<storage, read_write> arena: array<u32>;
@group(0) @binding(5) var<storage, read_write> counters: Counters;
@group(0) @binding(6) var<storage, read_write> claimed: array<u32>;
@group(0) @binding(7) var<storage, read_write> spill: array<u32>;

// Token i of this batch as vec4(key_lo, key_hi, start_word, len_bytes).
fn token(i: u32) -> vec4<u32> {
    let r = (params.n_tokens + 255u) / 256u + 3u * i;
    let packed = tokens[r + 2u];
    let start = params.base_word + tokens[i / 256u] + (packed >> 17u);
    return vec4<u32>(tokens[r], tokens[r + 1u], start, packed & 0x1ffffu);
}

fn words_of(len: u32) -> u32 {
    return (len + 3u) / 4u;
}

// Token t (this batch) has the same bytes as token o (this batch).
fn same_as_token(t: vec4<u32>, o: vec4<u32>) -> bool {
    if (o.x != t.x || o.y != t.y || o.w != t.w) {
        return false;
    }
    let a = t.z - params.base_word;
    let b = o.z - params.base_word;
    for (var k = 0u; k < words_of(t.w); k++) {
        if (text[a + k] != text[b + k]) {
            return false;
        }
    }
    return true;
}

// Token t has the same key and bytes as resident slot s.
fn same_as_resident(t: vec4<u32>, s: u32) -> bool {
    if (table[s].key_lo != t.x || table[s].key_hi != t.y || table[s].word_len != t.w) {
        return false;
    }
    let a = t.z - params.base_word;
    let n = words_of(t.w);
    if (text[a] != table[s].head0 || (n > 1u && text[a + 1u] != table[s].head1)) {
        return false;
    }
    let b = table[s].word_off;
    for (var k = 2u; k < n; k++) {
        if (text[a + k] != arena[b + k]) {
            return false;
        }
    }
    return true;
}

@compute @workgroup_size(WORKGROUP)
fn insert(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if (i >= params.n_tokens) {
        return;
    }
    let t = token(i);
    var slot = t.x & params.mask;
    var probes = 0u;
    // Weak compare-exchange may fail spuriously; bound the retries too.
    var attempts = 0u;
    loop {
        if (probes >= params.max_probes || attempts >= params.max_probes * 4u + 16u) {
            break;
        }
        attempts++;
        var owner = atomicLoad(&table[slot].owner);
        if (owner == EMPTY) {
            let r = atomicCompareExchangeWeak(&table[slot].owner, EMPTY, i + 1u);
            if (r.exchanged) {
                atomicAdd(&table[slot].count, 1u);
                atomicAdd(&counters.used, 1u);
                claimed[atomicAdd(&counters.claimed, 1u)] = slot;
                return;
            }
            owner = r.old_value;
            if (owner == EMPTY) {
                continue;
            }
        }
        var same = false;
        if (owner == RESIDENT) {
            same = same_as_resident(t, slot);
        } else {
            same = same_as_token(t, token(owner - 1u));
        }
        if (same) {
            atomicAdd(&table[slot].count, 1u);
            return;
        }
        slot = (slot + 1u) & params.mask;
        probes++;
    }
    spill[atomicAdd(&counters.spilled, 1u)] = i;
}

@compute @workgroup_size(WORKGROUP)
fn finalize(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if (i >= atomicLoad(&counters.claimed)) {
        return;
    }
    let slot = claimed[i];
    let t = token(atomicLoad(&table[slot].owner) - 1u);
    let n = words_of(t.w);
    let off = atomicAdd(&counters.arena_used, n);
    if (off + n > params.arena_words) {
        atomicAdd(&counters.overflow, 1u);
        return;
    }
    let a = t.z - params.base_word;
    for (var k = 0u; k < n; k++) {
        arena[off + k] = text[a + k];
    }
    table[slot].key_lo = t.x;
    table[slot].key_hi = t.y;
    table[slot].word_off = off;
    table[slot].word_len = t.w;
    table[slot].head0 = text[a];
    if (n > 1u) {
        table[slot].head1 = text[a + 1u];
    }
    atomicStore(&table[slot].owner, RESIDENT);
}
