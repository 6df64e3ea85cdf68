{
    "name": "Cloud Storage Sync: Dropbox",
    "summary": "Keep Odoo attachments in Dropbox (personal or team accounts)",
    "version": "18.0.1.1.0",
    "category": "Productivity/Documents",
    "license": "LGPL-3",
    "author": "Cloud Sync Suite",
    "depends": ["cloud_base"],
    "external_dependencies": {"python": ["dropbox"]},
    "data": [
        "views/cloud_client_views.xml",
    ],
    "uninstall_hook": "uninstall_hook",
}
