"""The result object, the exceptions and problems, devices(), the stubs."""

from __future__ import annotations

import ast
import inspect
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import gpucount

from conftest import SAMPLE

TEXTS = ["The cat saw the other cat.", "THE END"]


def test_rows_len_lookup_and_dict() -> None:
    counts = gpucount.count_text(TEXTS)
    assert list(counts) == [("the", 3), ("cat", 2), ("end", 1), ("other", 1), ("saw", 1)]
    assert len(counts) == 5
    assert counts.columns == ("word", "count")
    assert counts["cat"] == 2
    assert "dog" not in counts and "cat" in counts
    assert counts.get("dog", 0) == 0
    with pytest.raises(KeyError):
        counts["dog"]
    assert counts.to_dict() == {"the": 3, "cat": 2, "end": 1, "other": 1, "saw": 1}
    assert list(counts.to_dict()) == [w for w, _ in counts]
    assert counts.column("count") == [3, 2, 1, 1, 1]
    assert repr(counts).startswith("<gpucount.Counts: 5 rows [('the', 3), ('cat', 2), ('end', 1), ...]")
    assert counts.summary["files"] == 2 and counts.summary["tokens"] == 8
    assert counts.problems == [] and counts.warnings == [] and counts.device is None


def test_share_per_doc_and_doc_freq_rows() -> None:
    shared = gpucount.count_text(TEXTS, share=True, top=2)
    assert shared.columns == ("word", "count", "share", "cumulative")
    assert list(shared) == [("the", 3, 3 / 8, 3 / 8), ("cat", 2, 2 / 8, 5 / 8)]

    per_doc = gpucount.count_text({"a": TEXTS[0], "b": TEXTS[1]}, per_doc=True, doc_freq=True)
    assert per_doc.columns == ("doc", "word", "count", "df")
    assert list(per_doc)[:2] == [("a", "cat", 2, 1), ("a", "the", 2, 2)]
    assert per_doc["b", "end"] == 1
    assert per_doc.to_dict()[("a", "the")] == 2
    assert "corpus" not in per_doc.summary

    df = gpucount.count_text(TEXTS, doc_freq=True, sort="df")
    assert df.columns == ("word", "count", "df")
    assert list(df)[0] == ("the", 3, 2)

    tfidf = gpucount.count_text(TEXTS, names=["one", "two"], per_doc=True, tfidf=True, top=1)
    assert tfidf.columns == ("doc", "word", "count", "tfidf")
    assert [r[:3] for r in tfidf] == [("one", "cat", 2), ("two", "end", 1)]


def test_count_text_takes_bytes_names_and_one_string() -> None:
    assert list(gpucount.count_text("to be or not to be", top=1)) == [("be", 2)]
    latin1 = "caf\u00e9 caf\u00e9".encode("windows-1252")
    assert list(gpucount.count_text(latin1, encoding="windows-1252")) == [("caf\u00e9", 2)]
    assert list(gpucount.count_text([bytearray(b"a b"), memoryview(b"b")])) == [("b", 2), ("a", 1)]
    with pytest.raises(ValueError, match="applies to bytes"):
        gpucount.count_text("caf\u00e9", encoding="windows-1252")
    with pytest.raises(ValueError, match="2 names for 1 texts"):
        gpucount.count_text(["x"], names=["a", "b"])
    with pytest.raises(TypeError, match="expected str or bytes"):
        gpucount.count_text([1])  # type: ignore[list-item]
    # Documents are never crossed by n-grams.
    assert list(gpucount.count_text(["a b", "c"], ngram=2)) == [("a b", 1)]


def test_paths_accept_pathlike_and_lists() -> None:
    one = gpucount.count(SAMPLE / "unicode-edge-cases.txt")
    two = gpucount.count([str(SAMPLE / "unicode-edge-cases.txt"), SAMPLE / "french-windows-1252.txt"])
    assert one.summary["files"] == 1 and two.summary["files"] == 2
    assert two.summary["tokens"] > one.summary["tokens"]


def test_bad_options_are_value_errors() -> None:
    bad = [
        {"backend": "tpu"},
        {"tokenizer": "regex"},
        {"encoding": "klingon"},
        {"encoding": "iso-2022-kr"},
        {"ngram": 6},
        {"ngram": "3-1"},
        {"within": "page"},
        {"normalize": "nfd"},
        {"min_length": 5, "max_length": 2},
        {"stopwords": "xx"},
        {"top": 0},
        {"threads": 0},
        {"min_count": -1},
        {"sort": "df"},
        {"tfidf": True},
        {"min_df": 2},
        {"per_doc": True, "share": True},
        {"doc_freq": True, "max_df": 1.5},
        {"select": "p:::"},
        {"html": "sometimes"},
        {"backend": "cpu", "adapter": 0},
    ]
    for options in bad:
        with pytest.raises(ValueError):
            gpucount.count_text("x", **options)
    with pytest.raises(ValueError, match="glob"):
        gpucount.count(str(SAMPLE), glob="a[")
    with pytest.raises(ValueError, match="at least one path"):
        gpucount.count([])
    with pytest.raises(TypeError, match="top"):
        gpucount.count_text("x", top="ten")  # type: ignore[arg-type]


def test_problems_warn_and_strict_raises(tmp_path: Path) -> None:
    missing = tmp_path / "missing.txt"
    ok = tmp_path / "ok.txt"
    ok.write_text("alpha beta")
    with pytest.warns(gpucount.InputWarning, match=r"missing\.txt: No such file or directory"):
        counts = gpucount.count([ok, missing])
    assert list(counts) == [("alpha", 1), ("beta", 1)]
    assert counts.problems == [gpucount.Problem(str(missing), "No such file or directory (os error 2)")]
    assert str(counts.problems[0]) == f"{missing}: No such file or directory (os error 2)"

    with pytest.raises(FileNotFoundError) as info:
        gpucount.count([ok, missing], strict=True)
    assert info.value.filename == str(missing)

    broken = tmp_path / "broken.gz"
    broken.write_bytes(b"\x1f\x8b\x08\x00garbage")
    with pytest.raises(gpucount.InputError, match="broken.gz") as err:
        gpucount.count(broken, strict=True)
    assert err.value.input == str(broken) and "gzip" in err.value.reason
    assert isinstance(err.value, OSError)


def test_a_problem_met_while_walking_is_raised_with_strict(tmp_path: Path) -> None:
    locked = tmp_path / "dir" / "locked.txt"
    locked.parent.mkdir()
    locked.write_text("x")
    locked.chmod(0)
    try:
        if os.access(locked, os.R_OK):
            pytest.skip("running as a user who can read any file (root)")
        with pytest.raises(PermissionError):
            gpucount.count(locked.parent, strict=True)
    finally:
        locked.chmod(0o644)


def test_names_that_are_not_utf8_come_back_as_fsdecode_gives_them(tmp_path: Path) -> None:
    name = os.fsdecode(b"caf\xe9.txt")
    with pytest.warns(gpucount.InputWarning):
        counts = gpucount.count(tmp_path / name)
    assert counts.problems[0].input == str(tmp_path / name)


def test_pandas_and_polars_frames_or_a_clear_import_error() -> None:
    counts = gpucount.count_text(TEXTS)
    for method, module in (("to_pandas", "pandas"), ("to_polars", "polars")):
        try:
            __import__(module)
        except ImportError:
            with pytest.raises(ImportError, match=f"pip install {module}"):
                getattr(counts, method)()
            continue
        frame = getattr(counts, method)()
        assert list(frame.columns) == ["word", "count"]
        assert list(frame["word"]) == ["the", "cat", "end", "other", "saw"]
        assert list(frame["count"]) == [3, 2, 1, 1, 1]


def test_missing_pandas_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)
    monkeypatch.setitem(sys.modules, "polars", None)
    counts = gpucount.count_text("x")
    with pytest.raises(ImportError, match="Counts.to_pandas needs pandas: pip install pandas"):
        counts.to_pandas()
    with pytest.raises(ImportError, match="Counts.to_polars needs polars: pip install polars"):
        counts.to_polars()


def test_devices_lists_cores_and_adapters() -> None:
    d = gpucount.devices()
    assert d["logical_cores"] >= 1 and d["rayon_threads"] >= 1
    assert set(d) == {"logical_cores", "rayon_threads", "adapters", "auto_large_input", "auto_small_input"}
    for a in d["adapters"]:
        assert {"index", "name", "backend", "device_type", "hardware"} <= set(a)
    assert d["auto_small_input"].startswith("cpu: ")


def test_the_gpu_counts_and_names_its_adapter(gpu_adapter: dict) -> None:
    counts = gpucount.count_text(TEXTS, backend="gpu", adapter=gpu_adapter["index"])
    assert list(counts)[:2] == [("the", 3), ("cat", 2)]
    assert counts.device and gpu_adapter["name"] in counts.device
    with pytest.raises(ValueError, match="adapter"):
        gpucount.count_text("x", backend="gpu", adapter="no such adapter")


def test_no_adapter_is_a_gpu_error_with_the_hint() -> None:
    # A process whose Vulkan loader finds no driver.
    code = (
        "import gpucount\n"
        "try:\n"
        "    gpucount.count_text('x', backend='gpu')\n"
        "except RuntimeError as e:\n"
        "    print(type(e).__name__, e)\n"
    )
    env = {**os.environ, "VK_ICD_FILENAMES": "/nonexistent.json", "VK_DRIVER_FILES": "/nonexistent.json"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.stdout.startswith("GpuError no usable GPU adapter: "), done.stdout + done.stderr
    assert "install a Vulkan driver" in done.stdout
    # backend="auto" counts on the CPU instead.
    code = "import gpucount; print(gpucount.count_text('x y x').backend)"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.stdout.startswith("cpu: ")


def test_the_gil_is_released_while_counting(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_text("lorem ipsum dolor sit amet\n" * 400_000)  # 10.8 MB
    ticks = 0
    done = threading.Event()

    def spin() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1

    spinner = threading.Thread(target=spin)
    spinner.start()
    try:
        start = time.perf_counter()
        counts = gpucount.count([big] * 5, backend="cpu", threads=1)
        elapsed = time.perf_counter() - start
    finally:
        done.set()
        spinner.join()
    assert counts["lorem"] == 2_000_000
    # A thread starved of the GIL would tick a few times per switch interval at most.
    assert ticks > 10_000 * max(elapsed, 0.01), (ticks, elapsed)


def _signature(source: str, name: str) -> list:
    """Parameter (name, kind, default) of function `name` in Python source."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef) and node.name == name:
            a = node.args
            pos = [(p.arg, "pos", None) for p in a.args]
            defaults = [ast.literal_eval(d) for d in a.defaults]
            pos = [(n, k, defaults[i - (len(pos) - len(defaults))] if i >= len(pos) - len(defaults) else "-")
                   for i, (n, k, _) in enumerate(pos)]  # fmt: skip
            kw = [(p.arg, "kw", ast.literal_eval(d)) for p, d in zip(a.kwonlyargs, a.kw_defaults)]
            return pos + kw
    raise AssertionError(f"no {name} in the source")


def test_the_stubs_match_the_code() -> None:
    package = Path(gpucount.__file__).parent
    code = (package / "__init__.py").read_text()
    stub = (package / "__init__.pyi").read_text()
    assert (package / "py.typed").exists()
    for name in ("count", "count_text", "devices"):
        assert _signature(stub, name) == _signature(code, name), name
        assert inspect.getdoc(getattr(gpucount, name)), f"{name} has no docstring"
    assert inspect.getdoc(gpucount.Counts.to_pandas)


def test_token_patterns_and_sentences_by_hand():
    text = "Mr. Brown's cat-flap broke. The cat left!"
    got = dict(gpucount.count_text(text, token_pattern=r"(?u)\b\w\w+\b", ngram=2, within="sentence", backend="cpu"))
    assert got == {"mr brown": 1, "brown cat": 1, "cat flap": 1, "flap broke": 1, "the cat": 1, "cat left": 1}
    grouped = dict(gpucount.count_text("Don't STOP, x-ray", token_pattern=r"([a-z']+),?", backend="cpu"))
    assert grouped == {"don't": 1, "stop": 1, "x": 1, "ray": 1}
    with pytest.raises(ValueError, match="at most one capturing group"):
        gpucount.count_text("a", token_pattern="(a)(b)")
    with pytest.raises(ValueError, match="unclosed group"):
        gpucount.count_text("a", token_pattern="(")
    with pytest.raises(ValueError, match="token_pattern replaces tokenizer"):
        gpucount.count_text("a", token_pattern="a", tokenizer="whitespace")
    with pytest.raises(ValueError, match="within"):
        gpucount.count_text("a", within="paragraph")
