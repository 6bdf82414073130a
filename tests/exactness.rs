//! Exactness under hash collisions, chunking and merging (CPU side).

use crate::properties::{count_bytes, options};
use crate::util::{Dir, reference, reference_rows, rows, run};
use gpucount::count::CpuOptions;
use gpucount::sample::ZipfText;
use gpucount::source::Operand;
use gpucount::tokenize::Mode;
use gpucount::{CountTable, KeyHash};

#[test]
fn weak_hash_collisions_never_merge_counts() {
    let text = ZipfText { words: 20_000, vocabulary: 3_000, ..ZipfText::default() }.to_text();
    let mut opts = options(Mode::Words, false, 4096, 2);
    opts.hash = KeyHash::WeakForTesting { bits: 3 };
    let d = Dir::new();
    let f = d.write("z.txt", &text);
    let outcome = run(&[Operand::Path(f)], &opts);
    assert!(outcome.table.collisions() > 100, "the weak hash must really collide");
    assert_eq!(rows(&outcome.table), reference_rows(&reference(&text, Mode::Words, false)));
}

#[cfg(feature = "cli")]
#[test]
fn weak_hash_through_the_cli_matches_the_strong_hash() {
    use crate::util::{gpucount, tsv};
    let d = Dir::new();
    let f = d.write("z.txt", ZipfText { words: 5_000, ..ZipfText::default() }.to_text());
    let strong = gpucount().arg(&f).assert().success().get_output().stdout.clone();
    let weak = gpucount().arg(&f).args(["--weak-hash-bits", "1"]).assert().success().get_output().stdout.clone();
    assert_eq!(tsv(&weak), tsv(&strong));
}

#[test]
fn workers_spilling_into_shards_count_exactly() {
    // Long words (kept in the table's arena, which the shards' union moves)
    // and a weak hash (keys shared across shards' spills) at spill sizes
    // from every key to never.
    let mut text = ZipfText { words: 30_000, vocabulary: 5_000, seed: 3, ..ZipfText::default() }.to_text();
    for i in 0..500 {
        text.push_str(&format!(" averyveryverylongword{} ", i % 37));
    }
    let expected = reference_rows(&reference(&text, Mode::Words, false));
    let d = Dir::new();
    let f = d.write("z.txt", &text);
    for hash in [KeyHash::Xxh3, KeyHash::WeakForTesting { bits: 4 }] {
        let mut whole = None;
        // None: each worker's share of the default budget.
        for spill in [Some(1), Some(7), Some(300), Some(1 << 16), None] {
            for threads in [1, 3] {
                let mut opts = options(Mode::Words, false, 512, threads);
                opts.hash = hash;
                opts.backend.cpu = CpuOptions { spill_entries: spill };
                let outcome = run(&[Operand::Path(f.clone())], &opts);
                assert_eq!(rows(&outcome.table), expected, "spill {spill:?}, {threads} threads, {hash:?}");
                let counted = (outcome.table.len(), outcome.table.total(), outcome.table.collisions());
                assert_eq!(*whole.get_or_insert(counted), counted, "spill {spill:?}, {threads} threads, {hash:?}");
            }
        }
    }
}

#[test]
fn shards_union_moves_long_tokens_and_adds_totals() {
    let long = b"a token longer than twelve bytes";
    let (mut a, mut b) = (CountTable::new(), CountTable::new());
    a.add(1, long, 2);
    a.add(1, b"short", 1); // collides with the long one in the same table
    b.add(2, b"another long token, in b's arena", 4);
    let u = CountTable::union_of_disjoint(vec![a, b]);
    assert_eq!((u.get(1, long), u.get(1, b"short"), u.get(2, b"another long token, in b's arena")), (2, 1, 4));
    assert_eq!((u.len(), u.total(), u.collisions()), (3, 7, 1));
}

#[test]
fn table_merge_is_exact_and_keeps_colliding_keys_apart() {
    let mut a = CountTable::new();
    let mut b = CountTable::new();
    a.add(7, b"left", 2);
    a.add(7, b"right", 1); // same key, other bytes
    b.add(7, b"right", 5);
    b.add(9, b"other", 1);
    let m = CountTable::merged(a, b);
    assert_eq!((m.get(7, b"left"), m.get(7, b"right"), m.get(9, b"other")), (2, 6, 1));
    assert_eq!((m.len(), m.total()), (3, 9));
}

#[test]
fn any_chunk_size_gives_the_same_counts() {
    let text = ZipfText { words: 3_000, ..ZipfText::default() }.to_text();
    let expected = reference_rows(&reference(&text, Mode::Whitespace, false));
    for chunk in [1, 2, 3, 5, 16, 100, 4096, 1 << 20] {
        assert_eq!(
            count_bytes(text.as_bytes(), &options(Mode::Whitespace, false, chunk, 3)),
            expected,
            "chunk {chunk}"
        );
    }
}

#[test]
fn a_token_larger_than_a_chunk_stays_whole() {
    let big = "x".repeat(100_000);
    let text = format!("a {big} b {big}");
    let got = count_bytes(text.as_bytes(), &options(Mode::Words, false, 1000, 2));
    assert_eq!(got, vec![(big.clone(), 2), ("a".into(), 1), ("b".into(), 1)]);
}

#[test]
fn the_sample_generator_is_reproducible() {
    let a = ZipfText { words: 1000, ..ZipfText::default() }.to_text();
    let b = ZipfText { words: 1000, ..ZipfText::default() }.to_text();
    let c = ZipfText { words: 1000, seed: 7, ..ZipfText::default() }.to_text();
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_eq!(reference(&a, Mode::Words, false).values().sum::<u64>(), 1000);
}

#[test]
fn collisions_are_counted_once_whatever_the_threads_and_chunks() {
    let text = ZipfText { words: 20_000, vocabulary: 3_000, ..ZipfText::default() }.to_text();
    let hash = KeyHash::WeakForTesting { bits: 3 };
    let counts = reference(&text, Mode::Words, false);
    let keys: std::collections::HashSet<u64> = counts.keys().map(|w| hash.hash(w.as_bytes())).collect();
    let expected = (counts.len() - keys.len()) as u64;
    assert!(expected > 100);
    let d = Dir::new();
    let f = d.write("z.txt", &text);
    for threads in [1, 2, 3] {
        for chunk in [64, 4096, 1 << 20] {
            let mut opts = options(Mode::Words, false, chunk, threads);
            opts.hash = hash;
            let o = run(&[Operand::Path(f.clone())], &opts);
            assert_eq!(o.table.collisions(), expected, "{threads} threads, chunk {chunk}");
        }
    }
}
