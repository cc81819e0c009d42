// "Done when" of the client portal, in a real browser against the real server: an
// admin ticks Portal user on a contact; that person asks for a link at /portal, the
// link reaches a real SMTP server, a mail scanner opens it first (GET, GET, HEAD),
// the person still signs in with the button, raises a ticket with a file on a phone,
// and sees the technician's reply arrive. Every portal page is screenshotted at
// phone width and checked with axe.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  startServer, createFirstAdmin, startBrowser, startSmtp, waitFor, screenshotter, axeViolations,
} from "./server.mjs";

let server, browser, smtp, staff, person;

// A 1x1 PNG.
const logo = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==",
  "base64");

before(async () => {
  smtp = await startSmtp();
  server = await startServer();
  browser = await startBrowser();
  staff = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  // A phone (axe needs to run its script: bypassCSP, a test tool only).
  const phone = await browser.newContext({
    viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true,
    bypassCSP: true,
  });
  person = await phone.newPage();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  smtp?.stop();
});

async function checkPage(shot, name) {
  await shot("portal-phone-" + name);
  assert.deepEqual(await axeViolations(person), [], name);
  // Nothing wider than the phone's screen.
  const overflow = await person.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `${name} scrolls sideways by ${overflow}px`);
}

test("a client's person signs in from the emailed link after a scanner opened it, raises a ticket and sees the reply", async () => {
  const shot = screenshotter(person);
  await createFirstAdmin(staff, server);
  await staff.goto(server.base + "/settings/general");
  await staff.getByLabel("Public address").fill(server.base);
  await staff.getByLabel("Send mail from").fill("help@msp.example");
  await staff.getByLabel("Outgoing (SMTP)").fill(`smtp://127.0.0.1:${smtp.port}`);
  await staff.getByLabel("Your company's name").fill("Northwind IT");
  await staff.getByRole("button", { name: "Save" }).click();
  await staff.waitForURL(/saved=1/);
  await staff.getByLabel("Logo").setInputFiles({ name: "logo.png", mimeType: "image/png", buffer: logo });
  await staff.getByRole("button", { name: "Upload logo" }).click();
  await staff.waitForURL(/saved=1/);

  await staff.goto(server.base + "/clients/new");
  await staff.getByLabel("Name", { exact: true }).fill("Acme Corp");
  await staff.getByLabel("Domain", { exact: true }).fill("acmecorp.co.uk");
  await staff.getByRole("button", { name: "Create" }).click();
  await staff.waitForURL(/\/clients\/\d+/);
  const client = staff.url().replace(/[?#].*$/, "");
  await staff.goto(client + "/contacts/new");
  await staff.getByLabel("Name", { exact: true }).fill("Jane Smith");
  await staff.getByLabel("Email", { exact: true }).fill("jane@acmecorp.co.uk");
  await staff.getByLabel("Portal user").check();
  await staff.getByRole("button", { name: "Save" }).click();
  await staff.waitForURL(/notice=contact_saved/);

  // The person, on their phone.
  await person.goto(server.base + "/portal");
  assert.ok(await person.getByText("Northwind IT").first().isVisible());
  assert.ok(await person.locator("img.portal-logo").isVisible(), "the MSP's logo heads the page");
  await checkPage(shot, "sign-in");
  await person.getByLabel("Email").fill("jane@acmecorp.co.uk");
  await person.getByRole("button", { name: "Email me a sign-in link" }).click();
  await person.getByText("Check your email").first().waitFor();
  await checkPage(shot, "link-sent");

  const mail = await waitFor(
    () => smtp.received().find((m) => /^To: jane@acmecorp\.co\.uk/m.test(m)), 40, "the sign-in link");
  const path = mail.replace(/=\r?\n/g, "").match(/\/portal\/auth\/[A-Za-z0-9_-]+/)[0];
  const link = server.base + path;
  assert.ok(mail.replace(/=\r?\n/g, "").includes(link), "the link is on the public address");

  // A mail scanner opens the link before the person does.
  for (const method of ["GET", "GET", "HEAD"]) {
    const r = await fetch(link, { method, redirect: "manual" });
    assert.equal(r.status, 200, method);
  }
  await person.goto(link);
  await checkPage(shot, "link");
  await person.getByRole("button", { name: "Sign in" }).click();
  await person.waitForURL(/\/portal\/tickets$/);
  assert.ok(await person.getByText("Acme Corp").first().isVisible(), "their organisation's name");
  await checkPage(shot, "tickets-empty");

  await person.getByRole("link", { name: "+ New ticket" }).click();
  await checkPage(shot, "new-ticket");
  await person.getByLabel("Subject").fill("Laptop will not charge");
  await person.getByLabel("What's happening?").fill("The charging light stays off since this morning.");
  await person.getByLabel("Attachments").setInputFiles({
    name: "charger.txt", mimeType: "text/plain", buffer: Buffer.from("Model: XPS 13, charger 65W"),
  });
  await person.getByRole("button", { name: "Raise ticket" }).click();
  await person.waitForURL(/\/portal\/tickets\/\d+$/);
  const ticket = person.url();
  assert.ok(await person.getByRole("link", { name: "charger.txt" }).isVisible());

  // The technician answers from the ticket page.
  await staff.goto(server.base + "/tickets");
  await staff.getByRole("link", { name: "Laptop will not charge" }).click();
  await staff.waitForURL(/\/tickets\/\d+$/);
  assert.ok(await staff.getByRole("link", { name: "charger.txt" }).isVisible(), "the file reached the technician");
  await staff.getByLabel("Reply or note").fill("Please try the spare charger at reception.");
  await staff.getByRole("button", { name: "Send reply" }).click();
  await staff.waitForURL(/#latest/);

  await person.goto(ticket);
  assert.ok(await person.getByText("Please try the spare charger at reception.").isVisible());
  await checkPage(shot, "ticket");
  await person.goto(server.base + "/portal/tickets");
  await checkPage(shot, "tickets");

  // The link was single-use: a second sign-in with it fails and offers a new one.
  await person.goto(link);
  assert.ok(await person.getByText(/no longer/i).first().isVisible());
  await checkPage(shot, "link-used");
});
