// fast-check arbitraries for scheduler properties: mostly healthy hosts of all kinds and
// sizes (some already overfilled) and requests with varied selectors and limits.

import fc from "fast-check";
import type { DesktopRequest, LabelSelector } from "../../../src/scheduler/index.js";
import { GiB, host, request } from "./fixtures.js";

export const IMAGES = ["a", "b", "c"].map((c) => c.repeat(64));
const HYPERVISORS = ["libvirt", "kubevirt", "simulated"] as const;
const labelsArb = fc.dictionary(fc.constantFrom("zone", "rack", "gpu"), fc.constantFrom("x", "y", ""), {
  maxKeys: 3,
});

/** true with probability 1/6: most generated hosts are healthy, so that placements happen. */
const rarely = fc.oneof(
  { arbitrary: fc.constant(false), weight: 5 },
  { arbitrary: fc.constant(true), weight: 1 },
);

const hostArb = (name: string) =>
  fc
    .record({
      hypervisorType: fc.constantFrom(...HYPERVISORS),
      labels: labelsArb,
      ready: rarely.map((b) => !b),
      unschedulable: rarely,
      draining: rarely,
      cpu: fc.integer({ min: 0, max: 128_000 }),
      memGiB: fc.integer({ min: 0, max: 512 }),
      diskGiB: fc.integer({ min: 0, max: 2048 }),
      oc: fc.record({ cpu: fc.constantFrom(0.5, 1, 1.1, 1.5, 4), memory: fc.constantFrom(1, 1.25, 2) }),
      // Allocation may start anywhere up to 120% of capacity (an already overfilled host).
      used: fc.tuple(
        fc.double({ min: 0, max: 1.2, noNaN: true }),
        fc.double({ min: 0, max: 1.2, noNaN: true }),
      ),
      provisioning: fc.integer({ min: 0, max: 6 }),
      cachedImages: fc.subarray(IMAGES),
    })
    .map((h) =>
      host(name, {
        ...h,
        capacity: { cpuMilli: h.cpu, memoryBytes: h.memGiB * GiB, diskBytes: h.diskGiB * GiB },
        overcommit: h.oc,
        allocated: {
          cpuMilli: Math.round(h.cpu * h.oc.cpu * h.used[0]),
          memoryBytes: Math.round(h.memGiB * GiB * h.used[1]),
          diskBytes: Math.round(h.diskGiB * GiB * h.used[0]),
          desktops: 0,
        },
      }),
    );

export const hostsArb = fc
  .uniqueArray(fc.stringMatching(/^[a-z][a-z0-9-]{0,6}$/), { minLength: 1, maxLength: 12 })
  .chain((names) => fc.tuple(...names.map(hostArb)));

const selectorArb: fc.Arbitrary<LabelSelector | undefined> = fc.option(
  fc.record({
    matchLabels: fc.option(labelsArb, { nil: undefined }),
    matchExpressions: fc.array(
      fc.oneof(
        fc.record({
          key: fc.constantFrom("zone", "rack", "gpu"),
          operator: fc.constantFrom("In" as const, "NotIn" as const),
          values: fc.uniqueArray(fc.constantFrom("x", "y", ""), { minLength: 1 }),
        }),
        fc.record({
          key: fc.constantFrom("zone", "rack", "gpu"),
          operator: fc.constantFrom("Exists" as const, "DoesNotExist" as const),
        }),
      ),
      { maxLength: 2 },
    ),
  }),
  { nil: undefined, freq: 2 },
);

export const requestArb: fc.Arbitrary<DesktopRequest> = fc
  .record({
    cpuMilli: fc.integer({ min: 0, max: 16_000 }),
    memGiB: fc.integer({ min: 0, max: 64 }),
    diskGiB: fc.integer({ min: 0, max: 200 }),
    imageSha256: fc.constantFrom(...IMAGES),
    hypervisorTypes: fc.option(fc.subarray([...HYPERVISORS]), { nil: undefined, freq: 2 }),
    hostSelector: selectorArb,
    strategy: fc.constantFrom("BreadthFirst" as const, "DepthFirst" as const),
    maxProvisioningPerHost: fc.integer({ min: 1, max: 8 }),
  })
  .map(({ memGiB, diskGiB, ...r }) => request({ ...r, memoryBytes: memGiB * GiB, diskBytes: diskGiB * GiB }));

export const batchArb = fc.tuple(fc.array(requestArb, { maxLength: 40 }), hostsArb);
