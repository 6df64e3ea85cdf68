import { AttachmentList } from "@mail/core/common/attachment_list";
import { useState } from "@odoo/owl";
import { browser } from "@web/core/browser/browser";
import { _t } from "@web/core/l10n/translation";
import { patch } from "@web/core/utils/patch";
import { CloudMoveDialog } from "./record_folders";

/**
 * Cloud attachments in the attachment box and in chatter messages (R-UI-1, R-UI-2, R-UI-5):
 * - synced files and cloud folder links are shown as cards with the provider's logo as
 *   thumbnail and a cloud badge, never as image previews fetched on every form load;
 * - synced files keep Odoo's download (streamed through Odoo) and preview, plus "Open in cloud";
 * - folder links show a folder icon and open the cloud folder;
 * - in the attachment box of a record with a cloud folder, "Move to folder" (or dragging the
 *   file onto a folder of the tree) puts a file in another folder of the record (issue 14).
 */
patch(AttachmentList.prototype, {
    setup() {
        super.setup(...arguments);
        this.cloudFolders = this.env.cloudFolders ? useState(this.env.cloudFolders) : null;
    },

    /** @param {import("models").Attachment} attachment */
    canMoveToFolder(attachment) {
        const folders = this.cloudFolders;
        return Boolean(
            folders?.editable &&
                folders.info.folders.length &&
                !this.env.message &&
                !this.env.inComposer &&
                attachment.id > 0 &&
                !attachment.uploading &&
                attachment.cloud_kind !== "folder"
        );
    },

    onClickMoveToFolder(attachment) {
        this.dialog.add(CloudMoveDialog, { folders: this.cloudFolders, attachment });
    },

    /** A file's card dragged onto a folder of the tree above moves it there. */
    onCloudDragStart(ev, attachment) {
        if (!this.canMoveToFolder(attachment)) {
            return;
        }
        this.cloudFolders.startDrag(ev, attachment);
    },

    onCloudDragEnd() {
        this.cloudFolders?.endDrag();
    },

    getActions(attachment) {
        const actions = super.getActions(attachment);
        if (this.canMoveToFolder(attachment)) {
            actions.push({
                label: _t("Move to folder"),
                icon: "fa fa-folder-o",
                onSelect: () => this.onClickMoveToFolder(attachment),
            });
        }
        return actions;
    },

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
            ? _t("Cloud folder (%s)", where)
            : _t("Synced to the cloud (%s)", where);
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
