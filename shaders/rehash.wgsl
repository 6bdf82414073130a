// rehash.wgsl: moves every slot of count.wgsl's table into a larger table,
// so the table grows on the device instead of being flushed to the host and
// refilled (a growing vocabulary would otherwise cross the bus at every
// doubling, and the host would merge it again each time).
//
// Bindings (group 0):
//   0 params  uniform     slots of the old table, the new table's mask, probe
//                         limit, invocations per row of the dispatch
//   1 old     read_write  the old table, only read: every used slot RESIDENT (the host
//                         retires every batch in flight before it grows)
//   2 grown   read_write  the new table, zeroed (every slot EMPTY)
//   3 failed  read_write  slots that found no EMPTY slot within the probe limit
//
// Invariants:
//   * The old table's slots are distinct tokens (key and bytes), so a moved
//     slot is never compared with another: it takes the first EMPTY slot of
//     its probe sequence in the new table, and its count, key, arena offset,
//     length and head move with it. The arena does not change.
//   * A slot that finds no room is counted in `failed`, and the host then
//     drops the new table and flushes the old one to the host as before:
//     nothing is lost, and the old table is only read here.
//   * The same layout as count.wgsl's Slot (32 bytes); count.wgsl updates
//     `count` atomically in later dispatches, which queue order separates
//     from this one.
//   * No loop runs more than 65,535 times (llvmpipe; see count.wgsl): the
//     host caps max_probes below that.

const EMPTY: u32 = 0u;
const RESIDENT: u32 = 0xffffffffu;

struct Params {
    old_slots: u32,
    mask: u32,
    max_probes: u32,
    row: u32,
}

struct Slot {
    owner: atomic<u32>,
    count: u32,
    key_lo: u32,
    key_hi: u32,
    word_off: u32,
    word_len: u32,
    head0: u32,
    head1: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
// Read only, but bound read_write: its Slot holds an atomic, which WGSL
// allows only in read_write storage.
@group(0) @binding(1) var<storage, read_write> old: array<Slot>;
@group(0) @binding(2) var<storage, read_write> grown: array<Slot>;
@group(0) @binding(3) var<storage, read_write> failed: atomic<u32>;

@compute @workgroup_size(256)
fn rehash(@builtin(global_invocation_id) gid: vec3<u32>) {
    // Each row of the dispatch holds exactly `row` invocations.
    let i = gid.y * params.row + gid.x;
    if (i >= params.old_slots) {
        return;
    }
    if (atomicLoad(&old[i].owner) != RESIDENT) {
        return;
    }
    var slot = old[i].key_lo & params.mask;
    var probes = 0u;
    // Weak compare-exchange may fail spuriously; bound the retries too.
    for (var attempts = 0u; attempts < params.max_probes * 4u + 16u && probes < params.max_probes; attempts++) {
        let r = atomicCompareExchangeWeak(&grown[slot].owner, EMPTY, RESIDENT);
        if (r.exchanged) {
            grown[slot].count = old[i].count;
            grown[slot].key_lo = old[i].key_lo;
            grown[slot].key_hi = old[i].key_hi;
            grown[slot].word_off = old[i].word_off;
            grown[slot].word_len = old[i].word_len;
            grown[slot].head0 = old[i].head0;
            grown[slot].head1 = old[i].head1;
            return;
        }
        if (r.old_value != EMPTY) {
            slot = (slot + 1u) & params.mask;
            probes++;
        }
    }
    atomicAdd(&failed, 1u);
}
