from . import controllers
from . import models


def uninstall_hook(env):
    """The workspace goes: its rules are deleted (their cloud folders and files stay, R-RULE-8)
    and its files become stand-alone attachments, which only their creator and administrators
    read (an attachment of a model that no longer exists would be readable by every user)."""
    env["cloud.sync.rule"].sudo().with_context(active_test=False).search(
        [("model", "=", "cloud.documents.folder")]).unlink()
    env["ir.attachment"].flush_model()
    env.cr.execute("""
        UPDATE ir_attachment SET res_model = NULL, res_id = 0
         WHERE res_model = 'cloud.documents.folder'""")
    env["ir.attachment"].invalidate_model(["res_model", "res_id"])
