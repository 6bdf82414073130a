//! Compressed files and archives: read in place, member by member, with the
//! same counts as the plain files; broken ones reported by name, the rest
//! counted.

use crate::http_server::{Route, Server};
use crate::util::{Dir, cpu_options, reference, reference_rows, rows, run};
use gpucount::source::Operand;
use gpucount::tokenize::Mode;
use proptest::prelude::*;
use std::io::Write;

/// Archive and compression writers for the tests.
pub mod make {
    use std::io::Write;

    pub fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    pub fn bzip2(bytes: &[u8]) -> Vec<u8> {
        let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    pub fn xz(bytes: &[u8]) -> Vec<u8> {
        let mut e = lzma_rust2::XzWriter::new(Vec::new(), lzma_rust2::XzOptions::with_preset(1)).unwrap();
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    pub fn zstd(bytes: &[u8]) -> Vec<u8> {
        zstd::encode_all(bytes, 1).unwrap()
    }

    /// A tar of `(path, bytes)` files (directories made as needed).
    pub fn tar(files: &[(String, Vec<u8>)]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (path, bytes) in files {
            let mut h = tar::Header::new_gnu();
            h.set_size(bytes.len() as u64);
            h.set_mode(0o644);
            h.set_entry_type(tar::EntryType::Regular);
            b.append_data(&mut h, path, &bytes[..]).unwrap();
        }
        b.into_inner().unwrap()
    }

    pub fn zip(files: &[(String, Vec<u8>)]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (path, bytes) in files {
            w.start_file(path.as_str(), opts).unwrap();
            w.write_all(bytes).unwrap();
        }
        w.finish().unwrap().into_inner()
    }
}

/// Every way of wrapping `files` that gpucount reads, as (file name, bytes).
fn wrapped(files: &[(String, Vec<u8>)]) -> Vec<(String, Vec<u8>)> {
    let tar = make::tar(files);
    vec![
        ("all.tar".into(), tar.clone()),
        ("all.tgz".into(), make::gzip(&tar)),
        ("all.tar.bz2".into(), make::bzip2(&tar)),
        ("all.tar.xz".into(), make::xz(&tar)),
        ("all.tar.zst".into(), make::zstd(&tar)),
        ("all.zip".into(), make::zip(files)),
        // An archive in an archive, and compressed members.
        ("nested.tar".into(), make::tar(&[("in/all.zip".into(), make::zip(files))])),
        (
            "members.zip".into(),
            make::zip(&files.iter().map(|(p, b)| (format!("{p}.gz"), make::gzip(b))).collect::<Vec<_>>()),
        ),
    ]
}

fn texts() -> impl Strategy<Value = Vec<(String, String)>> {
    let word = prop::sample::select(vec!["alpha", "Beta", "été", "ÉTÉ", "x", "δρόμος", "don't", "42", "\n", "  "]);
    let text = prop::collection::vec(word, 0..40).prop_map(|w| w.join(" "));
    let path = prop::sample::select(vec!["a.txt", "dir/b.txt", "dir/sub/c.txt", "d", "e.md"]);
    prop::collection::btree_map(path, text, 1..5).prop_map(|m| m.into_iter().map(|(p, t)| (p.to_string(), t)).collect())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// The same texts as plain files, gzipped files, in every archive kind,
    /// downloaded and in memory give the same counts, and the reference's.
    #[test]
    fn every_wrapping_counts_like_the_plain_files(docs in texts()) {
        let files: Vec<(String, Vec<u8>)> = docs.iter().map(|(p, t)| (p.clone(), t.clone().into_bytes())).collect();
        let all: String = docs.iter().map(|(_, t)| format!("{t}\n")).collect();
        let expected = reference_rows(&reference(&all, Mode::Words, false));
        let opts = cpu_options(Mode::Words, false, 7, 2);
        let dir = Dir::new();
        for (p, b) in &files {
            dir.write(&format!("plain/{p}"), b);
            dir.write(&format!("gz/{p}.gz"), make::gzip(b));
        }
        prop_assert_eq!(rows(&run(&[Operand::Path(dir.path().join("plain"))], &opts).table), expected.clone());
        prop_assert_eq!(rows(&run(&[Operand::Path(dir.path().join("gz"))], &opts).table), expected.clone());
        let wrappings = wrapped(&files);
        let mut routes: Vec<Route> = wrappings.iter().map(|(name, bytes)| Route::ok(&format!("/{name}"), bytes.clone())).collect();
        routes.push(Route::gzip("/all.txt", all.as_bytes()));
        let server = Server::start(routes);
        let from_url = run(&[Operand::Url(server.url("/all.txt"))], &opts);
        prop_assert_eq!(rows(&from_url.table), expected.clone(), "gzip-encoded download");
        for (name, bytes) in wrappings {
            let from_url = run(&[Operand::Url(server.url(&format!("/{name}")))], &opts);
            prop_assert_eq!(rows(&from_url.table), expected.clone(), "{} downloaded", name);
            let path = dir.write(&name, &bytes);
            let from_file = run(&[Operand::Path(path)], &opts);
            prop_assert_eq!(rows(&from_file.table), expected.clone(), "{}", name);
            prop_assert_eq!(from_file.documents, files.len(), "{}", name);
            prop_assert!(from_file.errors.is_empty(), "{}: {:?}", name, from_file.errors);
            let in_memory = run(&[Operand::Memory { name: name.clone(), bytes: bytes.into() }], &opts);
            prop_assert_eq!(rows(&in_memory.table), expected.clone(), "{} in memory", name);
        }
    }
}

#[test]
fn every_member_and_stream_of_a_compressed_file_is_read() {
    let opts = cpu_options(Mode::Words, false, 1 << 20, 1);
    let two = |f: fn(&[u8]) -> Vec<u8>| [f(b"alpha beta\n"), f(b"gamma alpha")].concat();
    for (kind, bytes) in
        [("gzip", two(make::gzip)), ("bzip2", two(make::bzip2)), ("xz", two(make::xz)), ("zstd", two(make::zstd))]
    {
        let o = run(&[Operand::Memory { name: kind.into(), bytes: bytes.into() }], &opts);
        assert_eq!(rows(&o.table), [("alpha".into(), 2), ("beta".into(), 1), ("gamma".into(), 1)], "{kind}");
        assert!(o.errors.is_empty(), "{kind}: {:?}", o.errors);
    }
}

#[test]
fn members_are_named_after_their_archive_and_follow_the_walk_rules() {
    let files = vec![
        ("./top.txt".to_string(), b"one".to_vec()),
        ("./.hidden".to_string(), b"hidden".to_vec()),
        ("./dir/.git/config".to_string(), b"gitconfig".to_vec()),
        ("./dir/image.png".to_string(), b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR pixels".to_vec()),
        ("./dir/notes.md".to_string(), b"two".to_vec()),
        ("./dir/bad.txt".to_string(), b"caf\xe9 \xff\xfe ok".to_vec()),
    ];
    let dir = Dir::new();
    let tgz = dir.write("corpus.tgz", make::gzip(&make::tar(&files)));
    let opts = cpu_options(Mode::Words, false, 1 << 20, 1);
    let o = run(&[Operand::Path(tgz.clone())], &opts);
    let words: Vec<String> = rows(&o.table).into_iter().map(|(w, _)| w).collect();
    assert!(words.contains(&"one".to_string()) && words.contains(&"two".to_string()), "{words:?}");
    assert!(!words.iter().any(|w| w == "hidden" || w == "gitconfig" || w == "pixels"), "{words:?}");
    assert_eq!((o.documents, o.skipped_binary), (3, 1));

    let fixed = gpucount::decode::EncodingChoice::parse("utf-8").unwrap();
    let o = run(&[Operand::Path(tgz.clone())], &gpucount::Options { encoding: fixed, ..opts.clone() });
    assert_eq!(o.errors.len(), 1, "{:?}", o.errors);
    assert_eq!(o.errors[0].input, format!("{}:dir/bad.txt", tgz.display()));

    let mut hidden = opts.clone();
    hidden.walk.hidden = true;
    let words: Vec<String> =
        rows(&run(&[Operand::Path(tgz.clone())], &hidden).table).into_iter().map(|(w, _)| w).collect();
    assert!(words.contains(&"hidden".to_string()) && words.contains(&"gitconfig".to_string()));

    let mut globs = opts.clone();
    globs.walk.globs = vec!["*.md".into()];
    assert_eq!(rows(&run(&[Operand::Path(tgz)], &globs).table), [("two".into(), 1)]);
}

#[test]
fn raw_counts_the_bytes_as_they_are() {
    let tar = make::tar(&[("a.txt".into(), b"alpha".to_vec())]);
    let opts = cpu_options(Mode::Words, false, 1 << 20, 1);
    let unpacked = run(&[Operand::Memory { name: "t.tar".into(), bytes: tar.clone().into() }], &opts);
    assert_eq!(rows(&unpacked.table), [("alpha".into(), 1)]);
    let raw =
        run(&[Operand::Memory { name: "t.tar".into(), bytes: tar.into() }], &gpucount::Options { raw: true, ..opts });
    let words: Vec<String> = rows(&raw.table).into_iter().map(|(w, _)| w).collect();
    // The header's file name and magic are words too.
    assert!(words.contains(&"ustar".to_string()) && words.contains(&"a".to_string()), "{words:?}");
}

#[cfg(feature = "cli")]
mod cli {
    use super::make;
    use crate::util::{Dir, gpucount, tsv};

    /// Runs gpucount on `paths`; returns (rows, stderr lines, exit code).
    fn count(paths: &[&std::path::Path]) -> (Vec<(String, u64)>, Vec<String>, i32) {
        let out = gpucount().args(paths).args(["--backend", "cpu"]).output().unwrap();
        let err = String::from_utf8(out.stderr).unwrap().lines().map(String::from).collect();
        (tsv(&out.stdout), err, out.status.code().unwrap())
    }

    #[test]
    fn broken_containers_are_named_and_the_rest_is_counted() {
        let dir = Dir::new();
        let good = dir.write("good.txt", "fine words");
        let text = "alpha beta gamma ".repeat(2000);

        let mut corrupt = make::gzip(text.as_bytes());
        let mid = corrupt.len() / 2;
        corrupt[mid..mid + 8].copy_from_slice(b"\xff\x00\xff\x00\xff\x00\xff\x00");
        let corrupt = dir.write("corrupt.gz", corrupt);
        let trailing = dir.write("trailing.gz", [make::gzip(b"delta"), b"garbage after the member".to_vec()].concat());

        let files = [("a.txt".to_string(), b"epsilon".to_vec()), ("b.txt".to_string(), text.as_bytes().to_vec())];
        let tar = make::tar(&files);
        let truncated = dir.write("truncated.tar", &tar[..512 + 512 + 512 + 100]);

        let mut zip = make::zip(&[("ok.txt".into(), b"zeta".to_vec()), ("bad.txt".into(), text.as_bytes().to_vec())]);
        // Damage the second member's compressed data (after its local header).
        let at = zip.windows(7).position(|w| w == b"bad.txt").unwrap() + 40;
        zip[at] ^= 0xff;
        zip[at + 1] ^= 0xff;
        let zip = dir.write("damaged.zip", zip);

        let (rows, err, code) = count(&[&good, &corrupt, &trailing, &truncated, &zip]);
        assert_eq!(code, 2, "{err:?}");
        let has = |w: &str| rows.iter().any(|(r, _)| r == w);
        assert!(has("fine") && has("delta") && has("epsilon") && has("zeta"), "{rows:?}");
        let line = |input: String, why: &str| err.iter().any(|l| l.starts_with(&input) && l.contains(why));
        // The deflate backend words it: zlib-rs may find the damage as a
        // stream that ends too soon.
        let gzip_damage = |why| line(format!("gpucount: {}: ", corrupt.display()), why);
        assert!(gzip_damage("gzip: corrupt") || gzip_damage("gzip: incomplete deflate stream"), "{err:?}");
        assert!(line(format!("gpucount: {}: ", trailing.display()), "gzip: trailing bytes"), "{err:?}");
        assert!(line(format!("gpucount: {}:b.txt: ", truncated.display()), "tar truncated"), "{err:?}");
        assert!(line(format!("gpucount: {}:bad.txt: ", zip.display()), "corrupt"), "{err:?}");
        assert_eq!(err.len(), 4, "one line each: {err:?}");
    }

    #[test]
    fn archives_arrive_on_stdin_too() {
        let files = [("x/a.txt".to_string(), b"one two".to_vec()), ("b.txt".to_string(), b"two".to_vec())];
        for bytes in [make::zip(&files), make::xz(&make::tar(&files))] {
            let out = gpucount().arg("-").write_stdin(bytes).assert().success().get_output().stdout.clone();
            assert_eq!(tsv(&out), [("two".into(), 2), ("one".into(), 1)]);
        }
    }

    /// A few MB of gzip that expand to 2 GiB are streamed, not held.
    #[test]
    fn a_decompression_bomb_streams_in_bounded_memory() {
        let dir = Dir::new();
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let block = "ab ".repeat(1 << 20);
        for _ in 0..683 {
            std::io::Write::write_all(&mut e, block.as_bytes()).unwrap();
        }
        let bomb = dir.write("bomb.gz", e.finish().unwrap());
        assert!(std::fs::metadata(&bomb).unwrap().len() < 10 << 20);
        let out = gpucount().arg(&bomb).args(["--backend", "cpu", "--stats"]).output().unwrap();
        assert!(out.status.success());
        assert_eq!(tsv(&out.stdout), [("ab".into(), 683 << 20)]);
        let stats = String::from_utf8(out.stderr).unwrap();
        let peak: u64 = stats
            .lines()
            .find_map(|l| l.strip_prefix("memory:   peak resident ")?.strip_suffix(" MB")?.parse().ok())
            .expect("peak memory in --stats");
        assert!(peak < 256, "peak {peak} MB for a 2 GiB stream:\n{stats}");
    }
}

#[test]
fn a_tar_written_by_hand_is_read_member_by_member() {
    // Built without the tar crate: two members, ustar headers, end blocks.
    fn header(name: &str, size: usize) -> [u8; 512] {
        let mut h = [0u8; 512];
        h[..name.len()].copy_from_slice(name.as_bytes());
        h[100..107].copy_from_slice(b"0000644");
        h[124..135].copy_from_slice(format!("{size:011o}").as_bytes());
        h[136..147].copy_from_slice(b"00000000000");
        h[156] = b'0';
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|&b| b as u32).sum();
        h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
        h
    }
    let mut tar = Vec::new();
    for (name, body) in [("one.txt", "red green"), ("two.txt", "green")] {
        tar.write_all(&header(name, body.len())).unwrap();
        tar.write_all(body.as_bytes()).unwrap();
        tar.resize(tar.len().next_multiple_of(512), 0);
    }
    tar.resize(tar.len() + 1024, 0);
    let o =
        run(&[Operand::Memory { name: "hand.tar".into(), bytes: tar.into() }], &cpu_options(Mode::Words, false, 4, 1));
    assert_eq!(rows(&o.table), [("green".into(), 2), ("red".into(), 1)]);
    assert_eq!(o.documents, 2);
}
