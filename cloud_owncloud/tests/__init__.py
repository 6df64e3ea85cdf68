from . import test_owncloud_client, test_owncloud_engine, test_owncloud_sync
from . import test_owncloud_security
from . import test_owncloud_account_change
from . import test_owncloud_names
from . import test_convergence_owncloud
