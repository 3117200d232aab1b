from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class CmsConfig(AppConfig):
    name = "cms"
    verbose_name = _("Site pages")

    def ready(self):
        # Models, and the modules that import them, load only once the app registry is ready.
        from wagtail.signals import page_published

        from volunteers.models import StaffPost

        from . import receivers
        from .models import NoticeIndexPage, NoticePage
        from .search import register_search

        page_published.connect(
            receivers.notice_published, sender=NoticePage, dispatch_uid="cms.notice_published"
        )
        post_save.connect(receivers.staff_post_changed, sender=StaffPost, dispatch_uid="cms.staff_post_saved")
        post_delete.connect(
            receivers.staff_post_changed, sender=StaffPost, dispatch_uid="cms.staff_post_deleted"
        )
        post_save.connect(
            receivers.notice_index_saved, sender=NoticeIndexPage, dispatch_uid="cms.notice_index_saved"
        )
        register_search()  # notices on the site search page (core.search), for those who may read them
