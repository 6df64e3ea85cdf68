"""A zip archive written as it is sent (R-DOC-2): ``iter_zip(entries)`` yields the bytes of
the archive piece by piece, reading each member's content piece by piece, so that neither the
archive nor a member is ever whole in memory.

The archive is written to an unseekable sink: :mod:`zipfile` then puts each member's sizes and
CRC in a data descriptor after its content, and ZIP64 records where sizes or offsets need them
(a member of unknown or large size always has them)."""
import datetime
import os
import zipfile
from typing import Callable, Iterable, NamedTuple

from odoo.addons.cloud_base.lib.names import name_key, with_counter

#: what the archive is handed on in (and what a local file is read by)
PIECE = 1024 * 1024

#: types that are compressed already: stored as they are (deflating them costs time for nothing)
STORED_PREFIXES = ("image/", "video/", "audio/")
STORED_TYPES = frozenset({
    "application/zip", "application/x-zip-compressed", "application/gzip",
    "application/x-gzip", "application/x-7z-compressed", "application/x-rar-compressed",
    "application/vnd.rar", "application/x-bzip2", "application/x-xz", "application/zstd",
    "application/pdf", "application/epub+zip", "application/java-archive",
})
#: the uncompressed images keep being deflated
DEFLATED_IMAGES = frozenset({"image/bmp", "image/svg+xml", "image/tiff", "image/x-icon"})
#: office documents that are zip archives themselves
STORED_TYPE_PREFIXES = ("application/vnd.openxmlformats-officedocument.",
                        "application/vnd.oasis.opendocument.")

#: the sizes above which a member needs ZIP64 fields (zipfile's own limit, with its margin)
ZIP64_MEMBER = int(zipfile.ZIP64_LIMIT / 1.05)


class ZipEntry(NamedTuple):
    """One member: its ``path`` in the archive, its type, its size if known (None: unknown),
    its date, and ``chunks``: a callable returning an iterable of its content's pieces,
    called only when the member is written (None: a directory, its path ends with ``/``)."""

    path: str
    mimetype: str
    size: int | None
    date: datetime.datetime | None
    chunks: Callable[[], Iterable[bytes]]


def compression_for(mimetype):
    mimetype = (mimetype or "").lower()
    if mimetype in DEFLATED_IMAGES:
        return zipfile.ZIP_DEFLATED
    if mimetype in STORED_TYPES or mimetype.startswith(STORED_PREFIXES + STORED_TYPE_PREFIXES):
        return zipfile.ZIP_STORED
    return zipfile.ZIP_DEFLATED


def file_chunks(path, piece=PIECE):
    """The content of a file on disk, piece by piece."""
    with open(path, "rb") as handle:
        while data := handle.read(piece):
            yield data


class _Sink:
    """Where zipfile writes: kept until handed on; unseekable (no ``seek``), so zipfile
    writes members with data descriptors."""

    def __init__(self):
        self._parts = []
        self.pending = 0
        self.position = 0

    def write(self, data):  # pylint: disable=method-required-super
        self._parts.append(bytes(data))
        self.pending += len(data)
        self.position += len(data)
        return len(data)

    def tell(self):
        return self.position

    def flush(self):
        pass

    def take(self):
        data = b"".join(self._parts)
        self._parts.clear()
        self.pending = 0
        return data


def _zip_info(entry):
    date = entry.date or datetime.datetime.now()
    # the zip format starts in 1980 and stores local time without a zone
    date_time = max(date.timetuple()[:6], (1980, 1, 1, 0, 0, 0))
    info = zipfile.ZipInfo(entry.path, date_time=date_time)
    if entry.chunks is None:  # a directory
        info.external_attr = (0o40755 << 16) | 0x10
        info.CRC = info.compress_size = info.file_size = 0
        return info
    info.compress_type = compression_for(entry.mimetype)
    info.external_attr = 0o644 << 16
    if entry.size is not None:
        info.file_size = entry.size
    return info


def iter_zip(entries, piece=PIECE):
    """Yield the archive of ``entries`` (an iterable of :class:`ZipEntry`) in pieces of about
    ``piece`` bytes. A member whose content fails to be read raises out of the generator:
    the archive is cut short (the receiver sees an incomplete download, never a silently
    incomplete archive)."""
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", allowZip64=True) as archive:
        for entry in entries:
            info = _zip_info(entry)
            if entry.chunks is None:
                archive.mkdir(info)
                continue
            big = entry.size is None or entry.size > ZIP64_MEMBER
            chunks = entry.chunks()
            try:
                with archive.open(info, "w", force_zip64=big) as member:
                    for data in chunks:
                        member.write(data)
                        if sink.pending >= piece:
                            yield sink.take()
            finally:
                close = getattr(chunks, "close", None)
                if close is not None:
                    close()  # a download stopped early gives its connection back
            if sink.pending >= piece:
                yield sink.take()
    if sink.pending:
        yield sink.take()


def unique_path(directory, name, taken):
    """``directory/name``, made unique among the ``taken`` paths (compared without case, as
    desktops do) with `` (2)``, `` (3)``... before the extension; added to ``taken``."""
    name = (name or "file").replace("/", "-").replace("\\", "-").strip() or "file"
    if name in (".", ".."):
        name = "file"
    candidate, counter = name, 1
    while name_key(os.path.join(directory, candidate)) in taken:
        counter += 1
        candidate = with_counter(name, counter, max_length=10 ** 6, keep_extension=True)
    path = os.path.join(directory, candidate) if directory else candidate
    taken.add(name_key(path))
    return path
