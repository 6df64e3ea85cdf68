"""Helpers of the Google Drive tests: a client of the provider on an emulator account."""
from odoo.addons.cloud_gdrive.models.cloud_client import TOKEN_SECRET


def gdrive_client_values(emu, name="Google Drive test", drive_id=None, **vals):
    """Values of a ``cloud.client`` on the emulator ``emu`` (My Drive, or the shared drive
    ``drive_id``). Rate limits and failed chunks are not retried inside the adapter: the
    tests' faults reach the queue as they are."""
    values = {"name": name, "provider": "gdrive", "api_base_url": emu.base_url,
              "gdrive_client_id": emu.client_id, "gdrive_client_secret": emu.client_secret,
              "options": {"rate_limit_retries": 0, "chunk_retries": 0},
              "mass_delete_min_files": 1000}
    if drive_id:
        values.update(gdrive_use_shared_drive=True, gdrive_shared_drive_id=drive_id)
    values.update(vals)
    return values


def connect_with_grant(client, emu, user=None):
    """What the /google_drive_token callback does, without the browser: a refresh token of
    a consent (by ``user``, the emulator's default account if None), then the
    connection."""
    client._set_secret(TOKEN_SECRET, emu.issue_tokens(user=user)["refresh_token"])
    client.with_context(cloud_oauth_done=True).action_connect()
    return client
