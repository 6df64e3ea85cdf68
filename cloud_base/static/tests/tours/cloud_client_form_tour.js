import { registry } from "@web/core/registry";
import { screenshot } from "./cloud_tour_utils";

/**
 * The form of one client, as the test opened it: its picture (providers' settings). The test
 * names the picture (CloudTourCase.shot_names).
 */
registry.category("web_tour.tours").add("cloud_base_client_form_tour", {
    steps: () => [
        {
            content: "The client form shows its provider and its settings",
            trigger: ".o_form_view .o_field_widget[name='provider']",
        },
        {
            content: "The client is connected",
            trigger: ".o_form_view .o_statusbar_status .o_arrow_button_current:contains('Connected')",
        },
        ...screenshot("client_form"),
    ],
});
