// Starts a real `opsmerge serve` on a free port with a temporary data dir, and a
// headless Debian Chromium driven by playwright-core.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, mkdirSync, readFileSync, readdirSync } from "node:fs";
import { createServer } from "node:net";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

export async function startServer() {
  const binary = process.env.OPSMERGE_BINARY || "build/opsmerge";
  const dataDir = mkdtempSync(join(tmpdir(), "opsmerge-browser-"));
  const child = spawn(binary, ["serve", "--listen", "127.0.0.1:0", "--data-dir", dataDir, "--no-access-log",
                               "--checkin-interval", "2"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  const found = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("server did not start: " + out)), 20000);
    child.stdout.on("data", (chunk) => {
      out += chunk;
      const base = out.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      const setup = out.match(/(http:\/\/\S+\/setup\?token=\S+)/);
      if (base && setup) {
        clearTimeout(timer);
        resolve({ base: base[1], setup: setup[1] });
      }
    });
    child.on("exit", (code) => reject(new Error("server exited " + code)));
  });
  return {
    ...found,
    dataDir,
    binary,
    async stop() {
      child.kill("SIGTERM");
      await new Promise((r) => child.on("exit", r));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

// The first administrator, through the setup address the server printed; signed in
// on the dashboard after.
export const adminPassword = "tram lemon ladder forty-seven";
export async function createFirstAdmin(page, server) {
  await page.goto(server.setup);
  await page.getByLabel("Your name").fill("Ada Admin");
  await page.getByLabel("Email").fill("ada@msp.example");
  await page.getByLabel("Password").fill(adminPassword);
  await page.getByRole("button", { name: "Create administrator" }).click();
  await page.waitForURL((url) => url.pathname === "/");
}

export async function startBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

export function screenshotter(page) {
  const dir = process.env.SCREENSHOT_DIR || "build/screenshots";
  mkdirSync(dir, { recursive: true });
  return (name) => page.screenshot({ path: join(dir, name + ".png"), fullPage: true });
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

// axe-core's critical and serious findings on the page as it is now (WCAG 2.1 A/AA
// and best practice), one line each. The page's context needs bypassCSP: axe is a
// test tool, not page code.
export async function axeViolations(page) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(() =>
    window.axe.run(document, { runOnly: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] }));
  return result.violations
    .filter((v) => v.impact === "critical" || v.impact === "serious")
    .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.length}x, e.g. ${v.nodes[0].target.join(" ")})`);
}

export function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// A real SMTP server on loopback (aiosmtpd, into a maildir): what OpsMerge sent.
export async function startSmtp() {
  const dir = mkdtempSync(join(tmpdir(), "opsmerge-smtp-"));
  const port = await freePort();
  const child = spawn("/usr/bin/python3", ["-m", "aiosmtpd", "-n", "-l", `127.0.0.1:${port}`,
                                           "-c", "aiosmtpd.handlers.Mailbox", join(dir, "maildir")],
                      { stdio: "ignore" });
  return {
    port,
    received() {
      const out = [];
      for (const sub of ["new", "cur"]) {
        let names = [];
        try { names = readdirSync(join(dir, "maildir", sub)); } catch { continue; }
        for (const n of names) out.push(readFileSync(join(dir, "maildir", sub, n), "utf8"));
      }
      return out;
    },
    stop() {
      child.kill("SIGTERM");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function waitFor(check, seconds, what) {
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    const v = check();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error("timed out waiting for " + what);
}
