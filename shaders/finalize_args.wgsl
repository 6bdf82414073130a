// finalize_args.wgsl: sizes the `finalize` dispatch of count.wgsl to the slots
// this batch claimed, so finalize does not run one idle invocation per token.
//
// Bindings (group 0):
//   0 counters  read        count.wgsl's counters; `claimed` is the fourth word
//   1 args      read_write  indirect dispatch arguments (x, y, z)
//
// Invariant: x * 256 >= claimed (256 is count.wgsl's WORKGROUP).

struct Counters {
    used: u32,
    arena_used: u32,
    spilled: u32,
    claimed: u32,
    overflow: u32,
}

@group(0) @binding(0) var<storage, read> counters: Counters;
@group(0) @binding(1) var<storage, read_write> args: array<u32, 3>;

@compute @workgroup_size(1)
fn main() {
    args[0] = (counters.claimed + 255u) / 256u;
    args[1] = 1u;
    args[2] = 1u;
}
