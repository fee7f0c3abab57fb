// Cordon on the real control plane: a host cordoned through the kubectl plugin
// (`kubectl griddesk cordon`, the real kubectl finding kubectl-griddesk on PATH) receives no new
// desktop while a storm of logons is served by the other hosts; uncordoned, it takes desktops
// again. Desktops it already had are left alone (cordon never disrupts).
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Desktop } from "../../src/api/types.generated.js";
import { Resources } from "../../src/controllers/shared/resources.js";
import type { Informer } from "../../src/runtime/index.js";
import { condition, hostReady, logOn, roomyHosts, SMALL, users, watchObjects } from "./drain-support.js";
import { createTestNamespace, eventually, installCrds, kubectl, kubectlPath } from "./support/cluster.js";
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

jest.setTimeout(300_000);

const id = uniq();
const site = `cordon-${id}`;
const hosts = ["a", "b", "c"].map((x) => `cordon-${id}-${x}`);
const cordoned = hosts[2] as string;
const c = clients();
const procs: GriddeskProcess[] = [];
let watch: Informer<Desktop> | undefined;
let ns = "";
let sys = "";

/** `kubectl griddesk ARGS`: the real kubectl, with kubectl-griddesk (our CLI) on PATH. */
async function kubectlGriddesk(args: string[]) {
  const bin = mkdtempSync(path.join(tmpdir(), "griddesk-plugin-"));
  const repo = new URL("../../", import.meta.url).pathname;
  const plugin = path.join(bin, "kubectl-griddesk");
  writeFileSync(
    plugin,
    `#!/bin/sh\nexec "${repo}node_modules/.bin/node" --import tsx "${repo}src/cli/main.ts" "$@"\n`,
  );
  chmodSync(plugin, 0o755);
  const saved = process.env.PATH;
  process.env.PATH = `${bin}:${path.dirname(kubectlPath())}:${saved}`;
  try {
    return await kubectl(["griddesk", ...args]);
  } finally {
    process.env.PATH = saved;
  }
}

beforeAll(async () => {
  await installCrds();
  ns = await createTestNamespace("cordon");
  sys = await createTestNamespace("cordon-sys");
  procs.push(startControllerProcess("cordon-controller", { systemNamespace: sys }));
  procs.push(
    startSimulatedAgent("cordon-agent", {
      systemNamespace: sys,
      hosts,
      stateDir: tempStateDir(),
      labels: { site },
    }),
  );
  await Promise.all(hosts.map((h) => hostReady(h)));
  await roomyHosts(hosts);
  await c.pools.create(
    poolObject(ns, "cc", { buffer: 3, max: 60, resources: SMALL, hostSelector: { matchLabels: { site } } }),
  );
  await eventually(
    "buffer filled",
    async () => (await c.pools.get({ namespace: ns, name: "cc" })).status?.available === 3,
    90_000,
  );
});

afterAll(async () => {
  await watch?.stop();
  await tearDown(procs, [ns, sys], hosts);
});

describe("cordon", () => {
  it("a cordoned host receives no placement during a storm of logons", async () => {
    const r = await kubectlGriddesk(["cordon", cordoned]);
    expect(r).toMatchObject({ code: 0, stdout: `hostnode/${cordoned} cordoned\n` });
    await eventually("Schedulable=False (Cordoned)", async () => {
      const h = await c.hosts.get({ name: cordoned });
      return condition(h, "Schedulable")?.reason === "Cordoned";
    });
    const before = new Set(
      (await c.desktops.list({ namespace: ns }))
        .filter((d) => d.spec.hostRef === cordoned)
        .map((d) => d.metadata.name),
    );
    const placedThere: string[] = [];
    watch = await watchObjects<Desktop>(Resources.Desktop, { namespace: ns }, (d) => {
      if (
        d.spec.hostRef === cordoned &&
        !before.has(d.metadata.name) &&
        !placedThere.includes(d.metadata.name)
      )
        placedThere.push(d.metadata.name);
    });

    const storm = users("storm", 30);
    const sessions = await logOn(ns, "cc", storm, 180_000);
    expect(sessions).toHaveLength(30);
    const perHost = new Map<string, number>();
    for (const s of sessions)
      perHost.set(s.status?.hostRef ?? "", (perHost.get(s.status?.hostRef ?? "") ?? 0) + 1);
    // Only desktops that were already warm there may have been taken; nothing new was placed.
    expect(perHost.get(cordoned) ?? 0).toBeLessThanOrEqual(before.size);
    await eventually(
      "pool settled",
      async () => (await c.pools.get({ namespace: ns, name: "cc" })).status?.available === 3,
    );
    expect(placedThere).toEqual([]);

    // Uncordoned, it takes desktops again. The others are cordoned now, so that placement has no
    // other choice: whether it would prefer this host depends on the load and on which hosts have
    // the image cached (scoring, tested on its own), not on the cordon.
    const back = await kubectlGriddesk(["uncordon", cordoned]);
    expect(back.code).toBe(0);
    for (const other of hosts.filter((h) => h !== cordoned))
      expect((await kubectlGriddesk(["cordon", other])).code).toBe(0);
    await eventually("Schedulable=True on the uncordoned host only", async () =>
      (await Promise.all(hosts.map((h) => c.hosts.get({ name: h })))).every(
        (h) => (condition(h, "Schedulable")?.status === "True") === (h.metadata.name === cordoned),
      ),
    );
    await Promise.all(storm.slice(0, 6).map((name) => c.sessions.delete({ namespace: ns, name })));
    await logOn(ns, "cc", users("after", 6));
    await eventually("a new desktop on the uncordoned host", async () => placedThere.length > 0, 60_000);
  });
});
