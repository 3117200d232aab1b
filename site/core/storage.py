"""Storage for uploads that carry personal data (case photos): kept outside MEDIA_ROOT, never at a public
URL. They reach a browser only through a view that checks who is asking."""

from django.core.files.storage import FileSystemStorage, InMemoryStorage, storages


class NoPublicUrl:
    def url(self, name):
        raise ValueError("Private files have no public URL: serve them through a view that checks access.")


class PrivateFileSystemStorage(NoPublicUrl, FileSystemStorage):
    pass


class PrivateInMemoryStorage(NoPublicUrl, InMemoryStorage):
    """Tests."""


def private_storage():
    """The "private" entry of settings.STORAGES (a callable, so model fields and migrations name it)."""
    return storages["private"]
