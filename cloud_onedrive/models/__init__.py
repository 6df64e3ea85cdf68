from . import cloud_onedrive_library
from . import cloud_client
