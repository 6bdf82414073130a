//! Reproducible sample text: Zipf-distributed pseudo-words from a fixed seed,
//! for tests, benchmarks and the shipped sample corpus (`gpucount generate`).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Zipf};
use std::io::{self, Write};

/// Syllables of pseudo-words; a few non-ASCII ones so that decoding,
/// tokenizing and lowercasing of non-ASCII text are always exercised.
const SYLLABLES: [&str; 24] = [
    "ka", "lo", "mi", "ne", "ru", "sa", "te", "vo", "da", "pe", "ri", "gu", "bo", "fa", "zi", "ho", "é", "ü", "ña",
    "ço", "λα", "ση", "ж", "ø",
];

/// A recipe for Zipf-distributed text.
#[derive(Debug, Clone, Copy)]
pub struct ZipfText {
    /// Word occurrences to write.
    pub words: u64,
    /// Distinct words to draw from (rank 1 is the most frequent).
    pub vocabulary: u64,
    /// Zipf exponent (1.0 is classic Zipf).
    pub exponent: f64,
    pub seed: u64,
}

impl Default for ZipfText {
    fn default() -> Self {
        ZipfText { words: 100_000, vocabulary: 20_000, exponent: 1.07, seed: 42 }
    }
}

/// The pseudo-word of rank `rank` (0-based): its syllables spell `rank` in base 24.
pub fn word(rank: u64) -> String {
    let mut n = rank;
    let mut w = String::new();
    loop {
        w.push_str(SYLLABLES[(n % SYLLABLES.len() as u64) as usize]);
        n /= SYLLABLES.len() as u64;
        if n == 0 {
            break;
        }
        n -= 1;
    }
    w
}

impl ZipfText {
    /// Writes the text: lines of words, some capitalized, with punctuation.
    pub fn write(&self, out: &mut dyn Write) -> io::Result<()> {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let zipf = Zipf::new(self.vocabulary.max(1) as f64, self.exponent).map_err(io::Error::other)?;
        let mut line = String::with_capacity(256);
        for i in 0..self.words {
            let rank = zipf.sample(&mut rng) as u64 - 1;
            let mut w = word(rank);
            if rng.random_ratio(1, 10) {
                w = capitalize(&w);
            }
            line.push_str(&w);
            let end_of_line = i + 1 == self.words || rng.random_ratio(1, 12);
            let punct = match rng.random_range(0..20) {
                0 => ",",
                1 => ".",
                2 => ";",
                _ => "",
            };
            line.push_str(punct);
            line.push(if end_of_line { '\n' } else { ' ' });
            if end_of_line {
                out.write_all(line.as_bytes())?;
                line.clear();
            }
        }
        out.write_all(line.as_bytes())
    }

    /// The text as a string.
    pub fn to_text(&self) -> String {
        let mut buf = Vec::new();
        self.write(&mut buf).expect("writing to memory cannot fail");
        String::from_utf8(buf).expect("pseudo-words are UTF-8")
    }
}

fn capitalize(w: &str) -> String {
    let mut c = w.chars();
    c.next().map_or_else(String::new, |f| f.to_uppercase().chain(c).collect())
}
