"""What the notice pages do when something else changes: a notice going live is delivered, a staff post
decides its holder's notice groups, and a new notice index gets its workflow. Connected in apps.py."""

from volunteers.models import User

from .moderation import sync_staff_groups
from .tasks import deliver_notice
from .workflow import ensure_notice_moderation


def notice_published(sender, instance, revision=None, **kwargs):
    # Wagtail sends page_published also when it only *schedules* a revision (go_live_at ahead): deliver
    # once the page is live, which for a scheduled notice is when `publish_scheduled` publishes it and
    # sends this signal again. Queued after commit, so a rolled-back publication notifies nobody.
    if not instance.live:
        return
    deliver_notice.delay_on_commit(instance.pk)


def staff_post_changed(sender, instance, raw=False, **kwargs):
    # A staff post decides the notice groups, as it decides the staff group (volunteers.services).
    if raw:
        return
    person = User.objects.filter(pk=instance.person_id).first()
    if person is not None:  # None: the post goes because its person is being deleted
        sync_staff_groups(person)


def notice_index_saved(sender, instance, created, raw=False, **kwargs):
    # However the index is made (the admin, the demo, a test), it gets its workflow and permissions.
    if created and not raw:
        ensure_notice_moderation(instance)
