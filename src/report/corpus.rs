//! Corpus statistics of a count table: the figures corpus linguists quote
//! (types, tokens, type/token ratio, hapax legomena, frequency of
//! frequencies) and the Zipf exponent of the rank-frequency curve.

use crate::table::CountTable;
use serde::Serialize;

/// How many ranks the Zipf line is fitted to, at most.
pub const ZIPF_RANKS: usize = 1000;

/// Figures of one table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CorpusStats {
    pub tokens: u64,
    pub types: u64,
    /// types / tokens (0 for an empty table).
    pub type_token_ratio: f64,
    /// Types seen exactly once.
    pub hapax_legomena: u64,
    /// `frequency_of_frequencies[k - 1]`: how many types were seen exactly k times, k = 1..=10.
    pub frequency_of_frequencies: [u64; 10],
    /// The fitted Zipf line; None with fewer than 3 types.
    pub zipf: Option<ZipfFit>,
}

/// `frequency = C / rank^exponent`, fitted by ordinary least squares of
/// ln(frequency) on ln(rank) over ranks 1 to `ranks` (at most
/// [`ZIPF_RANKS`]: the long tail of equal low counts would otherwise bend
/// the line); `r_squared` is the fit's coefficient of determination.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ZipfFit {
    pub exponent: f64,
    /// ln C: the line's value at rank 1.
    pub intercept: f64,
    pub r_squared: f64,
    pub ranks: usize,
}

impl CorpusStats {
    pub fn of(table: &CountTable) -> CorpusStats {
        let mut counts: Vec<u64> = table.iter().map(|(_, n)| n).collect();
        counts.sort_unstable_by(|a, b| b.cmp(a));
        let (tokens, types) = (table.total(), counts.len() as u64);
        let mut fof = [0u64; 10];
        for &n in &counts {
            if (1..=10).contains(&n) {
                fof[n as usize - 1] += 1;
            }
        }
        CorpusStats {
            tokens,
            types,
            type_token_ratio: if tokens == 0 { 0.0 } else { types as f64 / tokens as f64 },
            hapax_legomena: fof[0],
            frequency_of_frequencies: fof,
            zipf: fit(&counts[..counts.len().min(ZIPF_RANKS)]),
        }
    }
}

/// Least squares of ln(count) on ln(rank) for counts in rank order.
fn fit(counts: &[u64]) -> Option<ZipfFit> {
    if counts.len() < 3 {
        return None;
    }
    let points: Vec<(f64, f64)> =
        counts.iter().enumerate().map(|(i, &n)| (((i + 1) as f64).ln(), (n as f64).ln())).collect();
    let m = points.len() as f64;
    let (mx, my) = (points.iter().map(|p| p.0).sum::<f64>() / m, points.iter().map(|p| p.1).sum::<f64>() / m);
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let syy: f64 = points.iter().map(|p| (p.1 - my).powi(2)).sum();
    let slope = sxy / sxx;
    // All counts equal: a flat line fits exactly.
    let r_squared = if syy == 0.0 { 1.0 } else { (sxy * sxy) / (sxx * syy) };
    Some(ZipfFit { exponent: -slope, intercept: my - slope * mx, r_squared, ranks: counts.len() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(counts: &[(&str, u64)]) -> CountTable {
        let mut t = CountTable::new();
        for (w, n) in counts {
            t.add(crate::KeyHash::Xxh3.hash(w.as_bytes()), w.as_bytes(), *n);
        }
        t
    }

    #[test]
    fn figures_by_hand() {
        let s = CorpusStats::of(&table(&[("a", 4), ("b", 2), ("c", 1), ("d", 1)]));
        assert_eq!((s.tokens, s.types, s.hapax_legomena), (8, 4, 2));
        assert_eq!(s.type_token_ratio, 0.5);
        assert_eq!(s.frequency_of_frequencies, [2, 1, 0, 1, 0, 0, 0, 0, 0, 0]);
        let empty = CorpusStats::of(&CountTable::new());
        assert_eq!((empty.tokens, empty.type_token_ratio, empty.zipf), (0, 0.0, None));
    }

    #[test]
    fn a_perfect_zipf_curve_gives_its_exponent() {
        // count = 1000 / rank^1: ln count = ln 1000 - 1 * ln rank exactly (up to rounding of counts).
        let counts: Vec<(String, u64)> = (1..=100u64).map(|r| (format!("w{r}"), 1_000_000 / (r * r))).collect();
        let refs: Vec<(&str, u64)> = counts.iter().map(|(w, n)| (w.as_str(), *n)).collect();
        let fit = CorpusStats::of(&table(&refs)).zipf.unwrap();
        assert!((fit.exponent - 2.0).abs() < 1e-3, "{fit:?}");
        assert!(fit.r_squared > 0.9999, "{fit:?}");
        assert_eq!(fit.ranks, 100);
        assert!((fit.intercept - 1_000_000f64.ln()).abs() < 1e-2, "{fit:?}");
    }
}
