from . import cloud_client
from . import cloud_dropbox_link
