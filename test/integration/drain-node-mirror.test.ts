// Kubernetes Node mirroring on the real control plane: a HostNode naming a Node in
// spec.nodeName follows `kubectl cordon` / `kubectl drain` / `kubectl uncordon` of that Node,
// marking the cordons it sets (Annotations.CordonedBy) and never lifting one a person set.
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { Annotations } from "../../src/api/constants.js";
import type { HostNode } from "../../src/api/types.generated.js";
import { griddeskCli } from "./drain-support.js";
import {
  createTestNamespace,
  deleteNamespace,
  eventsWhen,
  eventually,
  installCrds,
  mustKubectl,
} from "./support/cluster.js";
import { clients, startControllerProcess, uniq } from "./support/griddesk.js";
import { stopAll, type GriddeskProcess } from "./support/processes.js";

jest.setTimeout(180_000);

const id = uniq();
const node = `mirror-node-${id}`;
const host = `mirror-${id}`;
const c = clients();
let sys = "";
let controller: GriddeskProcess | undefined;

const hostNode = (): HostNode => ({
  apiVersion: "griddesk.io/v1alpha1",
  kind: "HostNode",
  metadata: { name: host },
  spec: { hypervisor: { type: "simulated", simulated: {} }, nodeName: node },
});
const cordon = async () => {
  const h = await c.hosts.get({ name: host });
  return {
    unschedulable: h.spec.unschedulable ?? false,
    by: h.metadata.annotations?.[Annotations.CordonedBy],
  };
};

beforeAll(async () => {
  await installCrds();
  sys = await createTestNamespace("mirror-sys");
  await mustKubectl(
    ["apply", "-f", "-"],
    JSON.stringify({ apiVersion: "v1", kind: "Node", metadata: { name: node } }),
  );
  await c.hosts.create(hostNode());
  controller = startControllerProcess("mirror-controller", { systemNamespace: sys });
});

afterAll(async () => {
  await stopAll([controller]);
  await c.hosts.delete({ name: host }).catch(() => undefined);
  await mustKubectl(["delete", "node", node, "--ignore-not-found"]);
  await deleteNamespace(sys);
});

describe("Node cordon mirror", () => {
  it("follows kubectl cordon, uncordon and drain of the Node", async () => {
    await mustKubectl(["cordon", node]);
    await eventually(
      "mirrored cordon",
      async () => {
        const s = await cordon();
        return s.unschedulable && s.by === "node-mirror";
      },
      60_000,
    );
    await eventsWhen(
      "default",
      `involvedObject.name=${host},reason=Cordoned`,
      "name",
      (out) => out.trim() !== "",
    );

    await mustKubectl(["uncordon", node]);
    await eventually("mirrored uncordon", async () => {
      const s = await cordon();
      return !s.unschedulable && s.by === undefined;
    });

    await mustKubectl(["drain", node, "--ignore-daemonsets", "--timeout=30s"]);
    await eventually("kubectl drain cordons the host too", async () => (await cordon()).unschedulable);
    await mustKubectl(["uncordon", node]);
    await eventually("lifted again", async () => !(await cordon()).unschedulable);
  });

  it("never lifts a cordon a person set", async () => {
    const r = await griddeskCli(["cordon", host], "mirror-cli");
    expect(r.code).toBe(0);
    expect(await cordon()).toEqual({ unschedulable: true, by: "kubectl-griddesk" });
    await mustKubectl(["cordon", node]);
    await mustKubectl(["uncordon", node]);
    await new Promise((r) => setTimeout(r, 3000));
    expect(await cordon()).toEqual({ unschedulable: true, by: "kubectl-griddesk" });

    // The person lifts theirs; the mirror then follows the Node again, also when it is deleted.
    expect((await griddeskCli(["uncordon", host], "mirror-cli")).code).toBe(0);
    await mustKubectl(["cordon", node]);
    await eventually("mirrored again", async () => (await cordon()).by === "node-mirror");
    await mustKubectl(["delete", "node", node]);
    await eventually("a deleted Node lifts the mirror's cordon", async () => !(await cordon()).unschedulable);
  });
});
