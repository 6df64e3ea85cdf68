from . import test_gdrive_engine, test_gdrive_oauth, test_gdrive_provider
from . import test_gdrive_resume
from . import test_convergence_gdrive
from . import test_gdrive_link_policy
from . import test_gdrive_ui
