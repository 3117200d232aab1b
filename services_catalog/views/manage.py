"""The workbench at /services/manage/ for the people who run the ordering loop, phone first.

- Organisation members: the order inbox (to accept, to deliver, waiting for the resident, finished) and
  the pool of orders waiting for dispatch in the organisation's area, which an administrator may claim;
  the organisation's services (administrators create and edit them and send them for review).
- Staff: orders waiting for dispatch in their area against the deadline, services waiting for review,
  points held for review.
- Grid workers (帮办): the residents of their grids — register one without a smartphone, record their
  service details, print their QR card, order for them.

Views are thin, as in the grid-task organiser pages: reads come from selectors, every change goes
through services.py, and a refusal (GongzhiError) is shown on the page it came from with its 4xx status.
Out of scope is a 404 (the thing is not shown to exist) or, for someone who may see but not change it, 403.
The actions on one order (accept, claim, dispatch, deliver, award review) live on the order page.
"""

import functools

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from core import links
from core.exceptions import GongzhiError
from volunteers.scopes import scope_for

from .. import selectors, services
from ..forms import (
    BeneficiaryForm,
    RegisterResidentForm,
    ResidentSearchForm,
    ServiceForm,
    ServiceReviewForm,
)
from ..models import Beneficiary, OrderRules, Service, ServiceEvent, ServicePhoto

PAGE_SIZE = 30


# --- access ------------------------------------------------------------------------------------------------
def _signed_in(view):
    """Signed-in people only; and, the pages showing residents' details, never kept in a browser's cache
    (a shared phone or a computer at the service centre)."""

    @functools.wraps(view)
    @never_cache
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapper


def _current_org(request, orgs):
    """The organisation the page is about: ?org=<id> among the person's own, else the first of them.
    Another organisation's id is a 404, not a hint that it exists."""
    raw = request.POST.get("org") or request.GET.get("org")
    if not raw:
        return orgs[0] if orgs else None
    for org in orgs:
        if str(org.pk) == str(raw).strip():
            return org
    raise Http404(_("You are not a member of this organisation."))


def _org_or_403(request):
    orgs = selectors.member_organisations(actor=request.user)
    if not orgs:
        raise PermissionDenied(_("Only members of an approved organisation see its orders."))
    return orgs, _current_org(request, orgs)


def _staff_or_403(request):
    if not scope_for(request.user).is_staff:
        raise PermissionDenied(_("Only community, street and district staff can do this."))


def _grid_worker_or_403(request):
    scope = scope_for(request.user)
    if not (scope.grid_ids or scope.is_staff):
        raise PermissionDenied(_("Only grid workers and staff look after residents."))


def _decorate(orders, rules, now):
    """Each order's current deadline (services.stage_deadline) and whether it has passed."""
    for order in orders:
        order.deadline = services.stage_deadline(order, rules)
        order.overdue = order.deadline is not None and now > order.deadline
    return orders


def _page(request, qs):
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return page, query.urlencode()


# --- the inbox and the pool (organisations) -------------------------------------------------------------
@_signed_in
def home(request):
    user = request.user
    scope = scope_for(user)
    orgs = selectors.member_organisations(actor=user)
    is_staff = scope.is_staff
    looks_after_residents = bool(scope.grid_ids) or is_staff
    if not (orgs or is_staff or looks_after_residents):
        raise PermissionDenied(_("The workbench is for organisation members, grid workers and staff."))
    org = _current_org(request, orgs)
    rules = OrderRules.load()
    now = timezone.now()
    context = {
        "orgs": orgs,
        "org": org,
        "is_staff": is_staff,
        "looks_after_residents": looks_after_residents,
        "now": now,
    }
    if org is not None:
        inbox = selectors.org_inbox(organisation=org, now=now)
        for orders in inbox.values():
            _decorate(orders, rules, now)
        context.update(
            inbox=inbox,
            counts=selectors.org_inbox_counts(organisation=org, now=now),
            pool_count=selectors.order_pool(organisation=org).count(),
        )
    if is_staff:
        context["staff"] = selectors.staff_counts(actor=user, dispatch_hours=rules.dispatch_hours, now=now)
    return render(request, "services_catalog/manage_home.html", context)


@_signed_in
def pool(request):
    orgs, org = _org_or_403(request)
    page, query = _page(request, selectors.order_pool(organisation=org))
    now = timezone.now()
    orders = _decorate(list(page.object_list), OrderRules.load(), now)
    return render(
        request,
        "services_catalog/manage_pool.html",
        {"orgs": orgs, "org": org, "page": page, "orders": orders, "query": query, "now": now},
    )


# --- services (organisations; staff review) ----------------------------------------------------------------
def _service_or_404(request, code) -> tuple[Service, bool]:
    """A service the person may work on: (service, may change it). Members of its organisation see it
    (read only); its organisation's administrators and the staff of its place change it; anyone else
    gets a 404 — a draft's existence is not public, and the public page shows published ones."""
    service = (
        Service.objects.select_related("category", "organisation", "street__district", "created_by")
        .prefetch_related(
            "photos",
            "area_streets",
            "area_communities",
            "area_grids__community",
            Prefetch("events", queryset=ServiceEvent.objects.select_related("actor").order_by("-at", "-pk")),
        )
        .filter(code=code)
        .first()
    )
    if service is None:
        raise Http404(_("This service does not exist."))
    scope = scope_for(request.user)
    can_change = scope.can_change(service)
    if not can_change and service.organisation_id not in scope.member_org_ids:
        raise Http404(_("This service does not exist."))
    return service, can_change


@_signed_in
def service_list(request):
    scope = scope_for(request.user)
    orgs = selectors.member_organisations(actor=request.user)
    centre = selectors.centre_services(actor=request.user) if scope.is_staff else None
    if not orgs and centre is None:
        raise PermissionDenied(_("Only organisation members and staff list services here."))
    org = _current_org(request, orgs)
    return render(
        request,
        "services_catalog/manage_services.html",
        {
            "orgs": orgs,
            "org": org,
            "services": list(selectors.organisation_services(organisation=org)) if org else [],
            "centre_services": list(centre) if centre is not None else None,
            "may_create": bool(scope.admin_org_ids) or scope.is_staff,
        },
    )


def _save_service(request, form, service=None):
    """Save the form's service and its new photos together: if the photos are refused, the service's
    changes are rolled back too and the form is shown again with everything typed still in it."""
    with transaction.atomic():
        saved = services.do_save_service(actor=request.user, service=service, **form.service_fields())
        services.do_add_service_photos(
            actor=request.user, service_id=saved.pk, photos=form.cleaned_data.get("photos") or []
        )
    return saved


def _render_service(request, service, *, form, can_change, status=200, review_form=None):
    scope = scope_for(request.user)
    can_review = service is not None and scope.is_staff and can_change
    return render(
        request,
        "services_catalog/manage_service.html",
        {
            "service": service,
            "form": form,
            "can_change": can_change,
            "can_review": can_review,
            "review_form": review_form or ServiceReviewForm(),
            "max_photos": services.MAX_SERVICE_PHOTOS,
        },
        status=status,
    )


def _form_refused(form, exc) -> int:
    if isinstance(exc, GongzhiError):
        form.add_error(None, exc.message)
        return exc.status
    form.add_error(None, exc.messages)  # the model's own checks, after the form's
    return 400


@_signed_in
def service_new(request):
    org_id = request.GET.get("org") or None
    form = ServiceForm(
        request.POST or None,
        request.FILES or None,
        actor=request.user,
        initial={"organisation": org_id, "price_kind": Service.Price.FREE, "mode": Service.Mode.ON_DEMAND},
    )
    if not form.fields["organisation"].queryset.exists() and not form.may_offer_centre:
        raise PermissionDenied(_("Only organisation administrators and street staff list services."))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                service = _save_service(request, form)
            except (GongzhiError, ValidationError) as exc:
                status = _form_refused(form, exc)
            else:
                messages.success(request, _("Draft saved. Send it for review when it is ready."))
                return redirect("services:manage_service", service.code)
        else:
            status = 400
    return _render_service(request, None, form=form, can_change=True, status=status)


@_signed_in
def service_edit(request, code):
    service, can_change = _service_or_404(request, code)
    if request.method == "POST" and not can_change:
        raise PermissionDenied(_("Only the organisation's administrators can change its services."))
    form = ServiceForm(
        request.POST or None,
        request.FILES or None,
        instance=service,
        actor=request.user,
        initial={
            "area_streets": service.area_streets.all(),
            "area_communities": service.area_communities.all(),
            "area_grids": service.area_grids.all(),
        },
    )
    if not can_change:
        for field in form.fields.values():
            field.disabled = True
    status = 200
    if request.method == "POST":
        was_published = service.status == Service.Status.PUBLISHED
        if form.is_valid():
            try:
                saved = _save_service(request, form, service)
            except (GongzhiError, ValidationError) as exc:
                status = _form_refused(form, exc)
            else:
                if was_published and saved.status == Service.Status.PENDING:
                    messages.warning(
                        request,
                        _(
                            "Saved. The changes go to the street's staff for review; until then "
                            "the service is hidden."
                        ),
                    )
                else:
                    messages.success(request, _("Service saved."))
                return redirect("services:manage_service", saved.code)
        else:
            status = 400
    return _render_service(request, service, form=form, can_change=can_change, status=status)


def _service_action(view):
    """A POST on a service page; a refusal is shown on that page with its status."""

    @functools.wraps(view)
    @_signed_in
    @require_POST
    def wrapper(request, code, *args, **kwargs):
        service, can_change = _service_or_404(request, code)
        try:
            return view(request, service, can_change, *args, **kwargs)
        except GongzhiError as exc:
            messages.error(request, exc.message)
            form = ServiceForm(instance=service, actor=request.user)
            return _render_service(request, service, form=form, can_change=can_change, status=exc.status)

    return wrapper


@_service_action
def service_submit(request, service, can_change):
    if not can_change:
        raise PermissionDenied(_("Only the organisation's administrators can change its services."))
    services.do_submit_service(actor=request.user, service_id=service.pk)
    messages.success(
        request, _("Sent for review: the street's staff will publish it or tell you what to change.")
    )
    return redirect("services:manage_service", service.code)


@_service_action
def service_review(request, service, can_change):
    form = ServiceReviewForm(request.POST)
    if not form.is_valid():
        return _render_service(
            request,
            service,
            form=ServiceForm(instance=service, actor=request.user),
            can_change=can_change,
            status=400,
            review_form=form,
        )
    decision = form.cleaned_data["decision"]
    services.do_review_service(
        actor=request.user, service_id=service.pk, decision=decision, reason=form.cleaned_data["reason"]
    )
    messages.success(
        request,
        {
            "publish": _("Published: residents can order it now."),
            "reject": _("Sent back to the organisation with your reason."),
            "suspend": _("Suspended: residents no longer see it."),
        }[decision],
    )
    return redirect("services:manage_review")


@_service_action
def photo_remove(request, service, can_change, photo_id):
    if not can_change:
        raise PermissionDenied(_("Only the organisation's administrators can change its services."))
    if not ServicePhoto.objects.filter(pk=photo_id, service=service).exists():
        raise Http404(_("This photo has already been removed."))
    services.do_remove_service_photo(actor=request.user, photo_id=photo_id)
    messages.success(request, _("Photo removed."))
    return redirect(reverse("services:manage_service", args=[service.code]) + "#photos")


# --- staff: review, dispatch, held points ------------------------------------------------------------------
REVIEW_TABS = (
    Service.Status.PENDING,
    Service.Status.PUBLISHED,
    Service.Status.SUSPENDED,
    Service.Status.DRAFT,
)


@_signed_in
def review_list(request):
    _staff_or_403(request)
    # An unknown status (a stale link) shows the default tab rather than an error.
    status = request.GET.get("status") if request.GET.get("status") in REVIEW_TABS else Service.Status.PENDING
    page, query = _page(request, selectors.services_to_review(actor=request.user, status=status))
    # Not "tabs": the site's tab bar (core.context_processors) is called that.
    status_tabs = [
        {"status": tab, "label": Service.Status(tab).label, "active": tab == status} for tab in REVIEW_TABS
    ]
    return render(
        request,
        "services_catalog/manage_review.html",
        {"page": page, "query": query, "status": status, "status_tabs": status_tabs},
    )


@_signed_in
def dispatch_list(request):
    _staff_or_403(request)
    rules = OrderRules.load()
    now = timezone.now()
    page, query = _page(request, selectors.orders_to_dispatch(actor=request.user))
    orders = _decorate(list(page.object_list), rules, now)
    return render(
        request,
        "services_catalog/manage_dispatch.html",
        {"page": page, "orders": orders, "query": query, "now": now, "rules": rules},
    )


@_signed_in
def award_list(request):
    _staff_or_403(request)
    page, query = _page(request, selectors.awards_to_review(actor=request.user))
    return render(request, "services_catalog/manage_awards.html", {"page": page, "query": query})


# --- grid workers: residents, their details and QR cards ------------------------------------------------
def _resident_or_404(request, pk):
    person = selectors.resident_for_worker(actor=request.user, person_id=pk)
    if person is None:
        raise Http404(_("This resident is not in a grid you look after."))
    return person


@_signed_in
def resident_list(request):
    _grid_worker_or_403(request)
    search = ResidentSearchForm(request.GET)
    q = search.cleaned_data["q"] if search.is_valid() else ""
    page, query = _page(request, selectors.residents_of(actor=request.user, search=q))
    return render(
        request,
        "services_catalog/manage_residents.html",
        {"page": page, "query": query, "search": search, "q": q},
    )


@_signed_in
def resident_new(request):
    _grid_worker_or_403(request)
    form = RegisterResidentForm(request.POST or None, actor=request.user)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                person = services.do_register_resident(
                    actor=request.user,
                    name=data["name"],
                    grid=data["grid"],
                    phone=data["phone"],
                    consented=data["consent"],
                    **form.details(),
                )
            except (GongzhiError, ValidationError) as exc:
                status = _form_refused(form, exc)
            else:
                messages.success(
                    request, _("%(name)s is registered. Print their QR card next.") % {"name": person.name}
                )
                return redirect("services:manage_resident", person.pk)
        else:
            status = 400
    return render(request, "services_catalog/manage_resident_new.html", {"form": form}, status=status)


@_signed_in
def resident_detail(request, pk):
    _grid_worker_or_403(request)
    person = _resident_or_404(request, pk)
    beneficiary = getattr(person, "beneficiary", None)
    form = BeneficiaryForm(request.POST or None, instance=beneficiary or Beneficiary(person=person))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.do_update_beneficiary(actor=request.user, person=person, **form.details())
            except (GongzhiError, ValidationError) as exc:
                status = _form_refused(form, exc)
            else:
                messages.success(request, _("Details saved."))
                return redirect("services:manage_resident", person.pk)
        else:
            status = 400
    return render(
        request,
        "services_catalog/manage_resident.html",
        {
            "person": person,
            "beneficiary": beneficiary,
            "form": form,
            "orders": list(selectors.orders_of_resident(person=person)[:10]),
            "catalogue_url": _catalogue_for(person),
        },
        status=status,
    )


def _catalogue_for(person) -> str:
    """The catalogue as the resident would see it, ordering on their behalf (帮办)."""
    return f"{reverse('services:catalogue')}?for={person.pk}"


@_signed_in
def resident_card(request, pk):
    _grid_worker_or_403(request)
    person = _resident_or_404(request, pk)
    beneficiary = services.beneficiary_for(person)
    return render(
        request,
        "services_catalog/manage_resident_card.html",
        {
            "person": person,
            "beneficiary": beneficiary,
            # A signed URL of the card's random code: no id, name or number is in the picture.
            "qr_svg": links.qr_svg(links.absolute(services.card_path(beneficiary))),
        },
    )


@_signed_in
def resident_reissue(request, pk):
    _grid_worker_or_403(request)
    person = _resident_or_404(request, pk)
    if request.method == "POST":
        try:
            services.do_reissue_card(actor=request.user, person=person)
        except GongzhiError as exc:
            messages.error(request, exc.message)
            return render(
                request,
                "services_catalog/manage_resident_reissue.html",
                {"person": person},
                status=exc.status,
            )
        messages.success(request, _("New card issued: the old card no longer works. Print this one."))
        return redirect("services:manage_resident_card", person.pk)
    return render(request, "services_catalog/manage_resident_reissue.html", {"person": person})


urlpatterns = [
    path("manage/", home, name="manage"),
    path("manage/pool/", pool, name="manage_pool"),
    path("manage/services/", service_list, name="manage_services"),
    # Fixed words before services/<code>/ (a code is 12 random characters, never "new").
    path("manage/services/new/", service_new, name="manage_service_new"),
    path("manage/services/<str:code>/", service_edit, name="manage_service"),
    path("manage/services/<str:code>/submit/", service_submit, name="manage_service_submit"),
    path("manage/services/<str:code>/review/", service_review, name="manage_service_review"),
    path(
        "manage/services/<str:code>/photos/<int:photo_id>/remove/",
        photo_remove,
        name="manage_service_photo_remove",
    ),
    path("manage/review/", review_list, name="manage_review"),
    path("manage/dispatch/", dispatch_list, name="manage_dispatch"),
    path("manage/awards/", award_list, name="manage_awards"),
    path("manage/residents/", resident_list, name="manage_residents"),
    path("manage/residents/new/", resident_new, name="manage_resident_new"),
    path("manage/residents/<int:pk>/", resident_detail, name="manage_resident"),
    path("manage/residents/<int:pk>/card/", resident_card, name="manage_resident_card"),
    path("manage/residents/<int:pk>/reissue/", resident_reissue, name="manage_resident_reissue"),
]
