// Fleet maintenance on the real control plane: `griddesk drain --selector … --exec …` drains six
// hosts as a rolling maintenance. Pool "cc" spans all six with maxUnavailableHosts 2; pool "kb"
// spans three of them with "34%" (one host). A watch samples every change of every host: at no
// moment are more of a pool's hosts out of service than its budget allows, yet the rollout
// uses the budget (two at once) and finishes with every host drained, maintained and returned.
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import type { HostNode } from "../../src/api/types.generated.js";
import { Resources } from "../../src/controllers/shared/resources.js";
import type { Cached, Informer } from "../../src/runtime/index.js";
import {
  condition,
  griddeskCli,
  hostReady,
  logOn,
  roomyHosts,
  SMALL,
  users,
  watchObjects,
} from "./drain-support.js";
import { createTestNamespace, eventually, installCrds } from "./support/cluster.js";
import {
  clients,
  poolObject,
  startControllerProcess,
  startSimulatedAgent,
  tempStateDir,
  uniq,
  tearDown,
} from "./support/griddesk.js";
import type { GriddeskProcess } from "./support/processes.js";

jest.setTimeout(420_000);

const id = uniq();
const rack = `fleet-${id}`;
const hosts = Array.from({ length: 6 }, (_, i) => `fleet-${id}-${i}`);
const kbHosts = hosts.slice(0, 3);
const c = clients();
const procs: GriddeskProcess[] = [];
let watch: Informer<HostNode> | undefined;
let ns = "";
let sys = "";

/** Out of service, judged from what a client sees: not Ready, cordoned, drain started, or not Schedulable. */
function outOfService(h: Cached<HostNode>): boolean {
  return (
    condition(h as HostNode, "Ready")?.status !== "True" ||
    condition(h as HostNode, "Schedulable")?.status !== "True" ||
    h.spec.unschedulable === true ||
    (h.spec.drain !== undefined && h.status?.drain?.startedAt !== undefined)
  );
}

beforeAll(async () => {
  await installCrds();
  ns = await createTestNamespace("fleet");
  sys = await createTestNamespace("fleet-sys");
  procs.push(startControllerProcess("fleet-controller", { systemNamespace: sys }));
  procs.push(
    startSimulatedAgent("fleet-agent", {
      systemNamespace: sys,
      hosts,
      stateDir: tempStateDir(),
      labels: { rack },
    }),
  );
  await Promise.all(hosts.map((h) => hostReady(h)));
  await roomyHosts(hosts);
  for (const h of kbHosts) await c.hosts.mergePatch({ name: h }, { metadata: { labels: { kb: "yes" } } });
  await c.pools.create(
    poolObject(ns, "cc", {
      buffer: 6,
      max: 60,
      resources: SMALL,
      hostSelector: { matchLabels: { rack } },
      maintenance: { maxUnavailableHosts: 2 },
    }),
  );
  await c.pools.create(
    poolObject(ns, "kb", {
      buffer: 2,
      max: 20,
      resources: SMALL,
      hostSelector: { matchLabels: { rack, kb: "yes" } },
      maintenance: { maxUnavailableHosts: "34%" },
    }),
  );
  await logOn(ns, "cc", users("u", 8));
});

afterAll(async () => {
  await watch?.stop();
  await tearDown(procs, [ns, sys], hosts);
});

describe("fleet drain", () => {
  it("drains 6 hosts in waves that never break a pool's budget", async () => {
    const state = new Map<string, Cached<HostNode>>();
    const peak = { cc: 0, kb: 0 };
    const seen = { waiting: new Set<string>(), drained: new Set<string>(), returned: new Set<string>() };
    let samples = 0;
    watch = await watchObjects<HostNode>(Resources.HostNode, { labelSelector: `rack=${rack}` }, (h) => {
      state.set(h.metadata.name, h);
      samples++;
      const out = [...state.values()].filter(outOfService).map((x) => x.metadata.name);
      peak.cc = Math.max(peak.cc, out.length);
      peak.kb = Math.max(peak.kb, out.filter((n) => kbHosts.includes(n)).length);
      const phase = h.status?.drain?.phase;
      if (phase === "Pending") seen.waiting.add(h.metadata.name);
      if (phase === "Drained") seen.drained.add(h.metadata.name);
      if (seen.drained.has(h.metadata.name) && !h.spec.drain) seen.returned.add(h.metadata.name);
    });

    const run = await griddeskCli(
      [
        "drain",
        "--selector",
        `rack=${rack}`,
        "--grace",
        "3s",
        "--message",
        "Rolling kernel upgrade.",
        "--exec",
        'test -n "$GRIDDESK_HOST" && sleep 2',
        "--interval",
        "0.5",
        "--timeout",
        "300",
      ],
      "fleet-cli",
    );
    expect(run.code).toBe(0);
    expect(run.output).toMatch(/WaitingForBudget|Pending/);
    expect(run.output).toMatch(/Returned/);

    // The CLI polls the API server and this watch follows it on its own: let the watch catch up.
    await eventually(
      "the watch to have seen every host Drained",
      async () => seen.drained.size === hosts.length,
      30_000,
    );
    expect([...seen.drained].sort()).toEqual([...hosts].sort());
    expect(samples).toBeGreaterThan(50);
    expect(peak.cc).toBe(2); // the rollout used its budget…
    expect(peak.kb).toBe(1); // …and the stricter pool's too, never more.
    await eventually("every host returned to service", async () => {
      const all = await c.hosts.list({ labelSelector: `rack=${rack}` });
      return all.every((h) => !h.spec.drain && condition(h, "Schedulable")?.status === "True");
    });
    expect(seen.waiting.size).toBeGreaterThan(0);
    // Sessions on drained hosts were logged off; the pools are served again.
    await eventually(
      "pools ready again",
      async () => {
        const pools = await c.pools.list({ namespace: ns });
        return pools.every((p) => p.status?.conditions?.find((x) => x.type === "Ready")?.status === "True");
      },
      90_000,
    );
  });
});
