import { browser } from "@web/core/browser/browser";
import { registry } from "@web/core/registry";
import { assert, screenshot } from "./cloud_tour_utils";

const opened = [];

/**
 * A user opens a synced record: cloud badges, provider thumbnails, open the cloud folder, open
 * a folder link, download through Odoo, preview an image and a PDF.
 */
registry.category("web_tour.tours").add("cloud_base_user_attachments_tour", {
    steps: () => [
        {
            content: "Catch the links the page opens in new tabs",
            trigger: ".o_form_view .o-mail-Chatter",
            run() {
                opened.length = 0;
                browser.open = (url) => opened.push(url);
            },
        },
        {
            content: "Open the attachment box",
            trigger: ".o-mail-Chatter-attachFiles:contains('5')",
            async run(actions) {
                if (!document.querySelector(".o-mail-AttachmentBox")) {
                    await actions.click();
                }
            },
        },
        {
            content: "A synced file has a cloud badge and a provider thumbnail, no fetched preview",
            trigger: ".o-mail-AttachmentBox .o-mail-AttachmentCard[data-cloud-kind='file']:contains('photo.png') .o-cloud-badge img[src*='/cloud_base/static/src/img/providers/memory.svg']",
            run() {
                const box = document.querySelector(".o-mail-AttachmentBox");
                assert(
                    !box.querySelector(".o-mail-AttachmentImage[aria-label='photo.png']"),
                    "synced images are not previewed on form load"
                );
            },
        },
        {
            trigger: ".o-mail-AttachmentBox .o-mail-AttachmentCard[data-cloud-kind='file']:contains('report.pdf') .o-cloud-badge",
        },
        {
            content: "A file added in Odoo and not yet synced is an ordinary attachment",
            trigger: ".o-mail-AttachmentBox .o-mail-AttachmentImage[aria-label='local.png']",
        },
        {
            content: "A folder made in the cloud is a folder link with a folder icon",
            trigger: ".o-mail-AttachmentBox .o-mail-AttachmentCard[data-cloud-kind='folder']:contains('Specs') .o-cloud-folderGlyph",
        },
        {
            trigger: ".o-mail-AttachmentBox .o-cloud-recordFolder:contains('Tour Storage')",
        },
        ...screenshot("user_attachment_box", "body", ".o-mail-Chatter-topbar"),
        {
            content: "Open the record's cloud folder",
            trigger: ".o-mail-AttachmentBox .o-cloud-openRecordFolder",
            run: "click",
        },
        {
            trigger: "body",
            run() {
                assert(opened.length === 1, `one link opened: ${opened}`);
                assert(
                    opened[0].startsWith("memory://") && opened[0].endsWith("/Tour Co A"),
                    `the record's folder is opened: ${opened[0]}`
                );
            },
        },
        {
            content: "Open the cloud folder link",
            trigger: ".o-mail-AttachmentCard[data-cloud-kind='folder']:contains('Specs')",
            run: "click",
        },
        {
            trigger: "body",
            run() {
                assert(opened.length === 2 && opened[1].endsWith("/Tour Co A/Specs"),
                    `the folder link opens the cloud folder: ${opened}`);
            },
        },
        {
            content: "Open a file in the cloud",
            trigger: ".o-mail-AttachmentCard:contains('report.pdf') .o-cloud-openInCloud",
            run: "click",
        },
        {
            trigger: "body",
            run() {
                assert(opened.length === 3 && opened[2].endsWith("/Tour Co A/report.pdf"),
                    `the file opens in the cloud: ${opened}`);
            },
        },
        {
            content: "Download goes through Odoo, which streams the cloud content",
            trigger: ".o-mail-AttachmentCard:contains('notes.txt') button[title='Download']",
            async run() {
                const url = this.anchor.dataset.downloadUrl;
                const parsed = new URL(url, window.location.origin);
                assert(
                    parsed.pathname.startsWith("/web/content/") &&
                        parsed.searchParams.get("download") === "true",
                    url
                );
                const response = await fetch(url);
                assert(response.status === 200, `download status ${response.status}`);
                const text = await response.text();
                assert(text === "Notes kept in the cloud", `downloaded content: ${text}`);
                assert(
                    (response.headers.get("Content-Disposition") || "").includes("attachment"),
                    "served as a download"
                );
            },
        },
        {
            content: "Preview the synced image",
            trigger: ".o-mail-AttachmentCard:contains('photo.png')",
            run: "click",
        },
        {
            trigger: ".o-FileViewer img.o-FileViewer-viewImage",
            async run() {
                const img = this.anchor;
                for (let i = 0; i < 50 && !(img.complete && img.naturalWidth); i++) {
                    await new Promise((r) => setTimeout(r, 100));
                }
                assert(img.naturalWidth === 40 && img.naturalHeight === 30,
                    `image preview loaded (${img.naturalWidth}x${img.naturalHeight})`);
            },
        },
        ...screenshot("user_image_preview"),
        {
            trigger: ".o-FileViewer .o-FileViewer-headerButton[aria-label='Close']",
            run: "click",
        },
        {
            trigger: "body:not(:has(.o-FileViewer))",
        },
        {
            content: "Preview the synced PDF",
            trigger: ".o-mail-AttachmentCard:contains('report.pdf')",
            run: "click",
        },
        {
            trigger: ".o-FileViewer iframe.o-FileViewer-view",
            async run() {
                const src = decodeURIComponent(this.anchor.getAttribute("src"));
                assert(src.includes("/web/static/lib/pdfjs/web/viewer.html"), src);
                const file = src.match(/file=([^#]*)/)[1];
                const response = await fetch(file);
                const head = new Uint8Array(await response.arrayBuffer()).slice(0, 5);
                assert(String.fromCharCode(...head) === "%PDF-", "the PDF viewer gets the PDF");
            },
        },
        {
            content: "pdf.js renders the synced PDF",
            trigger: ".o-FileViewer iframe.o-FileViewer-view:iframe .page canvas, .o-FileViewer iframe.o-FileViewer-view:iframe .page .canvasWrapper",
        },
        ...screenshot("user_pdf_preview"),
        {
            trigger: ".o-FileViewer .o-FileViewer-headerButton[aria-label='Close']",
            run: "click",
        },
        {
            trigger: "body:not(:has(.o-FileViewer))",
        },
    ],
});
