// Walks "Add your first client" Steps 1-3 exactly as the guide words them, then a
// merge from the client list, in headless Chromium against the real server.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { startServer, createFirstAdmin, startBrowser, screenshotter, axeViolations } from "./server.mjs";

let server, browser, page, shot;
const sidebar = () => page.getByRole("navigation", { name: "Main" });
const problems = [];

before(async () => {
  server = await startServer();
  browser = await startBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on("console", (m) => { if (m.type() === "error") problems.push(m.text()); });
  page.on("pageerror", (e) => problems.push(e.message));
  // Confirmations are the layout's modal: a browser pop-up is a problem.
  page.on("dialog", (d) => { problems.push(`browser pop-up: ${d.message()}`); d.dismiss(); });
  shot = screenshotter(page);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test("first admin is created from the setup address", async () => {
  await createFirstAdmin(page, server);
  await shot("00-signed-in");
});

test("Step 1: create the client", async () => {
  await sidebar().getByRole("link", { name: "Clients", exact: true }).click();   // 1. Open Clients in the left sidebar.
  await page.getByRole("link", { name: "+ New client" }).click();           // 2. Click + New client.
  await page.getByLabel("Name", { exact: true }).fill("Acme Corp");         // 3. Fill in Name, Domain, Contact email.
  await page.getByLabel("Domain", { exact: true }).fill("acmecorp.co.uk");
  await page.getByLabel("Contact email").fill("it@acmecorp.co.uk");
  await shot("01-new-client");
  await page.getByRole("button", { name: "Create" }).click();               // 4. Click Create.
  await page.waitForURL(/\/clients\/\d+/);
  assert.equal(await page.getByRole("heading", { name: "Acme Corp" }).count(), 1);
  assert.ok(await page.getByText("No contract: billed ad-hoc").isVisible(), "default no-frills setup");
  await shot("02-client-page");
});

test("Step 2: add a contact, VIP and portal user", async () => {
  await page.getByRole("link", { name: /^Contacts/ }).click();              // 1. Click the Contacts tab.
  await page.getByRole("link", { name: "+ New contact" }).click();          // 2. Click + New contact.
  await page.getByLabel("Name", { exact: true }).fill("Jo Bloggs");         // 3. name, email, phone, job title
  await page.getByLabel("Email", { exact: true }).fill("jo@acmecorp.co.uk");
  await page.getByLabel("Phone").fill("020 7946 0000");
  await page.getByLabel("Job title").fill("Office manager");
  await page.getByLabel("VIP").check();                                     // 4. Tick VIP.
  await page.getByLabel("Portal user").check();
  await shot("03-new-contact");
  await page.getByRole("button", { name: "Save" }).click();                 // 5. Save.
  await page.waitForURL(/\/contacts\?notice=contact_saved/);
  const row = page.getByRole("row", { name: /Jo Bloggs/ });
  assert.ok(await row.getByText("VIP", { exact: true }).isVisible());
  assert.ok(await row.getByText("Portal user", { exact: true }).isVisible());
  await shot("04-contacts");
});

test("Step 3: add a site", async () => {
  await page.getByRole("link", { name: /^Sites/ }).click();                 // client page -> Sites tab
  await page.getByRole("link", { name: "+ New site" }).click();             // -> + New site
  await page.getByLabel("Name", { exact: true }).fill("London office");
  await page.getByRole("button", { name: "Save" }).click();
  await page.waitForURL(/\/sites\?notice=site_saved/);
  assert.ok(await page.getByRole("cell", { name: "London office" }).isVisible());
  await shot("05-sites");
});

test("Step 5: Add agent issues a token scoped to this client; the agent lands there", async () => {
  // From Acme Corp's page (the client created in Step 1).
  await page.getByRole("link", { name: /^Overview/ }).click();
  await page.getByRole("link", { name: "Add agent" }).click();
  await page.getByLabel("Site").selectOption({ label: "London office" });
  await page.getByRole("button", { name: "Generate token" }).click();
  const token = (await page.locator("#token").textContent()).trim();
  const install = (await page.locator("#install-linux").textContent()).trim();
  const windows = (await page.locator("#install-windows").textContent()).trim();
  await page.getByRole("button", { name: "Copy Linux command" }).click();
  await page.getByRole("button", { name: "Copied" }).waitFor();
  assert.match(token, /^omt_[A-Za-z0-9_-]{40,}$/);
  assert.ok(install.includes(token) && install.includes("/agent/install.sh"));
  // Windows: PowerShell asks for the token and installs the MSI with it in a file.
  assert.ok(windows.includes("/agent/download/windows-amd64.msi") && windows.includes("TOKENFILE="));
  assert.ok(!windows.includes(token), "the token is pasted at the prompt, not part of the command");
  await shot("06-add-agent");
  // Run the agent the way the install script does: token on stdin, never in argv.
  const agentBin = join(dirname(server.binary), "opsmerge-agent");
  const config = join(server.dataDir, "agent.json");
  const enrol = spawnSync(agentBin, ["enroll", "--server", server.base, "--config", config], { input: token + "\n" });
  assert.equal(enrol.status, 0, enrol.stderr.toString());
  const agent = spawn(agentBin, ["run", "--config", config], { stdio: "ignore" });
  try {
    await page.getByRole("link", { name: /^Endpoints/ }).first().click();
    const row = page.getByRole("row").filter({ hasText: "London office" });
    // The page is server-rendered: look again until the first check-in has arrived.
    for (let i = 0; i < 30 && !(await row.getByText("online").count()); i++) {
      await new Promise((r) => setTimeout(r, 500));
      await page.reload();
    }
    assert.equal(await row.count(), 1, "the endpoint is in Acme Corp, site London office");
    assert.ok(await row.getByText("online").isVisible());
    await shot("07-endpoints");
    await row.getByRole("link").first().click();
    await page.waitForURL(/\/endpoints\/\d+/);
    assert.ok(await page.getByText("Operating system").isVisible());
    await shot("08-endpoint");
    // The endpoint pages with a real agent's inventory: axe and the phone width,
    // and screenshots at both widths for review.
    const endpointUrl = page.url();
    const checker = await browser.newContext({ bypassCSP: true });
    await checker.addCookies(await page.context().cookies());
    const p = await checker.newPage();
    const review = screenshotter(p);
    const found = [];
    const clientId = await page.getByRole("link", { name: "Acme Corp" }).first().getAttribute("href");
    for (const [name, url] of [["endpoint", endpointUrl], ["endpoint-list", `${server.base}/endpoints`],
                               ["client-endpoints", `${server.base}${clientId}/endpoints`],
                               ["client-page", `${server.base}${clientId}`], ["dashboard", `${server.base}/`]]) {
      for (const width of [1280, 390]) {
        await p.setViewportSize({ width, height: 900 });
        await p.goto(url);
        // axe once per page (its rules do not depend on the width); the width check
        // and the screenshot at both.
        if (width === 1280) for (const v of await axeViolations(p)) found.push(`${name}: ${v}`);
        const scroll = await p.evaluate(() => document.documentElement.scrollWidth);
        if (scroll > width) found.push(`${name} at ${width}px scrolls sideways (${scroll}px)`);
        await review(`review-${name}-${width}`);
      }
    }
    await checker.close();
    assert.deepEqual(found, []);
  } finally {
    agent.kill("SIGTERM");
  }
});

test("search narrows the list as you type (htmx)", async () => {
  await sidebar().getByRole("link", { name: "Clients", exact: true }).click();
  for (const name of ["ACME Corporation Ltd", "Zebra Dental"]) {
    await page.getByRole("link", { name: "+ New client" }).click();
    await page.getByLabel("Name", { exact: true }).fill(name);
    await page.getByRole("button", { name: "Create" }).click();
    await page.waitForURL(/\/clients\/\d+/);
    await sidebar().getByRole("link", { name: "Clients", exact: true }).click();
  }
  await page.getByLabel("Search clients", { exact: true }).fill("zebra");
  await page.waitForFunction(() => !document.querySelector("#client-results")?.textContent.includes("Acme Corp"));
  assert.ok(await page.getByRole("link", { name: "Zebra Dental" }).isVisible());
  await shot("09-search");
});

test("merge from the client list: select both, Merge", async () => {
  await page.goto(server.base + "/clients");
  const merge = page.getByRole("button", { name: "Merge", exact: true });
  const archive = page.getByRole("button", { name: "Archive", exact: true });
  // Bulk actions wait for a selection, and say how many are ticked.
  assert.ok(await merge.isDisabled());
  assert.ok(await archive.isDisabled());
  await page.getByLabel("Select Acme Corp", { exact: true }).check();
  assert.ok(await archive.isEnabled());
  assert.ok(await merge.isDisabled(), "merging needs two");
  await page.getByLabel("Select ACME Corporation Ltd", { exact: true }).check();
  assert.ok(await page.getByText("2 selected").isVisible());
  await merge.click();
  await page.waitForURL(/\/clients\/selection/);
  await page.getByRole("radio").first().check();
  await shot("10-merge-review");
  await page.getByRole("button", { name: "Merge", exact: true }).click();
  // One confirmation style: the layout's modal, named after the action; Cancel
  // sends nothing.
  const dialog = page.getByRole("dialog");
  await dialog.getByText("Merge these clients? This cannot be undone.").waitFor();
  await shot("10b-merge-confirm");
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await dialog.waitFor({ state: "hidden" });
  assert.match(page.url(), /\/clients\/selection/);
  await page.getByRole("button", { name: "Merge", exact: true }).click();
  await dialog.getByRole("button", { name: "Merge", exact: true }).click();
  await page.waitForURL(/notice=merged/);
  assert.ok(await page.getByText("Clients merged.").isVisible());
  await page.goto(server.base + "/clients");
  assert.equal(await page.getByRole("link", { name: "ACME Corporation Ltd" }).count(), 0);
  assert.equal(await page.getByRole("link", { name: "Acme Corp", exact: true }).count(), 1);
  await shot("11-after-merge");
});

test("no script errors or CSP violations on any page", () => {
  assert.deepEqual(problems, []);
});
