{
    "name": "Cloud Storage Sync: ownCloud / Nextcloud",
    "summary": "Keep Odoo attachments in ownCloud or Nextcloud (WebDAV), both ways",
    "version": "18.0.1.0.0",
    "category": "Productivity/Documents",
    "license": "LGPL-3",
    "author": "Cloud Sync Suite",
    "depends": ["cloud_base"],
    "external_dependencies": {"python": ["pyocclient", "requests"]},
    "data": [
        "views/cloud_client_views.xml",
    ],
    "uninstall_hook": "uninstall_hook",
}
