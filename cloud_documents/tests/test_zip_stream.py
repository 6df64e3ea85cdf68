"""The zip writer of the zip download: archives readable by zipfile, ZIP64 for members of
unknown size, pieces of bounded size, compression by type, unique names."""
import io
import struct
import zipfile

from odoo.tests import BaseCase, tagged

from ..lib.zip_stream import ZipEntry, compression_for, iter_zip, unique_path


def entry(path, data, mimetype="text/plain", size=None, pieces=4):
    step = max(1, len(data) // pieces)
    return ZipEntry(path, mimetype, size, None,
                    lambda: (data[i:i + step] for i in range(0, len(data), step)))


@tagged("post_install", "-at_install")
class TestZipStream(BaseCase):

    def test_archive_of_unknown_and_known_sizes(self):
        text = b"line of text\n" * 5000
        pieces = list(iter_zip([entry("a.txt", text), entry("b.txt", b"known", size=5),
                                ZipEntry("dir/", None, 0, None, None)], piece=4096))
        self.assertTrue(all(len(p) < 4096 + 70000 for p in pieces), [len(p) for p in pieces])
        data = b"".join(pieces)
        archive = zipfile.ZipFile(io.BytesIO(data))
        self.assertIsNone(archive.testzip())
        self.assertEqual(archive.namelist(), ["a.txt", "b.txt", "dir/"])
        self.assertEqual(archive.read("a.txt"), text)
        self.assertEqual(archive.read("b.txt"), b"known")
        self.assertTrue(archive.getinfo("dir/").is_dir())
        # sizes and CRC follow each member's content (data descriptor); unknown size: its
        # local header has the ZIP64 field (id 1)
        self.assertTrue(archive.getinfo("a.txt").flag_bits & 0x08)
        name_length, extra_length = struct.unpack("<HH", data[26:30])
        extra = data[30 + name_length:30 + name_length + extra_length]
        self.assertEqual(extra[:2], b"\x01\x00")

    def test_compression_by_type(self):
        self.assertEqual(compression_for("image/jpeg"), zipfile.ZIP_STORED)
        self.assertEqual(compression_for("application/zip"), zipfile.ZIP_STORED)
        self.assertEqual(compression_for(
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
            zipfile.ZIP_STORED)
        self.assertEqual(compression_for("image/svg+xml"), zipfile.ZIP_DEFLATED)
        self.assertEqual(compression_for("text/csv"), zipfile.ZIP_DEFLATED)
        self.assertEqual(compression_for(False), zipfile.ZIP_DEFLATED)

    def test_unique_paths(self):
        taken = set()
        self.assertEqual(unique_path("", "Report.pdf", taken), "Report.pdf")
        self.assertEqual(unique_path("", "report.PDF", taken), "report (2).PDF")
        self.assertEqual(unique_path("", "a/b", taken), "a-b")
        self.assertEqual(unique_path("Docs", "report.pdf", taken), "Docs/report.pdf")
        self.assertEqual(unique_path("", "..", taken), "file")
