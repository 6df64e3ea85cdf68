from . import test_dropbox_oauth, test_dropbox_sync, test_dropbox_team_member
