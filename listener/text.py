"""Text normalisation, once for every stage that compares words: matching, exact and near-duplicate detection.

`words(text)`: Unicode NFKC, case folding, ä/ae ö/oe ü/ue ß/ss, accents dropped, every run of non-letters/digits
(hyphens, punctuation, underscores) a word break. So "ACME-Hotline", "acme hotline" and "Acme_Hotline" are the
same two words, and the brand term "Acme" matches all of them; `normalise` joins them with single spaces.

`analyse(text, decoration)` normalises a mention's text once and gives each consumer its view: every word (brand
matching), the normalised text and its digest (exact copies), and the words outside *decoration* such as URLs or
"RT @x:" (near-duplicate shingles). It is cached, so the pipeline, the dedup lookup and the insert hook that
indexes a mention all share one normalisation of it.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property, lru_cache

# ASCII bytes: letters/digits lower-cased, everything else a space; bytes >= 128 (UTF-8 of other scripts) kept.
_ASCII_TABLE = bytes(
    (ord(chr(b).lower()) if chr(b).isalnum() else 0x20) if b < 128 else b for b in range(256)
)
_NON_WORD = re.compile(r"[\W_]+")


def _combining_class() -> re.Pattern[str]:
    """All code points with a non-zero canonical combining class (accents left over by NFKD); ~50 ms, once."""
    ranges: list[list[int]] = []
    for cp in range(0x300, 0x110000):
        if unicodedata.combining(chr(cp)):
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1][1] = cp
            else:
                ranges.append([cp, cp])
    body = "".join(re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in ranges)
    return re.compile(f"[{body}]+")


_COMBINING = _combining_class()
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")
_RUN_CACHE: dict[str, str] = {}


def _fold_run(match: re.Match[str]) -> str:
    """A run of non-ASCII characters (NFKC, case-folded, umlauts spelled out): decomposed, accents dropped,
    anything that is not a letter or digit a space. Runs repeat a lot ("é", "„", "😡"), so they are cached."""
    run = match.group()
    folded = _RUN_CACHE.get(run)
    if folded is None:
        folded = _NON_WORD.sub(" ", _COMBINING.sub("", unicodedata.normalize("NFKD", run)))
        if len(_RUN_CACHE) > 100_000:
            _RUN_CACHE.clear()
        _RUN_CACHE[run] = folded
    return folded


def words(text: str) -> list[str]:
    """The normalised words of a text (see the module docstring); `normalise` joins them with single spaces."""
    if text.isascii():
        return text.encode("ascii").translate(_ASCII_TABLE).decode("ascii").split()
    text = unicodedata.normalize("NFKC", text).casefold()  # casefold: ß and ẞ become "ss"
    text = text.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")
    # ASCII through a byte table; only the runs of other characters (rare after the umlauts) need Unicode work
    text = text.encode("utf-8", "surrogatepass").translate(_ASCII_TABLE).decode("utf-8", "surrogatepass")
    if not text.isascii():
        text = _NON_ASCII_RUN.sub(_fold_run, text)
    return text.split()


def normalise(text: str) -> str:
    """Lower-case, fold umlauts and ß, drop accents, treat hyphens and punctuation as word breaks."""
    return " ".join(words(text))


def digest(normalised: str) -> str:
    """The content hash of a normalised text (stored in `mentions.content_hash`: never change it)."""
    return hashlib.sha256(normalised.encode()).hexdigest()


@dataclass(frozen=True)
class AnalysedText:
    words: tuple[str, ...]  # every normalised word, in order
    kept_words: tuple[str, ...]  # the words outside decoration (URLs, relay markers …)

    @cached_property
    def normalised(self) -> str:
        return " ".join(self.words)

    @cached_property
    def padded(self) -> str:
        """The normalised text with a space at each end: whole-word tests become substring tests."""
        return f" {self.normalised} "

    @cached_property
    def digest(self) -> str:
        return digest(self.normalised)


def _is_word_char(char: str) -> bool:
    return char.isalnum() or unicodedata.category(char).startswith("M")


def _joins_words(text: str, at: int) -> bool:
    """Whether cutting `text` at `at` could split a word (or a character and its accents) in two."""
    return 0 < at < len(text) and _is_word_char(text[at - 1]) and _is_word_char(text[at])


def _decoration_spans(text: str, decoration: tuple[re.Pattern[str], ...]) -> list[tuple[int, int]]:
    """Sorted, disjoint spans of `text` matched by the patterns, each applied to the text with the earlier
    patterns' matches blanked out (as successive `pattern.sub(" ", …)` calls would see it)."""
    spans: list[tuple[int, int]] = []
    for pattern in decoration:
        for match in pattern.finditer(text):
            if match.end() > match.start():
                spans.append(match.span())
                text = text[: match.start()] + " " * (match.end() - match.start()) + text[match.end():]
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


@lru_cache(maxsize=256)
def analyse(text: str, decoration: tuple[re.Pattern[str], ...] = ()) -> AnalysedText:
    """Normalise `text` once: all its words, and the words outside the decoration patterns' matches.

    The text is cut at the decoration's edges and each piece normalised once; the pieces' words put together
    are the text's words, unless a cut falls inside a word (then the whole text is normalised again, rarely)."""
    spans = _decoration_spans(text, decoration)
    if not spans:
        found = tuple(words(text))
        return AnalysedText(found, found)
    every: list[str] = []
    kept: list[str] = []
    position = 0
    for start, end in spans:
        piece = words(text[position:start])
        every += piece
        kept += piece
        every += words(text[start:end])
        position = end
    tail = words(text[position:])
    every += tail
    kept += tail
    if any(_joins_words(text, cut) for span in spans for cut in span):
        every = words(text)
    return AnalysedText(tuple(every), tuple(kept))


# Web and chat noise that stop-word lists do not have.
_NOISE = {"http", "https", "www", "com", "de", "amp", "quot", "gt", "lt", "nbsp", "html", "php"}


@lru_cache(maxsize=4)
def stop_words(lang: str) -> frozenset[str]:
    """The `stop-words` list of a language (ISO 639-1), folded as `words` folds, plus web noise: what the
    digest's themes and the spike alerts' themes leave out."""
    from stop_words import get_stop_words

    return frozenset(w for word in get_stop_words(lang) for w in words(word)) | _NOISE
