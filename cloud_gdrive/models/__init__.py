from . import cloud_gdrive_drive
from . import cloud_client
