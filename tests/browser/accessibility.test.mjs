// Every page state, checked the way screen-reader and phone users meet them:
// axe-core (WCAG 2.1 A/AA and best practice) must find no critical or serious
// violation, and at 390 px wide no page may scroll sideways.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, createFirstAdmin, adminPassword, startBrowser, screenshotter, axeViolations } from "./server.mjs";

let server, browser, page, shot;
let clientId, contactId, siteId, ticketPath;

async function signIn() {
  await page.goto(server.base + "/login");
  await page.getByLabel("Email").fill("ada@msp.example");
  await page.getByLabel("Password").fill(adminPassword);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((url) => url.pathname === "/");
}

before(async () => {
  server = await startServer();
  browser = await startBrowser();
  // The page's CSP allows no injected script; axe is a test tool, not page code.
  page = await browser.newPage({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
  page.on("dialog", (d) => d.accept());
  shot = screenshotter(page);
  await createFirstAdmin(page, server);
  // Some data, so lists, tabs and badges are drawn.
  for (const [name, domain] of [["Acme Corp", "acmecorp.co.uk"], ["Acme Holdings", "acmeholdings.co.uk"],
                                ["ACME Corporation Ltd", ""]]) {
    await page.goto(server.base + "/clients/new");
    await page.getByLabel("Name", { exact: true }).fill(name);
    await page.getByLabel("Domain", { exact: true }).fill(domain);
    await page.getByRole("button", { name: "Create" }).click();
    await page.waitForURL(/\/clients\/\d+/);
    if (!clientId) clientId = page.url().match(/\/clients\/(\d+)/)[1];
  }
  const base = `${server.base}/clients/${clientId}`;
  await page.goto(base + "/contacts/new");
  await page.getByLabel("Name", { exact: true }).fill("Jane Smith");
  await page.getByLabel("Email").fill("jane@acmecorp.co.uk");
  await page.getByRole("button", { name: /Create|Save|Add/ }).first().click();
  await page.goto(base + "/sites/new");
  await page.getByLabel("Name", { exact: true }).fill("London office");
  await page.getByRole("button", { name: /Create|Save|Add/ }).first().click();
  await page.goto(base);
  await page.getByLabel(/is …/).fill("Subsidiary of");
  await page.getByLabel(/of client/).fill("Acme Holdings");
  await page.getByRole("button", { name: "Add link" }).click();
  await page.goto(base + "/contacts");
  contactId = (await page.locator("a[href*='/contacts/'][href$='/edit']").first().getAttribute("href"))
    .match(/contacts\/(\d+)/)[1];
  await page.goto(`${server.base}/tickets/new?client_id=${clientId}`);
  await page.getByLabel("Subject").fill("Printer offline");
  await page.getByLabel("Description").fill("Since this morning.");
  await page.getByRole("button", { name: "Open ticket" }).click();
  await page.waitForURL(/\/tickets\/\d+$/);
  ticketPath = new URL(page.url()).pathname;
  await page.getByLabel("Reply or note").fill("Looking now.");
  await page.getByRole("button", { name: "Send reply" }).click();
  await page.waitForURL(/\/tickets\/\d+/);
  await page.goto(base + "/sites");
  siteId = (await page.locator("a[href*='/sites/'][href$='/edit']").first().getAttribute("href"))
    .match(/sites\/(\d+)/)[1];
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

function pages() {
  const c = `/clients/${clientId}`;
  return [
    "/", "/search?q=acme", "/search?q=nothing-like-this", "/clients", "/clients?q=acme", "/clients/new", "/clients/duplicates", "/clients/import",
    c, `${c}/edit`, `${c}/contacts`, `${c}/contacts/new`, `${c}/contacts/${contactId}`, `${c}/contacts/${contactId}/edit`,
    `${c}/sites`, `${c}/sites/new`, `${c}/sites/${siteId}/edit`, `${c}/history`,
    `${c}/endpoints`, `${c}/add-agent`, `${c}/delete`,
    "/tickets", "/tickets?view=triage", "/tickets/new", `/tickets/new?client_id=${clientId}`, ticketPath,
    `${c}/tickets`, "/endpoints", "/settings/staff", "/settings/api-keys", "/settings/audit", "/settings/general", "/settings/m365", "/account",
  ];
}

const violations = () => axeViolations(page);

test("no critical or serious axe violations on any page, signed in or out", async () => {
  const found = [];
  for (const path of pages()) {
    await page.goto(server.base + path);
    for (const v of await violations()) found.push(`${path}: ${v}`);
    const mains = await page.locator("h1, h2.page-title, main h2").count();
    assert.ok(mains >= 1, `${path} has a heading`);
  }
  const context = await browser.newContext({ bypassCSP: true });
  const signedOut = await context.newPage();
  const keep = page;
  page = signedOut;
  await page.goto(server.base + "/login");
  for (const v of await violations()) found.push(`/login: ${v}`);
  page = keep;
  await context.close();
  assert.deepEqual(found, []);
});

test("a skip link leads past the sidebar to the page's content", async () => {
  await page.goto(server.base + "/clients");
  await page.keyboard.press("Tab");
  const focused = await page.evaluate(() => document.activeElement?.textContent?.trim());
  assert.equal(focused, "Skip to content");
  assert.equal(await page.locator("main#content").count(), 1);
});

test("at phone width (390 px) the menu is a button and no page scrolls sideways", async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  const wide = [];
  for (const path of pages()) {
    await page.goto(server.base + path);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    if (width > 390) wide.push(`${path}: ${width}px`);
  }
  assert.deepEqual(wide, []);
  await page.goto(server.base + "/clients");
  const menu = page.getByRole("button", { name: "Menu" });
  assert.ok(await menu.isVisible(), "a menu button");
  assert.ok(!(await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Endpoints" }).isVisible()),
    "the sidebar is folded away");
  await menu.click();
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Endpoints" }).waitFor();
  await shot("phone-clients-menu");
  await page.goto(server.base + `/clients/${clientId}`);
  await shot("phone-client-page");
  await page.goto(server.base + "/endpoints");
  await shot("phone-endpoints");
  await page.goto(server.base + "/");
  await shot("phone-dashboard");
  await page.setViewportSize({ width: 1280, height: 900 });
});

test("an import shows its preview accessibly, and nothing is written until asked", async () => {
  await page.goto(server.base + "/clients/import");
  await page.getByLabel("…or paste it here").fill(
    "name,email,vip\nNew Person,new@acmecorp.co.uk,yes\nJane Again,jane@acmecorp.co.uk,\nBad Flag,bad@acmecorp.co.uk,perhaps\n");
  await page.getByRole("button", { name: "Preview" }).click();
  await page.locator("#import-preview").waitFor();
  const found = await violations();
  assert.deepEqual(found, []);
  assert.ok(await page.getByText("1 new").isVisible());
  assert.ok(await page.getByText("vip must be yes or no").isVisible());
  assert.equal(await page.getByRole("button", { name: /^Import / }).count(), 0, "errors block the import");
  await shot("import-preview");
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 1280, `no sideways scroll (${width}px)`);
});

test("the search box at the top of every page drops down what it finds", async () => {
  await page.goto(server.base + "/clients");
  const box = page.getByRole("searchbox", { name: "Search clients, contacts and endpoints" });
  await box.fill("jane");
  const result = page.locator("#global-search-results").getByRole("link", { name: "Jane Smith" });
  await result.waitFor();
  for (const v of await violations()) assert.fail(`search drop-down: ${v}`);
  await shot("search-drop-down");
  await result.click();
  await page.waitForURL(new RegExp(`/clients/${clientId}/contacts/${contactId}$`));
  await page.goto(server.base + "/");
  await shot("dashboard");
});
