"""The CMS pages: the home page, notices (通知公告), the milestones timeline (联勤大事记) and service points.

Page models hold content only; who may read a notice is decided in `selectors`, recording reads and
acknowledgements in `services`, delivery in `tasks`.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import models
from django.db.models.functions import Cast
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.utils.html import strip_tags
from django.utils.text import Truncator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, MultiFieldPanel
from wagtail.contrib.routable_page.models import RoutablePageMixin, path
from wagtail.fields import RichTextField, StreamField
from wagtail.images.blocks import ImageChooserBlock
from wagtail.models import GroupApprovalTask, Orderable, Page

from core.exceptions import GongzhiError
from core.search import ChineseSearchField
from core.text import one_line
from services_catalog.selectors import catalogue_services
from volunteers.selectors import district_statistics, duty_categories

from .blocks import HomeBody
from .forms import NoticePageForm
from .moderation import covered_notices, covers

# NoticeTarget is defined beside its rule; the app loads it from here, with the other models.
from .targeting import NoticeTarget, describe  # noqa: F401
from .validators import validate_attachment

NOTICE_BODY_FEATURES = ["h2", "h3", "bold", "italic", "ol", "ul", "link", "hr"]


class HomePage(Page):
    """The portal's front page, composed by staff from blocks."""

    body = StreamField(HomeBody(), blank=True, verbose_name=_("body"))

    content_panels = [*Page.content_panels, FieldPanel("body")]
    max_count = 1
    parent_page_types = ["wagtailcore.Page"]

    class Meta:
        verbose_name = _("home page")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["stats"] = district_statistics()
        context["duty_categories"] = duty_categories()
        return context


# --- notices -------------------------------------------------------------------------------------------
class NoticeIndexPage(Page):
    """The list of notices (通知公告): each reader sees the live ones addressed to them, newest first."""

    intro = models.CharField(_("introduction"), max_length=200, blank=True)

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    parent_page_types = ["cms.HomePage"]
    subpage_types = ["cms.NoticePage"]
    # One list for the whole district, with its workflow and permissions (see moderation.py).
    max_count = 1
    page_size = 15

    class Meta:
        verbose_name = _("notice index")

    def get_context(self, request, *args, **kwargs):
        from . import selectors  # a page's request handling reads through selectors, which query pages

        context = super().get_context(request, *args, **kwargs)
        notices = selectors.visible_notices(viewer=request.user).order_by("-first_published_at", "-pk")
        page = Paginator(notices, self.page_size).get_page(request.GET.get("page"))
        context["notices"] = page
        return context


class NoticePage(RoutablePageMixin, Page):
    """One notice. Nobody but the people it targets (and the staff over its places) can open it; a public
    notice anyone can. A must-read notice asks its targets to acknowledge it."""

    summary = models.CharField(
        _("summary"),
        max_length=120,
        blank=True,
        help_text=_("One sentence for the list and the text message. Empty: the start of the body."),
    )
    body = RichTextField(_("body"), features=NOTICE_BODY_FEATURES)
    issuer = models.CharField(
        _("issued by"), max_length=60, blank=True, help_text=_("e.g. 星甸街道网格化服务管理中心")
    )
    must_read = models.BooleanField(
        _("must read"),
        default=False,
        help_text=_("The people it targets are asked to confirm that they have read it."),
    )
    is_public = models.BooleanField(
        _("public"),
        default=False,
        help_text=_("Anyone may read it, signed in or not. Targets, if any, still get it delivered."),
    )

    content_panels = [
        *Page.content_panels,
        FieldPanel("summary"),
        FieldPanel("body"),
        FieldPanel("issuer"),
        MultiFieldPanel(
            [
                FieldRowPanel([FieldPanel("is_public"), FieldPanel("must_read")]),
                InlinePanel("targets", label=_("Target"), heading=_("Targets")),
            ],
            heading=_("Who it is for"),
            help_text=_(
                "Each target is a place, a role or both (e.g. 星兴社区 + party members). The notice goes to "
                "everyone any target matches; a person belongs to the place of their home grid."
            ),
        ),
        InlinePanel("attachments", label=_("Attachment"), heading=_("Attachments")),
    ]
    # Chinese words segmented for the index (core.search): "消防" finds "消防安全检查通知". Page's own fields
    # stay (Wagtail expects them; the plain title is one more token in the title column). The body is
    # indexed as text, without its tags. Who may see a hit is decided by selectors.visible_notices.
    search_fields = [
        *Page.search_fields,
        ChineseSearchField("title", boost=2),
        ChineseSearchField("summary"),
        ChineseSearchField("body_text"),
    ]
    parent_page_types = ["cms.NoticeIndexPage"]
    subpage_types = []
    base_form_class = NoticePageForm

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")

    def body_text(self) -> str:
        return one_line(strip_tags(self.body))

    @property
    def teaser(self) -> str:
        return self.summary or Truncator(self.body_text()).chars(80)

    def serve(self, request, *args, **kwargs):
        from . import selectors, services  # they query pages: reached at call time, as in get_context

        if not selectors.can_read(viewer=request.user, notice=self):
            raise Http404
        if request.method == "GET" and request.user.is_authenticated:
            services.do_record_read(notice=self, actor=request.user)
        return super().serve(request, *args, **kwargs)

    def get_context(self, request, *args, **kwargs):
        from . import selectors  # it queries pages: reached at call time (see NoticeIndexPage.get_context)

        context = super().get_context(request, *args, **kwargs)
        context["attachments"] = list(self.attachments.select_related("document"))
        context["targets"] = [
            describe(row) for row in self.targets.select_related("street", "community", "grid__community")
        ]
        context["reading"] = selectors.reading_of(notice=self, viewer=request.user)
        context["acknowledge_url"] = (self.url or "") + self.reverse_subpage("acknowledge")
        return context

    @path("acknowledge/", name="acknowledge")
    def acknowledge(self, request):
        from . import services  # it queries pages: reached at call time (see NoticeIndexPage.get_context)

        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not request.user.is_authenticated:
            return redirect_to_login(self.url)
        try:
            services.do_acknowledge(notice=self, actor=request.user)
        except GongzhiError as error:
            if error.status == 404:
                raise Http404 from None
            raise
        messages.success(request, gettext("Thank you: your confirmation is recorded."))
        return redirect(self.url + "#acknowledge")


class NoticeAttachment(Orderable):
    page = ParentalKey(NoticePage, on_delete=models.CASCADE, related_name="attachments")
    document = models.ForeignKey(
        "wagtaildocs.Document", models.CASCADE, related_name="+", verbose_name=_("document")
    )
    title = models.CharField(
        _("title"), max_length=100, blank=True, help_text=_("Empty: the document's own title.")
    )

    panels = [FieldPanel("document"), FieldPanel("title")]

    class Meta(Orderable.Meta):
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self):
        return self.title or self.document.title

    def clean(self):
        # A document uploaded before the limits (or through another form) is checked again here.
        if self.document_id:
            try:
                validate_attachment(self.document.file)
            except ValidationError as error:
                raise ValidationError({"document": error.messages}) from None


class NoticeRead(models.Model):
    """That a targeted person opened a notice, and when they acknowledged it (must-read notices)."""

    notice = models.ForeignKey(NoticePage, models.CASCADE, related_name="reads")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="notice_reads")
    read_at = models.DateTimeField(_("read at"))
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notice read")
        verbose_name_plural = _("notice reads")
        constraints = [models.UniqueConstraint(fields=["notice", "person"], name="one_read_per_notice")]

    def __str__(self):
        return f"{self.notice_id}/{self.person_id}"


class NoticeApprovalTask(GroupApprovalTask):
    """Approval by the approvers group, narrowed to the notices inside the approver's own area."""

    def _in_scope(self, obj, user) -> bool:
        return user.is_superuser or covers(user, obj)

    def user_can_access_editor(self, obj, user):
        return super().user_can_access_editor(obj, user) and self._in_scope(obj, user)

    def locked_for_user(self, obj, user):
        return super().locked_for_user(obj, user) or not self._in_scope(obj, user)

    def user_can_lock(self, obj, user):
        return super().user_can_lock(obj, user) and self._in_scope(obj, user)

    def get_actions(self, obj, user):
        if not self._in_scope(obj, user):
            return []
        return super().get_actions(obj, user)

    def get_task_states_user_can_moderate(self, user, **kwargs):
        states = super().get_task_states_user_can_moderate(user, **kwargs)
        if user.is_superuser:
            return states
        ids = covered_notices(user, NoticePage.objects.all()).annotate(text_pk=Cast("pk", models.CharField()))
        return states.filter(workflow_state__object_id__in=ids.values("text_pk"))

    @classmethod
    def get_description(cls):
        return _("Approvers in the notice's own street (or district) approve it")

    class Meta:
        verbose_name = _("notice approval task")
        verbose_name_plural = _("notice approval tasks")


# --- milestones ----------------------------------------------------------------------------------------
class MilestonesPage(Page):
    """The district's story (联勤大事记): dated entries shown as a vertical timeline, newest first."""

    intro = models.CharField(_("introduction"), max_length=200, blank=True)

    content_panels = [
        *Page.content_panels,
        FieldPanel("intro"),
        InlinePanel("entries", label=_("Entry"), heading=_("Entries")),
    ]
    parent_page_types = ["cms.HomePage"]
    subpage_types = []

    class Meta:
        verbose_name = _("milestones timeline")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        entries = list(
            self.entries.select_related("image")
            .prefetch_related("image__renditions")
            .order_by("-date", "-sort_order", "-pk")
        )
        years: list[tuple[int, list]] = []
        for entry in entries:
            if not years or years[-1][0] != entry.date.year:
                years.append((entry.date.year, []))
            years[-1][1].append(entry)
        context["years"] = years
        return context


class MilestoneEntry(Orderable):
    page = ParentalKey(MilestonesPage, on_delete=models.CASCADE, related_name="entries")
    date = models.DateField(_("date"))
    title = models.CharField(_("title"), max_length=80)
    text = models.TextField(_("text"), blank=True, max_length=1000)
    image = models.ForeignKey(
        "wagtailimages.Image",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("image"),
    )

    panels = [
        FieldRowPanel([FieldPanel("date"), FieldPanel("title")]),
        FieldPanel("text"),
        FieldPanel("image"),
    ]

    class Meta(Orderable.Meta):
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")

    def __str__(self):
        return f"{self.date:%Y-%m-%d} {self.title}"


# --- service points ------------------------------------------------------------------------------------
class ServicePointPage(Page):
    """A place residents go to for services — an elder dining point, a day-care centre, a class — with
    its photos, hours and the services it runs now (published ones of its organisation, live from the
    catalogue, with their next session and places left)."""

    intro = RichTextField(_("introduction"), blank=True, features=["bold", "italic", "ol", "ul", "link"])
    address = models.CharField(_("address"), max_length=120, blank=True)
    hours = models.CharField(_("opening hours"), max_length=80, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    organisation = models.ForeignKey(
        "volunteers.Organisation",
        models.PROTECT,
        related_name="+",
        verbose_name=_("organisation"),
        help_text=_("The organisation that runs the point: its published services are listed."),
    )
    category = models.ForeignKey(
        "services_catalog.ServiceCategory",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("category"),
        help_text=_("Only services of this category (empty: all of the organisation's services)."),
    )
    photos = StreamField(
        [("photo", ImageChooserBlock(label=_("Photo")))], blank=True, verbose_name=_("photos")
    )

    content_panels = [
        *Page.content_panels,
        FieldPanel("intro"),
        FieldRowPanel([FieldPanel("address"), FieldPanel("hours"), FieldPanel("contact_phone")]),
        FieldRowPanel([FieldPanel("organisation"), FieldPanel("category")]),
        FieldPanel("photos"),
    ]
    parent_page_types = ["cms.HomePage"]
    subpage_types = []

    class Meta:
        verbose_name = _("service point")

    def live_services(self):
        services = catalogue_services().filter(organisation_id=self.organisation_id)
        if self.category_id:
            services = services.filter(category_id=self.category_id)
        return services

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["services"] = list(self.live_services())
        return context
