"""A big upload whose worker dies half-way continues its Drive resumable session at the next
attempt (the scenarios of ``cloud_base/tests/upload_resume.py``)."""
import threading

from odoo.tests import TransactionCase, tagged
from odoo.tests.common import BaseCase

from odoo.addons.cloud_base.tests import emulators  # noqa: F401 - cloud_emulators importable
from odoo.addons.cloud_base.tests.common import CloudTestMixin
from odoo.addons.cloud_base.tests.upload_resume import (
    UploadResumeAfterWorkerDeath, UploadResumeScenarios,
)

from cloud_emulators.gdrive import DriveEmulator

from ..lib.gdrive_adapter import MiB
from .common import connect_with_grant, gdrive_client_values


class DriveResumeDriver:
    chunk_size = 8 * MiB  # 24 MiB: three chunks
    started_counter = "files.upload"

    def start_emulator(self):
        emu = DriveEmulator().start()
        self.addCleanup(lambda: threading.Thread(target=emu.stop, daemon=True).start())
        return emu

    def connected_client(self, env):
        return connect_with_grant(env["cloud.client"].create(gdrive_client_values(self.emu)),
                                  self.emu)


@tagged("post_install", "-at_install")
class TestGoogleDriveResume(DriveResumeDriver, UploadResumeScenarios, CloudTestMixin,
                            TransactionCase):

    def resume_client(self):
        self.emu = self.start_emulator()
        return self.connected_client(self.env)


@tagged("post_install", "-at_install")
class TestGoogleDriveResumeAfterWorkerDeath(DriveResumeDriver, UploadResumeAfterWorkerDeath,
                                            BaseCase):
    pass
