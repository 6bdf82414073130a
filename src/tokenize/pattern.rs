//! Tokens as the matches of a regular expression, as scikit-learn's
//! `CountVectorizer(token_pattern=...)` makes them. Matches are sought
//! within each run of non-whitespace characters, after it is lowercased: a
//! chunk cut at whitespace then never splits a match, and a match never
//! spans whitespace.

use regex::Regex;
use std::fmt;
use std::sync::Arc;

/// scikit-learn's default `token_pattern`: words of two or more word characters.
pub const SKLEARN_TOKEN_PATTERN: &str = r"(?u)\b\w\w+\b";

/// A compiled token pattern (Rust `regex` syntax, Unicode-aware, linear
/// time). With one capturing group the group's text is the token, as in
/// scikit-learn; more than one group is refused. Empty matches are no tokens.
#[derive(Clone)]
pub struct TokenPattern {
    regex: Arc<Regex>,
    group: bool,
}

impl TokenPattern {
    /// Compiles `pattern`; the error says what is wrong with it.
    pub fn new(pattern: &str) -> Result<TokenPattern, String> {
        let regex = Regex::new(pattern).map_err(|e| {
            // A syntax error spans lines (the pattern, a caret, the reason): keep the reason.
            let text = e.to_string();
            let reason = text.lines().last().unwrap_or_default().trim_start_matches("error: ");
            format!("invalid token pattern {pattern:?}: {reason}")
        })?;
        let group = match regex.captures_len() {
            1 => false,
            2 => true,
            _ => return Err("a token pattern may have at most one capturing group (use (?:...) for others)".into()),
        };
        Ok(TokenPattern { regex: Arc::new(regex), group })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        self.regex.as_str()
    }

    /// The compiled expression.
    pub fn regex(&self) -> &Regex {
        &self.regex
    }

    /// Whether the first capturing group, not the whole match, is the token.
    pub fn uses_group(&self) -> bool {
        self.group
    }

    /// Calls `f` with every non-empty token in `run` (already normalized).
    #[inline]
    pub(super) fn for_each_match(&self, run: &str, f: &mut impl FnMut(&str)) {
        if self.group {
            for caps in self.regex.captures_iter(run) {
                if let Some(m) = caps.get(1).filter(|m| !m.is_empty()) {
                    f(m.as_str());
                }
            }
        } else {
            for m in self.regex.find_iter(run) {
                if !m.is_empty() {
                    f(m.as_str());
                }
            }
        }
    }
}

impl fmt::Debug for TokenPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TokenPattern").field(&self.as_str()).finish()
    }
}

impl PartialEq for TokenPattern {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for TokenPattern {}
