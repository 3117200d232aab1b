from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.exceptions import GongzhiError

from . import selectors, services
from .forms import IdentityClaimForm, InviteMemberForm, OrganisationApplicationForm, ProfilePageForm
from .models import Membership, Organisation
from .scopes import scope_for


@login_required
def profile(request):
    person = request.user
    form = ProfilePageForm(request.POST or None, instance=person)
    if request.method == "POST" and form.is_valid():
        services.do_update_profile(person=person, actor=request.user, form=form)
        messages.success(request, _("Your profile has been saved."))
        return redirect("volunteers:profile")
    status = 400 if form.errors else 200
    return render(
        request,
        "volunteers/profile.html",
        {
            "form": form,
            "claim_form": IdentityClaimForm(initial={"grid": person.home_grid_id}),
            "claims": selectors.claims_of(person),
            "memberships": selectors.memberships_of(person),
            "roles": sorted(scope_for(person).roles),
        },
        status=status,
    )


@login_required
@require_POST
def claim_identity(request):
    form = IdentityClaimForm(request.POST)
    if form.is_valid():
        try:
            services.do_claim_identity(
                person=request.user,
                kind=form.cleaned_data["kind"],
                grid=form.cleaned_data["grid"],
                detail=form.cleaned_data["detail"],
            )
        except GongzhiError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Claim submitted. Staff of the grid will verify it."))
            return redirect("volunteers:profile")
    return render(
        request,
        "volunteers/profile.html",
        {
            "form": ProfilePageForm(instance=request.user),
            "claim_form": form,
            "claims": selectors.claims_of(request.user),
            "memberships": selectors.memberships_of(request.user),
            "roles": sorted(scope_for(request.user).roles),
        },
        status=400,
    )


def organisations(request):
    return render(
        request, "volunteers/organisations.html", {"organisations": selectors.public_organisations()}
    )


def organisation(request, pk):
    scope = scope_for(request.user)
    org = get_object_or_404(scope.visible(Organisation.objects.select_related("street", "community")), pk=pk)
    can_manage = scope.can_change(org)
    is_member = (
        request.user.is_authenticated
        and org.memberships.filter(person=request.user, status=Membership.Status.ACTIVE).exists()
    )
    return render(
        request,
        "volunteers/organisation.html",
        {
            "org": org,
            "members": selectors.organisation_members(org) if (can_manage or is_member) else None,
            "can_manage": can_manage,
            "invite_form": InviteMemberForm() if can_manage else None,
        },
    )


@login_required
@require_POST
def invite_member(request, pk):
    org = get_object_or_404(Organisation, pk=pk)
    form = InviteMemberForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return _back(request, "volunteers:organisation", org.pk, status=400)
    try:
        services.do_invite_member(
            organisation_id=org.pk,
            actor=request.user,
            phone=form.cleaned_data["phone"],
            role=form.cleaned_data["role"],
        )
    except GongzhiError as exc:
        messages.error(request, exc.message)
        return _back(request, "volunteers:organisation", org.pk, status=exc.status)
    messages.success(request, _("Invitation sent."))
    return redirect("volunteers:organisation", org.pk)


@login_required
@require_POST
def remove_member(request, pk, membership_pk):
    membership = get_object_or_404(Membership, pk=membership_pk, organisation_id=pk)
    try:
        services.do_remove_member(membership_id=membership.pk, actor=request.user)
    except GongzhiError as exc:
        messages.error(request, exc.message)
        return _back(request, "volunteers:organisation", pk, status=exc.status)
    messages.success(request, _("Member removed."))
    if membership.person_id == request.user.pk:
        return redirect("volunteers:my_organisations")
    return redirect("volunteers:organisation", pk)


@login_required
def my_organisations(request):
    return render(
        request, "volunteers/my_organisations.html", {"memberships": selectors.memberships_of(request.user)}
    )


@login_required
@require_POST
def answer_invitation(request, membership_pk):
    accept = request.POST.get("answer") == "accept"
    try:
        services.do_answer_invitation(membership_id=membership_pk, actor=request.user, accept=accept)
    except Membership.DoesNotExist:
        messages.error(request, _("Invitation not found."))
        return _back(request, "volunteers:my_organisations", status=404)
    except GongzhiError as exc:
        messages.error(request, exc.message)
        return _back(request, "volunteers:my_organisations", status=exc.status)
    messages.success(request, _("You have joined the organisation.") if accept else _("Invitation declined."))
    return redirect("volunteers:my_organisations")


@login_required
def apply_organisation(request):
    form = OrganisationApplicationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            org = services.do_apply_organisation(actor=request.user, form=form)
        except GongzhiError as exc:
            form.add_error("name", exc.message)
        else:
            messages.success(request, _("Application submitted. Street staff will review it."))
            return redirect("volunteers:organisation", org.pk)
    return render(
        request, "volunteers/apply_organisation.html", {"form": form}, status=400 if form.errors else 200
    )


def _back(request, name, *args, status):
    """Show the error message with a 4xx status and a way back (a redirect would hide the status)."""
    return render(request, "error.html", {"back_url": reverse(name, args=args)}, status=status)
