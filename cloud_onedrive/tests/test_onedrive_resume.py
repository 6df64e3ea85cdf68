"""A big upload whose worker dies half-way continues its Graph upload session at the next
attempt (the scenarios of ``cloud_base/tests/upload_resume.py``)."""
from odoo.tests import tagged
from odoo.tests.common import BaseCase

from odoo.addons.cloud_base.tests.upload_resume import (
    UploadResumeAfterWorkerDeath, UploadResumeScenarios,
)

from ..lib.graph_adapter import MiB
from .common import OneDriveCase, new_client
from .harness import HarnessEmulator



@tagged("post_install", "-at_install")
class TestOneDriveResume(UploadResumeScenarios, OneDriveCase):
    chunk_size = 10 * MiB  # 24 MiB: fragments of 10, 10 and 4 MiB
    started_counter = "upload_session"

    def resume_client(self):
        return self.make_client()


@tagged("post_install", "-at_install")
class TestOneDriveResumeAfterWorkerDeath(UploadResumeAfterWorkerDeath, BaseCase):
    started_counter = "upload_session"

    def start_emulator(self):
        emu = HarnessEmulator().start()
        self.addCleanup(emu.stop)
        return emu

    def connected_client(self, env):
        return new_client(env, self.emu)
