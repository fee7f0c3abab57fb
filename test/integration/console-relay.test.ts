// The console relay end to end: a controller, a libvirt agent on the real libvirtd (QEMU) and two
// `griddesk broker` replicas with one ticket key. The agent gives the desktop's VNC server a
// password of its own and keeps it in a Secret in the broker's namespace; QEMU then refuses a
// client without it. Through a broker, a client with a valid ticket completes a real RFB exchange
// (the broker answers QEMU's VNC authentication) and receives the desktop's pixels. Refused before
// the upgrade: no ticket, a forged one, one used already (also on the other replica), an expired
// one, another user's. The password is in no log, Event or status. Logoff removes the Secret.
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { connect } from "node:net";
import type { Desktop, DesktopSession } from "../../src/api/types.generated.js";
import { consoleSecretName, passwordOf, type ConsoleSecretObject } from "../../src/console/secret.js";
import { authenticateToServer, ByteQueue } from "../../src/console/rfb.js";
import { SignInCookies } from "../../src/broker/signin.js";
import { hashPassword } from "../../src/broker/static-users.js";
import { TicketBook, type TicketClaims } from "../../src/broker/tickets.js";
import { Resources } from "../../src/controllers/shared/resources.js";
import { ObjectClient } from "../../src/runtime/index.js";
import { libvirtPool, startLibvirtAgent, tearDownLibvirt } from "./libvirt-agents.js";
import { libvirtUp, storageDir, testImage } from "./libvirt-support.js";
import {
  brokerCredentials,
  openConsole,
  rfbSession,
  startBrokerProcess,
  type BrokerCredentials,
  type RunningBroker,
} from "./support/broker.js";
import { createTestNamespace, eventually, installCrds, kubectl } from "./support/cluster.js";
import { clients, sessionObject, startControllerProcess, uniq } from "./support/griddesk.js";
import type { GriddeskProcess } from "./support/processes.js";

jest.setTimeout(300_000);

const id = uniq();
const site = `console-${id}`;
const host = `console-${id}`;
const c = clients();
const storage = storageDir("console");
const procs: GriddeskProcess[] = [];
const brokers: RunningBroker[] = [];
let creds: BrokerCredentials;
let tickets: TicketBook;
let ns = "";
let sys = "";
let session: DesktopSession;
let desktop: Desktop;
let password = "";
let aliceCookie = "";
let bobCookie = "";
const logs = () => procs.map((p) => `--- ${p.name}\n${p.tail(40)}`).join("\n");

const claimsOf = (s: DesktopSession, d: Desktop): TicketClaims => ({
  user: s.spec.user,
  namespace: ns,
  session: s.metadata.name as string,
  sessionUid: s.metadata.uid as string,
  desktop: d.metadata.name as string,
  desktopUid: d.metadata.uid as string,
});

async function consoleSecret(uid: string): Promise<ConsoleSecretObject | undefined> {
  return new ObjectClient<ConsoleSecretObject>(c.rest, Resources.Secret).tryGet({
    namespace: sys,
    name: consoleSecretName(uid),
  });
}

beforeAll(async () => {
  libvirtUp();
  await installCrds();
  ns = await createTestNamespace("console");
  sys = await createTestNamespace("console-sys");
  procs.push(startControllerProcess("console-controller", { systemNamespace: sys, gracePeriodSeconds: 30 }));
  procs.push(
    startLibvirtAgent("console-agent", {
      systemNamespace: sys,
      host,
      storagePath: storage,
      labels: { site },
    }),
  );
  creds = brokerCredentials();
  // Someone must be able to sign in for the broker to start (its cookies are made below).
  const usersFile = path.join(creds.dir, "users.yaml");
  writeFileSync(
    usersFile,
    `users:\n  - name: alice\n    passwordHash: "${await hashPassword(randomBytes(9).toString("hex"))}"\n`,
  );
  tickets = new TicketBook(creds.signingKey, 30_000);
  // Sign-in cookies as the broker sets them (the portal's sign-in is tested in portal.test.ts).
  const cookies = new SignInCookies(creds.signingKey);
  aliceCookie = await cookies.issue({ user: "alice", groups: [] });
  bobCookie = await cookies.issue({ user: "bob", groups: [] });
  for (const name of ["console-broker-a", "console-broker-b"]) {
    const b = await startBrokerProcess(name, creds, { secretNamespace: sys, staticUsersFile: usersFile });
    brokers.push(b);
    procs.push(b.process);
  }
  await c.pools.create(
    libvirtPool(ns, "office", testImage(), { buffer: 1, hostSelector: { matchLabels: { site } } }),
  );
  await c.sessions.create(sessionObject(ns, "office", "alice"));
  session = await eventually(
    "alice's session Ready",
    async () => {
      const s = await c.sessions.get({ namespace: ns, name: "alice" });
      return s.status?.phase === "Ready" ? s : undefined;
    },
    180_000,
    1000,
  ).catch((err: unknown) => {
    throw new Error(`${String(err)}\n${logs()}`);
  });
  desktop = await c.desktops.get({ namespace: ns, name: session.status?.desktopRef as string });
  const secret = await consoleSecret(desktop.metadata.uid as string);
  password = secret ? (passwordOf(secret) ?? "") : "";
});

afterAll(async () => {
  await tearDownLibvirt({ namespaces: [ns, sys], host, storagePath: storage, procs });
});

/** A client of QEMU's VNC server itself, as anyone who could reach the port would be. */
async function directHandshake(pw: string | undefined): Promise<void> {
  const endpoint = desktop.status?.endpoint;
  const socket = connect({ host: endpoint?.host as string, port: endpoint?.port as number });
  const q = new ByteQueue();
  socket.on("data", (d: Buffer) => q.push(d));
  socket.on("error", (err) => q.end(err));
  socket.on("close", () => q.end(new Error("closed")));
  try {
    await authenticateToServer(q, (b) => socket.write(b), pw);
  } finally {
    socket.destroy();
  }
}

describe("the desktop's console password", () => {
  it("is kept in a Secret in the broker's namespace and asked for by QEMU", async () => {
    expect(password).toMatch(/^[A-Za-z0-9]{8}$/);
    await expect(directHandshake(undefined)).rejects.toThrow(/no password is kept/);
    await expect(directHandshake("wrong123")).rejects.toThrow(/refused authentication/);
    await directHandshake(password); // the Secret holds the password QEMU asks for
  });
});

describe("the console relay", () => {
  it("relays a real RFB session to the desktop for a valid ticket, on either replica", async () => {
    for (const b of brokers) {
      const { ticket } = await tickets.issue(claimsOf(session, desktop));
      const opened = await openConsole(b.url, creds.ca, ticket, aliceCookie);
      if (!("ws" in opened)) throw new Error(`refused: ${JSON.stringify(opened.refused)}\n${logs()}`);
      const fb = await rfbSession(opened.ws);
      expect(fb.width).toBeGreaterThan(0);
      expect(fb.height).toBeGreaterThan(0);
      expect(fb.name).toContain("gd-"); // QEMU names the display after the domain
      expect(fb.firstUpdateBytes).toBeGreaterThan(0);
      // Open: the session says so (a reconnect finds it); closed: it says when, and goes on.
      await eventually("status.connected", async () => {
        const s = await c.sessions.get({ namespace: ns, name: "alice" });
        return s.status?.connected === true && Boolean(s.status.console?.connectedAt);
      });
      fb.close();
      await eventually("disconnected", async () => {
        const s = await c.sessions.get({ namespace: ns, name: "alice" });
        return s.status?.connected === false && Boolean(s.status.console?.disconnectedAt);
      });
      expect((await c.sessions.get({ namespace: ns, name: "alice" })).status?.phase).toBe("Ready");
    }
    const metrics = await (await fetch(`http://127.0.0.1:${brokers[0]?.healthPort}/metrics`)).text();
    expect(metrics).toMatch(/^griddesk_broker_consoles_opened_total 1$/m);
  });

  it("refuses a missing, forged, expired or reused ticket before the upgrade", async () => {
    const [a, b] = brokers as [RunningBroker, RunningBroker];
    const refusal = async (broker: RunningBroker, ticket: string | undefined) => {
      const r = await openConsole(broker.url, creds.ca, ticket, aliceCookie);
      if ("ws" in r) {
        r.ws.close();
        throw new Error("the console was opened");
      }
      expect(r.refused.body).not.toContain(ticket ?? "\0");
      return r.refused;
    };
    expect(await refusal(a, undefined)).toMatchObject({ status: 401, reason: "Missing" });
    const forger = new TicketBook(randomBytes(32), 30_000);
    expect(await refusal(a, (await forger.issue(claimsOf(session, desktop))).ticket)).toMatchObject({
      status: 401,
      reason: "Invalid",
    });
    const short = new TicketBook(creds.signingKey, 1_000);
    const expiring = (await short.issue(claimsOf(session, desktop))).ticket;
    await new Promise((r) => setTimeout(r, 2_100));
    expect(await refusal(a, expiring)).toMatchObject({ status: 401, reason: "Expired" });

    // Used once on replica a: refused on a and on b (the use is recorded on the session).
    const once = (await tickets.issue(claimsOf(session, desktop))).ticket;
    const first = await openConsole(a.url, creds.ca, once, aliceCookie);
    if (!("ws" in first)) throw new Error(`refused: ${JSON.stringify(first.refused)}`);
    (await rfbSession(first.ws)).close();
    expect(await refusal(a, once)).toMatchObject({ status: 409, reason: "Reused" });
    expect(await refusal(b, once)).toMatchObject({ status: 409, reason: "Reused" });

    // Two replicas given one fresh ticket at the same moment: exactly one opens it.
    const race = (await tickets.issue(claimsOf(session, desktop))).ticket;
    const results = await Promise.all([
      openConsole(a.url, creds.ca, race, aliceCookie),
      openConsole(b.url, creds.ca, race, aliceCookie),
    ]);
    const opened = results.filter((r) => "ws" in r);
    expect(opened).toHaveLength(1);
    for (const r of results) if ("ws" in r) r.ws.close();
    expect(results.find((r) => "refused" in r)).toMatchObject({ refused: { status: 409, reason: "Reused" } });
    const s = await c.sessions.get({ namespace: ns, name: "alice" });
    expect(s.status?.console?.redeemedTickets?.length).toBeGreaterThanOrEqual(4);

    const metrics = await (await fetch(`http://127.0.0.1:${a.healthPort}/metrics`)).text();
    expect(metrics).toMatch(/^griddesk_broker_console_refusals_total\{reason="Reused"\} [1-9]/m);
  });

  it("refuses a ticket without its user's sign-in cookie, and does not use it up", async () => {
    const [a] = brokers as [RunningBroker];
    const { ticket } = await tickets.issue(claimsOf(session, desktop));
    const stolen = await openConsole(a.url, creds.ca, ticket, bobCookie);
    expect("refused" in stolen && stolen.refused).toMatchObject({ status: 403, reason: "Forbidden" });
    const anonymous = await openConsole(a.url, creds.ca, ticket);
    expect("refused" in anonymous && anonymous.refused).toMatchObject({ status: 401, reason: "SignedOut" });
    const forged = await openConsole(a.url, creds.ca, ticket, `${aliceCookie.slice(0, -4)}AAAA`);
    expect("refused" in forged && forged.refused).toMatchObject({ status: 401, reason: "SignedOut" });
    const owner = await openConsole(a.url, creds.ca, ticket, aliceCookie);
    if (!("ws" in owner)) throw new Error(`refused: ${JSON.stringify(owner.refused)}`);
    (await rfbSession(owner.ws)).close();
  });

  it("refuses a ticket for a session that is not the ticket user's, saying nothing of it", async () => {
    const [a] = brokers as [RunningBroker];
    const forBob = (await tickets.issue({ ...claimsOf(session, desktop), user: "bob" })).ticket;
    const r = await openConsole(a.url, creds.ca, forBob, bobCookie);
    expect("refused" in r && r.refused).toMatchObject({ status: 410, reason: "SessionGone" });
    const text = JSON.stringify(r);
    for (const secret of [desktop.metadata.name, String(desktop.status?.endpoint?.port), password])
      expect(text).not.toContain(secret);
  });

  it("keeps the password out of every log, Event and status", async () => {
    const events = await kubectl(["get", "events", "-A", "-o", "json"]);
    const desktops = await kubectl([
      "get",
      "desktops,desktopsessions,desktoppools,hostnodes",
      "-A",
      "-o",
      "json",
    ]);
    const logText = procs.map((p) => readFileSync(p.logFile, "utf8")).join("\n");
    expect(logText.length).toBeGreaterThan(0);
    for (const text of [events.stdout, desktops.stdout, logText]) expect(text).not.toContain(password);
    // Nor any ticket: the broker never logs the console URL.
    expect(logText).not.toMatch(/ticket=/);
  });
});

describe("logoff", () => {
  it("destroys the desktop and its console Secret", async () => {
    await c.sessions.delete({ namespace: ns, name: "alice" });
    await eventually(
      "the desktop and its console Secret gone",
      async () =>
        (await c.desktops.tryGet({ namespace: ns, name: desktop.metadata.name as string })) === undefined &&
        (await consoleSecret(desktop.metadata.uid as string)) === undefined,
      120_000,
      1000,
    );
  });
});
