// Starts a real `opsmerge serve` on a free port with a temporary data dir, and a
// headless Debian Chromium driven by playwright-core.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, mkdirSync } from "node:fs";
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
