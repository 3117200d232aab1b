"""Checks on uploaded files: notice attachments (Wagtail documents) of an allowed type, and not too large."""

import os

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

# The first bytes each allowed type starts with: a renamed program or script is refused even with a
# harmless-looking extension. docx and xlsx are ZIP containers.
SIGNATURES = {
    "pdf": (b"%PDF-",),
    "docx": (b"PK\x03\x04",),
    "xlsx": (b"PK\x03\x04",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
}


def max_bytes() -> int:
    return settings.WAGTAILDOCS_MAX_UPLOAD_SIZE


def validate_attachment(file, *, check_extension: bool = True) -> None:
    """Refuse a file whose type is not allowed (by extension and by content) or that is too large.
    `check_extension=False` where Wagtail's own document validation already refuses other extensions."""
    allowed = [ext.lower() for ext in settings.WAGTAILDOCS_EXTENSIONS]
    extension = os.path.splitext(file.name or "")[1].lstrip(".").lower()
    if check_extension and extension not in allowed:
        raise ValidationError(
            _("Files of type “%(ext)s” are not accepted. Allowed: %(allowed)s.")
            % {"ext": extension or "?", "allowed": ", ".join(allowed)},
            code="forbidden_type",
        )
    try:
        size = file.size
    except (OSError, ValueError):
        raise ValidationError(_("The file could not be read. Upload it again."), code="unreadable") from None
    if size > max_bytes():
        raise ValidationError(
            _(
                "The file is %(size)s; the limit is %(limit)s. Make it smaller (e.g. save the PDF at a lower "
                "quality) or split it."
            )
            % {"size": filesizeformat(size), "limit": filesizeformat(max_bytes())},
            code="too_large",
        )
    signatures = SIGNATURES.get(extension)
    if signatures:
        try:
            head = _head(file)
        except (OSError, ValueError):
            raise ValidationError(
                _("The file could not be read. Upload it again."), code="unreadable"
            ) from None
        if not any(head.startswith(signature) for signature in signatures):
            raise ValidationError(
                _("The content is not a real “%(ext)s” file. Save it again as %(ext)s and upload that.")
                % {"ext": extension},
                code="content_mismatch",
            )


def _head(file) -> bytes:
    if hasattr(file, "instance"):  # a stored file (FieldFile): open it, read, close it again
        with file.open("rb") as stored:
            return stored.read(16)
    # An upload the form is about to save: read and rewind, but leave it open.
    file.seek(0)
    head = file.read(16)
    file.seek(0)
    return head
