from . import test_access
from . import test_mirror
from . import test_owncloud_mirror
from . import test_zip_download
from . import test_file_manager_tour
from . import test_file_manager_rpc
from . import test_zip_stream
from . import test_convergence_documents
