{
    "name": "Cloud Storage Sync: Google Drive",
    "summary": "Keep Odoo attachments in Google Drive (My Drive or a shared drive)",
    "version": "18.0.1.0.0",
    "category": "Productivity/Documents",
    "license": "LGPL-3",
    "author": "Cloud Sync Suite",
    "depends": ["cloud_base"],
    "external_dependencies": {"python": ["google-api-python-client", "google_auth_oauthlib",
                                         "google_auth_httplib2"]},
    "data": [
        "security/ir.model.access.csv",
        "views/cloud_client_views.xml",
    ],
    "uninstall_hook": "uninstall_hook",
}
