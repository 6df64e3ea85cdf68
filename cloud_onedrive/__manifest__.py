{
    "name": "Cloud Storage Sync: OneDrive / SharePoint",
    "summary": "Keep Odoo attachments in OneDrive (personal or business) or a SharePoint "
               "document library",
    "version": "18.0.1.0.0",
    "category": "Productivity/Documents",
    "license": "LGPL-3",
    "author": "Cloud Sync Suite",
    "depends": ["cloud_base"],
    "external_dependencies": {"python": ["msal"]},
    "data": [
        "security/ir.model.access.csv",
        "views/cloud_client_views.xml",
    ],
    "uninstall_hook": "uninstall_hook",
}
