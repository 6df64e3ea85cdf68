{
    "name": "Cloud Storage Sync (core)",
    "summary": "Keep Odoo attachments in cloud storages, both ways, unattended",
    "version": "18.0.1.1.0",
    "category": "Productivity/Documents",
    "license": "LGPL-3",
    "author": "Cloud Sync Suite",
    "depends": ["base", "mail"],
    "data": [
        "security/ir.model.access.csv",
        "data/ir_cron.xml",
        "views/cloud_client_views.xml",
        "views/cloud_sync_rule_views.xml",
        "views/cloud_folder_views.xml",
        "views/cloud_task_views.xml",
        "views/cloud_log_views.xml",
        "views/res_config_settings_views.xml",
        "views/menus.xml",
    ],
    "assets": {
        "web.assets_backend": [
            "cloud_base/static/src/**/*.scss",
            "cloud_base/static/src/**/*.js",
            "cloud_base/static/src/**/*.xml",
        ],
        "web.assets_tests": [
            "cloud_base/static/tests/tours/**/*.js",
        ],
    },
    "application": True,
    "uninstall_hook": "uninstall_hook",
}
