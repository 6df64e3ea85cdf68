import { Component, useState } from "@odoo/owl";

/**
 * One folder of the tree and, once opened, its subfolders (loaded when first opened). A
 * folder is dragged onto another to move it there (the server checks write access on both);
 * files dragged from the list are dropped on a folder to move them into it.
 */
export class FolderNode extends Component {
    static template = "cloud_documents.FolderNode";
    static props = { folderId: [Number, String], manager: Object, depth: Number };
    static components = {};

    setup() {
        // the manager's state, observed by this node too (it re-renders on its own changes)
        this.tree = useState(this.props.manager.state);
    }

    get folder() {
        return this.tree.folders[this.props.folderId];
    }

    get isCurrent() {
        return this.tree.currentFolderId === this.props.folderId;
    }

    get isDropTarget() {
        return this.tree.dropTargetId === this.props.folderId;
    }

    onToggle(ev) {
        ev.stopPropagation();
        this.props.manager.toggleFolder(this.props.folderId);
    }

    onOpen() {
        this.props.manager.openFolder(this.props.folderId);
    }

    onDragStart(ev) {
        ev.stopPropagation();
        this.props.manager.startDrag(ev, { folderId: this.props.folderId });
    }

    onDragOver(ev) {
        if (this.props.manager.canDropOn(this.props.folderId, ev)) {
            ev.preventDefault();
            ev.stopPropagation();
            this.tree.dropTargetId = this.props.folderId;
        }
    }

    onDragLeave() {
        if (this.isDropTarget) {
            this.tree.dropTargetId = null;
        }
    }

    onDrop(ev) {
        ev.preventDefault();
        ev.stopPropagation();
        this.props.manager.dropOn(this.props.folderId, ev);
    }
}
FolderNode.components = { FolderNode };
