import { Component, markRaw, useState } from "@odoo/owl";
import { ConfirmationDialog } from "@web/core/confirmation_dialog/confirmation_dialog";
import { Dialog } from "@web/core/dialog/dialog";
import { _t } from "@web/core/l10n/translation";
import { useAutofocus, useService } from "@web/core/utils/hooks";

// the type of a file card dragged from the attachment list onto a folder
const DRAG_TYPE = "application/x-cloud-attachment";

/**
 * The folders of a record's cloud folder, as its attachment box shows them: the rule's
 * default folders and the folders users made (issue 14, manual folders on records). The
 * server checks every change against the user's access to the record; this only keeps what
 * it answered.
 */
export class CloudRecordFoldersState {
    constructor(orm) {
        this.orm = markRaw(orm);
        /** the folder whose files are shown; null: every file of the record */
        this.selected = null;
        /** @type {import("models").Thread} */
        this.thread = null;
        this.key = null;
        /** the attachment whose card is being dragged onto a folder, and the folder under it */
        this.dragged = null;
        this.dropTarget = null;
    }

    /**
     * What ir.attachment.cloud_record_folders answers, or null (no cloud folder): the server
     * sends it with the thread's attachments, and again after each change made here.
     */
    get info() {
        return this.thread?.cloud_folders || null;
    }

    setThread(thread) {
        const key = thread ? `${thread.model},${thread.id}` : null;
        if (key !== this.key) {
            this.selected = null;
        }
        this.key = key;
        this.thread = thread;
    }

    async refresh() {
        const thread = this.thread;
        if (!thread?.id) {
            return;
        }
        const info = await this.orm.call("ir.attachment", "cloud_record_folders", [
            thread.model,
            thread.id,
        ]);
        thread.cloud_folders = info || false;
        if (this.selected !== null && !this.isFolder(this.selected)) {
            this.selected = null;
        }
    }

    get editable() {
        return Boolean(this.info?.editable);
    }

    isFolder(folderId) {
        return folderId === this.info?.root_id || Boolean(this.folder(folderId));
    }

    folder(folderId) {
        return this.info?.folders.find((folder) => folder.id === folderId);
    }

    /** The folders as a tree, depth first: [{folder, depth}] (the record's folder excluded). */
    get rows() {
        const rows = [];
        const visit = (parentId, depth) => {
            const children = (this.info?.folders || [])
                .filter((folder) => folder.parent_id === parentId)
                .sort((a, b) => a.name.localeCompare(b.name));
            for (const folder of children) {
                rows.push({ folder, depth });
                visit(folder.id, depth + 1);
            }
        };
        if (this.info) {
            visit(this.info.root_id, 1);
        }
        return rows;
    }

    /** @param {import("models").Attachment} attachment */
    folderOf(attachment) {
        const folderId = attachment.cloud_subfolder_id;
        return folderId && this.folder(folderId) ? folderId : this.info?.root_id;
    }

    filter(attachments) {
        if (!this.info || this.selected === null) {
            return attachments;
        }
        return attachments.filter((attachment) => this.folderOf(attachment) === this.selected);
    }

    count(folderId, attachments) {
        return attachments.filter((attachment) => this.folderOf(attachment) === folderId).length;
    }

    /** Where an upload goes: the selected subfolder, else the record's folder (false). */
    get uploadTarget() {
        if (!this.info || this.selected === null || this.selected === this.info.root_id) {
            return false;
        }
        return this.selected;
    }

    async createFolder(name) {
        const parentId = this.selected === null ? false : this.selected;
        const folderId = await this.orm.call("ir.attachment", "cloud_create_folder", [
            this.thread.model,
            this.thread.id,
            name,
            parentId,
        ]);
        await this.refresh();
        this.selected = folderId;
        return folderId;
    }

    async renameFolder(folderId, name) {
        await this.orm.call("ir.attachment", "cloud_rename_folder", [folderId, name]);
        await this.refresh();
    }

    async deleteFolder(folderId) {
        const parentId = this.folder(folderId)?.parent_id ?? null;
        await this.orm.call("ir.attachment", "cloud_delete_folder", [folderId]);
        this.selected = parentId;
        await this.refresh();
    }

    startDrag(ev, attachment) {
        this.dragged = attachment;
        if (ev.dataTransfer) {
            ev.dataTransfer.effectAllowed = "move";
            ev.dataTransfer.setData(DRAG_TYPE, String(attachment.id));
        }
    }

    endDrag() {
        this.dragged = null;
        this.dropTarget = null;
    }

    /** May the dragged card go into ``folderId`` (the record's folder or one of its own)? */
    canDropOn(folderId) {
        return Boolean(this.dragged && this.editable && this.isFolder(folderId)
            && this.folderOf(this.dragged) !== folderId);
    }

    async dropOn(folderId) {
        const attachment = this.dragged;
        this.endDrag();
        if (attachment && this.editable && this.isFolder(folderId)
                && this.folderOf(attachment) !== folderId) {
            await this.moveAttachments([attachment],
                folderId === this.info.root_id ? false : folderId);
        }
    }

    async moveAttachments(attachments, folderId) {
        const placed = await this.orm.call(
            "ir.attachment",
            "cloud_move_to_folder",
            [attachments.map((attachment) => attachment.id), folderId || false]
        );
        for (const attachment of attachments) {
            attachment.cloud_subfolder_id = placed[attachment.id] || false;
        }
    }
}

/** The folder tree above the attachment list, with "New folder", rename and delete. */
export class CloudRecordFolders extends Component {
    static template = "cloud_base.RecordFolders";
    static props = ["folders", "attachments"];

    setup() {
        this.dialog = useService("dialog");
        this.folders = useState(this.props.folders);
        this.edit = useState({ mode: null, name: "" }); // mode: "create" | "rename" | null
        useAutofocus({ refName: "nameInput" });
    }

    get state() {
        return this.folders;
    }

    get selectedFolder() {
        return this.state.folder(this.state.selected);
    }

    select(folderId) {
        this.state.selected = folderId;
        this.edit.mode = null;
    }

    count(folderId) {
        return this.state.count(folderId, this.props.attachments);
    }

    onDragOver(ev, folderId) {
        if (this.state.canDropOn(folderId)) {
            ev.preventDefault();
            if (ev.dataTransfer) {
                ev.dataTransfer.dropEffect = "move";
            }
            this.state.dropTarget = folderId;
        }
    }

    onDragLeave(ev, folderId) {
        if (this.state.dropTarget === folderId && !ev.currentTarget.contains(ev.relatedTarget)) {
            this.state.dropTarget = null;
        }
    }

    onDrop(ev, folderId) {
        if (this.state.canDropOn(folderId)) {
            ev.preventDefault();
            this.state.dropOn(folderId);
        }
    }

    get placeholder() {
        return this.edit.mode === "create"
            ? _t("Folder name, e.g. Scans/Official")
            : _t("New name");
    }

    kindTitle(folder) {
        return folder.kind === "default"
            ? _t("Default folder of the sync rule")
            : _t("Folder made in Odoo");
    }

    startCreate() {
        this.edit.mode = "create";
        this.edit.name = "";
    }

    startRename() {
        this.edit.mode = "rename";
        this.edit.name = this.selectedFolder?.name || "";
    }

    cancelEdit() {
        this.edit.mode = null;
    }

    async confirmEdit() {
        const name = this.edit.name.trim();
        if (!name) {
            return;
        }
        const mode = this.edit.mode;
        this.edit.mode = null;
        if (mode === "create") {
            await this.state.createFolder(name);
        } else if (mode === "rename") {
            await this.state.renameFolder(this.state.selected, name);
        }
    }

    onKeydown(ev) {
        if (ev.key === "Enter") {
            ev.preventDefault();
            this.confirmEdit();
        } else if (ev.key === "Escape") {
            ev.preventDefault();
            this.cancelEdit();
        }
    }

    deleteSelected() {
        const folder = this.selectedFolder;
        if (!folder) {
            return;
        }
        this.dialog.add(ConfirmationDialog, {
            body: _t('Delete the folder "%s"? Only an empty folder can be deleted.', folder.name),
            confirmLabel: _t("Delete"),
            cancel: () => {},
            confirm: () => this.state.deleteFolder(folder.id),
        });
    }
}

/** Choose the folder of the record an attachment goes to. */
export class CloudMoveDialog extends Component {
    static template = "cloud_base.MoveDialog";
    static components = { Dialog };
    static props = ["folders", "attachment", "close"];

    setup() {
        this.folders = useState(this.props.folders);
    }

    get title() {
        return _t("Move %s to", this.props.attachment.name);
    }

    get current() {
        return this.props.folders.folderOf(this.props.attachment);
    }

    async choose(folderId) {
        await this.props.folders.moveAttachments([this.props.attachment], folderId);
        this.props.close();
    }
}
