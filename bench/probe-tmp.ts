// temporary probe (not committed): one logon at a time, with timings of each transition
import { runBench } from "./lib/run.js";
import { createNamespace } from "./lib/cluster.js";
import {
  paths,
  poolObject,
  poolStatus,
  sessionObject,
  startAgent,
  startController,
  userName,
} from "./lib/griddesk.js";
import { sleep, until } from "./lib/stats.js";

await runBench(
  {
    name: "probe",
    clusterDir: "",
    portBase: 46473,
    keepCluster: false,
    clientSockets: 8,
    outDir: "",
    profile: false,
  },
  async (ctx) => {
    const { kube } = ctx.cluster;
    const op = {
      kubeconfig: ctx.cluster.kubeconfig,
      outDir: ctx.outDir,
      hosts: 5,
      provisionMs: 200,
      sessionWorkers: Number(process.env.SW ?? 0),
    };
    const agent = startAgent(op);
    const controller = startController("controller", op);
    ctx.procs.push(agent, controller);
    await createNamespace(kube, "bench");
    await kube.request("POST", paths.pools("bench"), poolObject("bench", "p", { buffer: 20, max: 200 }));
    await until(
      "warm",
      async () => ((await poolStatus(kube, "bench", "p"))?.available ?? 0) >= 20,
      600_000,
      500,
    );
    await sleep(3000);
    for (let i = 0; i < Number(process.env.N ?? 8); i++) {
      const u = userName("u", i);
      const t0 = Date.now();
      const seen: string[] = [];
      const w = await kube.watch(
        `${paths.sessions("bench")}?fieldSelector=metadata.name%3D${u}`,
        "0",
        (type, o) => {
          const s = o as { status?: { phase?: string }; metadata: { finalizers?: string[] } };
          seen.push(
            `${Date.now() - t0}ms ${type} phase=${s.status?.phase} fin=${s.metadata.finalizers?.length ?? 0}`,
          );
        },
        () => undefined,
      );
      await kube.request("POST", paths.sessions("bench"), sessionObject("bench", "p", u));
      await until("ready", () => seen.some((x) => x.includes("Ready")), 120_000, 20);
      w.stop();
      console.log(u, seen.join(" | "));
      await sleep(Number(process.env.GAP ?? 200));
    }
  },
);
