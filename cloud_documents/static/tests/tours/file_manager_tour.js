import { registry } from "@web/core/registry";
import { assert, screenshot } from "@cloud_base/../tests/tours/cloud_tour_utils";

const folder = (name) => `.o_cloud_docs_tree .o_cloud_docs_folder[title='${name}']`;
const fileRow = (name) => `.o_cloud_docs_pane .o_cloud_docs_file[data-name='${name}']`;
const zipChecks = [];

async function fetchZip(url) {
    const response = await fetch(url);
    const bytes = new Uint8Array(await response.arrayBuffer());
    return {
        status: response.status,
        type: response.headers.get("Content-Type"),
        isZip: bytes[0] === 0x50 && bytes[1] === 0x4b, // "PK"
        size: bytes.length,
    };
}

/**
 * A user browses the workspace in the file manager: the tree, the files with their cloud
 * state, list and kanban, a search across folders, an upload by drag and drop, a file and a
 * folder moved by drag and drop, and zip downloads of a selection and of a folder.
 */
registry.category("web_tour.tours").add("cloud_documents_file_manager_tour", {
    steps: () => [
        {
            content: "The tree shows the top folders the user reads",
            trigger: `${folder("Projects")}`,
            run() {
                assert(document.querySelector(folder("Archive")), "Archive is a top folder");
                assert(!document.querySelector(folder("Hidden board")),
                    "a folder the user may not read is not shown");
                assert(!document.querySelector(folder("Alpha")), "subfolders load when opened");
            },
        },
        {
            content: "Open Projects",
            trigger: folder("Projects"),
            run: "click",
        },
        {
            content: "Breadcrumbs",
            trigger: ".o_cloud_docs_breadcrumbs .breadcrumb-item.active:contains('Projects')",
        },
        {
            content: "Synced files say so; a failed upload shows the provider's message",
            trigger: `${fileRow("report.pdf")} .o_cloud_docs_cloudState[data-state='synced']`,
            run() {
                assert(document.querySelector(
                    `${fileRow("sketch.png")} .o_cloud_docs_cloudState[data-state='waiting']`),
                    "a new file of a mirrored folder waits for its upload");
                const error = document.querySelector(`${fileRow("too-big.csv")} .o_cloud_docs_cloudError`);
                assert(error && error.textContent.includes("507 Insufficient Storage"),
                    "the error message is shown");
                assert(document.querySelector(`${fileRow("report.pdf")} .badge`)
                    .textContent.includes("Contract"), "tags are shown");
            },
        },
        ...screenshot("documents_file_manager_list", `${fileRow("report.pdf")}`),
        {
            content: "Switch to the kanban",
            trigger: ".o_cloud_docs_view_kanban",
            run: "click",
        },
        {
            content: "A local image has Odoo's thumbnail; a synced one is not downloaded",
            trigger: `.o_cloud_docs_card[data-name='sketch.png'] img.o_cloud_docs_thumbImage[src*='/web/image/']`,
            run() {
                const synced = document.querySelector(".o_cloud_docs_card[data-name='site-photo.png']");
                assert(!synced.querySelector("img.o_cloud_docs_thumbImage"),
                    "no thumbnail fetched from the cloud");
                assert(synced.querySelector("img.o_cloud_docs_providerBadge"),
                    "the provider's badge instead");
            },
        },
        ...screenshot("documents_file_manager_kanban", ".o_cloud_docs_card[data-name='sketch.png']"),
        {
            trigger: ".o_cloud_docs_view_list",
            run: "click",
        },
        {
            content: "Preview a synced PDF in Odoo's viewer (streamed through Odoo)",
            trigger: `${fileRow("report.pdf")} .o_cloud_docs_preview`,
            run: "click",
        },
        {
            trigger: ".o-FileViewer iframe.o-FileViewer-view[src*='%2Fweb%2Fcontent%2F']",
        },
        {
            trigger: ".o-FileViewer .o-FileViewer-headerButton[aria-label='Close']",
            run: "click",
        },
        {
            content: "Rename a file",
            trigger: `${fileRow("notes.txt")} .o_cloud_docs_rename`,
            run: "click",
        },
        {
            trigger: `${fileRow("notes.txt")} .o_cloud_docs_renameInput`,
            run: "edit minutes.txt && press Enter",
        },
        {
            trigger: fileRow("minutes.txt"),
        },
        {
            content: "Open the subfolders of Projects (loaded now)",
            trigger: `${folder("Projects")} .o_cloud_docs_toggle`,
            run: "click",
        },
        {
            trigger: folder("Beta"),
        },
        {
            content: "Search by name across the subfolders",
            trigger: ".o_cloud_docs_search_name",
            run: "edit plan",
        },
        {
            trigger: ".o_cloud_docs_search_button",
            run: "click",
        },
        {
            content: "Found in Alpha",
            trigger: `${fileRow("alpha-plan.txt")} .o_cloud_docs_fileFolder:contains('Alpha')`,
            run() {
                assert(document.querySelectorAll(".o_cloud_docs_pane .o_cloud_docs_file").length === 1,
                    "only the matching file");
            },
        },
        {
            trigger: ".o_cloud_docs_search_clear",
            run: "click",
        },
        {
            content: "Search by tag",
            trigger: ".o_cloud_docs_search_tag",
            run: "edit Contract",
        },
        {
            trigger: ".o_cloud_docs_search_button",
            run: "click",
        },
        {
            trigger: `.o_cloud_docs_searchLabel`,
            run() {
                const names = [...document.querySelectorAll(".o_cloud_docs_pane .o_cloud_docs_file")]
                    .map((row) => row.dataset.name);
                assert(names.length === 1 && names[0] === "report.pdf", `tagged: ${names}`);
            },
        },
        {
            trigger: ".o_cloud_docs_search_clear",
            run: "click",
        },
        {
            content: "Drop a file from the desktop on the files of Projects",
            trigger: `${fileRow("minutes.txt")}`,
            run() {
                const pane = document.querySelector(".o_cloud_docs_pane");
                const transfer = new DataTransfer();
                transfer.items.add(new File(["dropped by the tour"], "dropped.txt", { type: "text/plain" }));
                const init = { dataTransfer: transfer, bubbles: true, cancelable: true };
                pane.dispatchEvent(new DragEvent("dragover", init));
                pane.dispatchEvent(new DragEvent("drop", init));
            },
        },
        {
            content: "Its upload shows its progress, then the file is listed",
            trigger: ".o_cloud_docs_upload[data-state='done'] .o_cloud_docs_uploadName:contains('dropped.txt')",
        },
        {
            trigger: fileRow("dropped.txt"),
        },
        {
            content: "Drag the file onto Beta",
            trigger: fileRow("dropped.txt"),
            run: `drag_and_drop ${folder("Beta")}`,
        },
        {
            content: "It left Projects",
            trigger: ".o_notification:contains('moved to Beta')",
            run() {
                assert(!document.querySelector(fileRow("dropped.txt")), "moved away");
            },
        },
        {
            trigger: folder("Beta"),
            run: "click",
        },
        {
            content: "It is in Beta",
            trigger: `.o_cloud_docs_breadcrumbs .active:contains('Beta')`,
        },
        {
            trigger: fileRow("dropped.txt"),
        },
        {
            content: "Make a folder in Beta",
            trigger: ".o_cloud_docs_newFolder",
            run: "click",
        },
        {
            trigger: ".o_cloud_docs_newFolderName",
            run: "edit Gamma && press Enter",
        },
        {
            trigger: `.o_cloud_docs_breadcrumbs .active:contains('Gamma')`,
        },
        {
            content: "Rename it",
            trigger: ".o_cloud_docs_renameFolder",
            run: "click",
        },
        {
            trigger: ".o_cloud_docs_newFolderName",
            run: "edit Gamma renamed && press Enter",
        },
        {
            trigger: `${folder("Gamma renamed")}`,
        },
        {
            content: "Delete it",
            trigger: `.o_cloud_docs_breadcrumbs .active:contains('Gamma renamed')`,
            run() {
                document.querySelector(".o_cloud_docs_deleteFolder").click();
            },
        },
        {
            trigger: ".modal .modal-footer .btn-primary",
            run: "click",
        },
        {
            content: "Back in Beta",
            trigger: `.o_cloud_docs_breadcrumbs .active:contains('Beta')`,
            run() {
                assert(!document.querySelector(folder("Gamma renamed")), "the folder is gone");
            },
        },
        {
            content: "Drag the folder Archive onto Alpha",
            trigger: folder("Archive"),
            run: `drag_and_drop ${folder("Alpha")}`,
        },
        {
            content: "Archive is below Alpha now",
            trigger: `.o_cloud_docs_node[data-folder-id] .o_cloud_docs_node .o_cloud_docs_node ${folder("Archive").replace(".o_cloud_docs_tree ", "")}`,
        },
        {
            trigger: folder("Projects"),
            run: "click",
        },
        {
            content: "Select two files",
            trigger: `${fileRow("report.pdf")} .o_cloud_docs_select`,
            run: "click",
        },
        {
            trigger: `${fileRow("minutes.txt")} .o_cloud_docs_select`,
            run: "click",
        },
        {
            content: "Download the selection as one zip",
            trigger: ".o_cloud_docs_selectionCount:contains('2')",
            async run() {
                const link = document.querySelector(".o_cloud_docs_zip");
                assert(link.getAttribute("href").includes("attachment_ids="), link.href);
                zipChecks.push(await fetchZip(link.getAttribute("href")));
            },
        },
        {
            content: "Select all, then none: the zip is then the folder's",
            trigger: ".o_cloud_docs_selectAll",
            run: "click",
        },
        {
            trigger: ".o_cloud_docs_selectionCount:contains('5')",
        },
        {
            trigger: ".o_cloud_docs_selectAll",
            run: "click",
        },
        {
            content: "Download the whole folder as one zip",
            trigger: ".o_cloud_docs_zip[href*='folder_ids=']",
            async run() {
                const link = document.querySelector(".o_cloud_docs_zip");
                zipChecks.push(await fetchZip(link.getAttribute("href")));
                for (const check of zipChecks) {
                    assert(check.status === 200 && check.type === "application/zip" && check.isZip,
                        `a zip was downloaded: ${JSON.stringify(check)}`);
                }
                assert(zipChecks[1].size > zipChecks[0].size, "the folder holds more");
            },
        },
        {
            content: "Delete a file: it leaves the list at once, with an Undo button",
            trigger: `${fileRow("sketch.png")} .o_cloud_docs_deleteOne`,
            run: "click",
        },
        {
            trigger: ".o_notification:contains('1 file(s) deleted') .o_notification_buttons .btn-primary",
            run() {
                assert(!document.querySelector(fileRow("sketch.png")), "the file is out of the list");
                this.anchor.click();
            },
        },
        {
            content: "Undone: the file is back",
            trigger: fileRow("sketch.png"),
        },
        {
            content: "Delete another one and let the notification close: it is deleted",
            trigger: `${fileRow("too-big.csv")} .o_cloud_docs_deleteOne`,
            run: "click",
        },
        {
            trigger: ".o_notification:contains('1 file(s) deleted') .o_notification_close",
            run: "click",
        },
        {
            trigger: `.o_cloud_docs_pane:not(:has(${fileRow("too-big.csv").replace(".o_cloud_docs_pane ", "")}))`,
            run() {
                assert(document.querySelector(fileRow("sketch.png")), "the undone file stays");
            },
        },
        {
            content: "The record folders of the sync rules: a read-only section of the tree",
            trigger: `${folder("Synced records")} .o_cloud_docs_toggle`,
            run: "click",
        },
        {
            trigger: `${folder("Contacts")} .o_cloud_docs_toggle`,
            run: "click",
        },
        {
            content: "The records the user reads, not the others",
            trigger: folder("Tour Customer"),
            run() {
                assert(!document.querySelector(folder("Tour Customer Hidden")),
                    "a record the user may not read is not shown");
            },
        },
        {
            trigger: folder("Tour Customer"),
            run: "click",
        },
        {
            content: "Its files, synced, read only",
            trigger: `${fileRow("customer-card.txt")} .o_cloud_docs_cloudState[data-state='synced']`,
            async run() {
                const row = document.querySelector(fileRow("customer-card.txt"));
                assert(!row.querySelector(".o_cloud_docs_rename, .o_cloud_docs_deleteOne"),
                    "no rename nor delete");
                assert(row.getAttribute("draggable") === "false", "not draggable");
                assert(row.querySelector(".o_cloud_docs_openInCloud"), "open in cloud");
                assert(document.querySelector(".o_cloud_docs_upload").disabled, "no upload");
                assert(!document.querySelector(".o_cloud_docs_renameFolder"), "no folder rename");
                assert(document.querySelector(".o_cloud_docs_breadcrumbs").textContent
                    .includes("Contacts"), "breadcrumbs");
                const link = document.querySelector(".o_cloud_docs_zip");
                assert(link.getAttribute("href").includes("cloud_folder_ids="), link.href);
                const check = await fetchZip(link.getAttribute("href"));
                assert(check.status === 200 && check.isZip, `the record's zip: ${JSON.stringify(check)}`);
            },
        },
        ...screenshot("documents_file_manager_synced_records", fileRow("customer-card.txt")),
    ],
});
