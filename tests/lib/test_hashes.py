"""Content hashes of cloud_base/lib/hashes.py, against published vectors and independent
implementations."""
import base64
import hashlib
import os
import random

import pytest

from odoo.addons.cloud_base.lib import adapter, hashes

MiB = 1024 * 1024

# Published quickXorHash vectors (rclone's backend/onedrive/quickxorhash tests): base64 input,
# base64 hash. Sizes 0, 1, 2, 16, 222 (more than one 160-byte row) and 333.
QUICKXOR_VECTORS = [
    ("", "AAAAAAAAAAAAAAAAAAAAAAAAAAA="),
    ("Sg==", "SgAAAAAAAAAAAAAAAQAAAAAAAAA="),
    ("tbQ=", "taAFAAAAAAAAAAAAAgAAAAAAAAA="),
    ("2fuxhBJXtpWFe8dOfdGeHw==", "O9tHLAghgSvYohKFyMMxnNCHaHg="),
    ("PfxMcUd0vIW6VbHG/uj/Y0W6qEoKmyBD0nYebEKazKaKG+UaDqBEcmQjbfQeVnVLuodMoPp7P7TR"
     "1htX5n2VnkHh22xDyoJ8C/ZQKiSNqQfXvh83judf4RVr9exJCud8Uvgip6aVZTaPrJHVjQhMCp/d"
     "EnGvqg0oN5OVkM2qqAXvA0teKUDhgNM71sDBVBCGXxNOR2bpbD1iM4dnuT0ey4L+loXEHTL0fqMe"
     "UcEi2asgImnlNakwenDzz0x57aBwyq3AspCFGB1ncX4yYCr/OaCcS5OKi/00WH+wNQU3",
     "QX/YEpG0gDsmhEpCdWhsxDzsfVE="),
    ("w0LGhqU1WXFbdavqDE4kAjEzWLGGzmTNikzqnsiXHx2KRReKVTxkv27u3UcEz9+lbMvYl4xFf2Z4"
     "aE1xRBBNd1Ke5C0zToSaYw5o4B/7X99nKK2/XaUX1byLow2aju2XJl2OpKpJg+tSJ2fmjIJTkfuY"
     "Uz574dFX6/VXxSxwGH/xQEAKS5TCsBK3CwnuG1p5SAsQq3gGVozDWyjEBcWDMdy8/AIFrj/y03Lf"
     "c/RNRCQTAfZbnf2QwV7sluw4fH3XJr07UoD0YqN+7XZzidtrwqMY26fpLZnyZjnBEt1FAZWO7RnK"
     "G5asg8xRk9YaDdedXdQSJAOy6bWEWlABj+tVAigBxavaluUH8LOj+yfCFldJjNLdi90fVHkUD/m4"
     "Mr5OtmupNMXPwuG3EQlqWUVpQoYpUYKLsk7a5Mvg6UFkiH596y5IbJEVCI1Kb3D1",
     "e3+wo77iKcILiZegnzyUNcjCdoQ="),
]


def _reference_quickxor(data, pieces=None):
    """Microsoft's published algorithm as written there: three 64-bit cells (the last one of
    32 bits), a byte that straddles two cells split between them, the last cell wrapping to
    the first; then the length XORed into the last 8 of the 20 bytes."""
    width, shift, last_bits = 160, 11, 32
    cells = [0, 0, 0]
    length = 0
    shift_so_far = 0
    for chunk in pieces or [data]:
        index, offset = shift_so_far // 64, shift_so_far % 64
        for i in range(min(len(chunk), width)):
            is_last = index == len(cells) - 1
            bits = last_bits if is_last else 64
            xored = 0
            for j in range(i, len(chunk), width):
                xored ^= chunk[j]
            if offset <= bits - 8:
                cells[index] ^= xored << offset
            else:
                cells[index] ^= (xored << offset) & ((1 << 64) - 1)
                cells[0 if is_last else index + 1] ^= xored >> (bits - offset)
            offset += shift
            while offset >= bits:
                index = 0 if is_last else index + 1
                offset -= bits
                is_last = index == len(cells) - 1
                bits = last_bits if is_last else 64
        shift_so_far = (shift_so_far + shift * (len(chunk) % width)) % width
        length += len(chunk)
    out = bytearray()
    for cell in cells[:2]:
        out += (cell & ((1 << 64) - 1)).to_bytes(8, "little")
    out += (cells[2] & 0xFFFFFFFF).to_bytes(4, "little")
    for i, byte in enumerate(length.to_bytes(8, "little")):
        out[12 + i] ^= byte
    return base64.b64encode(bytes(out)).decode()


def _cut(data, size):
    return [data[i:i + size] for i in range(0, len(data), size)] or [b""]


@pytest.mark.parametrize("data_b64,expected", QUICKXOR_VECTORS)
def test_quickxor_published_vectors(data_b64, expected):
    data = base64.b64decode(data_b64)
    assert hashes.quickxor_hash([data]) == expected
    assert _reference_quickxor(data) == expected
    for size in (1, 7, 64, 159, 160, 161, 512):  # any cutting of the content
        assert hashes.quickxor_hash(_cut(data, size)) == expected


def test_quickxor_empty_is_twenty_zero_bytes():
    assert hashes.quickxor_hash([]) == "AAAAAAAAAAAAAAAAAAAAAAAAAAA="
    assert hashes.QuickXor().digest() == bytes(20)


def test_quickxor_matches_the_reference_on_random_content():
    rng = random.Random(42)
    for size in (1, 19, 20, 21, 159, 160, 161, 319, 320, 1000, 4099):
        data = bytes(rng.getrandbits(8) for _ in range(size))
        cuts = sorted(rng.sample(range(1, size), min(size - 1, 5))) if size > 1 else []
        pieces = [data[a:b] for a, b in zip([0] + cuts, cuts + [size], strict=True)]
        expected = _reference_quickxor(data)
        assert _reference_quickxor(data, pieces) == expected
        assert hashes.quickxor_hash(pieces) == expected, size


def test_quickxor_length_goes_into_the_last_bytes():
    # 160 zero bytes: every row cancels out, only the length (160 = 0xa0) is left, at byte 12
    digest = hashes.QuickXor(bytes(160)).digest()
    assert digest == bytes(12) + b"\xa0" + bytes(7)


def test_quickxor_incremental_copy_and_large_content():
    data = os.urandom(3 * MiB + 12345)
    hasher = hashes.QuickXor()
    hasher.update(data[:MiB])
    early = hasher.copy()
    hasher.update(data[MiB:])
    assert hasher.hexdigest() == hashes.quickxor_hash(_cut(data, 64 * 1024))
    early.update(data[MiB:2 * MiB])
    assert early.hexdigest() == hashes.quickxor_hash([data[:2 * MiB]])


def test_dropbox_content_hash_matches_the_sdk_and_its_blocks():
    from dropbox.content_hash import content_hash as sdk_content_hash  # the SDK's own

    for size in (0, 1, 4 * MiB - 1, 4 * MiB, 4 * MiB + 1, 9 * MiB):
        data = os.urandom(size)
        expected = sdk_content_hash(data)
        assert hashes.dropbox_content_hash([data]) == expected
        assert hashes.dropbox_content_hash(_cut(data, 1000003)) == expected
        hasher = hashes.DropboxContentHasher()
        for piece in _cut(data, 3 * MiB):
            hasher.update(piece)
            hasher.copy().hexdigest()  # a look in between changes nothing
        assert hasher.hexdigest() == expected
    blocks = os.urandom(4 * MiB), b"tail"
    by_hand = hashlib.sha256(b"".join(hashlib.sha256(b).digest() for b in blocks)).hexdigest()
    assert hashes.dropbox_content_hash(blocks) == by_hand
    assert hashes.dropbox_content_hash([]) == hashlib.sha256(b"").hexdigest()


@pytest.mark.parametrize("kind,reference", [("sha256", hashlib.sha256), ("sha1", hashlib.sha1),
                                            ("md5", hashlib.md5)])
def test_plain_digests(kind, reference):
    data = os.urandom(100000)
    assert hashes.HASH_FUNCTIONS[kind](_cut(data, 999)) == reference(data).hexdigest()
    hasher = hashes.new_hasher(kind)
    hasher.update(data)
    assert hasher.hexdigest() == reference(data).hexdigest()


def test_kinds_and_the_adapter_interface():
    assert set(hashes.HASH_FUNCTIONS) == {"sha256", "sha1", "md5", "dropbox", "quickxor"}
    with pytest.raises(ValueError):
        hashes.new_hasher("crc32")
    # the names the adapters and the core import from adapter.py are the same objects
    assert adapter.HASH_FUNCTIONS is hashes.HASH_FUNCTIONS
    assert adapter.dropbox_content_hash is hashes.dropbox_content_hash

    class QuickXorAdapter(adapter.StorageAdapter):
        hash_kind = "quickxor"

    assert QuickXorAdapter().compute_hash([b"J"]) == hashes.quickxor_hash([b"J"])
    assert adapter.StorageAdapter().compute_hash([b"x"]) is None
