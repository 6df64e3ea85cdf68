import { Chatter } from "@mail/chatter/web_portal/chatter";
import { browser } from "@web/core/browser/browser";
import { patch } from "@web/core/utils/patch";

/** "Open cloud folder" for the record shown in the attachment box (R-UI-2). */
patch(Chatter.prototype, {
    onClickOpenCloudFolder(ev) {
        ev.preventDefault();
        const url = this.state.thread?.cloud_folder?.url;
        if (url) {
            browser.open(url, "_blank", "noopener");
        }
    },
});
