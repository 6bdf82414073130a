"""count_text against collections.Counter over the README's token rules,
written again here in plain Python, on random Unicode text.

The rules: the words tokenizer keeps maximal runs of alphanumeric characters
(Rust's char::is_alphanumeric: the Alphabetic property or a Numeric general
category) and marks (general category M); the whitespace tokenizer keeps
maximal runs of characters outside the White_Space property. With
inner_punctuation an apostrophe or hyphen between two word characters stays
inside the word. Tokens are lowercased (str.lower: full Unicode, final sigma
included) unless keep_case; n-grams join tokens of one document with a
space. Each text is a document read as its UTF-8 bytes: a leading byte
order mark is dropped. Python's unicodedata may be older than Rust's Unicode
tables, so the text is drawn from characters it knows.
"""

from __future__ import annotations

import sys
import unicodedata
from collections import Counter
from typing import List

from hypothesis import given, settings
from hypothesis import strategies as st

import gpucount

# Letters and marks are what Python's categories give; these symbols (So)
# have the Other_Alphabetic property, so Rust counts them as alphabetic.
OTHER_ALPHABETIC_SYMBOLS = {
    *range(0x24B6, 0x24EA),  # circled Latin letters
    *range(0x1F130, 0x1F14A),  # squared Latin capitals
    *range(0x1F150, 0x1F16A),  # negative circled capitals
    *range(0x1F170, 0x1F18A),  # negative squared capitals
}
WHITE_SPACE = {
    *range(0x09, 0x0E), 0x20, 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B),
    0x2028, 0x2029, 0x202F, 0x205F, 0x3000,
}  # fmt: skip
INNER = set("'\u2019-\u2010\u2011")


def is_word(c: str) -> bool:
    return unicodedata.category(c)[0] in "LNM" or ord(c) in OTHER_ALPHABETIC_SYMBOLS


def tokens(text: str, tokenizer: str, inner_punctuation: bool) -> List[str]:
    if text.startswith("\ufeff"):
        text = text[1:]
    if tokenizer == "whitespace":
        keep = [ord(c) not in WHITE_SPACE for c in text]
    else:
        keep = [is_word(c) for c in text]
        if inner_punctuation:
            for i in range(1, len(text) - 1):
                if text[i] in INNER and is_word(text[i - 1]) and is_word(text[i + 1]):
                    keep[i] = True
    out, start = [], None
    for i, k in enumerate(keep + [False]):
        if k and start is None:
            start = i
        elif not k and start is not None:
            out.append(text[start:i])
            start = None
    return out


def reference(texts: List[str], tokenizer: str, keep_case: bool, inner_punctuation: bool, n: tuple) -> Counter:
    counts: Counter = Counter()
    for text in texts:
        toks = tokens(text, tokenizer, inner_punctuation)
        if not keep_case:
            toks = [t.lower() for t in toks]
        for size in range(n[0], n[1] + 1):
            counts.update(" ".join(toks[i : i + size]) for i in range(len(toks) - size + 1))
    return counts


# Characters Python's Unicode tables know (no surrogates, nothing unassigned),
# weighted towards separators, inner punctuation and case-rich letters so
# that tokens are short and edges common.
KNOWN = st.characters(codec="utf-8").filter(lambda c: unicodedata.category(c) != "Cn")
EDGES = st.sampled_from(list(" \t\n\u00a0\u2028\u3000\ufeff'\u2019-\u2010\u2011.,\x00") + ["\u03a3", "\u0130", "\u0301", "\u24b6", "\U0001f130", "\u2167"])
ASCII = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
CHAR = st.one_of(KNOWN, EDGES, ASCII)
TEXT = st.text(CHAR, max_size=200)


@settings(max_examples=300, deadline=None)
@given(
    texts=st.lists(TEXT, min_size=1, max_size=4),
    tokenizer=st.sampled_from(["words", "whitespace"]),
    keep_case=st.booleans(),
    inner_punctuation=st.booleans(),
    ngram=st.sampled_from([(1, 1), (2, 2), (1, 3)]),
)
def test_count_text_is_a_counter_of_the_token_rules(
    texts: List[str], tokenizer: str, keep_case: bool, inner_punctuation: bool, ngram: tuple
) -> None:
    inner = inner_punctuation and tokenizer == "words"
    counts = gpucount.count_text(
        texts,
        backend="cpu",
        tokenizer=tokenizer,
        keep_case=keep_case,
        inner_punctuation=inner,
        ngram=ngram,
        html="never",
    )
    expected = reference(texts, tokenizer, keep_case, inner, ngram)
    assert counts.to_dict() == dict(expected)
    # The order is the command line's: count descending, ties by UTF-8 bytes.
    assert list(counts) == sorted(expected.items(), key=lambda kv: (-kv[1], kv[0].encode()))
    assert counts.summary["tokens"] == sum(expected.values())


@settings(max_examples=40, deadline=None)
@given(texts=st.lists(TEXT, min_size=1, max_size=3))
def test_the_gpu_counts_random_text_as_the_cpu_does(gpu_adapter: dict, texts: List[str]) -> None:
    cpu = gpucount.count_text(texts, backend="cpu", ngram="1-2", html="never")
    gpu = gpucount.count_text(texts, backend="gpu", ngram="1-2", html="never")
    assert list(gpu) == list(cpu)
    assert gpu.backend.startswith("gpu: ")


def test_the_reference_knows_the_rules() -> None:
    # The reference itself, on the README's examples.
    assert tokens("don't l'homme saint-jacques", "words", True) == ["don't", "l'homme", "saint-jacques"]
    assert tokens("don't 'x' a--b", "words", True) == ["don't", "x", "a", "b"]
    assert tokens("a_b\x00c", "words", False) == ["a", "b", "c"]
    assert reference(["ΟΔΟΣ"], "words", False, False, (1, 1)) == Counter({"\u03bf\u03b4\u03bf\u03c2": 1})
    assert sys.maxunicode == 0x10FFFF
