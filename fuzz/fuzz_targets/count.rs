//! Arbitrary bytes through decoding, tokenizing and counting, checked against
//! the reference counter. Run: `RUSTC_BOOTSTRAP=1 cargo fuzz run count` (in
//! the repository root); interesting inputs go to `tests/fuzz-corpus/`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = gpucount::count::naive::check(data) {
        panic!("{e}");
    }
});
