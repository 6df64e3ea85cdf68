/**
 * Steps that ask the test runner for a screenshot of the current screen.
 *
 * The Python side (cloud_base/tests/test_ui_tours.py) watches the browser console for
 * "cloud-screenshot:<name>", captures the page and then marks <body data-cloud-shot="<name>">,
 * which the second step waits for, so the tour goes on only once the picture is taken.
 */
export function screenshot(name, waitFor = "body", scrollTo = null) {
    return [
        {
            content: `Screenshot ${name}`,
            trigger: waitFor,
            async run() {
                document.body.removeAttribute("data-cloud-shot");
                if (scrollTo) {
                    document.querySelector(scrollTo)?.scrollIntoView({ block: "start" });
                }
                // let animations and pending renders settle
                await new Promise((resolve) => setTimeout(resolve, 400));
                console.log(`cloud-screenshot:${name}`);
            },
        },
        {
            content: `Screenshot ${name} taken`,
            trigger: `body[data-cloud-shot='${name}']`,
        },
    ];
}

export function assert(condition, message) {
    if (!condition) {
        throw new Error(`Assertion failed: ${message}`);
    }
}
