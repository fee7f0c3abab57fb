// The portal in real headless Chromium against the real control plane and a real libvirt
// desktop: sign in, pick the pool, connect, and the test image's banner is on the noVNC canvas
// (its pixels compared with QEMU's own screenshot of the domain); close the tab and open the
// portal again: the same desktop comes back and the session never ended; the broker dies and
// comes back: the page reconnects by itself; logoff from the page ends the session and the
// desktop is destroyed; a user entitled to no pool gets a clear page. The VNC password is in no
// page or response. Screenshots of the sign-in page, the pool picker and the desktop are kept
// (docs/screenshots under `make screenshots`).
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { createServer } from "node:net";
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { sessionNameFor } from "../../src/broker/entitlements.js";
import { hashPassword } from "../../src/broker/static-users.js";
import { TicketBook } from "../../src/broker/tickets.js";
import { randomBytes } from "node:crypto";
import { consoleSecretName, passwordOf, type ConsoleSecretObject } from "../../src/console/secret.js";
import { Resources } from "../../src/controllers/shared/resources.js";
import { ObjectClient } from "../../src/runtime/index.js";
import { writeFileSync } from "node:fs";
import { domainNames, libvirtUp, storageDir, testImage } from "./libvirt-support.js";
import { libvirtPool, startLibvirtAgent, tearDownLibvirt } from "./libvirt-agents.js";
import {
  brokerCredentials,
  startLabIdp,
  startBrokerProcess,
  type BrokerCredentials,
  type RunningBroker,
} from "./support/broker.js";
import { compareWithDomain, launchBrowser, screenshotDir, type ScreenComparison } from "./support/browser.js";
import { createTestNamespace, eventually, installCrds } from "./support/cluster.js";
import { clients, startControllerProcess, uniq } from "./support/griddesk.js";
import type { GriddeskProcess } from "./support/processes.js";

jest.setTimeout(420_000);

const id = uniq();
const site = `web-${id}`;
const host = `web-${id}`;
const c = clients();
const storage = storageDir("web");
const procs: GriddeskProcess[] = [];
const shots = screenshotDir();
let creds: BrokerCredentials;
let broker: RunningBroker;
let brokerPort = 0;
let usersFile = "";
let idp: { issuer: string; clientSecretFile: string; proc: GriddeskProcess };
let browser: Browser;
let context: BrowserContext;
let ns = "";
let sys = "";
const sessionName = sessionNameFor("office", "alice");
const seenBodies: string[] = []; // every response the pages received
const logs = () => procs.map((p) => `--- ${p.name}\n${p.tail(30)}`).join("\n");

/** Opens the console WebSocket from the page (its cookies go along) with `ticket`: open or refused. */
async function websocketOutcome(page: Page, ticket: string): Promise<"open" | "refused"> {
  return (await page.evaluate(`new Promise((resolve) => {
    const ws = new WebSocket("wss://" + location.host + "/console" + (${JSON.stringify(ticket)} ? "?ticket=" + encodeURIComponent(${JSON.stringify(ticket)}) : ""));
    ws.onopen = () => { ws.close(); resolve("open"); };
    ws.onerror = () => resolve("refused");
  })`)) as "open" | "refused";
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function startBroker(): Promise<void> {
  broker = await startBrokerProcess(`web-broker-${procs.length}`, creds, {
    secretNamespace: sys,
    staticUsersFile: usersFile,
    port: brokerPort,
    oidc: {
      issuer: idp.issuer,
      clientSecretFile: idp.clientSecretFile,
      externalUrl: `https://127.0.0.1:${brokerPort}`,
    },
  });
  procs.push(broker.process);
}

async function newPage(): Promise<Page> {
  const page = await context.newPage();
  page.on("response", (r) => {
    void r.text().then(
      (t) => seenBodies.push(t),
      () => undefined,
    );
  });
  return page;
}

/** Waits until the canvas shows the test image's banner, as QEMU shows it (most pixels alike). */
async function bannerOnCanvas(page: Page): Promise<ScreenComparison> {
  let last: ScreenComparison | undefined;
  return eventually(
    "the desktop's screen on the canvas",
    async () => {
      const session = await c.sessions.tryGet({ namespace: ns, name: sessionName });
      if (session?.status?.phase !== "Ready") return undefined;
      const desktop = await c.desktops.get({ namespace: ns, name: session.status.desktopRef as string });
      last = await compareWithDomain(page, `gd-${desktop.metadata.uid}`);
      return last?.banner && last.agreement > 0.97 ? last : undefined;
    },
    60_000,
    1000,
  ).catch((err: unknown) => {
    throw new Error(`${String(err)}: last comparison ${JSON.stringify(last)}\n${logs()}`);
  });
}

beforeAll(async () => {
  libvirtUp();
  await installCrds();
  ns = await createTestNamespace("web");
  sys = await createTestNamespace("web-sys");
  procs.push(startControllerProcess("web-controller", { systemNamespace: sys, gracePeriodSeconds: 30 }));
  procs.push(
    startLibvirtAgent("web-agent", { systemNamespace: sys, host, storagePath: storage, labels: { site } }),
  );
  creds = brokerCredentials();
  usersFile = path.join(creds.dir, "users.yaml");
  writeFileSync(
    usersFile,
    `users:\n  - name: alice\n    passwordHash: "${await hashPassword("alice-pw")}"\n    groups: [staff]\n` +
      `  - name: bob\n    passwordHash: "${await hashPassword("bob-pw")}"\n    groups: [contractors]\n` +
      `  - name: carol\n    passwordHash: "${await hashPassword("carol-pw")}"\n`,
  );
  brokerPort = await freePort();
  // The lab identity provider knows the same users (and checks their passwords); the broker trusts
  // its certificate, as it would a real provider's CA.
  const started = await startLabIdp("web-idp", creds, {
    usersFile,
    redirectUri: `https://127.0.0.1:${brokerPort}/auth/callback`,
  });
  idp = { issuer: started.issuer, clientSecretFile: started.clientSecretFile, proc: started.process };
  procs.push(idp.proc);
  process.env.NODE_EXTRA_CA_CERTS = creds.certFile;
  await startBroker();
  await c.pools.create(
    libvirtPool(ns, "office", testImage(), {
      buffer: 1,
      hostSelector: { matchLabels: { site } },
      access: { groups: ["staff"] },
    }),
  );
  await c.pools.create(
    libvirtPool(ns, "lab", testImage(), {
      buffer: 0,
      hostSelector: { matchLabels: { site } },
      access: { users: ["bob"] },
    }),
  );
  await eventually(
    "a warm desktop",
    async () => (await c.pools.get({ namespace: ns, name: "office" })).status?.available === 1,
    180_000,
    1000,
  ).catch((err: unknown) => {
    throw new Error(`${String(err)}\n${logs()}`);
  });
  browser = await launchBrowser();
  context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1000, height: 640 } });
});

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await tearDownLibvirt({ namespaces: [ns, sys], host, storagePath: storage, procs });
});

describe("the portal in Chromium", () => {
  let uid = "";
  let desktopName = "";
  let password = "";

  it("signs in through the OIDC provider, picks the pool, connects, and shows the desktop's screen", async () => {
    const page = await newPage();
    await page.goto(broker.url);
    const withIdp = page.getByRole("link", { name: "Sign in with your organisation" });
    await withIdp.waitFor();
    await page.screenshot({ path: path.join(shots, "signin.png") });
    await withIdp.click();
    // The provider's own login page (another origin), then back to the portal.
    await page.waitForURL((u) => u.origin === new URL(idp.issuer).origin);
    await page.getByLabel("User name").fill("alice");
    await page.getByLabel("Password").fill("alice-pw");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL((u) => u.origin === new URL(broker.url).origin);
    await page.locator("#who-name", { hasText: /^alice$/ }).waitFor();
    const connect = page.getByRole("button", { name: "Connect to office" });
    await connect.waitFor();
    await page.screenshot({ path: path.join(shots, "pool-picker.png") });
    await connect.click();
    const seen = await bannerOnCanvas(page);
    await page.screenshot({ path: path.join(shots, "desktop.png") });
    console.log(
      `banner on the canvas; canvas vs QEMU: ${(seen.agreement * 100).toFixed(2)}% of pixels alike, ${seen.lit} lit (${seen.size})`,
    );
    const session = await c.sessions.get({ namespace: ns, name: sessionName });
    expect(session.spec.user).toBe("alice");
    uid = session.metadata.uid as string;
    desktopName = session.status?.desktopRef as string;
    const desktop = await c.desktops.get({ namespace: ns, name: desktopName });
    const secret = await new ObjectClient<ConsoleSecretObject>(c.rest, Resources.Secret).get({
      namespace: sys,
      name: consoleSecretName(desktop.metadata.uid as string),
    });
    password = passwordOf(secret) ?? "";
    expect(password).toMatch(/^[A-Za-z0-9]{8}$/);
    await eventually(
      "connected",
      async () => (await c.sessions.get({ namespace: ns, name: sessionName })).status?.connected === true,
    );
    await page.close();
  });

  it("closing the tab is a disconnect: opened again, the same desktop comes back", async () => {
    await eventually(
      "disconnected",
      async () => (await c.sessions.get({ namespace: ns, name: sessionName })).status?.connected === false,
    );
    const s = await c.sessions.get({ namespace: ns, name: sessionName });
    expect(s.metadata.uid).toBe(uid);
    expect(s.status?.phase).toBe("Ready");
    expect(s.status?.endedAt).toBeUndefined();
    const page = await newPage();
    await page.goto(broker.url);
    await page.getByRole("button", { name: "Reconnect to office" }).click();
    await bannerOnCanvas(page);
    const again = await c.sessions.get({ namespace: ns, name: sessionName });
    expect([again.metadata.uid, again.status?.desktopRef]).toEqual([uid, desktopName]);

    // The broker dies under the open console and comes back: the page reconnects by itself.
    await broker.process.kill("SIGKILL");
    await page.getByText(/Connection lost; reconnecting/).waitFor({ timeout: 30_000 });
    await startBroker();
    await page.getByText("Connected to office").waitFor({ timeout: 60_000 });
    await bannerOnCanvas(page);
    await page.close();
  });

  it("shows the second user only their pool, and none of the first user's session, ticket or desktop", async () => {
    const other = await browser.newContext({ ignoreHTTPSErrors: true });
    try {
      const page = await other.newPage();
      await page.goto(broker.url);
      await page.getByRole("link", { name: "Sign in with your organisation" }).click();
      await page.getByLabel("User name").fill("bob");
      await page.getByLabel("Password").fill("bob-pw");
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByRole("button", { name: "Connect to lab" }).waitFor();
      expect(await page.getByRole("button", { name: /Connect to|Reconnect to/ }).count()).toBe(1);
      // From bob's page, with bob's cookie: alice's session, a ticket for it, and her console.
      const session = await c.sessions.get({ namespace: ns, name: sessionName });
      const aliceDesktop = session.status?.desktopRef as string;
      const answers = (await page.evaluate(`(async () => {
        const post = (p) => fetch(p, { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
        const base = "/api/sessions/${ns}/${sessionName}";
        const ticket = await post(base + "/ticket");
        const view = await fetch(base);
        const logoff = await post(base + "/logoff");
        return [ticket.status, await ticket.text(), view.status, logoff.status];
      })()`)) as [number, string, number, number];
      expect([answers[0], answers[2], answers[3]]).toEqual([404, 404, 404]);
      expect(answers[1]).not.toContain("alice");
      expect(answers[1]).not.toContain(aliceDesktop);

      // alice's ticket, had bob got hold of it, opens nothing from his browser (his cookie goes
      // with the upgrade), and is not used up: alice's own browser opens it after him.
      const alicePage = await newPage();
      await alicePage.goto(broker.url);
      const aliceTicket = String(
        await alicePage.evaluate(`(async () => (await (await fetch("/api/sessions/${ns}/${sessionName}/ticket", {
          method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" })).json()).ticket)()`),
      );
      expect(await websocketOutcome(page, aliceTicket)).toBe("refused");
      expect(await websocketOutcome(alicePage, aliceTicket)).toBe("open");
      // Once: used, it opens nothing more. Missing or forged: nothing either.
      expect(await websocketOutcome(alicePage, aliceTicket)).toBe("refused");
      expect(await websocketOutcome(alicePage, "")).toBe("refused");
      const forged = await new TicketBook(randomBytes(32)).issue({
        user: "alice",
        namespace: ns,
        session: sessionName,
        sessionUid: session.metadata.uid as string,
        desktop: aliceDesktop,
        desktopUid: (await c.desktops.get({ namespace: ns, name: aliceDesktop })).metadata.uid as string,
      });
      expect(await websocketOutcome(alicePage, forged.ticket)).toBe("refused");
      await alicePage.close();
      expect((await c.sessions.get({ namespace: ns, name: sessionName })).status?.phase).toBe("Ready");
    } finally {
      await other.close();
    }
  });

  it("logoff from the page ends the session and destroys the desktop", async () => {
    const page = await newPage();
    await page.goto(broker.url);
    await page.getByRole("button", { name: "Reconnect to office" }).click();
    await bannerOnCanvas(page);
    const desktop = await c.desktops.get({ namespace: ns, name: desktopName });
    await page.getByRole("button", { name: "Log off" }).click();
    await page.getByText("Logged off.").waitFor();
    await eventually(
      "session, desktop and domain gone",
      async () =>
        (await c.sessions.tryGet({ namespace: ns, name: sessionName })) === undefined &&
        (await c.desktops.tryGet({ namespace: ns, name: desktopName })) === undefined &&
        !domainNames().includes(`gd-${desktop.metadata.uid}`),
      120_000,
      1000,
    );
    await page.getByRole("button", { name: "Connect to office" }).waitFor();
    await page.close();
  });

  it("tells a user entitled to no pool so, on a clear page", async () => {
    const other = await browser.newContext({ ignoreHTTPSErrors: true });
    try {
      const page = await other.newPage();
      await page.goto(broker.url);
      await page.getByLabel("User name").fill("carol");
      await page.getByLabel("Password").fill("carol-pw");
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByText(/not entitled to any desktop pool/).waitFor();
      expect(await page.getByRole("button", { name: /Connect/ }).count()).toBe(0);
      // A callback the broker did not start (no flow cookie) signs nobody in.
      const forged = await page.goto(`${broker.url}/auth/callback?code=made-up&state=made-up`);
      expect(forged?.status()).toBe(401);
      expect(await forged?.text()).toMatch(
        /Sign-in failed: the sign-in took too long or was not started here/,
      );
    } finally {
      await other.close();
    }
  });

  it("never shows the VNC password to the page", async () => {
    // Every response the pages got (HTML, scripts, API answers) over the whole run.
    expect(password).toMatch(/^[A-Za-z0-9]{8}$/); // read from the Secret in the first test
    expect(seenBodies.length).toBeGreaterThan(10);
    expect(seenBodies.filter((body) => body.includes(password))).toEqual([]);
  });
});
