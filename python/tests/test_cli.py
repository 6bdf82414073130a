"""The package gives the command line's results: for every option, on the
shipped sample data, on both backends, the rows written as the command line
writes TSV are its output byte for byte, and the summary is its JSON
summary. Each Python keyword is the command-line flag of the same name."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any, Dict, List, Sequence

import pytest

import gpucount

from conftest import SAMPLE

# (id, inputs relative to data/sample ("." is the directory), options)
CASES: List[tuple] = [
    ("defaults", ["."], {}),
    ("keep_case", ["."], {"keep_case": True}),
    ("whitespace", ["."], {"tokenizer": "whitespace"}),
    ("inner_punctuation", ["."], {"inner_punctuation": True}),
    ("ngrams_stopwords", ["."], {"ngram": "1-3", "stopwords": "en,fr,la", "top": 200}),
    ("bigrams_within_line", ["."], {"ngram": 2, "within": "line"}),
    ("trigrams_within_sentence", ["."], {"ngram": "2-3", "within": "sentence", "top": 300}),
    ("token_pattern", ["."], {"token_pattern": r"(?u)\b\w\w+\b"}),
    ("token_pattern_group", ["."], {"token_pattern": r"([\w']+)[.,;:!?]*", "keep_case": True}),
    ("lengths_forms", ["."], {"min_length": 3, "max_length": 8, "normalize": "nfkc", "strip_accents": True}),
    ("nfc", ["unicode-edge-cases.txt"], {"normalize": "nfc"}),
    ("encoding", ["french-windows-1252.txt"], {"encoding": "windows-1252"}),
    ("html_never", ["latin-pages.tar.gz"], {"html": "never"}),
    ("select", ["latin-pages.tar.gz"], {"select": "p:not([class])"}),
    ("raw", ["latin-pages.tar.gz"], {"raw": True}),
    ("top_min_count_share", ["."], {"top": 50, "min_count": 2, "share": True}),
    ("sort_word", ["."], {"sort": "word", "top": 100}),
    ("per_doc", ["."], {"per_doc": True, "top": 5}),
    ("per_doc_df_tfidf", ["."], {"per_doc": True, "doc_freq": True, "tfidf": True, "top": 20}),
    ("doc_freq_min_df_sort_df", ["."], {"doc_freq": True, "min_df": 2, "sort": "df"}),
    ("doc_freq_max_df_share", ["."], {"doc_freq": True, "max_df": 0.5, "top": 100}),
    ("globs", ["."], {"glob": "*.txt", "exclude": "zipf*"}),
    ("one_thread", ["."], {"threads": 1}),
]


def flags(options: Dict[str, Any]) -> List[str]:
    """The command-line flags of Python keywords: the same names, dashed."""
    out: List[str] = []
    for key, value in options.items():
        flag = "--" + key.replace("_", "-")
        if value is True:
            out.append(flag)
        elif value not in (None, False):
            out += [flag, str(value)]
    return out


def as_tsv(counts: gpucount.Counts) -> bytes:
    """Rows written as the command line writes TSV (floats with 6 decimals)."""
    cell = lambda v: f"{v:.6f}" if isinstance(v, float) else str(v)  # noqa: E731
    return "".join("\t".join(map(cell, row)) + "\n" for row in counts).encode()


def paths(inputs: Sequence[str]) -> List[str]:
    return [str(SAMPLE / p) if p != "." else str(SAMPLE) for p in inputs]


def run_cli(cli: Path, inputs: Sequence[str], options: Dict[str, Any], *extra: str) -> bytes:
    done = subprocess.run([str(cli), *paths(inputs), *flags(options), *extra], capture_output=True)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout


@pytest.mark.parametrize("inputs,options", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_rows_are_the_command_lines_tsv(cli: Path, backend: str, inputs: List[str], options: Dict[str, Any]) -> None:
    options = {**options, "backend": backend}
    expected = run_cli(cli, inputs, options)
    counts = gpucount.count(paths(inputs), **options)
    assert expected, "the command line printed nothing"
    got = as_tsv(counts)
    if got != expected:
        # Show the first differing line rather than two large blobs.
        for i, (g, e) in enumerate(zip(got.splitlines(), expected.splitlines())):
            assert g == e, f"line {i + 1} differs"
        assert len(got.splitlines()) == len(expected.splitlines()), "row counts differ"
    assert counts.backend.startswith(f"{backend}: ")
    assert not counts.problems


@pytest.mark.parametrize(
    "inputs,options",
    [c[1:] for c in CASES if c[0] in ("defaults", "ngrams_stopwords", "per_doc_df_tfidf", "doc_freq_min_df_sort_df")],
    ids=["defaults", "ngrams_stopwords", "per_doc_df_tfidf", "doc_freq_min_df_sort_df"],
)
def test_summary_is_the_command_lines_json_summary(cli: Path, inputs: List[str], options: Dict[str, Any]) -> None:
    options = {**options, "backend": "cpu"}
    expected = json.loads(run_cli(cli, inputs, options, "--format", "json"))
    counts = gpucount.count(paths(inputs), **options)
    assert counts.summary == expected["summary"]
    assert counts.summary["tokens"] > 0


def test_problems_are_the_command_lines(cli: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.gz"
    broken.write_bytes(b"\x1f\x8b\x08\x00garbage")
    inputs = [str(SAMPLE / "french-windows-1252.txt"), str(tmp_path / "missing.txt"), str(broken)]
    done = subprocess.run([str(cli), *inputs, "--format", "json"], capture_output=True)
    assert done.returncode == 2
    expected = json.loads(done.stdout)
    with pytest.warns(gpucount.InputWarning, match="missing.txt"):
        counts = gpucount.count(inputs)
    assert counts.summary == expected["summary"]
    assert [{"input": p.input, "reason": p.reason} for p in counts.problems] == expected["summary"]["problems"]
    # The command line's stderr lines are "gpucount: " + each problem.
    lines = [f"gpucount: {p}" for p in counts.problems]
    assert lines == done.stderr.decode().splitlines()
