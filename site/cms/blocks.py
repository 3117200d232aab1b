from django.utils.translation import gettext_lazy as _
from wagtail import blocks


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
