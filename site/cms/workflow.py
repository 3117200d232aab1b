"""The notice approval workflow ("通知审核") and its place on the notice index: whichever way the index is
made (the admin, the demo, a test), it gets the workflow and the two groups their permissions on it
(receivers.py). Who belongs to the groups, and which notices a member may act on, is moderation.py.
"""

from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from wagtail.models import GroupPagePermission, Page, Workflow, WorkflowPage

from .models import NoticeApprovalTask
from .moderation import APPROVER_PAGE_PERMISSIONS, EDITOR_PAGE_PERMISSIONS, TASK, WORKFLOW, ensure_groups


def ensure_workflow() -> Workflow:
    _editors, approvers = ensure_groups()
    task = NoticeApprovalTask.objects.filter(active=True).order_by("pk").first()
    if task is None:
        task = NoticeApprovalTask.objects.create(name=TASK)
    task.groups.add(approvers)
    workflow = Workflow.objects.filter(active=True, workflow_tasks__task=task).order_by("pk").first()
    if workflow is None:
        workflow = Workflow.objects.create(name=WORKFLOW)
        workflow.workflow_tasks.create(task=task, sort_order=0)
    return workflow


@transaction.atomic
def ensure_notice_moderation(index: Page) -> None:
    """Give the notice index its workflow and the two groups their permissions on it."""
    editors, approvers = ensure_groups()
    workflow = ensure_workflow()
    WorkflowPage.objects.update_or_create(page=index, defaults={"workflow": workflow})
    page_type = ContentType.objects.get_by_natural_key("wagtailcore", "page")
    for group, codenames in ((editors, EDITOR_PAGE_PERMISSIONS), (approvers, APPROVER_PAGE_PERMISSIONS)):
        for permission in Permission.objects.filter(content_type=page_type, codename__in=codenames):
            GroupPagePermission.objects.get_or_create(group=group, page=index, permission=permission)
