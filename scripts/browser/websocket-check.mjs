// Real-browser check of examples/websocket.rs: headless Chromium (Debian's,
// driven by playwright-core) opens the example's page with a real token in
// the fragment, and the page's `new WebSocket(url, ["jwt", token])` must
// authenticate, open with subprotocol `jwt`, and round-trip a message.
// A second run with JWT_WEBSOCKET_ECHO=off (the 101 does not select `jwt`)
// must see the browser refuse the socket: that proves the echo matters.
//
// Everything is local: an ES256 key made here, its JWKS served by node on
// 127.0.0.1, the example bound to 127.0.0.1:0. Usage (from the repo root):
//
//   WEBSOCKET_BIN=target/debug/examples/websocket node scripts/browser/websocket-check.mjs
//
// Environment: WEBSOCKET_BIN (default target/debug/examples/websocket),
// CHROMIUM (default /usr/bin/chromium), OUT_DIR for the screenshots
// (default target/browser-check/); relative paths are taken from the repo
// root. Exits non-zero on any failure; a missing Chromium is a failure.

import { spawn } from "node:child_process";
import { accessSync, constants, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { SignJWT, exportJWK, generateKeyPair } from "jose";
import { chromium } from "playwright-core";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const fromRoot = (p) => (isAbsolute(p) ? p : resolve(ROOT, p));
const show = (p) => (p.startsWith(ROOT + "/") ? relative(ROOT, p) : p);

const BIN = fromRoot(process.env.WEBSOCKET_BIN || "target/debug/examples/websocket");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const OUT_DIR = fromRoot(process.env.OUT_DIR || "target/browser-check");
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const STATUS_TIMEOUT_MS = 15_000;
const START_TIMEOUT_MS = 15_000;
const WATCHDOG_MS = 120_000;
const AUDIENCE = "jwt-layer-browser-check";
const SUBJECT = "browser-user";

/** Every example process started, so that any exit path can stop it. */
const children = new Set();
/** Temporary Chromium profiles, removed at the end. */
const profiles = new Set();

/** Open browser contexts, closed first when the check is cut short. */
const contexts = new Set();

function fail(message) {
  console.error(`FAIL: ${message}`);
  process.exit(1);
}

/** Cut short (signal, watchdog): close the browsers, then exit (which stops the examples). */
async function abort(message) {
  console.error(`FAIL: ${message}`);
  const closing = Promise.allSettled([...contexts].map((c) => c.close()));
  await Promise.race([closing, new Promise((ok) => setTimeout(ok, 5_000))]);
  process.exit(1);
}

function executable(path, what, hint) {
  try {
    accessSync(path, constants.X_OK);
  } catch {
    fail(`${what} not found or not executable at ${path}: ${hint}`);
  }
}

// Last resort on any exit (including process.exit and uncaught errors):
// SIGKILL what is still running; the normal path stops them with SIGTERM.
process.on("exit", () => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
  for (const dir of profiles) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch (e) {
      console.error(`could not remove the Chromium profile ${dir}: ${e.message}`);
    }
  }
});
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, () => abort(`interrupted by ${signal}`));
}
setTimeout(() => abort(`the whole check took longer than ${WATCHDOG_MS / 1000} s`), WATCHDOG_MS).unref();

/** Serves `jwks` at /jwks.json on 127.0.0.1 (a free port); counts fetches. */
async function serveJwks(jwks) {
  const served = { fetches: 0 };
  const body = JSON.stringify(jwks);
  const server = http.createServer((req, res) => {
    if (req.method === "GET" && req.url === "/jwks.json") {
      served.fetches += 1;
      res.writeHead(200, { "content-type": "application/json", "cache-control": "max-age=300" });
      res.end(body);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise((ok, err) => server.once("error", err).listen(0, "127.0.0.1", ok));
  const { port } = server.address();
  served.origin = `http://127.0.0.1:${port}`;
  served.url = `${served.origin}/jwks.json`;
  served.close = () => new Promise((ok) => server.close(ok));
  return served;
}

/** Starts the example; resolves with its address once it says it listens. */
function startExample(env) {
  const childEnv = { ...process.env, ...env };
  delete childEnv.JWT_OIDC_ISSUER; // the example refuses both key settings at once
  const child = spawn(BIN, [], { env: childEnv, stdio: ["ignore", "pipe", "pipe"] });
  children.add(child);
  const stderr = [];
  child.stderr.setEncoding("utf8").on("data", (d) => stderr.push(d));
  const stopped = new Promise((ok) => child.once("exit", (code, signal) => ok({ code, signal })));
  const ready = new Promise((ok, err) => {
    let out = "";
    const timer = setTimeout(
      () => err(new Error(`no "listening on" line within ${START_TIMEOUT_MS / 1000} s`)),
      START_TIMEOUT_MS,
    );
    child.stdout.setEncoding("utf8").on("data", (d) => {
      out += d;
      const m = out.match(/^listening on (http:\/\/\S+)$/m);
      if (m) {
        clearTimeout(timer);
        ok(m[1]);
      }
    });
    child.once("error", (e) => {
      clearTimeout(timer);
      err(e);
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      err(new Error(`exited (${signal ?? `code ${code}`}) before listening: ${stderr.join("").trim()}`));
    });
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    const result = await stopped;
    clearTimeout(timer);
    children.delete(child);
    return result;
  };
  return { ready, stop, stderr, pid: child.pid };
}

/**
 * The raw handshake, as a non-browser client would send it: what the 101
 * (or refusal) says about Sec-WebSocket-Protocol. Explains the browser's
 * verdict; the browser's own verdict is what the check judges.
 */
function probeHandshake(base, token) {
  return new Promise((ok, err) => {
    const req = http.request(new URL("/ws", base), {
      headers: {
        Connection: "Upgrade",
        Upgrade: "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Protocol": `jwt, ${token}`,
      },
      timeout: 5_000,
    });
    req.on("upgrade", (res, socket) => {
      socket.destroy();
      ok({ status: res.statusCode, protocol: res.headers["sec-websocket-protocol"] ?? null });
    });
    req.on("response", (res) => {
      res.resume();
      ok({ status: res.statusCode, protocol: res.headers["sec-websocket-protocol"] ?? null });
    });
    req.on("timeout", () => req.destroy(new Error("handshake probe timed out")));
    req.on("error", err);
    req.end();
  });
}

/** Opens the page in a fresh headless Chromium, waits for a final status. */
async function runBrowser(base, token, screenshot) {
  const profile = mkdtempSync(join(tmpdir(), "jwt-layer-chromium-"));
  profiles.add(profile);
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 30_000,
  });
  contexts.add(context);
  const seen = { console: [], pageErrors: [], sockets: [], refused: [] };
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    page.on("console", (m) => {
      const at = m.location()?.url;
      const path = at ? new URL(at).pathname : "";
      seen.console.push(`${m.type()}: ${m.text()}${path && path !== "/" ? ` (${path})` : ""}`);
    });
    page.on("pageerror", (e) => seen.pageErrors.push(String(e)));
    page.on("response", (r) => {
      if (r.status() >= 400) seen.refused.push(`${r.status()} ${new URL(r.url()).pathname}`);
    });
    page.on("websocket", (ws) => {
      const entry = { url: ws.url().replace(/\/\/[^/]+/, "//<addr>"), sent: 0, received: 0, error: null };
      seen.sockets.push(entry);
      ws.on("framesent", () => (entry.sent += 1));
      ws.on("framereceived", () => (entry.received += 1));
      ws.on("socketerror", (e) => (entry.error = String(e)));
    });
    await page.goto(`${base}/#token=${token}`, { waitUntil: "load", timeout: STATUS_TIMEOUT_MS });
    let timedOut = false;
    try {
      await page.waitForFunction(
        () => {
          const s = document.getElementById("status")?.textContent ?? "";
          return s === "round trip ok" || s.startsWith("closed ");
        },
        null,
        { timeout: STATUS_TIMEOUT_MS, polling: 50 },
      );
    } catch (e) {
      if (e?.name !== "TimeoutError") throw e;
      timedOut = true;
    }
    const state = await page.evaluate(() => ({
      status: document.getElementById("status").textContent,
      protocol: document.getElementById("protocol").textContent,
      log: [...document.querySelectorAll("#log li")].map((li) => li.textContent),
    }));
    await page.screenshot({ path: screenshot, fullPage: true });
    const userAgent = await page.evaluate(() => navigator.userAgent);
    return { ...state, timedOut, ...seen, userAgent };
  } finally {
    await context.close();
    contexts.delete(context);
    rmSync(profile, { recursive: true, force: true });
    profiles.delete(profile);
  }
}

const CASES = [
  {
    name: "websocket-echo",
    echo: "on",
    expect(r) {
      const problems = [];
      if (r.status !== "round trip ok") problems.push(`status is "${r.status}", want "round trip ok"`);
      if (r.protocol !== "jwt") problems.push(`protocol is "${r.protocol}", want "jwt"`);
      if (!r.log.includes(`received: hello ${SUBJECT}`)) problems.push(`log lacks "received: hello ${SUBJECT}"`);
      if (!r.log.includes("received: ping from the browser")) problems.push(`log lacks the echoed ping`);
      if (r.handshake.status !== 101 || r.handshake.protocol !== "jwt") {
        problems.push(`raw handshake: ${r.handshake.status}, protocol ${r.handshake.protocol}; want 101 with jwt`);
      }
      return problems;
    },
  },
  {
    name: "websocket-no-echo",
    echo: "off",
    expect(r) {
      const problems = [];
      if (!/^closed \d+$/.test(r.status)) problems.push(`status is "${r.status}", want "closed <code>"`);
      if (r.protocol !== "-") problems.push(`protocol is "${r.protocol}": the socket opened`);
      if (r.log.some((l) => l.startsWith("received:"))) problems.push("a message was received: the socket opened");
      // The server accepted the token (101): the refusal is the browser's.
      if (r.handshake.status !== 101 || r.handshake.protocol !== null) {
        problems.push(`raw handshake: ${r.handshake.status}, protocol ${r.handshake.protocol}; want 101 without one`);
      }
      return problems;
    },
  },
];

async function main() {
  executable(BIN, "the websocket example", "build it with `cargo build --example websocket` or set WEBSOCKET_BIN");
  executable(
    CHROMIUM,
    "Chromium",
    "install Debian's chromium (`apt-get install -y chromium`, as scripts/browser-websocket.sh does) or set CHROMIUM",
  );
  mkdirSync(OUT_DIR, { recursive: true });

  const { publicKey, privateKey } = await generateKeyPair("ES256");
  const kid = "browser-check-es256";
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: "ES256", use: "sig" };
  const jwks = await serveJwks({ keys: [jwk] });
  const issuer = jwks.origin;
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({})
    .setProtectedHeader({ alg: "ES256", kid, typ: "JWT" })
    .setIssuer(issuer)
    .setAudience(AUDIENCE)
    .setSubject(SUBJECT)
    .setIssuedAt(now)
    .setExpirationTime(now + 300)
    .sign(privateKey);
  console.log(`JWKS ${jwks.url} (ES256, kid ${kid}); token sub ${SUBJECT}, iss ${issuer}, aud ${AUDIENCE}, exp now+300 s`);
  console.log(`example ${show(BIN)}; chromium ${CHROMIUM}; screenshots in ${show(OUT_DIR)}/`);

  let passed = 0;
  let failed = 0;
  try {
    for (const c of CASES) {
      const started = Date.now();
      const example = startExample({
        JWT_JWKS_URL: jwks.url,
        JWT_ISSUER: issuer,
        JWT_AUDIENCE: AUDIENCE,
        JWT_LEEWAY_SECS: "5",
        BIND: "127.0.0.1:0",
        JWT_WEBSOCKET_ECHO: c.echo,
      });
      let problems;
      let result;
      const screenshot = join(OUT_DIR, `${c.name}.png`);
      try {
        const base = await example.ready;
        const handshake = await probeHandshake(base, token);
        const browser = await runBrowser(base, token, screenshot);
        result = { ...browser, handshake };
        problems = c.expect(result);
        if (result.timedOut) problems.unshift(`no final status within ${STATUS_TIMEOUT_MS / 1000} s`);
        if (result.pageErrors.length) problems.push(`page errors: ${result.pageErrors.join("; ")}`);
      } catch (e) {
        problems = [`${e?.message ?? e}`];
      } finally {
        const exit = await example.stop();
        if (result) result.exit = exit;
      }
      const ms = Date.now() - started;
      const verdict = problems.length ? "FAIL" : "PASS";
      console.log(`${verdict} ${c.name} (JWT_WEBSOCKET_ECHO=${c.echo}, ${ms} ms)`);
      if (result) {
        console.log(`  status: ${JSON.stringify(result.status)}   protocol: ${JSON.stringify(result.protocol)}`);
        console.log(`  log: ${result.log.map((l) => JSON.stringify(l)).join(", ") || "(empty)"}`);
        console.log(
          `  server 101 (raw client): status ${result.handshake.status}, ` +
            `Sec-WebSocket-Protocol ${result.handshake.protocol === null ? "(none)" : JSON.stringify(result.handshake.protocol)}`,
        );
        for (const s of result.sockets) {
          console.log(
            `  browser socket ${s.url}: ${s.sent} frame(s) sent, ${s.received} received` +
              (s.error ? `, error: ${JSON.stringify(s.error)}` : ""),
          );
        }
        for (const m of result.console) console.log(`  console ${m.replaceAll(token, "<token>")}`);
        for (const r of result.refused) console.log(`  http ${r}`);
        console.log(`  browser: ${result.userAgent}`);
        console.log(`  screenshot: ${show(screenshot)}`);
      }
      for (const p of problems) console.log(`  problem: ${p.replaceAll(token, "<token>")}`);
      if (problems.length) {
        const err = example.stderr.join("").trim();
        if (err) console.log(`  example stderr: ${err}`);
        failed += 1;
      } else {
        passed += 1;
      }
    }
  } finally {
    await jwks.close();
  }
  console.log(`JWKS fetched ${jwks.fetches} time(s)`);
  console.log(`browser: ${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e) => fail(e?.stack ?? e),
);
