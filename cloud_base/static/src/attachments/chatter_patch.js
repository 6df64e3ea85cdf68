import { Chatter } from "@mail/chatter/web_portal/chatter";
import { useEffect, useState } from "@odoo/owl";
import { browser } from "@web/core/browser/browser";
import { useService } from "@web/core/utils/hooks";
import { patch } from "@web/core/utils/patch";
import { CloudRecordFolders, CloudRecordFoldersState } from "./record_folders";

patch(Chatter, {
    components: { ...Chatter.components, CloudRecordFolders },
});

/**
 * "Open cloud folder" for the record shown in the attachment box (R-UI-2), and the folders of
 * its cloud folder (issue 14): the files shown are those of the selected folder, and files
 * uploaded or dropped go into it.
 */
patch(Chatter.prototype, {
    setup() {
        // before the chatter's setup: it hands its children the environment made from
        // childSubEnv
        this.cloudFolders = useState(new CloudRecordFoldersState(useService("orm")));
        super.setup(...arguments);
        useEffect(
            (thread) => this.cloudFolders.setThread(thread?.id ? thread : null),
            () => [this.state.thread]
        );
        const uploader = this.attachmentUploader;
        if (uploader) {
            const uploadFile = uploader.uploadFile.bind(uploader);
            uploader.uploadFile = async (file, options) => {
                const target = this.cloudFolders.uploadTarget;
                const attachment = await uploadFile(file, options);
                if (attachment?.id > 0 && target) {
                    await this.cloudFolders.moveAttachments([attachment], target);
                }
                return attachment;
            };
        }
    },

    get childSubEnv() {
        return { ...super.childSubEnv, cloudFolders: this.cloudFolders };
    },

    get cloudShownAttachments() {
        return this.cloudFolders.filter(this.attachments);
    },

    onClickOpenCloudFolder(ev) {
        ev.preventDefault();
        const url = this.state.thread?.cloud_folder?.url;
        if (url) {
            browser.open(url, "_blank", "noopener");
        }
    },
});
