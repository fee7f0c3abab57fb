import { describe, expect, it } from "@jest/globals";
import { systemClock } from "../../../src/hypervisors/clock.js";
import { simulatedAdapterFactory } from "../../../src/hypervisors/simulated/index.js";
import { vmSpec, testSources } from "./sim-helpers.js";

describe("system clock", () => {
  it("runs timers and cancels them", async () => {
    const ran: string[] = [];
    systemClock.setTimeout(() => ran.push("kept"), 5);
    const cancel = systemClock.setTimeout(() => ran.push("cancelled"), 5);
    cancel();
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(ran).toEqual(["kept"]);
  });

  it("drives the simulated adapter in real time (as in a demo)", async () => {
    const settings = {
      provisioningLatency: { mean: 20, jitter: 5 },
      imagePullLatency: { mean: 10, jitter: 0 },
    };
    const adapter = simulatedAdapterFactory({ sources: testSources })({ hostName: "demo", settings });
    const running = new Promise((resolve) =>
      adapter.onChange((e) => e.kind === "vm" && resolve(e.status?.state)),
    );
    expect((await adapter.create(vmSpec(1))).state).toBe("provisioning");
    expect(await running).toBe("running");
    expect((await adapter.get(vmSpec(1).id))?.state).toBe("running");
    await adapter.close();
  });
});
