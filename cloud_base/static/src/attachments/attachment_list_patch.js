import { AttachmentList } from "@mail/core/common/attachment_list";
import { browser } from "@web/core/browser/browser";
import { patch } from "@web/core/utils/patch";

/**
 * Cloud attachments in the attachment box and in chatter messages (R-UI-1, R-UI-2, R-UI-5):
 * - synced files and cloud folder links are shown as cards with the provider's logo as
 *   thumbnail and a cloud badge, never as image previews fetched on every form load;
 * - synced files keep Odoo's download (streamed through Odoo) and preview, plus "Open in cloud";
 * - folder links show a folder icon and open the cloud folder.
 */
patch(AttachmentList.prototype, {
    get images() {
        return super.images.filter((attachment) => !attachment.cloud_kind);
    },

    get cards() {
        const cloudImages = this.props.attachments.filter(
            (attachment) => attachment.isImage && attachment.cloud_kind
        );
        return [...super.cards, ...cloudImages];
    },

    /** @param {import("models").Attachment} attachment */
    isCloudFolder(attachment) {
        return attachment.cloud_kind === "folder";
    },

    /** @param {import("models").Attachment} attachment */
    cloudTitle(attachment) {
        const where = attachment.cloud_provider_name || attachment.cloud_provider || "";
        return attachment.cloud_kind === "folder"
            ? `Cloud folder (${where})`
            : `Synced to the cloud (${where})`;
    },

    onClickCloudCard(ev, attachment) {
        if (this.isCloudFolder(attachment)) {
            this.openCloudUrl(ev, attachment.cloud_url || attachment.url);
            return;
        }
        this.fileViewer.open(attachment, this.props.attachments);
    },

    openCloudUrl(ev, url) {
        ev?.preventDefault();
        ev?.stopPropagation();
        if (url) {
            browser.open(url, "_blank", "noopener");
        }
    },
});
