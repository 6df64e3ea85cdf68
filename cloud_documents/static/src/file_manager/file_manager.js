import { Component, onWillStart, status, useRef, useState } from "@odoo/owl";
import { browser } from "@web/core/browser/browser";
import { ConfirmationDialog } from "@web/core/confirmation_dialog/confirmation_dialog";
import { FileModel } from "@web/core/file_viewer/file_model";
import { useFileViewer } from "@web/core/file_viewer/file_viewer_hook";
import { _t } from "@web/core/l10n/translation";
import { deserializeDateTime, formatDateTime } from "@web/core/l10n/dates";
import { registry } from "@web/core/registry";
import { humanSize } from "@web/core/utils/binary";
import { DEFAULT_MAX_FILE_SIZE } from "@web/core/utils/files";
import { useService } from "@web/core/utils/hooks";
import { session } from "@web/session";
import { FolderNode } from "./folder_node";

const FOLDER_MODEL = "cloud.documents.folder";
const PAGE_SIZE = 80;
const DRAG_TYPE = "application/x-cloud-documents";
const UPLOADS_AT_ONCE = 3;
// how long a deletion of files waits behind its Undo button (milliseconds)
const UNDO_DELAY = 8000;
// the read-only section of the record folders of the sync rules: its nodes' keys
const SYNCED_ROOT = "synced";
const syncedKey = (cloudFolderId) => `synced_${cloudFolderId}`;

/**
 * The documents file manager (R-DOC-2): the folder tree on the left, the folder's files on
 * the right as a list or as a kanban with thumbnails. Everything it shows or does goes
 * through the server as the user (the RPC methods of cloud.documents.folder, and Odoo's own
 * routes for uploads, downloads and thumbnails), which decides what is allowed.
 *
 * Below the workspace, a read-only section shows the record folders of the sync rules (the
 * cloud folders of the records the user reads) with their files: browse, preview, download
 * and zip there; nothing is changed from it.
 */
export class DocumentsFileManager extends Component {
    static template = "cloud_documents.FileManager";
    static props = ["*"];
    static components = { FolderNode };

    setup() {
        this.orm = useService("orm");
        this.notification = useService("notification");
        this.dialog = useService("dialog");
        this.fileViewer = useFileViewer();
        this.fileInput = useRef("fileInput");
        this.state = useState({
            folders: {}, // id -> folder, with `children` (ids) once loaded, `open`
            roots: [],
            syncedRoot: null, // the key of the read-only section, when it has folders
            currentFolderId: null,
            path: [],
            files: [],
            total: 0,
            offset: 0,
            selection: {}, // attachment id -> true
            view: browser.localStorage.getItem("cloud_documents.view") || "list",
            search: { name: "", tag: "", mimetype: "", owner: "", date_from: "", date_to: "" },
            searching: false,
            uploads: [],
            renamingId: null,
            newFolder: null, // {parentId, name} while a folder is being named
            clipboard: [], // attachment ids cut, to paste in another folder
            dropTargetId: null,
            dropZoneActive: false,
        });
        this.maxUploadSize = session.max_file_upload_size || DEFAULT_MAX_FILE_SIZE;
        this.drag = null;
        this.deleting = new Set(); // ids of the files whose deletion waits behind Undo
        onWillStart(async () => {
            await this.loadRoots();
            const first = this.state.roots[0];
            if (first) {
                await this.openFolder(first);
            }
        });
    }

    // -- the tree --------------------------------------------------------------------------
    storeFolders(infos) {
        for (const info of infos) {
            const known = this.state.folders[info.id];
            this.state.folders[info.id] = Object.assign(
                { children: null, open: false },
                known || {},
                info
            );
        }
        return infos.map((info) => info.id);
    }

    storeSyncedFolders(infos) {
        return this.storeFolders(
            infos.map((info) => ({
                ...info,
                id: syncedKey(info.id),
                parent_id: info.parent_id ? syncedKey(info.parent_id) : SYNCED_ROOT,
                cloudFolderId: info.id,
                synced: true,
                can_write: false,
            }))
        );
    }

    async loadRoots() {
        const [infos, synced] = await Promise.all([
            this.orm.call(FOLDER_MODEL, "documents_tree", [false]),
            this.orm.call(FOLDER_MODEL, "documents_synced_tree", [false]),
        ]);
        this.state.roots = this.storeFolders(infos);
        if (synced.length) {
            this.storeFolders([{
                id: SYNCED_ROOT,
                name: _t("Synced records"),
                parent_id: false,
                has_children: true,
                can_write: false,
                synced: true,
                cloudFolderId: false,
            }]);
            this.state.folders[SYNCED_ROOT].children = this.storeSyncedFolders(synced);
            this.state.syncedRoot = SYNCED_ROOT;
        } else {
            this.state.syncedRoot = null;
        }
    }

    async loadChildren(folderId) {
        const folder = this.state.folders[folderId];
        let children;
        if (folder.synced) {
            const infos = await this.orm.call(FOLDER_MODEL, "documents_synced_tree", [
                folder.cloudFolderId,
            ]);
            children = this.storeSyncedFolders(infos);
        } else {
            children = this.storeFolders(
                await this.orm.call(FOLDER_MODEL, "documents_tree", [folderId])
            );
        }
        folder.children = children;
        folder.has_children = children.length > 0;
    }

    async toggleFolder(folderId) {
        const folder = this.state.folders[folderId];
        if (!folder.open && folder.children === null) {
            await this.loadChildren(folderId);
        }
        folder.open = !folder.open;
    }

    async openFolder(folderId) {
        this.state.currentFolderId = folderId;
        this.state.selection = {};
        this.state.renamingId = null;
        const [path] = await Promise.all([
            this.state.folders[folderId]?.synced
                ? this.syncedPath(folderId)
                : this.orm.call(FOLDER_MODEL, "documents_path", [[folderId]]),
            this.loadFiles(0),
        ]);
        this.state.path = path;
        // the tree shows where we are
        for (const step of path.slice(0, -1)) {
            const folder = this.state.folders[step.id];
            if (folder && !folder.open) {
                await this.toggleFolder(step.id);
            }
        }
    }

    /** The breadcrumbs of a node of the read-only section: it was reached through the tree. */
    syncedPath(key) {
        const path = [];
        for (let node = this.state.folders[key]; node; node = this.state.folders[node.parent_id]) {
            path.unshift({ id: node.id, name: node.name });
        }
        return path;
    }

    get inSyncedSection() {
        return Boolean(this.currentFolder?.synced);
    }

    get currentFolder() {
        return this.state.folders[this.state.currentFolderId] || null;
    }

    get canWriteHere() {
        return Boolean(this.currentFolder?.can_write);
    }

    // -- the files ---------------------------------------------------------------------------
    async loadFiles(offset = this.state.offset) {
        const search = this.activeSearch();
        const current = this.currentFolder;
        let result = { records: [], length: 0 };
        if (current?.synced) {
            if (current.cloudFolderId) {
                result = await this.orm.call(FOLDER_MODEL, "documents_synced_files", [], {
                    cloud_folder_id: current.cloudFolderId,
                    search,
                    limit: PAGE_SIZE,
                    offset,
                });
                current.cloud_url = result.cloud_url; // "Open cloud folder"
            }
        } else {
            result = await this.orm.call(FOLDER_MODEL, "documents_files", [], {
                folder_id: this.state.currentFolderId || false,
                search,
                limit: PAGE_SIZE,
                offset,
            });
        }
        this.state.searching = Object.keys(search).length > 0;
        // files whose deletion waits behind its Undo button stay out of sight
        const waiting = result.records.filter((file) => this.deleting.has(file.id));
        this.state.files = result.records.filter((file) => !this.deleting.has(file.id));
        this.state.total = result.length - waiting.length;
        this.state.offset = offset;
    }

    activeSearch() {
        return Object.fromEntries(
            Object.entries(this.state.search).filter(([, value]) => value && value.trim())
        );
    }

    onSearch(ev) {
        ev.preventDefault();
        this.state.selection = {};
        this.loadFiles(0);
    }

    clearSearch() {
        for (const key of Object.keys(this.state.search)) {
            this.state.search[key] = "";
        }
        this.loadFiles(0);
    }

    searchEverywhere() {
        this.state.currentFolderId = null;
        this.state.path = [];
        this.loadFiles(0);
    }

    setView(view) {
        this.state.view = view;
        browser.localStorage.setItem("cloud_documents.view", view);
    }

    get pager() {
        const { offset, total, files } = this.state;
        return { from: total ? offset + 1 : 0, to: offset + files.length, total };
    }

    previousPage() {
        this.loadFiles(Math.max(0, this.state.offset - PAGE_SIZE));
    }

    nextPage() {
        this.loadFiles(this.state.offset + PAGE_SIZE);
    }

    // -- presenting a file --------------------------------------------------------------------
    formatSize(size) {
        return size ? humanSize(size) : "";
    }

    formatDate(value) {
        return value ? formatDateTime(deserializeDateTime(value)) : "";
    }

    thumbnailUrl(file) {
        // Odoo's own thumbnails, for local images only: a synced image is not downloaded
        // from the cloud to draw a page
        return file.local_image ? `/web/image/${file.id}/256x256?unique=${file.checksum}` : "";
    }

    cloudStateTitle(file) {
        switch (file.cloud_state) {
            case "synced":
                return _t("Synced to the cloud (%s)", file.cloud_provider);
            case "waiting":
                return _t("Waiting to be synced");
            case "error":
                return _t("Sync error: %s", file.cloud_message || "");
            default:
                return _t("Kept in Odoo");
        }
    }

    cloudStateIcon(file) {
        return {
            synced: "fa-cloud text-success",
            waiting: "fa-clock-o text-warning",
            error: "fa-exclamation-triangle text-danger",
        }[file.cloud_state] || "fa-hdd-o text-muted";
    }

    // -- selection ----------------------------------------------------------------------------
    get selectedIds() {
        return this.state.files.filter((f) => this.state.selection[f.id]).map((f) => f.id);
    }

    get allSelected() {
        return this.state.files.length > 0 && this.selectedIds.length === this.state.files.length;
    }

    toggleSelect(file, ev) {
        ev?.stopPropagation();
        this.state.selection[file.id] = !this.state.selection[file.id];
    }

    toggleSelectAll() {
        const select = !this.allSelected;
        this.state.selection = {};
        if (select) {
            for (const file of this.state.files) {
                this.state.selection[file.id] = true;
            }
        }
    }

    // -- actions on files ---------------------------------------------------------------------
    fileModel(file) {
        return Object.assign(new FileModel(), {
            id: file.id,
            name: file.name,
            filename: file.name,
            mimetype: file.mimetype,
            checksum: file.checksum,
        });
    }

    preview(file) {
        const models = this.state.files.map((f) => this.fileModel(f));
        const model = models.find((m) => m.id === file.id);
        if (model.isViewable) {
            this.fileViewer.open(model, models);
        } else {
            browser.open(this.downloadUrl(file), "_blank");
        }
    }

    downloadUrl(file) {
        return `/web/content/${file.id}?download=true`;
    }

    get zipUrl() {
        const ids = this.selectedIds;
        if (ids.length) {
            return `/cloud_documents/zip?attachment_ids=${ids.join(",")}`;
        }
        const current = this.currentFolder;
        if (current?.synced) {
            return current.cloudFolderId
                ? `/cloud_documents/zip?cloud_folder_ids=${current.cloudFolderId}`
                : "";
        }
        return this.state.currentFolderId
            ? `/cloud_documents/zip?folder_ids=${this.state.currentFolderId}`
            : "";
    }

    openInCloud(url) {
        if (url) {
            browser.open(url, "_blank", "noopener");
        }
    }

    startRename(file) {
        this.state.renamingId = file.id;
    }

    async onRenameKeydown(ev, file) {
        if (ev.key === "Enter") {
            await this.rename(file, ev.target.value);
        } else if (ev.key === "Escape") {
            this.state.renamingId = null;
        }
    }

    async rename(file, name) {
        if (this.state.renamingId !== file.id) {
            return; // done already (Enter, then the input's blur)
        }
        name = (name || "").trim();
        this.state.renamingId = null;
        if (!name || name === file.name) {
            return;
        }
        await this.orm.write("ir.attachment", [file.id], { name });
        await this.loadFiles();
    }

    /**
     * Files leave the list at once and are deleted when the notification offering to undo
     * it closes (after UNDO_DELAY, or closed by the user). Undo keeps them; a browser closed
     * meanwhile keeps them too (the deletion was never sent). The deletion goes through the
     * ORM service itself, not this component's: it is made even if the user has left the
     * file manager by then.
     */
    deleteFiles(ids = this.selectedIds) {
        if (!ids.length) {
            return;
        }
        const pending = { ids: [...ids], undone: false, sent: false };
        for (const id of pending.ids) {
            this.deleting.add(id);
        }
        const shown = this.state.files.length;
        this.state.files = this.state.files.filter((file) => !this.deleting.has(file.id));
        this.state.total = Math.max(0, this.state.total - (shown - this.state.files.length));
        this.state.selection = {};
        pending.close = this.notification.add(
            _t(
                "%s file(s) deleted. Files synced to the cloud are deleted there too.",
                pending.ids.length
            ),
            {
                type: "warning",
                autocloseDelay: UNDO_DELAY,
                buttons: [
                    {
                        name: _t("Undo"),
                        primary: true,
                        onClick: () => this.undoDeletion(pending),
                    },
                ],
                onClose: () => this.sendDeletion(pending),
            }
        );
    }

    undoDeletion(pending) {
        pending.undone = true;
        pending.close();
        this.forgetDeletion(pending);
        if (status(this) !== "destroyed") {
            this.loadFiles();
        }
    }

    forgetDeletion(pending) {
        for (const id of pending.ids) {
            this.deleting.delete(id);
        }
    }

    async sendDeletion(pending) {
        if (pending.undone || pending.sent) {
            return;
        }
        pending.sent = true;
        try {
            await this.env.services.orm.unlink("ir.attachment", pending.ids);
        } finally {
            this.forgetDeletion(pending); // deleted, or refused and so listed again
            if (status(this) !== "destroyed") {
                await this.loadFiles();
            }
        }
    }

    cutSelection() {
        this.state.clipboard = this.selectedIds;
        this.notification.add(
            _t("%s file(s) cut: open a folder and paste them there.", this.state.clipboard.length),
            { type: "info" }
        );
    }

    async pasteHere() {
        if (this.state.clipboard.length && this.canWriteHere) {
            await this.moveFiles(this.state.clipboard, this.state.currentFolderId);
            this.state.clipboard = [];
        }
    }

    async moveFiles(ids, folderId) {
        await this.orm.call(FOLDER_MODEL, "documents_move_files", [[folderId], ids]);
        this.state.selection = {};
        await this.loadFiles();
        this.notification.add(
            _t("%(count)s file(s) moved to %(folder)s", {
                count: ids.length,
                folder: this.state.folders[folderId]?.name || "",
            }),
            { type: "success" }
        );
    }

    // -- folders ------------------------------------------------------------------------------
    startNewFolder() {
        this.state.newFolder = { parentId: this.state.currentFolderId || false, name: "" };
    }

    async onNewFolderKeydown(ev) {
        if (ev.key === "Enter") {
            await this.createFolder(ev.target.value);
        } else if (ev.key === "Escape") {
            this.state.newFolder = null;
        }
    }

    async createFolder(name) {
        if (!this.state.newFolder) {
            return; // done already (Enter, then the input's blur)
        }
        const { parentId, renameId } = this.state.newFolder;
        this.state.newFolder = null;
        name = (name || "").trim();
        if (!name) {
            return;
        }
        if (renameId) {
            await this.renameFolder(renameId, name);
            return;
        }
        const [id] = await this.orm.create(FOLDER_MODEL, [{ name, parent_id: parentId }]);
        if (parentId) {
            await this.loadChildren(parentId);
            this.state.folders[parentId].open = true;
        } else {
            await this.loadRoots();
        }
        await this.openFolder(id);
    }

    startRenameFolder() {
        if (this.currentFolder?.can_write) {
            this.state.newFolder = { renameId: this.currentFolder.id, name: this.currentFolder.name };
        }
    }

    async renameFolder(folderId, name) {
        await this.orm.write(FOLDER_MODEL, [folderId], { name });
        const folder = this.state.folders[folderId];
        folder.name = name;
        this.state.path = await this.orm.call(FOLDER_MODEL, "documents_path", [[folderId]]);
    }

    deleteFolder() {
        const folder = this.currentFolder;
        if (!folder?.can_write) {
            return;
        }
        this.dialog.add(ConfirmationDialog, {
            title: _t("Delete folder"),
            body: _t(
                "Delete the folder %s with its subfolders and files? Files synced to the cloud are deleted there too.",
                folder.name
            ),
            confirmLabel: _t("Delete"),
            confirm: async () => {
                await this.orm.unlink(FOLDER_MODEL, [folder.id]);
                const parentId = this.state.folders[folder.parent_id] ? folder.parent_id : false;
                if (parentId) {
                    await this.loadChildren(parentId);
                    await this.openFolder(parentId);
                } else {
                    await this.loadRoots();
                    if (this.state.roots.length) {
                        await this.openFolder(this.state.roots[0]);
                    } else {
                        this.searchEverywhere();
                    }
                }
            },
            cancel: () => {},
        });
    }

    // -- drag and drop: files and folders onto folders, files from the desktop ---------------
    startDrag(ev, what) {
        if (what.fileId && this.inSyncedSection) {
            ev.preventDefault(); // nothing leaves the read-only section
            return;
        }
        if (what.fileId) {
            const ids = this.state.selection[what.fileId] ? this.selectedIds : [what.fileId];
            this.drag = { fileIds: ids };
        } else {
            this.drag = { folderId: what.folderId };
        }
        if (ev.dataTransfer) {
            ev.dataTransfer.effectAllowed = "move";
            ev.dataTransfer.setData(DRAG_TYPE, JSON.stringify(this.drag));
        }
    }

    endDrag() {
        this.drag = null;
        this.state.dropTargetId = null;
    }

    isDescendant(folderId, ancestorId) {
        let folder = this.state.folders[folderId];
        while (folder) {
            if (folder.id === ancestorId) {
                return true;
            }
            folder = this.state.folders[folder.parent_id];
        }
        return false;
    }

    canDropOn(folderId, ev) {
        const folder = this.state.folders[folderId];
        if (!folder?.can_write) {
            return false;
        }
        if (this.drag?.folderId) {
            return !this.isDescendant(folderId, this.drag.folderId);
        }
        if (this.drag?.fileIds) {
            return folderId !== this.state.currentFolderId || this.state.searching;
        }
        return [...(ev.dataTransfer?.types || [])].includes("Files");
    }

    async dropOn(folderId, ev) {
        const drag = this.drag;
        this.endDrag();
        if (!this.state.folders[folderId]?.can_write) {
            return;
        }
        if (drag?.fileIds) {
            await this.moveFiles(drag.fileIds, folderId);
        } else if (drag?.folderId) {
            await this.moveFolder(drag.folderId, folderId);
        } else if (ev.dataTransfer?.files?.length) {
            await this.uploadFiles(ev.dataTransfer.files, folderId);
        }
    }

    async moveFolder(folderId, parentId) {
        const folder = this.state.folders[folderId];
        const formerParent = folder.parent_id;
        if (formerParent === parentId) {
            return;
        }
        await this.orm.call(FOLDER_MODEL, "documents_move_to", [[folderId], parentId]);
        folder.parent_id = parentId;
        if (formerParent && this.state.folders[formerParent]) {
            await this.loadChildren(formerParent);
        } else {
            this.state.roots = this.state.roots.filter((id) => id !== folderId);
        }
        await this.loadChildren(parentId);
        this.state.folders[parentId].open = true;
        if (this.state.currentFolderId) {
            this.state.path = await this.orm.call(FOLDER_MODEL, "documents_path", [
                [this.state.currentFolderId],
            ]);
        }
    }

    // the files pane: desktop files dropped there are uploaded to the open folder
    onPaneDragOver(ev) {
        const types = [...(ev.dataTransfer?.types || [])];
        if (!this.drag && this.canWriteHere && types.includes("Files")) {
            ev.preventDefault();
            this.state.dropZoneActive = true;
        }
    }

    onPaneDragLeave(ev) {
        if (!ev.currentTarget.contains(ev.relatedTarget)) {
            this.state.dropZoneActive = false;
        }
    }

    async onPaneDrop(ev) {
        this.state.dropZoneActive = false;
        if (this.drag || !ev.dataTransfer?.files?.length) {
            return;
        }
        ev.preventDefault();
        await this.uploadFiles(ev.dataTransfer.files, this.state.currentFolderId);
    }

    // -- uploads --------------------------------------------------------------------------------
    onClickUpload() {
        this.fileInput.el.click();
    }

    async onFileInputChange(ev) {
        const files = [...ev.target.files];
        ev.target.value = "";
        await this.uploadFiles(files, this.state.currentFolderId);
    }

    get uploadLimitLabel() {
        return humanSize(this.maxUploadSize);
    }

    /** One request per file, each with its progress; files above Odoo's limit are refused. */
    async uploadFiles(fileList, folderId) {
        if (!folderId) {
            return;
        }
        // a few at a time, in the order given: each its own request and progress bar
        const queue = [...fileList];
        const worker = async () => {
            while (queue.length) {
                await this.uploadOne(queue.shift(), folderId);
            }
        };
        await Promise.all(Array.from({ length: Math.min(UPLOADS_AT_ONCE, queue.length) }, worker));
        if (folderId === this.state.currentFolderId) {
            await this.loadFiles();
        }
        setTimeout(() => {
            this.state.uploads = this.state.uploads.filter((u) => u.state !== "done");
        }, 3000);
    }

    uploadOne(file, folderId) {
        this.state.uploads.push({ key: `${Date.now()}-${Math.random()}`, name: file.name,
                                  progress: 0, state: "loading", error: "" });
        const upload = this.state.uploads[this.state.uploads.length - 1];
        if (file.size > this.maxUploadSize) {
            upload.state = "error";
            upload.error = _t("larger than the upload limit (%s)", this.uploadLimitLabel);
            return Promise.resolve();
        }
        return new Promise((resolve) => {
            const xhr = new browser.XMLHttpRequest();
            xhr.open("POST", "/web/binary/upload_attachment");
            const data = new FormData();
            data.append("csrf_token", odoo.csrf_token);
            data.append("model", FOLDER_MODEL);
            data.append("id", String(folderId));
            data.append("ufile", file);
            xhr.upload.addEventListener("progress", (ev) => {
                if (ev.lengthComputable) {
                    upload.progress = ev.loaded / ev.total;
                }
            });
            xhr.addEventListener("load", () => {
                let answer = null;
                try {
                    answer = JSON.parse(xhr.responseText)[0];
                } catch {
                    answer = null;
                }
                if (xhr.status === 200 && answer && !answer.error) {
                    upload.state = "done";
                    upload.progress = 1;
                } else {
                    upload.state = "error";
                    upload.error = xhr.status === 413
                        ? _t("larger than the upload limit (%s)", this.uploadLimitLabel)
                        : answer?.error || _t("upload failed (%s)", xhr.status);
                }
                resolve();
            });
            xhr.addEventListener("error", () => {
                upload.state = "error";
                upload.error = _t("upload failed");
                resolve();
            });
            xhr.send(data);
        });
    }

    dismissUpload(upload) {
        this.state.uploads = this.state.uploads.filter((u) => u.key !== upload.key);
    }
}

registry.category("actions").add("cloud_documents.file_manager", DocumentsFileManager);
