"""Content hashes of the providers, computed locally to verify an upload or a download.

Every hash exists in two forms: an incremental object with ``update(data)``, ``hexdigest()``
(hex text, or the provider's own text form) and ``copy()``, as :mod:`hashlib`'s, made by
:func:`new_hasher`; and a function over an iterable of byte chunks (``HASH_FUNCTIONS``), which is
what :meth:`StorageAdapter.compute_hash` uses. Both read the content once, piece by piece, in
bounded memory.

=============  ===========================================================  ===============
kind           what                                                         text form
=============  ===========================================================  ===============
``sha256``     SHA-256 of the content (the in-memory reference storage)     hex
``sha1``       SHA-1 (ownCloud/Nextcloud ``oc:checksums``, Graph personal)  hex
``md5``        MD5 (Google Drive ``md5Checksum``)                           hex
``dropbox``    Dropbox ``content_hash``: SHA-256 of the SHA-256 digests of  hex
               each 4 MiB block
``quickxor``   OneDrive/SharePoint ``quickXorHash`` (see :class:`QuickXor`)  base64
=============  ===========================================================  ===============
"""
from __future__ import annotations

import base64
import hashlib
from typing import Iterable

MiB = 1024 * 1024

#: Dropbox hashes its content in blocks of this size
DROPBOX_BLOCK = 4 * MiB


class DropboxContentHasher:
    """Dropbox ``content_hash``, piece by piece: the content is cut in 4 MiB blocks, each block
    hashed with SHA-256, and the concatenation of the block digests hashed with SHA-256 again.
    The empty content gives the SHA-256 of nothing."""

    name = "dropbox"
    block_size = DROPBOX_BLOCK

    def __init__(self, data=b""):
        self._overall = hashlib.sha256()
        self._block = hashlib.sha256()
        self._filled = 0
        if data:
            self.update(data)

    def update(self, data):
        view = memoryview(data)
        while view:
            take = min(self.block_size - self._filled, len(view))
            self._block.update(view[:take])
            self._filled += take
            view = view[take:]
            if self._filled == self.block_size:
                self._overall.update(self._block.digest())
                self._block = hashlib.sha256()
                self._filled = 0

    def digest(self):
        overall = self._overall.copy()
        if self._filled:
            overall.update(self._block.digest())
        return overall.digest()

    def hexdigest(self):
        return self.digest().hex()

    def copy(self):  # pylint: disable=method-required-super
        other = DropboxContentHasher.__new__(DropboxContentHasher)
        other._overall = self._overall.copy()
        other._block = self._block.copy()
        other._filled = self._filled
        return other


class QuickXor:
    """OneDrive's ``quickXorHash`` (Microsoft's published algorithm), piece by piece.

    A 160-bit value starts at zero; byte number ``i`` of the content (from 0) is XORed into it
    at bit ``11 * i mod 160``, the bits that pass bit 159 wrapping round to bit 0 (a circular
    shift). The value is written as 20 bytes, least significant first; the content's length,
    as a little-endian 64-bit integer, is XORed into the last 8 of them; the result is given in
    base64 (28 characters; the empty content gives ``AAAAAAAAAAAAAAAAAAAAAAAAAAA=``).

    Bytes at the same position modulo 160 land at the same place, so the content is folded
    into a 160-byte accumulator (XOR of its 160-byte rows, a few big-integer operations per
    piece) and spread over the 160 bits only in :meth:`digest`.
    """

    name = "quickxor"
    WIDTH_BITS = 160
    SHIFT = 11
    ROW = 160  # bytes after which the shifts repeat (160 * 11 is a multiple of 160)
    _MASK = (1 << WIDTH_BITS) - 1

    def __init__(self, data=b""):
        self._rows = 0  # XOR of the content's rows, byte k = the bytes at positions = k mod 160
        self._length = 0
        if data:
            self.update(data)

    def update(self, data):
        data = bytes(data)
        if not data:
            return
        offset = self._length % self.ROW
        self._length += len(data)
        padded = bytes(offset) + data
        padded += bytes(-len(padded) % self.ROW)
        rows = len(padded) // self.ROW
        value = int.from_bytes(padded, "little")
        row_bits = self.ROW * 8
        while rows > 1:  # fold the rows onto each other: XOR of halves, log2(rows) steps
            half = rows // 2
            cut = row_bits * half
            value = (value & ((1 << cut) - 1)) ^ (value >> cut)
            rows -= half
        self._rows ^= value

    def digest(self):
        value = 0
        rows = self._rows
        for position in range(self.ROW):
            byte = (rows >> (8 * position)) & 0xFF
            if byte:
                shift = (self.SHIFT * position) % self.WIDTH_BITS
                moved = byte << shift
                value ^= (moved | (moved >> self.WIDTH_BITS)) & self._MASK
        out = bytearray(value.to_bytes(self.WIDTH_BITS // 8, "little"))
        for index, byte in enumerate(self._length.to_bytes(8, "little")):
            out[self.WIDTH_BITS // 8 - 8 + index] ^= byte
        return bytes(out)

    def hexdigest(self):
        """The provider's text form: base64 (as Graph's ``file.hashes.quickXorHash``)."""
        return base64.b64encode(self.digest()).decode("ascii")

    def copy(self):  # pylint: disable=method-required-super
        other = QuickXor()
        other._rows = self._rows
        other._length = self._length
        return other


_FACTORIES = {
    "sha256": hashlib.sha256,
    "sha1": hashlib.sha1,
    "md5": hashlib.md5,
    "dropbox": DropboxContentHasher,
    "quickxor": QuickXor,
}


def new_hasher(kind):
    """A fresh incremental hasher of ``kind`` (a key of :data:`HASH_FUNCTIONS`)."""
    try:
        return _FACTORIES[kind]()
    except KeyError:
        raise ValueError("Unknown hash kind %r" % (kind,)) from None


def hash_chunks(kind, chunks: Iterable[bytes]) -> str:
    """The text form of the hash ``kind`` of the content given as ``chunks``."""
    hasher = new_hasher(kind)
    for chunk in chunks:
        hasher.update(chunk)
    return hasher.hexdigest()


def sha256_hex(chunks: Iterable[bytes]) -> str:
    return hash_chunks("sha256", chunks)


def sha1_hex(chunks: Iterable[bytes]) -> str:
    return hash_chunks("sha1", chunks)


def md5_hex(chunks: Iterable[bytes]) -> str:
    return hash_chunks("md5", chunks)


def dropbox_content_hash(chunks: Iterable[bytes]) -> str:
    """Dropbox ``content_hash``: SHA-256 of the SHA-256 digests of each 4 MiB block."""
    return hash_chunks("dropbox", chunks)


def quickxor_hash(chunks: Iterable[bytes]) -> str:
    """OneDrive ``quickXorHash`` (base64) of the content."""
    return hash_chunks("quickxor", chunks)


#: hash kind (``StorageAdapter.hash_kind``) -> function over an iterable of chunks
HASH_FUNCTIONS = {
    "sha256": sha256_hex,
    "dropbox": dropbox_content_hash,
    "md5": md5_hex,
    "sha1": sha1_hex,
    "quickxor": quickxor_hash,
}
