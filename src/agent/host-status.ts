// The part of HostNode.status the agent owns (agent, facts, capacity, images), as pure
// functions. The controller owns the rest (conditions, allocation, observedGeneration); both
// write by merge patch of their own fields only, so neither ever overwrites the other.
import { isDeepStrictEqual } from "node:util";
import type { CachedImage, HostCapacityOverride, HostNodeStatus } from "../api/index.js";
import type { HostFacts, ImageStatus } from "../hypervisors/index.js";
import type { DeepReadonly } from "../runtime/index.js";
import { formatBytes } from "./quantity.js";

export type AgentHostStatus = Required<Pick<HostNodeStatus, "agent" | "facts" | "capacity" | "images">>;

const IMAGE_STATES = { pulling: "Pulling", ready: "Ready", failed: "Failed" } as const;

export function cachedImage(image: ImageStatus): CachedImage {
  const message = image.state === "failed" ? [image.reason, image.message].filter(Boolean).join(": ") : "";
  return {
    source: image.source,
    sha256: image.sha256,
    state: IMAGE_STATES[image.state],
    ...(image.sizeBytes !== undefined ? { sizeBytes: image.sizeBytes } : {}),
    ...(message ? { message } : {}),
  };
}

/** What the agent reports: probed facts, capacity (spec.capacity wins per field), images by sha256. */
export function agentHostStatus(
  agent: string,
  facts: HostFacts,
  images: readonly ImageStatus[],
  specCapacity?: DeepReadonly<HostCapacityOverride>,
): AgentHostStatus {
  return {
    agent,
    facts: {
      cpuModel: facts.cpuModel,
      cpuVendor: facts.cpuVendor,
      cores: facts.cores,
      memory: formatBytes(facts.memoryBytes),
      hypervisorVersion: facts.hypervisorVersion,
      adapterVersion: facts.adapterVersion,
    },
    capacity: {
      cpu: specCapacity?.cpu ?? String(facts.cores),
      memory: specCapacity?.memory ?? formatBytes(facts.memoryBytes),
      localStorage: specCapacity?.localStorage ?? formatBytes(facts.localStorageBytes),
    },
    images: images.map(cachedImage).sort((a, b) => a.sha256.localeCompare(b.sha256)),
  };
}

/** The merge patch for `status`, or undefined when the cache already holds the desired fields. */
export function hostStatusPatch(
  current: DeepReadonly<HostNodeStatus> | undefined,
  desired: AgentHostStatus,
): Partial<AgentHostStatus> | undefined {
  const patch: Partial<Record<keyof AgentHostStatus, unknown>> = {};
  for (const key of Object.keys(desired) as (keyof AgentHostStatus)[]) {
    if (!isDeepStrictEqual(normalise(current?.[key]), normalise(desired[key]))) patch[key] = desired[key];
  }
  return Object.keys(patch).length > 0 ? (patch as Partial<AgentHostStatus>) : undefined;
}

/** As the wire has it: undefined fields dropped. */
function normalise(value: unknown): unknown {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}
