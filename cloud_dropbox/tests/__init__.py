from . import (test_dropbox_engine, test_dropbox_link_policy, test_dropbox_oauth, test_dropbox_sync,
               test_dropbox_team_member)
from . import test_convergence_dropbox
