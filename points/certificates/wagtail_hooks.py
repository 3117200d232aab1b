from wagtail import hooks

from .admin_viewsets import CertificateViewSet


@hooks.register("register_admin_viewset")
def register_certificates():
    return CertificateViewSet()
