import { Component, useEffect, useRef, useState } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { standardFieldProps } from "@web/views/fields/standard_field_props";

/**
 * Editor of a sync rule's default folders (R-RULE-6): a tree of names kept in a JSON field,
 * `[{id?, name, children: [...]}, ...]`. Add, rename, nest (indent / outdent), delete.
 */
export class CloudFolderTreeField extends Component {
    static template = "cloud_base.FolderTreeField";
    static props = { ...standardFieldProps };

    setup() {
        this.state = useState({ focusPath: null });
        this.rootRef = useRef("root");
        useEffect(() => {
            const input = this.rootRef.el?.querySelector("input[data-focus='1']");
            if (input) {
                this.state.focusPath = null;
                input.focus();
                input.select();
            }
        });
    }

    get tree() {
        const value = this.props.record.data[this.props.name];
        return Array.isArray(value) ? value : [];
    }

    get isEmpty() {
        return this.tree.length === 0;
    }

    pathKey(path) {
        return path.join("-");
    }

    /** A deep copy of the tree and the list holding the node at ``path``. */
    _locate(path) {
        const tree = JSON.parse(JSON.stringify(this.tree));
        let siblings = tree;
        let parent = null;
        for (const index of path.slice(0, -1)) {
            parent = siblings[index];
            parent.children = parent.children || [];
            siblings = parent.children;
        }
        return { tree, siblings, index: path[path.length - 1], parent };
    }

    async _commit(tree, focusPath = null) {
        this.state.focusPath = focusPath ? this.pathKey(focusPath) : null;
        await this.props.record.update({ [this.props.name]: tree });
    }

    addRoot() {
        const tree = JSON.parse(JSON.stringify(this.tree));
        tree.push({ name: _t("New folder"), children: [] });
        this._commit(tree, [tree.length - 1]);
    }

    addChild(path) {
        const { tree, siblings, index } = this._locate(path);
        const node = siblings[index];
        node.children = node.children || [];
        node.children.push({ name: _t("New folder"), children: [] });
        this._commit(tree, [...path, node.children.length - 1]);
    }

    rename(path, name) {
        const { tree, siblings, index } = this._locate(path);
        const clean = (name || "").trim();
        if (!clean || siblings[index].name === clean) {
            return;
        }
        siblings[index].name = clean;
        this._commit(tree);
    }

    remove(path) {
        const { tree, siblings, index } = this._locate(path);
        siblings.splice(index, 1);
        this._commit(tree);
    }

    /** Nest a folder into the folder just above it. */
    indent(path) {
        const { tree, siblings, index } = this._locate(path);
        if (index === 0) {
            return;
        }
        const [node] = siblings.splice(index, 1);
        const target = siblings[index - 1];
        target.children = target.children || [];
        target.children.push(node);
        this._commit(tree, [...path.slice(0, -1), index - 1, target.children.length - 1]);
    }

    /** Move a folder up one level, right after its parent. */
    outdent(path) {
        if (path.length < 2) {
            return;
        }
        const { tree, siblings, index } = this._locate(path);
        const [node] = siblings.splice(index, 1);
        const parentPath = path.slice(0, -1);
        const { siblings: upper, index: parentIndex } = this._locateIn(tree, parentPath);
        upper.splice(parentIndex + 1, 0, node);
        this._commit(tree, [...parentPath.slice(0, -1), parentIndex + 1]);
    }

    _locateIn(tree, path) {
        let siblings = tree;
        for (const index of path.slice(0, -1)) {
            siblings = siblings[index].children;
        }
        return { siblings, index: path[path.length - 1] };
    }

    onKeydown(ev, path) {
        if (ev.key === "Enter") {
            ev.preventDefault();
            ev.target.blur();
        } else if (ev.key === "Tab" && !ev.shiftKey && ev.altKey) {
            ev.preventDefault();
            this.indent(path);
        }
    }
}

export const cloudFolderTreeField = {
    component: CloudFolderTreeField,
    displayName: _t("Folder tree"),
    supportedTypes: ["json"],
};

registry.category("fields").add("cloud_folder_tree", cloudFolderTreeField);
