// Shared by the client scripts: one JSON argument in, one JSON document out, and
// Debian's Chromium started the way this closed network needs.
import { chromium } from "playwright-core";

/** The JSON argument the Python test passed. */
export function argument() {
  return JSON.parse(process.argv[2] ?? "{}");
}

/** Print the script's answer for the Python test and end. */
export function output(value) {
  process.stdout.write(JSON.stringify(value));
}

/** Headless Chromium with no background traffic and every host but 127.0.0.1 unreachable. */
export async function launchChromium(executablePath) {
  return chromium.launch({
    executablePath,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-dev-shm-usage",
      // Names resolve to nothing but the loopback address: no request can leave it.
      "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    ],
  });
}

/** fetch that records every request body it sends (for the protocol assertions). */
export function recordingFetch(log) {
  return async (url, init = {}) => {
    const method = init.method ?? "GET";
    log.push({ method, url: String(url), body: init.body ?? null });
    return fetch(url, init);
  };
}

/**
 * A page in a fresh context where only 127.0.0.1 answers (anything else is recorded and
 * refused, as with no internet), with its requests, page errors and Content-Security-Policy
 * violations recorded into `seen` ({requests, pageErrors}; violations via `violations(page)`).
 */
export async function offlinePage(browser, seen) {
  const context = await browser.newContext();
  await context.route("**/*", (route) => {
    const target = new URL(route.request().url());
    if (target.protocol === "data:" || target.hostname === "127.0.0.1") return route.continue();
    return route.abort("internetdisconnected");
  });
  const page = await context.newPage();
  page.on("request", (request) => seen.requests.push(request.url()));
  page.on("pageerror", (error) => seen.pageErrors.push(String(error)));
  await page.addInitScript(() => {
    window.__violations = [];
    document.addEventListener("securitypolicyviolation", (event) => {
      window.__violations.push(`${event.violatedDirective} ${event.blockedURI}`);
    });
  });
  return page;
}

/** The Content-Security-Policy violations the page reported so far. */
export async function violations(page) {
  return page.evaluate(() => window.__violations);
}
