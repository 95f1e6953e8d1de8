// Books a slot through a page in headless Chromium and reads the page's availability
// before and after, as a user of a booking page would see it.
// Argument: {page, chromium, slug, booker}. Prints the slots read, the booking, and every
// GraphQL request the page made with the answer's caching headers.
import { argument, launchChromium, output } from "./lib.mjs";

const { page: address, chromium, slug, booker } = argument();
const browser = await launchChromium(chromium);
const seen = { exchanges: [], pageErrors: [] };
try {
  const page = await (await browser.newContext()).newPage();
  page.on("pageerror", (error) => seen.pageErrors.push(String(error)));
  page.on("response", (response) => {
    if (new URL(response.url()).pathname !== "/graphql") return;
    const headers = response.headers();
    seen.exchanges.push({
      method: response.request().method(),
      status: response.status(),
      cacheControl: headers["cache-control"] ?? null,
      vary: headers["vary"] ?? null,
    });
  });
  await page.goto(address, { waitUntil: "load" });
  await page.waitForSelector("body[data-ready=yes]", { state: "attached", timeout: 15000 });
  seen.before = await page.evaluate((s) => window.slots(s), slug);
  const slot = seen.before[0];
  seen.booked = await page.evaluate(
    (input) => window.book(input),
    { ...booker, slug, startTime: slot.start, durationMinutes: slot.durationMinutes },
  );
  seen.after = await page.evaluate((s) => window.slots(s), slug);
} catch (error) {
  seen.error = String(error);
} finally {
  await browser.close();
}
output(seen);
