"""Comparing versions of a cloud file with what the suite knows of it.

Providers do not all give a content hash (a WebDAV server without checksums, a Google-native
document): where one side has no hash, the size is what can be compared. ``None`` (the
provider's "no hash") and ``False`` (Odoo's empty field) are the same "unknown".
"""
import hashlib


def content_differs(item, known_size, known_hash):
    """Does ``item`` (a ``CloudItem``) hold other content than the version last synced
    (``known_size``, ``known_hash``)?"""
    if item.hash and known_hash:
        return item.hash != known_hash or item.size != known_size
    return (item.size or 0) != (known_size or 0)


def version_checksum(item, hash_kind):
    """A value for ``ir.attachment.checksum`` (Odoo's SHA-1 of the content, also the HTTP ETag
    of ``/web/content``) that changes with each version of a file that lives in the cloud: the
    provider's SHA-1 where it gives one, else a SHA-1 of what identifies the version."""
    if hash_kind == "sha1" and item.hash:
        return item.hash.lower()
    version = "%s:%s:%s:%s" % (item.id, item.hash or "", item.etag or "", item.size or 0)
    return hashlib.sha1(version.encode("utf-8")).hexdigest()
