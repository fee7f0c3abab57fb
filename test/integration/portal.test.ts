// The portal's API on the real control plane: a controller, a simulated agent, and two
// `griddesk broker` replicas (one signing key, static users made with `griddesk hash-password`).
// Sign-in sets a signed HttpOnly cookie that both replicas accept; each user sees only the pools
// they are entitled to (by user or group, across namespaces) and a user entitled to none gets a
// clear message; connect creates the user's session and streams its progress until Ready, and a
// second connect (on the other replica, or two at once) finds the same session; a console
// ticket is given only for one's own Ready session; another user's session is answered as a
// missing one; cross-site and non-JSON writes are refused; logoff ends the session and its
// desktop. No cookie or ticket appears in the brokers' logs.
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { DesktopPool } from "../../src/api/types.generated.js";
import { sessionNameFor } from "../../src/broker/entitlements.js";
import {
  brokerCredentials,
  PortalClient,
  startBrokerProcess,
  type BrokerCredentials,
  type RunningBroker,
} from "./support/broker.js";
import { createTestNamespace, eventually, installCrds } from "./support/cluster.js";
import {
  clients,
  poolObject,
  startControllerProcess,
  startSimulatedAgent,
  tearDown,
  tempStateDir,
  uniq,
} from "./support/griddesk.js";
import type { GriddeskProcess } from "./support/processes.js";

jest.setTimeout(300_000);

const id = uniq();
const site = `portal-${id}`;
const hosts = [`portal-${id}-a`];
const c = clients();
const procs: GriddeskProcess[] = [];
const brokers: RunningBroker[] = [];
const repo = new URL("../../", import.meta.url).pathname;
let creds: BrokerCredentials;
let ns = "";
let ns2 = "";
let sys = "";
const PASSWORDS = { alice: "alice-pw-1", bob: "bob-pw-2", carol: "carol-pw-3" };
const secretsSeen: string[] = []; // cookies and tickets handed out: none may be in a log

function hashWithCli(password: string): string {
  return execFileSync(
    path.join(repo, "node_modules/.bin/node"),
    ["--import", "tsx", path.join(repo, "src/cli/main.ts"), "hash-password"],
    { input: `${password}\n`, cwd: repo },
  )
    .toString()
    .trim();
}

const pool = (namespace: string, name: string, access: DesktopPool["spec"]["access"]): DesktopPool =>
  poolObject(namespace, name, {
    buffer: 1,
    max: 10,
    resources: { cpu: "1", memory: "1Gi", disk: "10Gi" },
    hostSelector: { matchLabels: { site } },
    ...(access ? { access } : {}),
  });

beforeAll(async () => {
  await installCrds();
  ns = await createTestNamespace("portal");
  ns2 = await createTestNamespace("portal-design");
  sys = await createTestNamespace("portal-sys");
  procs.push(startControllerProcess("portal-controller", { systemNamespace: sys }));
  procs.push(
    startSimulatedAgent("portal-agent", {
      systemNamespace: sys,
      hosts,
      stateDir: tempStateDir(),
      labels: { site },
    }),
  );
  creds = brokerCredentials();
  const usersFile = path.join(creds.dir, "users.yaml");
  writeFileSync(
    usersFile,
    [
      "users:",
      `  - name: alice\n    passwordHash: "${hashWithCli(PASSWORDS.alice)}"\n    groups: [staff]`,
      `  - name: bob\n    passwordHash: "${hashWithCli(PASSWORDS.bob)}"\n    groups: [contractors]`,
      `  - name: carol\n    passwordHash: "${hashWithCli(PASSWORDS.carol)}"`,
    ].join("\n"),
  );
  for (const name of ["portal-broker-a", "portal-broker-b"]) {
    const b = await startBrokerProcess(name, creds, { secretNamespace: sys, staticUsersFile: usersFile });
    brokers.push(b);
    procs.push(b.process);
  }
  await c.pools.create(pool(ns, "office", { groups: ["staff"] }));
  await c.pools.create(pool(ns, "lab", { users: ["bob"] }));
  await c.pools.create(pool(ns, "closed", undefined));
  await c.pools.create(pool(ns2, "design", { users: ["alice"], groups: ["nobody-has-this"] }));
  await eventually("warm desktops", async () => {
    const all = await Promise.all(
      [
        [ns, "office"],
        [ns, "lab"],
        [ns2, "design"],
      ].map(([namespace, name]) => c.pools.get({ namespace: namespace as string, name: name as string })),
    );
    return all.every((p) => p.status?.available === 1);
  });
});

afterAll(async () => {
  await tearDown(procs, [ns, ns2, sys], hosts);
});

const [A, B] = [0, 1];
const client = (): PortalClient => new PortalClient((brokers[A] as RunningBroker).url, creds.ca);
const urlOf = (i: number): string => (brokers[i] as RunningBroker).url;

async function signedIn(user: keyof typeof PASSWORDS): Promise<PortalClient> {
  const p = client();
  const r = await p.signIn(user, PASSWORDS[user]);
  expect(r.status).toBe(200);
  secretsSeen.push(p.cookie as string);
  return p;
}

describe("sign-in", () => {
  it("sets a signed, HttpOnly, Secure, SameSite cookie that every replica accepts", async () => {
    const p = client();
    expect((await p.request("GET", "/api/me")).status).toBe(401);
    const r = await p.signIn("alice", PASSWORDS.alice);
    expect(r.json).toEqual({ user: "alice", groups: ["staff"] });
    const set = String(r.headers["set-cookie"]);
    expect(set).toMatch(/griddesk_signin=[^;]+/);
    expect(set).toMatch(/HttpOnly/);
    expect(set).toMatch(/Secure/);
    expect(set).toMatch(/SameSite=Lax/);
    secretsSeen.push(p.cookie as string);
    expect((await p.request("GET", "/api/me", undefined, { base: urlOf(B) })).json).toMatchObject({
      user: "alice",
    });
  });

  it("refuses a wrong password and an unknown user alike, and a forged or tampered cookie", async () => {
    const p = client();
    const wrong = await p.signIn("alice", "guess");
    const unknown = await p.signIn("mallory", "guess");
    expect(wrong.status).toBe(401);
    expect(unknown).toMatchObject({ status: 401, json: wrong.json });
    expect(p.cookie).toBeUndefined();
    p.cookie = "griddesk_signin=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.AAAA";
    expect((await p.request("GET", "/api/pools")).status).toBe(401);
    const bob = await signedIn("bob");
    const [h, payload, s] = (bob.cookie as string).slice("griddesk_signin=".length).split(".") as [
      string,
      string,
      string,
    ];
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString()) as Record<string, unknown>;
    const forgedPayload = Buffer.from(
      JSON.stringify({ ...claims, sub: "alice", groups: ["staff"] }),
    ).toString("base64url");
    p.cookie = `griddesk_signin=${h}.${forgedPayload}.${s}`;
    expect((await p.request("GET", "/api/pools")).status).toBe(401);
  });
});

describe("entitlements", () => {
  it("shows each user only the pools their name or groups are entitled to, across namespaces", async () => {
    const alice = await signedIn("alice");
    const pools = (await alice.request("GET", "/api/pools")).json.pools as {
      namespace: string;
      name: string;
      available: number;
    }[];
    expect(pools.map((p) => `${p.namespace}/${p.name}`).sort()).toEqual(
      [`${ns2}/design`, `${ns}/office`].sort(),
    );
    expect(pools.every((p) => p.available === 1)).toBe(true);
    const bob = await signedIn("bob");
    const bobs = (await bob.request("GET", "/api/pools")).json.pools as { name: string }[];
    expect(bobs.map((p) => p.name)).toEqual(["lab"]);
  });

  it("tells a user entitled to no pool so, plainly", async () => {
    const carol = await signedIn("carol");
    const r = await carol.request("GET", "/api/pools");
    expect(r.status).toBe(200);
    expect(r.json.pools).toEqual([]);
    expect(String(r.json.message)).toMatch(/not entitled to any desktop pool/);
    expect((await carol.request("POST", `/api/pools/${ns}/office/connect`, {})).status).toBe(404);
  });

  it("refuses to connect a user to a pool they are not entitled to, as if it did not exist", async () => {
    const bob = await signedIn("bob");
    const office = await bob.request("POST", `/api/pools/${ns}/office/connect`, {});
    const missing = await bob.request("POST", `/api/pools/${ns}/no-such-pool/connect`, {});
    expect(office.status).toBe(404);
    expect(office.json).toEqual(missing.json);
    expect((await bob.request("POST", `/api/pools/${ns}/closed/connect`, {})).status).toBe(404);
  });
});

describe("connect, reconnect and logoff", () => {
  it("creates the user's session, streams its progress until Ready, and reconnects to it", async () => {
    const alice = await signedIn("alice");
    const first = await alice.request("POST", `/api/pools/${ns}/office/connect`, {});
    expect(first.status).toBe(201);
    const name = sessionNameFor("office", "alice");
    expect(first.json).toMatchObject({
      reconnected: false,
      session: { namespace: ns, name, pool: "office" },
    });
    const session = await c.sessions.get({ namespace: ns, name });
    expect(session.spec).toMatchObject({ poolRef: "office", user: "alice" });

    const progress = await alice.request("GET", `/api/sessions/${ns}/${name}/progress`);
    expect(progress.headers["content-type"]).toMatch(/text\/event-stream/);
    const events = progress.text
      .split("\n\n")
      .filter((e) => e.startsWith("event: session"))
      .map((e) => JSON.parse(e.split("data: ")[1] as string) as { phase: string });
    expect(events.length).toBeGreaterThan(0);
    expect(events.at(-1)?.phase).toBe("Ready");

    // The tab closed and opened again, on the other replica: the same session.
    const again = await alice.request("POST", `/api/pools/${ns}/office/connect`, {}, { base: urlOf(B) });
    expect(again.status).toBe(200);
    expect(again.json).toMatchObject({ reconnected: true, session: { name, phase: "Ready" } });
    expect((await c.sessions.get({ namespace: ns, name })).metadata.uid).toBe(session.metadata.uid);
    const listed = (await alice.request("GET", "/api/pools")).json.pools as {
      name: string;
      session?: { name: string };
    }[];
    expect(listed.find((p) => p.name === "office")?.session?.name).toBe(name);
  });

  it("makes one session when two replicas are asked to connect at once", async () => {
    const bob = await signedIn("bob");
    const both = await Promise.all(
      [A, B].map((i) => bob.request("POST", `/api/pools/${ns}/lab/connect`, {}, { base: urlOf(i) })),
    );
    expect(both.map((r) => r.status).sort()).toEqual([200, 201]);
    const mine = (await c.sessions.list({ namespace: ns })).filter((s) => s.spec.user === "bob");
    expect(mine).toHaveLength(1);
  });

  it("gives a console ticket for one's own Ready session only; another's is answered as missing", async () => {
    const alice = await signedIn("alice");
    const bob = await signedIn("bob");
    const name = sessionNameFor("office", "alice");
    const t = await alice.request("POST", `/api/sessions/${ns}/${name}/ticket`, {});
    expect(t.status).toBe(200);
    expect(t.headers["cache-control"]).toBe("no-store");
    expect(String(t.json.path)).toMatch(/^\/console\?ticket=/);
    secretsSeen.push(String(t.json.ticket));
    const stolen = await bob.request("POST", `/api/sessions/${ns}/${name}/ticket`, {});
    const missing = await bob.request("POST", `/api/sessions/${ns}/no-such-session/ticket`, {});
    expect(stolen.status).toBe(404);
    expect(stolen.text).toBe(missing.text);
    expect(stolen.text).not.toContain("alice");
    expect((await bob.request("GET", `/api/sessions/${ns}/${name}`)).status).toBe(404);
    expect((await bob.request("POST", `/api/sessions/${ns}/${name}/logoff`, {})).status).toBe(404);
    expect((await c.sessions.get({ namespace: ns, name })).status?.phase).toBe("Ready");
  });

  it("refuses cross-site and non-JSON writes", async () => {
    const alice = await signedIn("alice");
    const name = sessionNameFor("office", "alice");
    const evil = await alice.request(
      "POST",
      `/api/sessions/${ns}/${name}/logoff`,
      {},
      {
        headers: { origin: "https://evil.example" },
      },
    );
    expect(evil.status).toBe(403);
    const form = await alice.request("POST", `/api/sessions/${ns}/${name}/logoff`, undefined, {
      raw: "x=1",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(form.status).toBe(415);
    expect((await c.sessions.get({ namespace: ns, name })).status?.phase).toBe("Ready");
  });

  it("logs off: the session ends and its desktop is destroyed; the next connect is a new logon", async () => {
    const alice = await signedIn("alice");
    const name = sessionNameFor("office", "alice");
    const before = await c.sessions.get({ namespace: ns, name });
    const desktop = before.status?.desktopRef as string;
    expect((await alice.request("POST", `/api/sessions/${ns}/${name}/logoff`, {})).status).toBe(202);
    await eventually(
      "session and desktop gone",
      async () =>
        (await c.sessions.tryGet({ namespace: ns, name })) === undefined &&
        (await c.desktops.tryGet({ namespace: ns, name: desktop })) === undefined,
    );
    const listed = (await alice.request("GET", "/api/pools")).json.pools as {
      name: string;
      session?: unknown;
    }[];
    expect(listed.find((p) => p.name === "office")?.session).toBeUndefined();
    const next = await alice.request("POST", `/api/pools/${ns}/office/connect`, {});
    expect(next.status).toBe(201);
    expect((await c.sessions.get({ namespace: ns, name })).metadata.uid).not.toBe(before.metadata.uid);
  });
});

describe("observability", () => {
  it("counts sign-ins and logons, and logs no cookie or ticket", async () => {
    const metrics = await (await fetch(`http://127.0.0.1:${brokers[A]?.healthPort}/metrics`)).text();
    expect(metrics).toMatch(/^griddesk_broker_signins_total\{result="success"\} [1-9]/m);
    expect(metrics).toMatch(/^griddesk_broker_signins_total\{result="refused"\} [1-9]/m);
    expect(metrics).toMatch(/^griddesk_broker_logons_total [1-9]/m);
    expect((await fetch(`http://127.0.0.1:${brokers[A]?.healthPort}/healthz`)).status).toBe(200);
    const logs = brokers.map((b) => readFileSync(b.process.logFile, "utf8")).join("\n");
    expect(logs).toContain("logged on: session created");
    expect(secretsSeen.length).toBeGreaterThan(3);
    for (const secret of secretsSeen) expect(logs).not.toContain(secret.replace(/^griddesk_signin=/, ""));
    for (const pw of Object.values(PASSWORDS)) expect(logs).not.toContain(pw);
  });
});
