from . import cloud_client, cloud_onedrive_link
