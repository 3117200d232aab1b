from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail import blocks

from points.leaderboards import selectors as boards
from points.leaderboards.periods import current_period
from points.leaderboards.views import board_url
from services_catalog.models import ServiceCategory
from services_catalog.selectors import CatalogueFilters, catalogue_services
from volunteers.gridtasks.selectors import TaskFilters, task_list
from volunteers.models import District, Grid


class QuickLinkBlock(blocks.StructBlock):
    title = blocks.CharBlock(label=_("Title"), max_length=20)
    subtitle = blocks.CharBlock(label=_("Subtitle"), max_length=40, required=False)
    url = blocks.CharBlock(label=_("Link"), max_length=200, help_text=_("A path on this site, e.g. /me/"))
    icon = blocks.ChoiceBlock(
        label=_("Icon"),
        choices=[
            ("task", _("Tasks")),
            ("scan", _("Scan")),
            ("points", _("Points")),
            ("service", _("Services")),
            ("notice", _("Notices")),
            ("people", _("People")),
        ],
        default="task",
    )

    class Meta:
        icon = "link"
        template = "blocks/quick_link.html"


class HeroBlock(blocks.StructBlock):
    title = blocks.CharBlock(label=_("Title"), max_length=40)
    text = blocks.TextBlock(label=_("Text"), max_length=200, required=False)

    class Meta:
        icon = "title"
        template = "blocks/hero.html"


def _viewer(parent_context):
    request = (parent_context or {}).get("request")
    return getattr(request, "user", None)


def _home_grid(viewer):
    """The reader's home grid with its community, or None (signed out, or no home grid)."""
    grid_id = getattr(viewer, "home_grid_id", None)
    return Grid.objects.select_related("community").filter(pk=grid_id).first() if grid_id else None


class LatestNoticesBlock(blocks.StructBlock):
    """The newest notices the reader may see (the public sees public ones). Two queries at most."""

    title = blocks.CharBlock(
        label=_("Title"), max_length=20, required=False, help_text=_("Empty: the standard heading.")
    )
    count = blocks.IntegerBlock(label=_("How many"), min_value=1, max_value=10, default=4)

    class Meta:
        icon = "doc-full"
        label = _("Latest notices")
        template = "cms/blocks/latest_notices.html"

    def get_context(self, value, parent_context=None):
        # The page models are built from these blocks, so the blocks reach them when they render.
        from .models import NoticeIndexPage
        from .selectors import latest_notices

        context = super().get_context(value, parent_context=parent_context)
        context["notices"] = latest_notices(viewer=_viewer(parent_context), limit=value["count"])
        context["index"] = NoticeIndexPage.objects.live().first()
        return context


class OpenTasksBlock(blocks.StructBlock):
    """Published grid tasks that have not started and still have places, soonest first."""

    title = blocks.CharBlock(
        label=_("Title"), max_length=20, required=False, help_text=_("Empty: the standard heading.")
    )
    count = blocks.IntegerBlock(label=_("How many"), min_value=1, max_value=10, default=3)

    class Meta:
        icon = "tasks"
        label = _("Open grid tasks")
        template = "cms/blocks/open_tasks.html"

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context=parent_context)
        now = timezone.now()
        tasks = task_list(viewer=_viewer(parent_context), filters=TaskFilters(open_only=True), now=now)
        context["tasks"] = list(tasks.filter(starts_at__gt=now)[: value["count"]])
        return context


class LeaderboardBlock(blocks.StructBlock):
    """The top of a points leaderboard: masked names, people who opted out left off (as on the boards)."""

    title = blocks.CharBlock(
        label=_("Title"), max_length=20, required=False, help_text=_("Empty: the standard heading.")
    )
    period = blocks.ChoiceBlock(
        label=_("Period"),
        choices=[("month", _("This month")), ("year", _("This year")), ("all", _("All time"))],
        default="month",
    )
    place = blocks.ChoiceBlock(
        label=_("Board"),
        choices=[
            ("district", _("The whole district")),
            ("community", _("The reader's community (the district for everyone else)")),
        ],
        default="district",
    )
    count = blocks.IntegerBlock(label=_("How many"), min_value=3, max_value=10, default=5)

    class Meta:
        icon = "pick"
        label = _("Leaderboard")
        template = "cms/blocks/leaderboard.html"

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context=parent_context)
        viewer = _viewer(parent_context)
        period = current_period(value["period"])
        level, place = boards.DISTRICT, None
        grid = _home_grid(viewer) if value["place"] == "community" else None
        if grid is not None:
            level, place = boards.COMMUNITY, grid.community
        if place is None:
            place = District.objects.order_by("code").first()
        rows = (
            []
            if place is None
            else boards.board(level=level, place=place, period=period, viewer=viewer, size=value["count"])
        )
        context.update(
            rows=rows,
            place=place,
            period=period,
            board_url=board_url(level, place, period) if place is not None else "",
        )
        return context


def _service_categories():
    return [("", _("Every category")), *((c.slug, c.name) for c in ServiceCategory.objects.all())]


class FeaturedServicesBlock(blocks.StructBlock):
    """Published services with their rating and next session; those serving the reader's grid first."""

    title = blocks.CharBlock(
        label=_("Title"), max_length=20, required=False, help_text=_("Empty: the standard heading.")
    )
    category = blocks.ChoiceBlock(label=_("Category"), choices=_service_categories, required=False)
    count = blocks.IntegerBlock(label=_("How many"), min_value=1, max_value=10, default=3)

    class Meta:
        icon = "home"
        label = _("Featured services")
        template = "cms/blocks/featured_services.html"

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context=parent_context)
        home_grid = _home_grid(_viewer(parent_context))
        category = (
            ServiceCategory.objects.filter(slug=value["category"]).first() if value["category"] else None
        )
        services = catalogue_services(filters=CatalogueFilters(category=category, home_grid=home_grid))
        context["services"] = list(services[: value["count"]])
        return context


class HomeBody(blocks.StreamBlock):
    hero = HeroBlock()
    quick_links = blocks.ListBlock(
        QuickLinkBlock(), label=_("Quick links"), template="blocks/quick_links.html"
    )
    paragraph = blocks.RichTextBlock(label=_("Text"), features=["bold", "italic", "link", "ol", "ul"])
    statistics = blocks.StaticBlock(
        label=_("Statistics"),
        admin_text=_("Live figures: grids, people, verified identities."),
        template="blocks/statistics.html",
    )
    duty_categories = blocks.StaticBlock(
        label=_("Grid duty list"),
        admin_text=_("The nine duty categories of the 9-81 list."),
        template="blocks/duty_categories.html",
    )
    latest_notices = LatestNoticesBlock()
    open_tasks = OpenTasksBlock()
    leaderboard = LeaderboardBlock()
    featured_services = FeaturedServicesBlock()
