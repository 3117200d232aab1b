"""The form of every document upload (settings.WAGTAILDOCS_DOCUMENT_FORM_BASE). Its own module: Wagtail's
document forms query permissions when imported, which models.py must not trigger."""

from wagtail.documents.forms import BaseDocumentForm

from .validators import validate_attachment


class DocumentForm(BaseDocumentForm):
    """Every document upload (WAGTAILDOCS_DOCUMENT_FORM_BASE), before anything is stored. Wagtail checks
    the size (WAGTAILDOCS_MAX_UPLOAD_SIZE) and the extension (WAGTAILDOCS_EXTENSIONS); this adds that
    the content is what the extension says, so a renamed program is refused too."""

    def clean_file(self):
        file = self.cleaned_data.get("file")
        if file and "file" in self.changed_data:
            validate_attachment(file, check_extension=False)
        return file

    def _post_clean(self):
        # When the upload itself was refused (too large, say), Wagtail's Document.clean still checks the
        # extension of the now empty file and adds "extension “” is not allowed": keep the one real reason.
        refused = self._errors.get("file")
        saved = list(refused.data) if refused else None
        super()._post_clean()
        if saved:
            self._errors["file"] = self.error_class(saved)
