from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CertificatesConfig(AppConfig):
    """Service-hours certificates (PDF with a verification QR): part of points/, its own app for clarity."""

    name = "points.certificates"
    label = "certificates"
    verbose_name = _("Service-hours certificates")

    def ready(self):
        # Models load only once the app registry is ready.
        from volunteers.scopes import Rule, register

        from .models import Certificate

        # A certificate is placed where it was issued: the issuing street (and district), and the
        # person's home community at the time, so that community staff can look their people's up.
        # Its person reads it; nobody changes one except through services.do_revoke_certificate.
        register(
            Certificate,
            Rule(
                places={"community": "community", "street": "street", "district": "district"},
                owner="person",
            ),
        )
