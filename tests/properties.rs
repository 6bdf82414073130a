//! Random text through the whole pipeline equals the reference counter, for
//! every tokenizer, case option, encoding and chunk size.

use crate::util::{Dir, reference, reference_rows, rows, run};
use gpucount::Options;
use gpucount::decode::EncodingChoice;
use gpucount::source::Operand;
use gpucount::tokenize::{Mode, SKLEARN_TOKEN_PATTERN, TokenPattern};
use proptest::prelude::*;

/// Text mixing arbitrary characters with the ones tokenizers find hard.
pub fn tricky_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => "[a-zA-Z]{1,8}",
        2 => Just(" ".to_string()),
        1 => any::<char>().prop_map(String::from),
        1 => prop::sample::select(vec![
            "Σ", "ΟΔΟΣ", "σ", "\u{301}", "e\u{301}", "İ", "ı", "\0", "\r\n", "\u{a0}", "\u{202f}", "_", "'", "’",
            "ß", "ẞ", "Ǆ", "ǅ", "中文", "한국", "\u{85}", "\u{3000}", "\t", ",", "x86_64", "\u{FFFD}", "🙂", "\u{200b}", "\u{feff}",
        ])
        .prop_map(String::from),
    ];
    prop::collection::vec(piece, 0..120).prop_map(|v| v.concat())
}

fn mode() -> impl Strategy<Value = Mode> {
    let pattern = |p: &str| Mode::Pattern(TokenPattern::new(p).unwrap());
    prop_oneof![
        Just(Mode::Words),
        Just(Mode::Whitespace),
        Just(pattern(SKLEARN_TOKEN_PATTERN)),
        // A group, a class with accents and marks, and matches that may be empty.
        Just(pattern(r"([a-zé\p{M}]+)'?|\d*")),
    ]
}

/// Counts `bytes` (written to a file) with the CPU backend.
pub fn count_bytes(bytes: &[u8], opts: &Options) -> Vec<(String, u64)> {
    let d = Dir::new();
    let f = d.write("t.txt", bytes);
    let outcome = run(&[Operand::Path(f)], opts);
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    rows(&outcome.table)
}

pub use crate::util::cpu_options as options;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn counts_equal_reference(text in tricky_text(), mode in mode(), keep_case: bool, chunk in 1usize..64, threads in 1usize..4) {
        // A leading U+FEFF is a byte order mark: auto detection removes it.
        let expected = reference_rows(&reference(text.strip_prefix('\u{feff}').unwrap_or(&text), mode.clone(), keep_case));
        let got = count_bytes(text.as_bytes(), &options(mode, keep_case, chunk, threads));
        prop_assert_eq!(got, expected);
    }

    #[test]
    fn windows_1252_and_utf16_decode_to_the_same_counts(text in "[a-zA-Zàéîõüç€œŒ ,.'\r\n]{0,200}", mode in mode()) {
        let expected = reference_rows(&reference(&text, mode.clone(), false));
        for label in ["windows-1252", "utf-16le", "utf-16be"] {
            let enc = encoding_rs::Encoding::for_label(label.as_bytes()).unwrap();
            let bytes: Vec<u8> = match label {
                "utf-16le" => text.encode_utf16().flat_map(u16::to_le_bytes).collect(),
                "utf-16be" => text.encode_utf16().flat_map(u16::to_be_bytes).collect(),
                _ => enc.encode(&text).0.into_owned(),
            };
            let opts = Options { encoding: EncodingChoice::Fixed(enc), ..options(mode.clone(), false, 7, 2) };
            prop_assert_eq!(count_bytes(&bytes, &opts), expected.clone(), "{}", label);
        }
    }
}
