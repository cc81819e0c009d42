// "Done when" of contracts and invoices, in a real browser against the real server:
// a client gets a contract on its Contracts tab, the month is run from Invoices, the
// draft shows how each line was worked out, it is issued with the next number, and
// its PDF downloads. The billing pages pass axe.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { startServer, createFirstAdmin, startBrowser, screenshotter, axeViolations } from "./server.mjs";

let server, browser, context, page;

before(async () => {
  server = await startServer();
  browser = await startBrowser();
  context = await browser.newContext({ bypassCSP: true, acceptDownloads: true,
                                       viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test("from a contract on the client's page to an issued invoice and its PDF", async () => {
  const shot = screenshotter(page);
  const found = [];
  const axe = async (what) => { for (const v of await axeViolations(page)) found.push(`${what}: ${v}`); };
  await createFirstAdmin(page, server);

  await page.goto(server.base + "/settings/general");
  await page.getByLabel("Your company's name").fill("Northwind IT Ltd");
  await page.getByLabel("Your address, as invoices print it").fill("1 High Street\nLeeds LS1 1AA");
  await page.getByLabel("VAT number").fill("GB123456789");
  await page.getByRole("button", { name: "Save" }).click();
  await page.waitForURL(/saved=1/);

  await page.goto(server.base + "/clients/new");
  await page.getByLabel("Name", { exact: true }).fill("Café Zoë Ltd");
  await page.getByRole("button", { name: "Create" }).click();
  await page.waitForURL(/\/clients\/\d+/);
  const clientId = page.url().match(/\/clients\/(\d+)/)[1];

  await page.getByRole("link", { name: /Contracts/ }).click();
  await page.waitForURL(/\/contracts$/);
  await axe("contracts tab");
  await page.getByLabel("Name", { exact: true }).fill("Managed desktops");
  await page.getByLabel("Includes").selectOption("per_endpoint");
  await page.getByLabel("Start date").fill("2026-11-11");
  await page.getByLabel("Monthly fee (£)").fill("120");
  await page.getByLabel("Per endpoint (£)").fill("17.99");
  await page.getByRole("button", { name: "Add contract" }).click();
  await page.waitForURL(/notice=contract_added/);
  assert.ok(await page.getByText("£120.00 a month + £17.99 per endpoint").isVisible());
  await page.getByLabel("Address printed on Café Zoë Ltd's invoices").fill("3 Rue d'Été\nLondon");
  await page.getByRole("button", { name: "Save address" }).click();
  await page.waitForURL(/notice=address_saved/);
  await page.getByRole("link", { name: "Managed desktops" }).click();
  await page.waitForURL(/\/contracts\/\d+$/);
  await axe("contract page");

  await page.getByRole("link", { name: "Invoices", exact: true }).first().click();
  await page.waitForURL(/\/invoices$/);
  await axe("invoices");
  await page.getByLabel("Month", { exact: true }).first().fill("2026-11");
  await page.getByRole("button", { name: "Make drafts" }).click();
  await page.waitForURL(/ran=/);
  assert.ok(await page.getByText("November 2026: 1 draft made").isVisible());
  await page.getByRole("link", { name: /^Draft \d+$/ }).click();
  await page.waitForURL(/\/invoices\/\d+$/);
  await axe("draft invoice");
  // £120 x 20/30 = £80.00; no endpoints yet: 0 x £17.99.
  assert.ok(await page.getByText("£120.00 a month x 20/30 days").isVisible());
  assert.ok(await page.getByText("0 endpoints x £17.99 x 20/30 days").isVisible());
  assert.ok(await page.locator("tfoot").getByText("£96.00").isVisible(), "total with VAT");
  await shot("billing-draft");

  await page.getByRole("button", { name: "Issue", exact: true }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByText(/Issue this invoice\? It gets the next number/).waitFor();
  await dialog.getByRole("button", { name: "Issue", exact: true }).click();
  await page.waitForURL(/notice=issued/);
  assert.ok(await page.getByRole("heading", { name: /Invoice INV-000001/ }).isVisible());
  assert.ok(await page.getByText("VAT number GB123456789").isVisible());
  await axe("issued invoice");
  await shot("billing-issued");

  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("link", { name: "Download PDF" }).click(),
  ]);
  assert.equal(download.suggestedFilename(), "INV-000001.pdf");
  const pdf = readFileSync(await download.path());
  assert.equal(pdf.subarray(0, 5).toString(), "%PDF-");

  await page.goto(`${server.base}/clients/${clientId}/invoices`);
  assert.ok(await page.getByRole("link", { name: "INV-000001" }).isVisible());
  await axe("client invoices tab");
  assert.deepEqual(found, []);
});
