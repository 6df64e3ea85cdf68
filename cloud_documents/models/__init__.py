from . import cloud_documents_tag
from . import cloud_documents_folder
from . import cloud_folder
from . import ir_attachment
from . import cloud_sync_rule
