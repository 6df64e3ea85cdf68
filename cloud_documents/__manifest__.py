{
    "name": "Cloud Storage Sync: Documents",
    "summary": "A documents workspace of folders and files, mirrored to the cloud storage",
    "version": "18.0.1.0.0",
    "category": "Productivity/Documents",
    "license": "LGPL-3",
    "author": "Cloud Sync Suite",
    "depends": ["cloud_base"],
    "data": [
        "security/ir.model.access.csv",
        "security/cloud_documents_security.xml",
        "views/cloud_documents_tag_views.xml",
        "views/cloud_documents_folder_views.xml",
        "views/ir_attachment_views.xml",
        "views/menus.xml",
    ],
    "assets": {
        "web.assets_backend": [
            "cloud_documents/static/src/**/*.scss",
            "cloud_documents/static/src/**/*.js",
            "cloud_documents/static/src/**/*.xml",
        ],
        "web.assets_tests": [
            "cloud_documents/static/tests/tours/**/*.js",
        ],
    },
    "application": True,
    "uninstall_hook": "uninstall_hook",
}
