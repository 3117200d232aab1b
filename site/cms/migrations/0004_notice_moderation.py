"""The notice moderation set-up (see cms/moderation.py): the "Notice editors" and "Notice approvers" groups,
the notice approval workflow ("通知审核") with its approval task, and the staff already appointed put in their
groups. The workflow is assigned to a notice index page when one is created (cms/apps.py)."""

from django.db import migrations

EDITORS = "Notice editors"
APPROVERS = "Notice approvers"
APPROVER_LEVELS = ("street", "district")


def create(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    ContentType = apps.get_model("contenttypes", "ContentType")
    NoticeApprovalTask = apps.get_model("cms", "NoticeApprovalTask")
    Workflow = apps.get_model("wagtailcore", "Workflow")
    WorkflowTask = apps.get_model("wagtailcore", "WorkflowTask")
    StaffPost = apps.get_model("volunteers", "StaffPost")

    editors, _ = Group.objects.get_or_create(name=EDITORS)
    approvers, _ = Group.objects.get_or_create(name=APPROVERS)
    if not NoticeApprovalTask.objects.exists():
        content_type, _ = ContentType.objects.get_or_create(app_label="cms", model="noticeapprovaltask")
        task = NoticeApprovalTask.objects.create(name="街道审核", content_type=content_type, active=True)
        task.groups.add(approvers)
        workflow = Workflow.objects.create(name="通知审核", active=True)
        WorkflowTask.objects.create(workflow=workflow, task=task, sort_order=0)
    for person_id, level in StaffPost.objects.values_list("person_id", "level"):
        editors.user_set.add(person_id)
        if level in APPROVER_LEVELS:
            approvers.user_set.add(person_id)


class Migration(migrations.Migration):
    dependencies = [
        ("cms", "0003_notices_and_milestones"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("volunteers", "0003_import_batch"),
    ]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
