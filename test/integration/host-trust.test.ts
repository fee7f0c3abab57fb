// A host is judged by what the controller saw, and only hosts an agent vouches for serve
// sessions. On the real control plane with the controller and simulated agents as processes:
// - a Lease renewed every 2 s with a renewTime 10 minutes behind, or 10 minutes ahead, of the
//   controller's clock (written by this test as a skewed agent would) keeps its host Ready, and
//   goes NotReady within the grace period once renewals stop;
// - the warm desktops of a host whose agent is gone and whose Lease was deleted are not bound:
//   a new session gets a desktop on a Ready host, and the pool no longer counts them Available;
// - deleting a HostNode removes its desktops and ends their sessions with HostRemoved.
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import type { HostNode } from "../../src/api/types.generated.js";
import { Resources } from "../../src/controllers/shared/resources.js";
import { hostLeaseName } from "../../src/controllers/shared/resources.js";
import { ObjectClient, RestClient, type Lease } from "../../src/runtime/index.js";
import { createTestNamespace, eventually, installCrds, kubeConfig } from "./support/cluster.js";
import { condition, hostReady } from "./drain-support.js";
import {
  clients,
  poolObject,
  sessionObject,
  startControllerProcess,
  startSimulatedAgent,
  tearDown,
  tempStateDir,
  uniq,
} from "./support/griddesk.js";
import type { GriddeskProcess } from "./support/processes.js";

jest.setTimeout(240_000);

const GRACE_S = 8;
const id = uniq();
const site = `trust-${id}`;
const skewed = `trust-${id}-skew`;
const first = `trust-${id}-a`;
const second = `trust-${id}-b`;
const c = clients();
const leases = new ObjectClient<Lease>(new RestClient(kubeConfig()), Resources.Lease);
let ns = "";
let sys = "";
const procs: GriddeskProcess[] = [];
let agentA: GriddeskProcess;
let agentB: GriddeskProcess;

beforeAll(async () => {
  await installCrds();
  ns = await createTestNamespace("trust");
  sys = await createTestNamespace("trust-sys");
  procs.push(
    startControllerProcess("trust-controller", { systemNamespace: sys, gracePeriodSeconds: GRACE_S }),
  );
});

afterAll(async () => {
  await tearDown(procs, [ns, sys], [skewed, first, second]);
});

/** Writes the host's Lease as an agent whose clock is `skewMs` off would: renewTime on its clock. */
async function renewSkewed(host: string, skewMs: number): Promise<void> {
  const renewTime = new Date(Date.now() + skewMs).toISOString().replace("Z", "000Z");
  const key = { namespace: sys, name: hostLeaseName(host) };
  const spec = { holderIdentity: "skewed-agent", leaseDurationSeconds: GRACE_S, renewTime };
  if (await leases.tryGet(key)) await leases.mergePatch(key, { spec });
  else
    await leases.create({
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { name: key.name, namespace: sys },
      spec: { ...spec, acquireTime: renewTime },
    });
}

const readyStatus = async (host: string): Promise<string | undefined> =>
  condition(await c.hosts.get({ name: host }), "Ready")?.status;

describe("host health on observed time", () => {
  it("a Lease whose renewTime is 10 minutes off keeps its host Ready while renewed, and expires once not", async () => {
    const node: HostNode = {
      apiVersion: "griddesk.io/v1alpha1",
      kind: "HostNode",
      metadata: { name: skewed },
      spec: { hypervisor: { type: "simulated", simulated: {} } },
    };
    await c.hosts.create(node);
    for (const skewMs of [-600_000, 600_000]) {
      await renewSkewed(skewed, skewMs);
      await eventually(
        `Ready with a clock ${skewMs / 60_000} min off`,
        async () => (await readyStatus(skewed)) === "True",
      );
      // Three grace periods of renewals every 2 s: it must stay Ready all along.
      const until = Date.now() + 3 * GRACE_S * 1000;
      while (Date.now() < until) {
        await renewSkewed(skewed, skewMs);
        expect(await readyStatus(skewed)).toBe("True");
        await new Promise((r) => setTimeout(r, 2_000));
      }
    }
    const stopped = Date.now();
    await eventually(
      "NotReady once the renewals stop",
      async () => {
        const ready = condition(await c.hosts.get({ name: skewed }), "Ready");
        return ready?.status !== "True" ? ready : undefined;
      },
      (GRACE_S + 10) * 1000,
      250,
    ).then((ready) => expect(ready.reason).toBe("HeartbeatExpired"));
    const after = Date.now() - stopped;
    console.log(`skewed host went NotReady ${after} ms after its last renewal (grace ${GRACE_S} s)`);
    expect(after).toBeGreaterThanOrEqual((GRACE_S - 2) * 1000); // not before the grace period (2 s of renew gap)
  });
});

describe("only hosts an agent vouches for serve sessions", () => {
  it("a host with no Lease keeps its warm desktops out of binding and out of Available", async () => {
    agentA = startSimulatedAgent("trust-agent-a", {
      systemNamespace: sys,
      hosts: [first],
      stateDir: tempStateDir(),
      labels: { site },
    });
    procs.push(agentA);
    await hostReady(first);
    await c.pools.create(poolObject(ns, "warm", { buffer: 1, hostSelector: { matchLabels: { site } } }));
    const warm = await eventually("a warm desktop on the first host", async () => {
      const list = await c.desktops.list({ namespace: ns });
      return list.find((d) => d.spec.hostRef === first && d.status?.phase === "Available");
    });

    // The agent goes and its Lease with it: nobody vouches for the host any more.
    await agentA.kill("SIGKILL");
    await leases.delete({ namespace: sys, name: hostLeaseName(first) });
    await eventually("the first host awaits an agent", async () => {
      const ready = condition(await c.hosts.get({ name: first }), "Ready");
      return ready?.reason === "AwaitingAgent";
    });
    expect((await c.desktops.get({ namespace: ns, name: warm.metadata.name as string })).status?.phase).toBe(
      "Available",
    ); // as its agent last wrote it: the controller does not fail it, it just does not use it
    await eventually("the pool no longer counts it Available", async () => {
      const p = await c.pools.get({ namespace: ns, name: "warm" });
      return p.status?.available === 0;
    });

    agentB = startSimulatedAgent("trust-agent-b", {
      systemNamespace: sys,
      hosts: [second],
      stateDir: tempStateDir(),
      labels: { site },
    });
    procs.push(agentB);
    await hostReady(second);
    await c.sessions.create(sessionObject(ns, "warm", "alice"));
    const session = await eventually("alice Ready", async () => {
      const s = await c.sessions.get({ namespace: ns, name: "alice" });
      return s.status?.phase === "Ready" ? s : undefined;
    });
    expect(session.status?.hostRef).toBe(second);
    expect(session.status?.desktopRef).not.toBe(warm.metadata.name);
    expect(
      (await c.desktops.get({ namespace: ns, name: warm.metadata.name as string })).spec.sessionRef,
    ).toBe(undefined);
  });

  it("deleting a HostNode removes its desktops and ends their sessions with HostRemoved", async () => {
    const onFirst = (await c.desktops.list({ namespace: ns })).filter((d) => d.spec.hostRef === first);
    expect(onFirst.length).toBeGreaterThan(0);
    await c.hosts.delete({ name: first });
    await eventually("the first host's desktops gone", async () =>
      (await c.desktops.list({ namespace: ns })).every((d) => d.spec.hostRef !== first),
    );

    // The second host is decommissioned with alice on it: its agent stopped, then its HostNode deleted.
    await agentB.kill("SIGTERM");
    await c.hosts.delete({ name: second });
    const ended = await eventually("alice's session ends with HostRemoved", async () => {
      const s = await c.sessions.tryGet({ namespace: ns, name: "alice" });
      return s?.status?.phase === "Ended" ? s : undefined;
    });
    expect(ended.status?.endReason).toBe("HostRemoved");
    const ready = ended.status?.conditions?.find((x) => x.type === "Ready");
    expect(ready?.message).toBe(`HostRemoved: host ${second} was removed (its HostNode was deleted)`);
    await eventually("the second host's desktops gone", async () =>
      (await c.desktops.list({ namespace: ns })).every((d) => d.spec.hostRef !== second),
    );
  });
});
