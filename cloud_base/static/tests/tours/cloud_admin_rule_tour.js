import { registry } from "@web/core/registry";
import { assert, screenshot } from "./cloud_tour_utils";

/**
 * An administrator looks at the clients, creates a sync rule with a filter, a period, a name
 * expression and default folders, sees the live count and the previews, then checks the logs.
 */
registry.category("web_tour.tours").add("cloud_base_admin_rule_tour", {
    steps: () => [
        // ---- clients: kanban with logo, state badge and queue status
        {
            content: "The client card shows its state and queue status",
            trigger: ".o_cloud_client_kanban .o_kanban_record:contains('Tour Storage'):contains('Connected'):contains('failed')",
        },
        ...screenshot("admin_clients_kanban"),
        {
            content: "Open the client",
            trigger: ".o_kanban_record:contains('Tour Storage') .fw-bold:contains('Tour Storage')",
            run: "click",
        },
        {
            content: "The form shows the actions and the queue",
            trigger: ".o_form_view button[name='action_sync_now']",
        },
        {
            trigger: ".o_form_view button[name='action_retry_failed_notify']",
        },
        ...screenshot("admin_client_form"),
        // ---- sync rules
        {
            content: "Go to the sync rules",
            trigger: ".o_menu_sections a[data-menu-xmlid='cloud_base.menu_cloud_rules']",
            run: "click",
        },
        {
            trigger: ".o_list_view .o_data_row:contains('Contacts')",
        },
        {
            content: "The list can be reordered by drag and drop",
            trigger: ".o_list_view .o_data_row .o_row_handle",
        },
        {
            content: "New rule",
            trigger: ".o_list_button_add",
            run: "click",
        },
        {
            trigger: ".o_field_widget[name='model_id'] input",
            run: "edit res.partner",
        },
        {
            trigger: ".o-autocomplete--dropdown-item a:contains('Contact')",
            run: "click",
        },
        {
            trigger: ".o_field_widget[name='folder_name'] input",
            run: "edit Tour Companies",
        },
        {
            trigger: ".o_field_widget[name='client_id'] input",
            run: "edit Tour Storage",
        },
        {
            trigger: ".o-autocomplete--dropdown-item a:contains('Tour Storage')",
            run: "click",
        },
        {
            content: "Write the filter in the domain editor (code editor of debug mode)",
            trigger: ".o_field_widget[name='domain'] textarea",
            run: `edit [("is_company", "=", True), ("name", "ilike", "Tour Co")]`,
        },
        {
            content: "Leave the editor: the domain is applied",
            trigger: ".o_notebook .tab-pane.active p.text-muted",
            run: "click",
        },
        {
            content: "Refresh the count of the code editor once the filter is applied",
            trigger: ".o_field_widget[name='domain'] .o_refresh_count",
            async run() {
                const text = () =>
                    document
                        .querySelector(".o_field_widget[name='domain'] .o_domain_show_selection_button")
                        ?.textContent.trim();
                for (let i = 0; i < 30; i++) {
                    document.querySelector(".o_field_widget[name='domain'] .o_refresh_count")?.click();
                    await new Promise((resolve) => setTimeout(resolve, 300));
                    if (text() === "2 record(s)") {
                        return;
                    }
                }
                throw new Error(`the domain editor counts ${text()}`);
            },
        },
        {
            content: "The rule counts the matching records too",
            trigger: ".o_cloud_record_count .o_field_widget[name='record_count']:contains('2')",
        },
        {
            content: "The domain editor counts the matching records",
            trigger: ".o_field_widget[name='domain'] .o_field_domain_panel:contains('2 record(s)')",
        },
        ...screenshot("admin_rule_filter"),
        // ---- periods
        {
            trigger: ".o_notebook .nav-link:contains('Periods')",
            run: "click",
        },
        {
            trigger: ".o_field_widget[name='period_ids'] .o_field_x2many_list_row_add a",
            run: "click",
        },
        {
            trigger: ".o_field_widget[name='period_ids'] .o_data_row .o_field_widget[name='field_id'] input",
            run: "edit Created on",
        },
        {
            trigger: ".o-autocomplete--dropdown-item a:contains('Created on')",
            run: "click",
        },
        {
            trigger: ".o_field_widget[name='period_ids'] .o_data_row .o_field_widget[name='count'] input",
            run: "edit 2",
        },
        {
            trigger: ".o_field_widget[name='period_ids'] .o_data_row .o_field_widget[name='including_current'] input",
            run: "click",
        },
        {
            content: "Leave the line",
            trigger: ".o_cloud_period_preview, .o_notebook .tab-pane.active p.text-muted",
            run: "click",
        },
        {
            content: "The form says what the periods would be today",
            trigger: ".o_cloud_period_preview:contains('If today, the periods would be'):contains('Created on from')",
        },
        {
            content: "With the period, the companies created today still match",
            trigger: ".o_cloud_record_count .o_field_widget[name='record_count']:contains('2')",
        },
        ...screenshot("admin_rule_periods"),
        // ---- name expression with live preview and inline sandbox error
        {
            trigger: ".o_notebook .nav-link:contains('Folder names')",
            run: "click",
        },
        {
            trigger: ".o_field_widget[name='name_expression'] input",
            run: "edit ${object.__class__}",
        },
        {
            content: "Leave the field",
            trigger: ".o_cloud_record_count span.text-muted",
            run: "click",
        },
        {
            content: "The sandbox refuses the expression; the error is shown inline",
            trigger: ".o_cloud_name_error:contains('Error')",
        },
        ...screenshot("admin_rule_name_error"),
        {
            trigger: ".o_field_widget[name='name_expression'] input",
            run: "edit ${object.name} - ${object.city or 'no city'}",
        },
        {
            content: "Leave the field",
            trigger: ".o_cloud_record_count span.text-muted",
            run: "click",
        },
        {
            content: "A sample record's folder name is previewed",
            trigger: ".o_cloud_name_preview:contains('Tour Co'):contains(' - ')",
        },
        {
            trigger: "body:not(:has(.o_cloud_name_error:visible))",
        },
        ...screenshot("admin_rule_name_preview"),
        // ---- default folders tree
        {
            trigger: ".o_notebook .nav-link:contains('Default folders')",
            run: "click",
        },
        {
            content: "Add a folder",
            trigger: ".o_cloud_folder_add_root",
            run: "click",
        },
        {
            trigger: ".o_cloud_folder_node[data-path='0'] input.o_cloud_folder_name",
            run: "edit Contracts",
        },
        {
            trigger: ".o_cloud_folder_node[data-path='0'] input.o_cloud_folder_name:value(Contracts)",
        },
        {
            content: "Add a second folder",
            trigger: ".o_cloud_folder_add_root",
            run: "click",
        },
        {
            trigger: ".o_cloud_folder_node[data-path='1'] input.o_cloud_folder_name",
            run: "edit Signed",
        },
        {
            trigger: ".o_cloud_folder_node[data-path='1'] input.o_cloud_folder_name:value(Signed)",
        },
        {
            content: "Nest it into the folder above",
            trigger: ".o_cloud_folder_node[data-path='1'] .o_cloud_folder_indent",
            run: "click",
        },
        {
            trigger: ".o_cloud_folder_node[data-path='0-0'] input.o_cloud_folder_name:value(Signed)",
        },
        {
            content: "Add a subfolder next to it",
            trigger: ".o_cloud_folder_node[data-path='0'] > .o_cloud_folder_row .o_cloud_folder_add_child",
            run: "click",
        },
        {
            trigger: ".o_cloud_folder_node[data-path='0-1'] input.o_cloud_folder_name",
            run: "edit Drafts",
        },
        {
            trigger: ".o_cloud_folder_node[data-path='0-1'] input.o_cloud_folder_name:value(Drafts)",
        },
        {
            content: "And a folder to delete",
            trigger: ".o_cloud_folder_add_root",
            run: "click",
        },
        {
            trigger: ".o_cloud_folder_node[data-path='1'] input.o_cloud_folder_name",
            run: "edit Photos",
        },
        {
            trigger: ".o_cloud_folder_node[data-path='1'] input.o_cloud_folder_name:value(Photos)",
        },
        ...screenshot("admin_rule_default_folders"),
        {
            trigger: ".o_cloud_folder_node[data-path='1'] .o_cloud_folder_remove",
            run: "click",
        },
        {
            trigger: ".o_cloud_folder_tree:not(:has(.o_cloud_folder_node[data-path='1']))",
        },
        {
            content: "Rename a folder",
            trigger: ".o_cloud_folder_node[data-path='0-1'] input.o_cloud_folder_name",
            run: "edit Draft versions",
        },
        {
            trigger: ".o_cloud_folder_node[data-path='0-1'] input.o_cloud_folder_name:value(Draft versions)",
        },
        {
            content: "Save",
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            trigger: ".o_form_view .o_form_saved",
        },
        {
            trigger: ".o_breadcrumb:contains('Tour Companies')",
        },
        // ---- logs
        {
            content: "Open the sync logs",
            trigger: ".o_menu_sections button:contains('Monitoring')",
            run: "click",
        },
        {
            trigger: ".dropdown-item:contains('Sync logs')",
            run: "click",
        },
        {
            content: "Levels are colored",
            trigger: ".o_cloud_log_list .o_data_row.text-danger:contains('Upload refused by the provider')",
        },
        {
            trigger: ".o_cloud_log_list .o_data_row.text-success",
        },
        {
            trigger: ".o_cloud_log_list .o_data_row.text-warning",
        },
        ...screenshot("admin_logs"),
        {
            content: "Group by level",
            trigger: ".o_searchview_dropdown_toggler",
            run: "click",
        },
        {
            trigger: ".o_group_by_menu .o-dropdown-item:contains('Level')",
            run: "click",
        },
        {
            trigger: ".o_cloud_log_list .o_group_header:contains('Error')",
        },
        {
            trigger: ".o_cloud_log_list .o_group_header:contains('Success')",
            run() {
                assert(document.querySelectorAll(".o_group_header").length === 3, "three levels");
            },
        },
        // ---- settings section
        {
            trigger: ".o_menu_sections button:contains('Configuration')",
            run: "click",
        },
        {
            trigger: ".dropdown-item:contains('Settings')",
            run: "click",
        },
        {
            content: "The Cloud Storage section of the settings",
            trigger: "#cloud_queue:contains('Time budget')",
        },
        {
            trigger: "#cloud_clients button:contains('Sync rules')",
        },
    ],
});
