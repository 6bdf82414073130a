"""Exact word and n-gram frequencies, counted in Rust on the CPU or a GPU.

gpucount reads files, directories, compressed files, archives, URLs, HTML
pages and text in memory, and counts every token exactly, with the same
results as the ``gpucount`` command line (the same rows, in the same order,
byte for byte)::

    >>> import gpucount
    >>> counts = gpucount.count_text(["The cat saw the other cat.", "THE END"])
    >>> list(counts)[:3]
    [('the', 3), ('cat', 2), ('end', 1)]
    >>> counts["cat"]
    2

``count`` takes paths, directories and URLs; ``count_text`` takes documents
held in memory; ``devices`` lists CPU cores and GPU adapters. The counting
runs without the GIL on all cores, and Ctrl-C stops it.
"""

from __future__ import annotations

import json
import os
import re
import warnings
from typing import Any, Dict, Iterable, Iterator, List, NamedTuple, Optional, Sequence, Tuple, Union

# Quiet the Vulkan driver's chatter, as the command line does
# (`quiet_driver_environment` in src/count/gpu/mod.rs), unless the user set
# these: lavapipe's conformance banner, and Mesa's device-select layer (which
# looks for a display, complaining on headless machines; gpucount orders
# adapters itself). They must be set before the first adapter is probed.
for _name in ("MESA_VK_IGNORE_CONFORMANCE_WARNING", "NODEVICE_SELECT"):
    os.environ.setdefault(_name, "1")
del _name

from . import _gpucount  # noqa: E402
from ._gpucount import GpuError  # noqa: E402

__version__: str = _gpucount.__version__

__all__ = [
    "count",
    "count_text",
    "devices",
    "Counts",
    "Problem",
    "GpuError",
    "InputError",
    "InputWarning",
]


class InputError(OSError):
    """An input that could not be counted, with ``strict=True``.

    Problems that carry an operating-system error number are raised as the
    matching ``OSError`` subclass instead (a missing file is
    ``FileNotFoundError``, a permission problem ``PermissionError``); this
    class is for the others (malformed bytes, a broken archive, a failed
    download). ``input`` names the input, ``reason`` says what went wrong.
    """

    def __init__(self, input: str, reason: str) -> None:
        super().__init__(f"{input}: {reason}")
        self.input = input
        self.reason = reason
        self.filename = input


class InputWarning(UserWarning):
    """Some inputs could not be counted (the others were); see ``Counts.problems``."""


class Problem(NamedTuple):
    """One input that was not counted, or not fully: as the command line reports it."""

    input: str
    """The input as named: a path, ``ARCHIVE:member``, a URL, a text's name.
    A path that is not UTF-8 is given as ``os.fsdecode`` gives it."""
    reason: str
    """Why it was not (or not fully) counted."""

    def __str__(self) -> str:
        return f"{self.input}: {self.reason}"

    def error(self) -> OSError:
        """This problem as an exception: the ``OSError`` subclass of its error
        number when it has one (``FileNotFoundError``, ``PermissionError``,
        ...), else ``InputError``."""
        found = re.search(r"^(.*?)\s*\(os error (\d+)\)$", self.reason)
        if found:
            return OSError(int(found.group(2)), found.group(1), self.input)
        return InputError(self.input, self.reason)


_MISSING = object()


class Counts:
    """The result of a count: rows in the command line's order.

    Iterating gives tuples: ``(word, count)``; with ``share=True``
    ``(word, count, share, cumulative)``; with ``doc_freq=True``
    ``(word, count, df)``; with ``per_doc=True`` ``(doc, word, count)``,
    plus ``df`` with ``doc_freq=True`` and ``tfidf`` with ``tfidf=True``.
    ``columns`` names them. ``counts[word]`` is a word's count
    (``counts[doc, word]`` for per-document rows).
    """

    __slots__ = ("_native", "_columns", "_index", "_summary", "_problems")

    def __init__(self, native: Any) -> None:
        self._native = native
        self._columns: Dict[str, list] = {}
        self._index: Optional[Dict[Any, int]] = None
        self._summary: Optional[Dict[str, Any]] = None
        self._problems: Optional[List[Problem]] = None

    @property
    def columns(self) -> Tuple[str, ...]:
        """The names of the rows' fields, in order (as the CSV header)."""
        return tuple(self._native.columns)

    def column(self, name: str) -> list:
        """One column of the rows as a list (``"word"``, ``"count"``, ...)."""
        if name not in self._columns:
            self._columns[name] = self._native.column(name)
        return self._columns[name]

    @property
    def _per_doc(self) -> bool:
        return self._native.columns[0] == "doc"

    def __len__(self) -> int:
        return len(self._native)

    def __iter__(self) -> Iterator[tuple]:
        return zip(*(self.column(n) for n in self._native.columns))

    def _keys(self) -> Iterable[Any]:
        if self._per_doc:
            return zip(self.column("doc"), self.column("word"))
        return self.column("word")

    def __getitem__(self, key: Any) -> int:
        """The count of a word (or of ``(doc, word)`` for per-document rows);
        ``KeyError`` if it is not among the rows."""
        if self._index is None:
            self._index = {k: i for i, k in enumerate(self._keys())}
        return self.column("count")[self._index[key]]

    def __contains__(self, key: object) -> bool:
        try:
            self[key]
        except (KeyError, TypeError):
            return False
        return True

    def get(self, key: Any, default: Any = None) -> Any:
        """The count of ``key``, or ``default`` if it is not among the rows."""
        try:
            return self[key]
        except KeyError:
            return default

    def to_dict(self) -> Dict[Any, int]:
        """``{word: count}`` in row order (``{(doc, word): count}`` for per-document rows)."""
        return dict(zip(self._keys(), self.column("count")))

    def to_pandas(self) -> Any:
        """The rows as a ``pandas.DataFrame`` with ``columns`` as its columns.

        Needs pandas (``pip install pandas``)."""
        try:
            import pandas
        except ImportError as e:
            raise ImportError("Counts.to_pandas needs pandas: pip install pandas") from e
        return pandas.DataFrame({n: self.column(n) for n in self.columns}, columns=list(self.columns))

    def to_polars(self) -> Any:
        """The rows as a ``polars.DataFrame`` with ``columns`` as its columns.

        Needs polars (``pip install polars``)."""
        try:
            import polars
        except ImportError as e:
            raise ImportError("Counts.to_polars needs polars: pip install polars") from e
        return polars.DataFrame({n: self.column(n) for n in self.columns})

    @property
    def summary(self) -> Dict[str, Any]:
        """The run summary, with the fields of the command line's ``--format
        json`` summary: ``files``, ``bytes``, ``tokens``, ``distinct_words``,
        ``backend``, ``problems`` and (for corpus counts) ``corpus``."""
        if self._summary is None:
            self._summary = json.loads(self._native.summary_json)
        return self._summary

    @property
    def problems(self) -> List[Problem]:
        """Inputs not counted, or not fully, in input order."""
        if self._problems is None:
            self._problems = [
                Problem(os.fsdecode(raw) if raw is not None else name, reason)
                for name, raw, reason in self._native.problems
            ]
        return self._problems

    @property
    def backend(self) -> str:
        """Where it was counted and why (``"cpu: ..."`` or ``"gpu: ..."``)."""
        return self._native.backend

    @property
    def device(self) -> Optional[str]:
        """The GPU adapter's name, when the GPU counted."""
        return self._native.device

    @property
    def warnings(self) -> List[str]:
        """Run-level warnings (the GPU failed and the CPU recounted)."""
        return self._native.warnings

    def __repr__(self) -> str:
        head = ", ".join(repr(r) for _, r in zip(range(3), self))
        more = ", ..." if len(self) > 3 else ""
        return f"<gpucount.Counts: {len(self)} rows [{head}{more}]>"


def _strings(value: Union[None, str, os.PathLike, Iterable[Any]], name: str) -> List[str]:
    """None, one string or path, or several, as a list of strings."""
    if value is None:
        return []
    if isinstance(value, (str, bytes, os.PathLike)):
        value = [value]
    try:
        return [os.fsdecode(v) for v in value]
    except TypeError:
        raise TypeError(f"{name}: expected a string, a path or a list of them, got {value!r}") from None


def _spec(
    *,
    backend: str,
    adapter: Union[None, int, str],
    tokenizer: str,
    keep_case: bool,
    inner_punctuation: bool,
    token_pattern: Optional[str],
    encoding: str,
    threads: Optional[int],
    ngram: Union[int, str, Tuple[int, int]],
    within: str,
    stopwords: Union[None, str, Iterable[str]],
    min_length: Optional[int],
    max_length: Optional[int],
    normalize: Optional[str],
    strip_accents: bool,
    hidden: bool,
    no_ignore: bool,
    glob: Union[None, str, Iterable[str]],
    exclude: Union[None, str, Iterable[str]],
    binary: bool,
    raw: bool,
    html: str,
    select: Optional[str],
    urls_from: Union[None, str, os.PathLike, Iterable[Any]],
    jobs: int,
    top: Optional[int],
    min_count: int,
    share: bool,
    sort: str,
    per_doc: bool,
    doc_freq: bool,
    tfidf: bool,
    min_df: Union[None, int, float],
    max_df: Union[None, int, float],
) -> Dict[str, Any]:
    if isinstance(ngram, tuple):
        if len(ngram) != 2:
            raise ValueError(f"ngram={ngram!r}: expected N, 'N-M' or (N, M)")
        ngram = f"{ngram[0]}-{ngram[1]}"
    if threads is not None and threads < 1:
        raise ValueError(f"threads={threads}: expected at least 1 (None uses every core)")
    if min_count < 0:
        raise ValueError(f"min_count={min_count}: expected 0 or more")
    for name, bound in (("min_df", min_df), ("max_df", max_df)):
        if isinstance(bound, int) and not isinstance(bound, bool) and bound < 0:
            raise ValueError(f"{name}={bound}: expected a number of documents, 0 or more, or a share from 0.0 to 1.0")
    return {
        "backend": backend,
        "adapter": None if adapter is None else str(adapter),
        "tokenizer": tokenizer,
        "keep_case": bool(keep_case),
        "inner_punctuation": bool(inner_punctuation),
        "token_pattern": token_pattern,
        "encoding": encoding,
        "threads": threads or 0,
        "ngram": str(ngram),
        "within": within,
        "stopwords": None if stopwords is None else ",".join(_strings(stopwords, "stopwords")),
        "min_length": min_length,
        "max_length": max_length,
        "normalize": normalize,
        "strip_accents": bool(strip_accents),
        "hidden": bool(hidden),
        "no_ignore": bool(no_ignore),
        "glob": _strings(glob, "glob"),
        "exclude": _strings(exclude, "exclude"),
        "binary": bool(binary),
        "raw": bool(raw),
        "html": html,
        "select": select,
        "urls_from": _strings(urls_from, "urls_from"),
        "jobs": jobs,
        "top": top,
        "min_count": min_count,
        "share": bool(share),
        "sort": sort,
        "per_doc": bool(per_doc),
        "doc_freq": bool(doc_freq),
        "tfidf": bool(tfidf),
        "min_df": min_df,
        "max_df": max_df,
    }


def _finish(native: Any, strict: bool) -> Counts:
    counts = Counts(native)
    problems = counts.problems
    if problems and strict:
        raise problems[0].error()
    if problems:
        rest = f" (and {len(problems) - 1} more; see Counts.problems)" if len(problems) > 1 else ""
        warnings.warn(f"gpucount: {problems[0]}{rest}", InputWarning, stacklevel=3)
    for w in counts.warnings:
        warnings.warn(f"gpucount: {w}", RuntimeWarning, stacklevel=3)
    return counts


def count(
    paths_or_urls: Union[str, os.PathLike, Sequence[Union[str, os.PathLike]], None] = None,
    *,
    backend: str = "auto",
    adapter: Union[None, int, str] = None,
    tokenizer: str = "words",
    keep_case: bool = False,
    inner_punctuation: bool = False,
    token_pattern: Optional[str] = None,
    encoding: str = "auto",
    threads: Optional[int] = None,
    ngram: Union[int, str, Tuple[int, int]] = 1,
    within: str = "document",
    stopwords: Union[None, str, Iterable[str]] = None,
    min_length: Optional[int] = None,
    max_length: Optional[int] = None,
    normalize: Optional[str] = None,
    strip_accents: bool = False,
    hidden: bool = False,
    no_ignore: bool = False,
    glob: Union[None, str, Iterable[str]] = None,
    exclude: Union[None, str, Iterable[str]] = None,
    binary: bool = False,
    raw: bool = False,
    html: str = "auto",
    select: Optional[str] = None,
    urls_from: Union[None, str, os.PathLike, Iterable[Union[str, os.PathLike]]] = None,
    jobs: int = 8,
    top: Optional[int] = None,
    min_count: int = 1,
    share: bool = False,
    sort: str = "count",
    per_doc: bool = False,
    doc_freq: bool = False,
    tfidf: bool = False,
    min_df: Union[None, int, float] = None,
    max_df: Union[None, int, float] = None,
    strict: bool = False,
) -> Counts:
    """Counts the words (or n-grams) of files, directories, archives and URLs.

    ``paths_or_urls`` is one path or URL or a list of them: files (read
    whatever they hold), directories (walked recursively in sorted order,
    honouring ``.gitignore``), compressed files and archives (read inside),
    ``http(s)://`` URLs (downloaded ``jobs`` at a time), ``"-"`` for stdin.
    Every option is the command line's flag of the same name (``gpucount
    --help``; README, "Usage"), and the rows are the command line's, in its
    order: count descending, ties by the word's UTF-8 bytes.

    What a token is:
      tokenizer: ``"words"`` (runs of letters, digits and marks) or
        ``"whitespace"`` (runs of anything but White_Space).
      keep_case: count tokens as written (default: lowercased).
      inner_punctuation: keep ``'`` and ``-`` between two word characters
        inside words (``don't``, ``saint-jacques``).
      token_pattern: tokens are the matches of this regular expression (Rust
        ``regex`` syntax), as scikit-learn's ``token_pattern`` (its default
        is ``r"(?u)\\b\\w\\w+\\b"``); one capturing group makes its text the
        token. Matches are sought in each run of non-whitespace, lowercased
        first unless ``keep_case``. Replaces ``tokenizer``.
      encoding: ``"auto"`` (BOM, UTF-8, or a detected legacy encoding) or a
        WHATWG label such as ``"windows-1252"``.

    What is counted:
      ngram: ``1`` (words), ``N``, ``"N-M"`` or ``(N, M)``, N and M from 1 to 5.
      within: ``"document"``, ``"line"`` (n-grams never cross a line break)
        or ``"sentence"`` (nor a sentence boundary, as the command line's
        ``sentences`` cuts them).
      stopwords: built-in lists (``"en"``, ``"fr"``, ``"la"``, ``"de"``,
        ``"es"``, ``"it"``) and/or files of words, as ``"en,fr"`` or a list;
        removed before n-grams are formed.
      min_length, max_length: leave out tokens shorter / longer (in characters).
      normalize: ``None``, ``"nfc"`` or ``"nfkc"``. strip_accents: ``école`` counts as ``ecole``.

    Which inputs are read:
      hidden, no_ignore, binary: walk hidden files / ignore ``.gitignore``
        files / count walked files that look binary.
      glob, exclude: gitignore-style globs that walked files must match / must not.
      raw: count compressed files and archives as the bytes they are.
      html: ``"auto"``, ``"always"`` or ``"never"`` read as HTML (visible text only);
        select: a CSS selector whose elements' text alone is counted.
      urls_from: files listing URLs, one a line. jobs: downloads at once.

    Where: backend ``"auto"`` (the CPU, unless a hardware GPU calibrated by
    ``gpucount bench --calibrate`` was faster on an input this large),
    ``"cpu"`` or ``"gpu"`` (any adapter, software ones
    included; ``GpuError`` if none can be used); adapter: index or name from
    ``devices()``; threads: threads that count, the reader among them (``None``: one per core).

    Which rows: top (the N most frequent), min_count, share (add each row's
    share and the cumulative share), sort (``"count"``, ``"word"``, or
    ``"df"`` with doc_freq), per_doc (rows per document), doc_freq (add the
    number of documents holding each term), tfidf (with per_doc:
    scikit-learn's default weights), min_df / max_df (an int: documents; a
    float: a share of them).

    Inputs that cannot be read (missing, unreadable, malformed, a failed
    download) are left out and listed in ``Counts.problems``, with one
    ``InputWarning``; with ``strict=True`` the first one is raised instead
    (``FileNotFoundError`` for a missing file). Bad options raise
    ``ValueError``. The GIL is released while counting; Ctrl-C raises
    ``KeyboardInterrupt`` promptly.
    """
    inputs = _strings(paths_or_urls, "paths_or_urls")
    spec = _spec(**_options(locals()))
    if not inputs and not spec["urls_from"]:
        raise ValueError('count: name at least one path or URL (or "-" for stdin); count_text counts strings')
    if strict:
        # A missing path fails before anything is counted.
        for p in inputs:
            if p != "-" and "://" not in p and not os.path.lexists(p):
                raise FileNotFoundError(2, "No such file or directory", p)
    return _finish(_gpucount._count(inputs, [], spec), strict)


def count_text(
    texts: Union[str, bytes, Sequence[Union[str, bytes]], Dict[str, Union[str, bytes]]],
    *,
    names: Optional[Sequence[str]] = None,
    backend: str = "auto",
    adapter: Union[None, int, str] = None,
    tokenizer: str = "words",
    keep_case: bool = False,
    inner_punctuation: bool = False,
    token_pattern: Optional[str] = None,
    encoding: str = "auto",
    threads: Optional[int] = None,
    ngram: Union[int, str, Tuple[int, int]] = 1,
    within: str = "document",
    stopwords: Union[None, str, Iterable[str]] = None,
    min_length: Optional[int] = None,
    max_length: Optional[int] = None,
    normalize: Optional[str] = None,
    strip_accents: bool = False,
    html: str = "auto",
    select: Optional[str] = None,
    top: Optional[int] = None,
    min_count: int = 1,
    share: bool = False,
    sort: str = "count",
    per_doc: bool = False,
    doc_freq: bool = False,
    tfidf: bool = False,
    min_df: Union[None, int, float] = None,
    max_df: Union[None, int, float] = None,
    strict: bool = False,
) -> Counts:
    """Counts documents held in memory: one ``str`` (or ``bytes``), a list of
    them, or a dict ``{name: text}``.

    Each text is one document: n-grams never cross from one to the next,
    and ``per_doc`` rows name them (``names``, the dict's keys, or
    ``"text 0"``, ``"text 1"``, ...). A ``str`` is counted as its UTF-8
    bytes would be as a file (a leading byte order mark is dropped);
    ``bytes`` are decoded like a file, by ``encoding``, which therefore
    applies to ``bytes`` only. Texts that look like HTML are read as HTML
    (``html="never"`` to count their markup). The other options are
    ``count``'s.
    """
    if isinstance(texts, dict):
        if names is not None:
            raise ValueError("count_text: give names or a dict of texts, not both")
        names, texts = [str(k) for k in texts.keys()], list(texts.values())
    elif isinstance(texts, (str, bytes, bytearray, memoryview)):
        texts = [texts]
    else:
        texts = list(texts)
    if names is None:
        names = [f"text {i}" for i in range(len(texts))]
    names = [str(n) for n in names]
    if len(names) != len(texts):
        raise ValueError(f"count_text: {len(names)} names for {len(texts)} texts")
    docs = []
    for name, t in zip(names, texts):
        if isinstance(t, (bytearray, memoryview)):
            t = bytes(t)
        if not isinstance(t, (str, bytes)):
            raise TypeError(f"count_text: expected str or bytes texts, got {type(t).__name__} for {name!r}")
        if isinstance(t, str) and encoding.lower() != "auto":
            raise ValueError(
                f"count_text: encoding={encoding!r} applies to bytes; {name!r} is a str, already decoded"
            )
        docs.append((name, t))
    options = _options(locals())
    options.update(hidden=False, no_ignore=False, glob=None, exclude=None, binary=False, raw=False, urls_from=None, jobs=8)
    return _finish(_gpucount._count([], docs, _spec(**options)), strict)


def _options(scope: Dict[str, Any]) -> Dict[str, Any]:
    """The counting options among a function's locals."""
    keys = _spec.__code__.co_varnames[: _spec.__code__.co_kwonlyargcount]
    return {k: scope[k] for k in keys if k in scope}


def devices() -> Dict[str, Any]:
    """CPU cores and GPU adapters, and what ``backend="auto"`` picks, as
    ``gpucount devices --format json``: ``logical_cores``, ``rayon_threads``
    (the threads that count by default, the reader among them),
    ``adapters`` (each with ``index``, ``name``, ``backend``, ``device_type``,
    ``hardware``, limits...), ``auto_large_input`` and ``auto_small_input``."""
    return json.loads(_gpucount._devices())
