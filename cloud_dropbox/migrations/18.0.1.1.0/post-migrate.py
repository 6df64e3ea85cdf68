"""R-SEC-5: "No shared links" becomes the link policy. Clients that had shared links by
default never chose public links: they get team-only links on team apps, none otherwise."""


def migrate(cr, version):
    cr.execute("""SELECT 1 FROM information_schema.columns
                   WHERE table_name = 'cloud_client' AND column_name = 'dropbox_no_shared_links'""")
    if not cr.fetchone():
        return
    cr.execute("""
        UPDATE cloud_client
           SET dropbox_link_policy = CASE
                   WHEN dropbox_no_shared_links IS TRUE THEN 'none'
                   WHEN dropbox_team IS TRUE THEN 'team'
                   ELSE 'none' END
         WHERE provider = 'dropbox' AND dropbox_link_policy IS NULL
    """)
