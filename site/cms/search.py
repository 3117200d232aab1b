"""Notices on the site search page (core.search): only those the person may read, by the same rule as
the notice list (selectors.visible_notices), so a search never reveals a notice addressed to others."""

from django.utils import formats
from django.utils.translation import gettext_lazy as _

from core import search

from .models import NoticePage
from .selectors import visible_notices


def register_search():
    def hit(notice):
        published = notice.first_published_at
        return search.Hit(
            title=notice.title,
            url=notice.url,
            text=notice.summary or notice.body_text(),
            meta=[m for m in (notice.issuer, published and formats.date_format(published, "Y-m-d")) if m],
            badge=str(_("Must read")) if notice.must_read else "",
        )

    search.register(
        search.Kind(
            key="notice",
            label=_("Notices"),
            model=NoticePage,
            visible=lambda viewer: visible_notices(viewer=viewer),
            hit=hit,
        )
    )
