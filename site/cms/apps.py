from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


def _notice_published(sender, instance, revision=None, **kwargs):
    # Wagtail sends page_published also when it only *schedules* a revision (go_live_at ahead): deliver
    # once the page is live, which for a scheduled notice is when `publish_scheduled` publishes it and
    # sends this signal again. Queued after commit, so a rolled-back publication notifies nobody.
    if not instance.live:
        return
    from .tasks import deliver_notice

    deliver_notice.delay_on_commit(instance.pk)


def _staff_post_changed(sender, instance, raw=False, **kwargs):
    # A staff post decides the notice groups, as it decides the staff group (volunteers.services).
    if raw:
        return
    from volunteers.models import User

    from .moderation import sync_staff_groups

    person = User.objects.filter(pk=instance.person_id).first()
    if person is not None:  # None: the post goes because its person is being deleted
        sync_staff_groups(person)


def _notice_index_saved(sender, instance, created, raw=False, **kwargs):
    # However the index is made (the admin, seed_demo, a test), it gets its workflow and permissions.
    if created and not raw:
        from .moderation import ensure_notice_moderation

        ensure_notice_moderation(instance)


class CmsConfig(AppConfig):
    name = "cms"
    verbose_name = _("Site pages")

    def ready(self):
        from wagtail.signals import page_published

        from volunteers.models import StaffPost

        from .models import NoticeIndexPage, NoticePage

        page_published.connect(_notice_published, sender=NoticePage, dispatch_uid="cms.notice_published")
        post_save.connect(_staff_post_changed, sender=StaffPost, dispatch_uid="cms.staff_post_saved")
        post_delete.connect(_staff_post_changed, sender=StaffPost, dispatch_uid="cms.staff_post_deleted")
        post_save.connect(_notice_index_saved, sender=NoticeIndexPage, dispatch_uid="cms.notice_index_saved")

        from .search import register_search

        register_search()  # notices on the site search page (core.search), for those who may read them
