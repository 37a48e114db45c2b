"""Chinese words for the knowledge base's search. A version is indexed by jieba's search-mode
words (numbers and Latin words too), every Chinese character and every pair of adjacent ones;
a query is cut by jieba, its function words (怎么, 如何 ...) dropped, and each Chinese word
asked for as its pairs of characters. So a word inside a phrase is found however the dictionary
would cut the phrase, on SQLite and PostgreSQL alike (one token table, one indexed look-up)."""

import logging
import re
from functools import lru_cache

import jieba

MAX_TOKEN = 64
_CJK = re.compile(r"^[\u4e00-\u9fff]+$")
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")
_WORD = re.compile(r"\w", re.UNICODE)
# Words of a question that say nothing about its subject.
STOP = frozenset("怎么 怎样 如何 什么 为什么 哪里 哪些 多少 是否 可以 能否 请问 一下 "
                 "的 了 吗 呢 是 和 与 及 在".split())


@lru_cache(maxsize=1)
def _tokenizer() -> jieba.Tokenizer:
    jieba.setLogLevel(logging.WARNING)  # no "Building prefix dict" lines in every log
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


def load_dictionary() -> None:
    """Load jieba's dictionary now (about a second from its cache, several seconds on a busy
    machine or without one) rather than at the first search."""
    _tokenizer()


def _words(text: str) -> list[str]:
    return [w for w in (w.strip().lower() for w in _tokenizer().cut_for_search(text))
            if _WORD.search(w) and len(w) <= MAX_TOKEN]


def _pairs(run: str) -> set[str]:
    return {run[i:i + 2] for i in range(len(run) - 1)}


def index_words(text: str) -> set[str]:
    """What a version is found by."""
    runs = _CJK_RUN.findall(text)
    return set(_words(text)) | {ch for run in runs for ch in run} | {
        pair for run in runs for pair in _pairs(run)}


def query_words(query: str) -> set[str]:
    """What a query asks for, every one required."""
    words = [w for w in _words(query) if w not in STOP]
    if any(len(w) > 1 for w in words):  # single characters only when nothing longer was asked
        words = [w for w in words if len(w) > 1]
    wanted: set[str] = set()
    for word in words:
        wanted |= _pairs(word) if _CJK.match(word) and len(word) > 1 else {word}
    return wanted
