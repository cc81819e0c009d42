// "Done when" of the email gateway, in a real browser against the real server: mail
// from a client's domain arrives through the pipe, a technician answers it from the
// ticket page, the answer reaches a real SMTP server (aiosmtpd on loopback), and the
// client's reply to it threads back onto the same ticket.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { startServer, createFirstAdmin, startBrowser, startSmtp, waitFor } from "./server.mjs";

let server, browser, page, smtp;

function ingest(raw) {
  const r = spawnSync(server.binary, ["mail", "ingest", "--data-dir", server.dataDir], { input: raw });
  assert.equal(r.status, 0, String(r.stderr));
  return String(r.stdout);
}

before(async () => {
  smtp = await startSmtp();
  server = await startServer();
  browser = await startBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
});

after(async () => {
  await browser?.close();
  await server?.stop();
  smtp?.stop();
});

test("a technician answers an emailed ticket and the client's reply threads", async () => {
  await createFirstAdmin(page, server);

  // The mail settings, on the Settings page.
  await page.goto(server.base + "/settings/general");
  await page.getByLabel("Send mail from").fill("help@msp.example");
  await page.getByLabel("Outgoing (SMTP)").fill(`smtp://127.0.0.1:${smtp.port}`);
  await page.getByRole("button", { name: "Save" }).click();
  await page.waitForURL(/saved=1/);

  await page.goto(server.base + "/clients/new");
  await page.getByLabel("Name", { exact: true }).fill("Acme Corp");
  await page.getByLabel("Domain", { exact: true }).fill("acmecorp.co.uk");
  await page.getByRole("button", { name: "Create" }).click();
  await page.waitForURL(/\/clients\/\d+/);

  // Mail from the client's domain: a ticket under that client.
  const out = ingest("From: Jo Bloggs <jo@acmecorp.co.uk>\r\nTo: help@msp.example\r\n" +
                     "Subject: Scanner not working\r\nMessage-ID: <scan-1@acmecorp.co.uk>\r\n\r\n" +
                     "The scanner on the first floor shows error E42.\r\n");
  assert.match(out, /Routed to Acme Corp by domain/);
  await page.goto(server.base + "/tickets");
  await page.getByRole("link", { name: "Scanner not working" }).click();
  await page.waitForURL(/\/tickets\/\d+$/);
  const ticketUrl = page.url();
  assert.ok(await page.getByText("The scanner on the first floor shows error E42.").isVisible());

  await page.getByLabel("Reply or note").fill("Please switch it off and on; we are on our way.");
  await page.getByRole("button", { name: "Send reply" }).click();
  await page.waitForURL(/#latest/);

  // The queue sends it (every 15 s at most): the answer, tagged, threaded.
  const answer = await waitFor(
    () => smtp.received().find((m) => m.includes("we are on our way")), 40, "the reply at the SMTP server");
  assert.match(answer, /^Subject: Re: \[#\d+\] Scanner not working/m);
  assert.match(answer, /^To: jo@acmecorp\.co\.uk/m);
  const id = answer.match(/^Message-ID: (<[^>]+>)/m)[1];

  // Jo answers from their mail client: it lands on the same ticket.
  const back = ingest(`From: jo@acmecorp.co.uk\r\nTo: help@msp.example\r\nSubject: Re: Scanner\r\n` +
                      `Message-ID: <scan-2@acmecorp.co.uk>\r\nIn-Reply-To: ${id}\r\n\r\n` +
                      `Done, it works now.\r\n\r\nOn Wed, 2 Dec 2026 at 10:00, Help <help@msp.example> wrote:\r\n> Please switch\r\n`);
  assert.match(back, /^reply: added to ticket/);
  await page.goto(ticketUrl);
  assert.ok(await page.getByText("Done, it works now.").isVisible());
  assert.equal(await page.getByText("> Please switch").count(), 0, "quoted history is trimmed");
});
