from . import cloud_client
from . import cloud_gdrive_permission
