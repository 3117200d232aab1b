"""The reporter's pages: my cases, the report form, a case's page (history and reward state) and the
appeal form. Staff decide in the Wagtail admin (admin_viewsets.py). Views are thin: changes go through
services.py; a refusal is shown on the page it came from, with its message and 4xx status."""

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from core.exceptions import GongzhiError

from . import exceptions, selectors, services
from .forms import AppealForm, ReportForm
from .models import Reward


def _case_or_404(request, code):
    case = selectors.case_for_page(code=code, viewer=request.user)
    if case is None:
        raise Http404(_("This case does not exist or is not yours to see."))
    return case


def my_cases(request):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    page = Paginator(selectors.my_cases(person=request.user), 20).get_page(request.GET.get("page"))
    return render(
        request,
        "cases/my_cases.html",
        {"page": page, "can_report": services.can_report(request.user)},
    )


def report(request):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not services.can_report(request.user):
        raise exceptions.NotAReporter()
    status = 200
    if request.method == "POST":
        form = ReportForm(request.POST, request.FILES, person=request.user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                case = services.do_report_case(
                    actor=request.user,
                    kind=data["kind"],
                    category_id=data["category"].pk,
                    grid_id=data["grid"].pk,
                    title=data["title"],
                    description=data["description"],
                    photos=data["photos"],
                    contributors=data["contributors"],
                )
            except GongzhiError as error:
                form.add_error(None, str(error.message))
                status = error.status
            else:
                messages.success(request, _("Thank you. Your report was recorded; staff will verify it."))
                return redirect("cases:detail", case.public_code)
        else:
            status = 400
    else:
        form = ReportForm(person=request.user)
    return render(request, "cases/report.html", {"form": form}, status=status)


def detail(request, code):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    case = _case_or_404(request, code)
    return render(request, "cases/case_detail.html", _detail_context(request, case))


def _detail_context(request, case):
    reward = case.reward_or_none
    my_share = None
    if reward is not None:
        my_share = next((s for s in reward.shares.all() if s.person_id == request.user.pk), None)
    return {
        "case": case,
        "reward": reward,
        "my_share": my_share,
        "can_appeal": selectors.can_appeal(case=case, person=request.user),
        "Reward": Reward,
    }


def appeal(request, code):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    case = _case_or_404(request, code)
    reward = case.reward_or_none
    if reward is None:
        raise Http404(_("This case has no reward to appeal."))
    status = 200
    if request.method == "POST":
        form = AppealForm(request.POST)
        if form.is_valid():
            try:
                services.do_appeal_reward(
                    reward_id=reward.pk, actor=request.user, text=form.cleaned_data["text"]
                )
            except GongzhiError as error:
                form.add_error(None, str(error.message))
                status = error.status
            else:
                messages.success(request, _("Your appeal was sent. Staff will decide and tell you."))
                return redirect("cases:detail", case.public_code)
        else:
            status = 400
    elif not selectors.can_appeal(case=case, person=request.user):
        messages.info(request, _("This reward cannot be appealed."))
        return redirect("cases:detail", case.public_code)
    else:
        form = AppealForm()
    return render(request, "cases/appeal.html", {"case": case, "reward": reward, "form": form}, status=status)
