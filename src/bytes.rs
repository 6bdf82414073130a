//! Short byte strings as machine words: most tokens are a few bytes long,
//! and fixed-size loads read them without a `memcpy` call or a byte loop.

/// The bytes of `b` (at most 8) as a little-endian word, zero beyond them:
/// two overlapping loads (or three single bytes), no loop.
#[inline(always)]
pub(crate) fn word_le(b: &[u8]) -> u64 {
    let n = b.len();
    debug_assert!(n <= 8, "at most 8 bytes");
    if n >= 4 {
        let lo = u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as u64;
        let hi = u32::from_le_bytes([b[n - 4], b[n - 3], b[n - 2], b[n - 1]]) as u64;
        lo | hi << (8 * (n - 4))
    } else if n > 0 {
        b[0] as u64 | (b[n / 2] as u64) << (8 * (n / 2)) | (b[n - 1] as u64) << (8 * (n - 1))
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_hold_exactly_the_bytes() {
        for b in [&b""[..], b"a", b"ab", b"abc", b"abcd", b"abcde", b"a\0", b"\0", b"\0\0\0", b"abcdefgh", b"\xff\xfe"]
        {
            let mut want = [0u8; 8];
            want[..b.len()].copy_from_slice(b);
            assert_eq!(word_le(b), u64::from_le_bytes(want), "{b:?}");
        }
    }
}
