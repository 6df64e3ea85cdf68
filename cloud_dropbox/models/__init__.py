from . import cloud_client
