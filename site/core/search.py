"""Site search in Chinese, on Wagtail's database search backend (FTS5 on SQLite, tsvector on PostgreSQL).

Neither database splits Chinese into words: "老旧小区消防安全隐患排查" is one token to both, so a search
for "消防" would find nothing. We segment the text ourselves with jieba's dictionary (rjieba, the
compiled binding of jieba-rs) and let Wagtail index the words separated by spaces:

- indexed text: every dictionary word found anywhere in the text plus every single character
  (jieba's "full mode"), plus the words of the normal segmentation (new words, e.g. names, that the
  dictionary lacks). So any query word that occurs in the text, wherever the segmentation of the text
  put its boundaries, is in the index.
- query: segmented with the dictionary only (no guessing of new words), so each query word is a
  dictionary word or a single character, hence present in the index of a text that contains it; the
  words are AND-ed ("安全排查" finds a text with "安全" and "排查").

PostgreSQL uses the 'simple' text-search configuration (settings.WAGTAILSEARCH_BACKENDS) so the words
are neither stemmed nor dropped as English stop words.

A model becomes searchable with `ChineseSearchField`s in its `search_fields` and one `register()` call
naming what a person may see. Grid tasks register below; notices and services register the same way
from their apps (see `register`).
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import rjieba
from django.db import models
from django.db.models.signals import post_delete, post_save
from wagtail.search import index
from wagtail.search.backends import get_search_backend

from .text import one_line

MAX_QUERY_CHARS = 64  # a longer query is cut: nobody types more, and each word is one more AND
MAX_QUERY_WORDS = 12
# Single characters so common that requiring them would only lose results ("消防的安全" → 消防, 安全).
QUERY_STOP_CHARS = frozenset("的了和与及之或")
_WORD = re.compile(r"[^\W_]+")  # letters and digits of any script; punctuation and spaces separate


def _words(pieces) -> list[str]:
    out = []
    for piece in pieces:
        out.extend(w.lower() for w in _WORD.findall(piece))
    return out


def segment_for_index(text) -> str:
    """The words of `text` for the index, separated by spaces."""
    if not text:
        return ""
    if isinstance(text, list | tuple):  # e.g. a rich-text field's searchable content
        text = " ".join(str(t) for t in text)
    text = str(text)
    return " ".join(_words(rjieba.cut_all(text)) + _words(rjieba.cut(text)))


def segment_query(query) -> list[str]:
    """The words a query must all match (empty when it has no letter or digit)."""
    query = str(query or "")[:MAX_QUERY_CHARS]
    words = list(dict.fromkeys(_words(rjieba.cut(query, False))))
    kept = [w for w in words if w not in QUERY_STOP_CHARS]
    return (kept or words)[:MAX_QUERY_WORDS]


class ChineseSearchField(index.SearchField):
    """A SearchField whose indexed value is the segmented text (a model field, or a method's result).

    Name the model's title field "title" so Wagtail ranks title matches higher.
    """

    def get_value(self, obj):
        return segment_for_index(super().get_value(obj))


# --- the registry of searchable kinds --------------------------------------------------------------
@dataclass(frozen=True)
class Hit:
    title: str
    url: str
    text: str = ""  # a plain text the excerpt is taken from (description, body)
    meta: list[str] = field(default_factory=list)  # short facts: date, place, grid…
    badge: str = ""


@dataclass(frozen=True)
class Kind:
    """One kind of searchable thing.

    visible(viewer) -> queryset of what that person (or an anonymous visitor) may see; hit(obj) -> Hit,
    the result's title, link and facts, reading only the relations named in `joins` (select_related).
    `fields`: the source fields whose change needs a re-index (None: every save re-indexes).
    """

    key: str
    label: object
    model: type[models.Model]
    visible: Callable
    hit: Callable
    joins: tuple = ()
    fields: frozenset | None = None


KINDS: dict[str, Kind] = {}


def register(kind: Kind) -> None:
    """Make a kind searchable on the site search page. The model must be index.Indexed with
    ChineseSearchFields and index.FilterField("id") in its search_fields. A model whose
    `search_auto_update` is False (to skip re-indexing on saves that change no indexed text) is kept
    in the index by the handlers connected here; Wagtail's own handlers index every other model.
    """
    KINDS[kind.key] = kind
    if not getattr(kind.model, "search_auto_update", True):
        post_save.connect(_reindex_on_save, sender=kind.model, dispatch_uid=f"core.search.save.{kind.key}")
        post_delete.connect(
            _remove_on_delete, sender=kind.model, dispatch_uid=f"core.search.delete.{kind.key}"
        )


def _kind_of(model) -> Kind | None:
    return next((k for k in KINDS.values() if k.model is model), None)


def _reindex_on_save(sender, instance, raw=False, update_fields=None, **kwargs):
    if raw:
        return
    kind = _kind_of(sender)
    if (
        update_fields is not None
        and kind
        and kind.fields is not None
        and not (set(update_fields) & kind.fields)
    ):
        return  # e.g. a task's status or places: nothing the index holds changed
    index.insert_or_update_object(instance)


def _remove_on_delete(sender, instance, **kwargs):
    index.remove_object(instance)


@dataclass
class Results:
    kind: Kind
    count: int
    hits: list  # of (obj, Hit)


def search(*, viewer, query: str, kinds=None, limit: int = 5, offset: int = 0) -> list[Results]:
    """What `viewer` may see matching `query`, per kind, best first (two queries per kind).

    An empty query, or one without a letter or digit, matches nothing (never everything).
    """
    words = segment_query(query)
    if not words:
        return []
    backend = get_search_backend()
    out = []
    for kind in KINDS.values():
        if kinds and kind.key not in kinds:
            continue
        visible = kind.visible(viewer)
        # Wagtail checks the filters of the queryset it searches; visibility rules are arbitrary, so
        # they go in as one subquery on the primary key (declared as index.FilterField("id")).
        candidates = kind.model.objects.filter(pk__in=visible.values("pk")).select_related(*kind.joins)
        results = backend.search(" ".join(words), candidates, operator="and")
        count = results.count()
        objects = list(results[offset : offset + limit]) if count > offset else []
        out.append(Results(kind=kind, count=count, hits=[(obj, kind.hit(obj)) for obj in objects]))
    return out


def matching_pks(queryset, query: str, *, cap: int = 2000) -> list:
    """Primary keys of the rows of `queryset` matching `query` (at most `cap`), for lists that keep
    their own order and paging (e.g. the task list's text filter). An empty query matches nothing."""
    words = segment_query(query)
    if not words:
        return []
    candidates = queryset.model.objects.filter(pk__in=queryset.values("pk"))
    results = get_search_backend().search(
        " ".join(words), candidates.only("pk"), operator="and", order_by_relevance=False
    )
    return [obj.pk for obj in results[:cap]]


def highlight(text: str, words: list[str], width: int | None = None) -> list[tuple[str, bool]]:
    """`text` as (piece, is_a_query_word) pieces, for a result line that marks why it matched; the
    template escapes every piece. With `width`, only a window of about that many characters around the
    first match (or the start) is kept, with "…" where text was cut."""
    text = one_line(text)
    lowered = text.lower()
    spans = []
    for word in sorted({w for w in words if w}, key=len, reverse=True):
        at = lowered.find(word)
        while at >= 0:
            if not any(a < at + len(word) and at < b for a, b in spans):
                spans.append((at, at + len(word)))
            at = lowered.find(word, at + len(word))
    spans.sort()
    merged = []  # adjacent matches ("助" + "餐") read as one marked word
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    spans = merged
    lo, hi = 0, len(text)
    if width is not None:
        first = spans[0][0] if spans else 0
        lo = max(first - width // 3, 0)
        hi = min(lo + width, len(text))
    pieces, cursor = [], lo
    for a, b in spans:
        if b <= lo or a >= hi:
            continue
        a, b = max(a, lo), min(b, hi)
        if a > cursor:
            pieces.append((text[cursor:a], False))
        pieces.append((text[a:b], True))
        cursor = b
    if cursor < hi:
        pieces.append((text[cursor:hi], False))
    if pieces and lo > 0:
        pieces.insert(0, ("…", False))
    if pieces and hi < len(text):
        pieces.append(("…", False))
    return pieces
