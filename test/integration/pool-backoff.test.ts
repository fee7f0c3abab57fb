// A host that fails every VM: the pool backs it off (5 s, doubling) instead of replacing each
// failed desktop at once, fills its buffer on a healthy host meanwhile, says why in its status
// and Events, and uses the host again once it works.
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import type { Desktop } from "../../src/api/types.generated.js";
import { Resources } from "../../src/controllers/shared/resources.js";
import type { Informer } from "../../src/runtime/index.js";
import { createTestNamespace, eventsWhen, eventually, installCrds } from "./support/cluster.js";
import { hostReady, watchObjects } from "./drain-support.js";
import {
  clients,
  poolObject,
  startControllerProcess,
  startSimulatedAgent,
  tempStateDir,
  uniq,
  type AgentArgs,
  tearDown,
} from "./support/griddesk.js";
import type { GriddeskProcess } from "./support/processes.js";

jest.setTimeout(240_000);

const id = uniq();
const site = `backoff-${id}`;
const bad = `backoff-${id}-bad`;
const good = `backoff-${id}-good`;
const c = clients();
let ns = "";
let sys = "";
const procs: GriddeskProcess[] = [];
let badAgent: AgentArgs;
let watch: Informer<Desktop> | undefined;
/** Every desktop ever seen, by name: its pool, host and when the API server created it. */
const seen = new Map<string, { pool: string; host: string; at: number }>();

/** When each desktop of `pool` on `host` was created (ms since the epoch, whole seconds), in order. */
const creations = (pool: string, host: string): number[] =>
  [...seen.values()]
    .filter((d) => d.pool === pool && d.host === host)
    .map((d) => d.at)
    .sort((x, y) => x - y);

beforeAll(async () => {
  await installCrds();
  ns = await createTestNamespace("backoff");
  sys = await createTestNamespace("backoff-sys");
  badAgent = {
    systemNamespace: sys,
    hosts: [bad],
    stateDir: tempStateDir(),
    labels: { site, role: "bad" },
    extra: ["--simulated-failure-rate", "1", "--simulated-image-pull-ms", "300"],
  };
  procs.push(startControllerProcess("bo-controller", { systemNamespace: sys }));
  procs.push(startSimulatedAgent("bo-agent-bad", badAgent));
  procs.push(
    startSimulatedAgent("bo-agent-good", {
      systemNamespace: sys,
      hosts: [good],
      stateDir: tempStateDir(),
      labels: { site, role: "good" },
    }),
  );
  await hostReady(bad);
  await hostReady(good);
  watch = await watchObjects<Desktop>(Resources.Desktop, { namespace: ns }, (d) => {
    if (d.spec.hostRef && !seen.has(d.metadata.name))
      seen.set(d.metadata.name, {
        pool: d.spec.poolRef,
        host: d.spec.hostRef,
        at: Date.parse(d.metadata.creationTimestamp as string),
      });
  });
});

afterAll(async () => {
  await watch?.stop();
  await tearDown(procs, [ns, sys], [bad, good]);
});

describe("pool failure backoff", () => {
  it("a host that fails every VM gets new desktops at a backing-off rate; the pool says why", async () => {
    await c.pools.create(
      poolObject(ns, "onbad", { buffer: 1, hostSelector: { matchLabels: { site, role: "bad" } } }),
    );
    const pool = await eventually(
      "pool reports the backoff",
      async () => {
        const p = await c.pools.get({ namespace: ns, name: "onbad" });
        const cond = p.status?.conditions?.find((x) => x.type === "BufferSatisfied");
        return cond?.message?.includes("backing off") ? cond : undefined;
      },
      30_000,
    );
    expect(pool.reason).toBe("ProvisioningFailing");
    expect(pool.message).toContain(`${bad} (`);
    expect(pool.message).toMatch(/failed in a row, until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/);

    // Each replacement waits out the backoff: 5 s after the first failure, 10 s after the
    // second. Without backoff the pool made one every few hundred ms. The gaps are between the
    // API server's creationTimestamps (whole seconds, so 1 s is left for rounding), not between
    // arrivals at this test's watch, which a busy machine delays unevenly. Lower bounds only: a
    // slow machine makes the gaps longer, never shorter.
    const times = await eventually(
      "3 desktops tried on the failing host",
      async () => {
        const t = creations("onbad", bad);
        return t.length >= 3 ? t : undefined;
      },
      90_000,
      100,
    );
    const gaps = [times[1]! - times[0]!, times[2]! - times[1]!];
    console.log(`desktops made on the failing host ${gaps.join(" ms and ")} ms apart`);
    expect(gaps[0]).toBeGreaterThanOrEqual(4_000);
    expect(gaps[1]).toBeGreaterThanOrEqual(9_000);
    expect(creations("onbad", bad)).toHaveLength(3); // the 4th waits 20 s more

    const events = await eventsWhen(
      ns,
      "involvedObject.kind=DesktopPool,involvedObject.name=onbad,reason=ProvisioningBackoff",
      'jsonpath={range .items[*]}{.type} {.message}{"\\n"}{end}',
      (out) => out.trim() !== "",
    );
    expect(events).toMatch(
      new RegExp(
        `^Warning desktop onbad-\\w+ failed on host ${bad} \\(1 in a row\\): .*simulated provisioning failure.*; no new desktops go to ${bad} for 5 s$`,
        "m",
      ),
    );
  });

  it("a pool that also has a healthy host fills its buffer there meanwhile", async () => {
    await c.pools.create(poolObject(ns, "mixed", { buffer: 2, hostSelector: { matchLabels: { site } } }));
    await eventually(
      "2 Available desktops of the mixed pool on the healthy host",
      async () => {
        const list = await c.desktops.list({ namespace: ns });
        const ok = list.filter(
          (d) => d.spec.poolRef === "mixed" && d.spec.hostRef === good && d.status?.phase === "Available",
        );
        return ok.length >= 2;
      },
      60_000,
    );
    // The pool's roll-up follows its desktops' status in a later pass: wait for it, not read once.
    await eventually(
      "the mixed pool Ready=True",
      async () =>
        (await c.pools.get({ namespace: ns, name: "mixed" })).status?.conditions?.find(
          (x) => x.type === "Ready",
        )?.status === "True",
      60_000,
    );
    expect(creations("mixed", bad).length).toBeLessThanOrEqual(2);
  });

  it("once the host works again, the next try after the backoff comes up and the pool is Ready", async () => {
    await procs[1]?.kill("SIGTERM");
    procs[1] = startSimulatedAgent("bo-agent-bad-fixed", {
      ...badAgent,
      extra: ["--simulated-image-pull-ms", "300"],
    });
    // Ready, an Available desktop on the host and the backoff lifted are reached in separate
    // writes (agent, then the pool's roll-up): wait until all three hold at once. The next try
    // comes when the backoff ends, which after the failures above (5 s doubling) can be 160 s
    // away on a slow machine: wait up to the backoff's 300 s ceiling.
    await eventually(
      "the failing-host pool Ready, with a desktop Available there and no backoff left",
      async () => {
        const p = await c.pools.get({ namespace: ns, name: "onbad" });
        const cond = (type: string) => p.status?.conditions?.find((x) => x.type === type);
        const list = await c.desktops.list({ namespace: ns });
        return (
          cond("Ready")?.status === "True" &&
          !cond("BufferSatisfied")?.message?.includes("backing off") &&
          list.some(
            (d) => d.spec.poolRef === "onbad" && d.spec.hostRef === bad && d.status?.phase === "Available",
          )
        );
      },
      330_000,
      500,
    );
  }, 360_000);
});
