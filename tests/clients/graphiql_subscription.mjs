// Runs a subscription in the gateway's GraphiQL in headless Chromium, offline, over the
// transport the page's address names, and shows what the result pane received.
// Argument: {url, transport: "ws" | "sse", chromium, query, metricsUrl, trigger: {url, body}}.
import { argument, launchChromium, offlinePage, output, violations } from "./lib.mjs";

const arg = argument();
const browser = await launchChromium(arg.chromium);
const seen = { violations: [], pageErrors: [], requests: [] };
try {
  const page = await offlinePage(browser, seen);
  page.on("websocket", (socket) => seen.requests.push(socket.url()));
  await page.goto(`${arg.url}?transport=${arg.transport}`, { waitUntil: "load" });
  await page.locator(".graphiql-query-editor .CodeMirror").waitFor({ timeout: 15000 });
  await page.evaluate((query) => {
    document.querySelector(".graphiql-query-editor .CodeMirror").CodeMirror.setValue(query);
  }, arg.query);
  await page.locator(".graphiql-execute-button").click();
  const started = Date.now();
  for (;;) {
    const text = await (await fetch(arg.metricsUrl)).text();
    const line = text.split("\n").find((l) => l.startsWith("meetingmesh_subscriptions "));
    if (Number(line?.split(" ")[1] ?? 0) >= 1) break;
    if (Date.now() - started > 15000) throw new Error("the subscription never opened");
    await new Promise((r) => setTimeout(r, 50));
  }
  const trigger = await fetch(arg.trigger.url, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(arg.trigger.body),
  });
  seen.deliveries = ((await trigger.json()).deliveries ?? []).map((d) => d.status);
  await page.waitForFunction(
    () => {
      const cm = document.querySelector(".result-window .CodeMirror");
      return cm && cm.CodeMirror.getValue().includes("meetingUpdated");
    },
    null,
    { timeout: 10000 },
  );
  seen.resultText = await page.evaluate(() =>
    document.querySelector(".result-window .CodeMirror").CodeMirror.getValue(),
  );
  await page.locator(".graphiql-execute-button").click(); // stop the subscription
  seen.violations.push(...(await violations(page)));
} catch (error) {
  seen.error = String(error);
} finally {
  await browser.close();
}
output(seen);
