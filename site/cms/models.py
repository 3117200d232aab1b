from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.fields import StreamField
from wagtail.models import Page

from .blocks import HomeBody


class HomePage(Page):
    """The portal's front page, composed by staff from blocks."""

    body = StreamField(HomeBody(), blank=True, verbose_name=_("body"))

    content_panels = [*Page.content_panels, FieldPanel("body")]
    max_count = 1
    parent_page_types = ["wagtailcore.Page"]

    class Meta:
        verbose_name = _("home page")

    def get_context(self, request, *args, **kwargs):
        from volunteers.selectors import district_statistics, duty_categories

        context = super().get_context(request, *args, **kwargs)
        context["stats"] = district_statistics()
        context["duty_categories"] = duty_categories()
        return context
