"""Type stubs of the gpucount package (the runtime module is __init__.py)."""

import os
from typing import (
    Any,
    Dict,
    Iterable,
    Iterator,
    List,
    Literal,
    NamedTuple,
    Optional,
    Sequence,
    Tuple,
    Union,
)

from ._gpucount import GpuError as GpuError

__version__: str

_Path = Union[str, "os.PathLike[str]", "os.PathLike[bytes]", bytes]
_Strings = Union[None, str, Iterable[str]]
_Backend = Literal["auto", "cpu", "gpu"]
_TokenizerName = Literal["words", "whitespace"]
_NGram = Union[int, str, Tuple[int, int]]
_Within = Literal["document", "line", "sentence"]
_Form = Optional[Literal["nfc", "nfkc"]]
_Html = Literal["auto", "always", "never"]
_Sort = Literal["count", "word", "df"]
_Df = Union[None, int, float]
_Text = Union[str, bytes, bytearray, memoryview]

class InputError(OSError):
    input: str
    reason: str
    def __init__(self, input: str, reason: str) -> None: ...

class InputWarning(UserWarning): ...

class Problem(NamedTuple):
    input: str
    reason: str
    def error(self) -> OSError: ...

class Counts:
    """Rows in the command line's order: tuples named by ``columns``."""

    @property
    def columns(self) -> Tuple[str, ...]: ...
    def column(self, name: str) -> List[Any]: ...
    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[Tuple[Any, ...]]: ...
    def __getitem__(self, key: Union[str, Tuple[str, str]]) -> int: ...
    def __contains__(self, key: object) -> bool: ...
    def get(self, key: Union[str, Tuple[str, str]], default: Any = None) -> Any: ...
    def to_dict(self) -> Dict[Any, int]: ...
    def to_pandas(self) -> Any: ...
    def to_polars(self) -> Any: ...
    @property
    def summary(self) -> Dict[str, Any]: ...
    @property
    def problems(self) -> List[Problem]: ...
    @property
    def backend(self) -> str: ...
    @property
    def device(self) -> Optional[str]: ...
    @property
    def warnings(self) -> List[str]: ...

def count(
    paths_or_urls: Union[_Path, Sequence[_Path], None] = None,
    *,
    backend: _Backend = "auto",
    adapter: Union[None, int, str] = None,
    tokenizer: _TokenizerName = "words",
    keep_case: bool = False,
    inner_punctuation: bool = False,
    token_pattern: Optional[str] = None,
    encoding: str = "auto",
    threads: Optional[int] = None,
    ngram: _NGram = 1,
    within: _Within = "document",
    stopwords: _Strings = None,
    min_length: Optional[int] = None,
    max_length: Optional[int] = None,
    normalize: _Form = None,
    strip_accents: bool = False,
    hidden: bool = False,
    no_ignore: bool = False,
    glob: _Strings = None,
    exclude: _Strings = None,
    binary: bool = False,
    raw: bool = False,
    html: _Html = "auto",
    select: Optional[str] = None,
    urls_from: Union[None, _Path, Iterable[_Path]] = None,
    jobs: int = 8,
    top: Optional[int] = None,
    min_count: int = 1,
    share: bool = False,
    sort: _Sort = "count",
    per_doc: bool = False,
    doc_freq: bool = False,
    tfidf: bool = False,
    min_df: _Df = None,
    max_df: _Df = None,
    strict: bool = False,
) -> Counts: ...
def count_text(
    texts: Union[_Text, Sequence[_Text], Dict[str, _Text]],
    *,
    names: Optional[Sequence[str]] = None,
    backend: _Backend = "auto",
    adapter: Union[None, int, str] = None,
    tokenizer: _TokenizerName = "words",
    keep_case: bool = False,
    inner_punctuation: bool = False,
    token_pattern: Optional[str] = None,
    encoding: str = "auto",
    threads: Optional[int] = None,
    ngram: _NGram = 1,
    within: _Within = "document",
    stopwords: _Strings = None,
    min_length: Optional[int] = None,
    max_length: Optional[int] = None,
    normalize: _Form = None,
    strip_accents: bool = False,
    html: _Html = "auto",
    select: Optional[str] = None,
    top: Optional[int] = None,
    min_count: int = 1,
    share: bool = False,
    sort: _Sort = "count",
    per_doc: bool = False,
    doc_freq: bool = False,
    tfidf: bool = False,
    min_df: _Df = None,
    max_df: _Df = None,
    strict: bool = False,
) -> Counts: ...
def devices() -> Dict[str, Any]: ...
