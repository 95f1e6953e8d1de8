// Opens the gateway's GraphiQL in headless Chromium, offline, and runs the default query.
// Argument: {url, chromium, screenshot?}. Prints what the page did and showed.
import { argument, launchChromium, offlinePage, output, violations } from "./lib.mjs";

const { url, chromium, screenshot } = argument();
const browser = await launchChromium(chromium);
const pageErrors = [];
const seen = { requests: [], violations: [], pageErrors };
try {
  const page = await offlinePage(browser, seen);
  page.on("console", (message) => {
    if (message.type() === "error") pageErrors.push(message.text());
  });

  const response = await page.goto(url, { waitUntil: "load" });
  seen.csp = response.headers()["content-security-policy"] ?? null;
  await page.locator(".graphiql-query-editor .CodeMirror").waitFor({ timeout: 15000 });
  seen.editorText = await page.evaluate(() =>
    document.querySelector(".graphiql-query-editor .CodeMirror").CodeMirror.getValue(),
  );

  const answered = page.waitForResponse(
    (r) => r.url().startsWith(url) && r.request().method() === "POST" &&
      (r.request().postData() ?? "").includes("meetings(first: 5"),
  );
  await page.locator(".graphiql-execute-button").click();
  const graphqlResponse = await answered;
  seen.answer = await graphqlResponse.json();
  await page.waitForFunction(() => {
    const cm = document.querySelector(".result-window .CodeMirror");
    return cm && cm.CodeMirror.getValue().includes("totalCount");
  });
  seen.resultText = await page.evaluate(() =>
    document.querySelector(".result-window .CodeMirror").CodeMirror.getValue(),
  );

  // The docs pane: open it and read the root types it lists.
  await page.locator('[aria-label="Show Documentation Explorer"]').click();
  const docs = page.locator(".graphiql-doc-explorer");
  await docs.getByText("Root Types").waitFor({ timeout: 10000 });
  seen.docsText = await docs.innerText();

  if (screenshot) await page.screenshot({ path: screenshot });
  seen.violations.push(...(await violations(page)));
} catch (error) {
  // Reported, not thrown: the test shows what the page requested before it failed.
  seen.error = String(error);
} finally {
  await browser.close();
}
output(seen);
