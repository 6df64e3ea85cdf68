import { registry } from "@web/core/registry";
import { assert, screenshot } from "./cloud_tour_utils";

const shownNames = () =>
    [...document.querySelectorAll(".o-mail-AttachmentBox .o-mail-AttachmentCard, .o-mail-AttachmentBox .o-mail-AttachmentImage")]
        .map((el) => el.getAttribute("title") || el.getAttribute("aria-label"))
        .sort();

/**
 * A user makes folders in the attachment box of a synced record (issue 14): a nested folder,
 * an upload into it, a synced file moved to another folder (by its button, then by dragging
 * its card onto a folder), the list filtered by folder.
 */
registry.category("web_tour.tours").add("cloud_base_record_folders_tour", {
    steps: () => [
        {
            content: "Open the attachment box",
            trigger: ".o_form_view .o-mail-Chatter-attachFiles:contains('1')",
            async run(actions) {
                if (!document.querySelector(".o-mail-AttachmentBox")) {
                    await actions.click();
                }
            },
        },
        {
            content: "The rule's default folder is listed",
            trigger: ".o-cloud-folders .o-cloud-folder[data-folder-kind='default'][data-folder-name='Contracts']",
        },
        {
            content: "New folder",
            trigger: ".o-cloud-folders .o-cloud-folders-new",
            run: "click",
        },
        {
            trigger: ".o-cloud-folders input.o-cloud-folders-name",
            run: "edit Scans/Official",
        },
        {
            trigger: ".o-cloud-folders .o-cloud-folders-confirm",
            run: "click",
        },
        {
            content: "The nested folder is made and selected",
            trigger: ".o-cloud-folders .o-cloud-folder.active[data-folder-kind='manual'][data-folder-name='Official']",
        },
        {
            trigger: ".o-cloud-folders .o-cloud-folder[data-folder-name='Scans']",
        },
        {
            content: "An empty folder shows no files",
            trigger: ".o-mail-AttachmentBox:not(:has(.o-mail-AttachmentCard))",
        },
        {
            content: "Upload a file into the selected folder",
            trigger: ".o-mail-AttachmentBox button:contains('Attach files')",
            run() {
                // the chatter's own file input (hidden), as the file dialog would fill it
                const input = document.querySelector(
                    ".o-mail-AttachmentBox input.o-mail-Chatter-fileUploader"
                );
                const transfer = new DataTransfer();
                transfer.items.add(new File(["scanned by the tour"], "scan.txt", { type: "text/plain" }));
                input.files = transfer.files;
                input.dispatchEvent(new Event("change", { bubbles: true }));
            },
        },
        {
            content: "The uploaded file is in the folder",
            trigger: ".o-cloud-folder.active[data-folder-name='Official'] span:last-child:contains('1')",
        },
        {
            trigger: ".o-mail-AttachmentBox .o-mail-AttachmentCard:contains('scan.txt')",
            run() {
                const names = shownNames();
                assert(names.length === 1, `only the folder's file is shown: ${names}`);
            },
        },
        {
            content: "Show every file",
            trigger: ".o-cloud-folders .o-cloud-folder[data-folder='all']",
            run: "click",
        },
        {
            trigger: ".o-mail-AttachmentBox .o-mail-AttachmentCard:contains('notes.txt')",
        },
        {
            content: "Move the synced file to another folder",
            trigger: ".o-mail-AttachmentCard:contains('notes.txt') .o-cloud-moveToFolder",
            run: "click",
        },
        {
            trigger: ".o-cloud-moveDialog .o-cloud-moveTarget[data-folder-name='Scans']",
            run: "click",
        },
        {
            trigger: "body:not(:has(.o-cloud-moveDialog))",
        },
        {
            content: "Open the folder",
            trigger: ".o-cloud-folders .o-cloud-folder[data-folder-name='Scans']",
            run: "click",
        },
        {
            trigger: ".o-cloud-folder.active[data-folder-name='Scans']",
        },
        {
            trigger: ".o-mail-AttachmentBox .o-mail-AttachmentCard:contains('notes.txt')",
            run() {
                const names = shownNames();
                assert(names.length === 1 && names[0] === "notes.txt",
                    `the moved file alone is in Scans: ${names}`);
            },
        },
        ...screenshot("attachment_box_subfolders", "body", ".o-mail-Chatter-topbar"),
        {
            content: "Drag the file's card onto the rule's default folder",
            trigger: ".o-mail-AttachmentBox .o-mail-AttachmentCard[draggable='true']:contains('notes.txt')",
            run: "drag_and_drop .o-cloud-folders .o-cloud-folder[data-folder-name='Contracts']",
        },
        {
            content: "It left Scans for Contracts",
            trigger: ".o-cloud-folder[data-folder-name='Contracts'] span:last-child:contains('1')",
            run() {
                assert(!document.querySelector(".o-mail-AttachmentBox .o-mail-AttachmentCard"),
                    "Scans shows no file any more");
            },
        },
    ],
});
