from . import test_onedrive_engine, test_onedrive_oauth, test_onedrive_sync
from . import test_onedrive_resume
from . import test_convergence_onedrive
from . import test_onedrive_ui
from . import test_onedrive_link_policy
from . import test_onedrive_feed
from . import test_onedrive_paths
