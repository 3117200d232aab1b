"""Services on the site search page (core.search): published services, which the catalogue shows to
anyone (the same rule as selectors.catalogue_services)."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from core import search

from .models import Service


def register_search():
    def hit(service):
        return search.Hit(
            title=service.title,
            url=reverse("services:detail", args=[service.code]),
            text=service.description,
            meta=[
                m
                for m in (service.place, service.hours, service.organisation and service.organisation.name)
                if m
            ],
            badge=service.category.name,
        )

    search.register(
        search.Kind(
            key="service",
            label=_("Services"),
            model=Service,
            visible=lambda viewer: Service.objects.filter(status=Service.Status.PUBLISHED),
            hit=hit,
            joins=("category", "organisation"),
            fields=Service.SEARCH_SOURCE_FIELDS,
        )
    )
