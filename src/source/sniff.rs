//! Recognising binary files met in a walk, from their first bytes.

/// How much of the start of a file is looked at.
const HEAD: usize = 8 << 10;

/// Why the bytes `head` (the start of a file) are not text, if they are not:
/// a binary signature (image, executable, audio, video, font, archive,
/// office document; by the `infer` crate) or NUL-heavy (a tenth or more of
/// the first 8 KiB are NUL, as in unmarked UTF-16 or binary records). A byte
/// order mark means text.
pub fn binary_kind(head: &[u8]) -> Option<String> {
    let head = &head[..head.len().min(HEAD)];
    if head.is_empty() || encoding_rs::Encoding::for_bom(head).is_some() {
        return None;
    }
    if let Some(kind) = infer::get(head).filter(|k| k.matcher_type() != infer::MatcherType::Text) {
        return Some(format!("binary ({})", kind.mime_type()));
    }
    let nuls = head.iter().filter(|&&b| b == 0).count();
    (nuls * 10 >= head.len()).then(|| "binary (NUL bytes)".to_string())
}

#[cfg(test)]
mod tests {
    use super::binary_kind;

    #[test]
    fn signatures_and_nuls_are_binary_text_is_not() {
        assert_eq!(binary_kind(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").as_deref(), Some("binary (image/png)"));
        // This test's own executable.
        let exe = std::fs::read("/proc/self/exe").unwrap();
        assert_eq!(binary_kind(&exe[..8192]).as_deref(), Some("binary (application/x-executable)"));
        assert_eq!(binary_kind(b"a\0b\0c\0d\0").as_deref(), Some("binary (NUL bytes)"));
        // UTF-16 with a byte order mark is text.
        assert_eq!(binary_kind(b"\xff\xfea\0b\0"), None);
        // A few NULs in a long text do not make it binary.
        let mut text = b"plain words ".repeat(100);
        text[50] = 0;
        assert_eq!(binary_kind(&text), None);
        assert_eq!(binary_kind(b"<html><body>hi</body></html>"), None);
        assert_eq!(binary_kind(b""), None);
    }
}
