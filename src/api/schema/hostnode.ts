// HostNode: one hypervisor host, like a Node. Cluster-scoped; usually created by its agent.
import { Plurals } from "../constants.js";
import type { KindDefinition, Schema, ValidationRule } from "./openapi.js";
import {
  count,
  dateTime,
  positiveDuration,
  HYPERVISOR_TYPES,
  hypervisorType,
  objectName,
  quantity,
  text,
} from "./primitives.js";
import { conditions, observedGeneration } from "./shared.js";
import { tsNamed } from "./ts-names.js";

/** For each hypervisor type, its block must be present exactly when `type` names it. */
function blockMatchesType(type: (typeof HYPERVISOR_TYPES)[number]): ValidationRule {
  return {
    rule: `has(self.${type}) == (self.type == '${type}')`,
    message: `spec.hypervisor.${type} must be set when spec.hypervisor.type is ${type}, and omitted otherwise`,
    fieldPath: `.${type}`,
  };
}

const hypervisor: Schema = tsNamed("HostHypervisor", {
  description:
    "The hypervisor on this host and how its agent reaches it. Exactly the block named by type is set.",
  type: "object",
  required: ["type"],
  properties: {
    type: hypervisorType("Which adapter serves this host: libvirt, kubevirt or simulated. Immutable.", {
      "x-kubernetes-validations": [
        {
          rule: "self == oldSelf",
          message: "spec.hypervisor.type is immutable; delete and re-create the HostNode to change it",
        },
      ],
    }),
    libvirt: tsNamed("LibvirtHypervisor", {
      description: "Settings for a QEMU/KVM host managed through libvirt (type: libvirt).",
      type: "object",
      properties: {
        uri: text(
          "The libvirt connection URI the agent uses on this host: the host's own libvirtd, qemu:///system " +
            "(the default) or qemu:///session. Any other (a remote transport such as qemu+ssh://, or " +
            "qemu+ext://, which runs a command on the host) is refused here; an admin who wants one runs the " +
            "agent with --libvirt-uri.",
          1024,
          { minLength: 1, default: "qemu:///system" },
        ),
      },
      "x-kubernetes-validations": [
        {
          rule: "!has(self.uri) || self.uri in ['qemu:///system', 'qemu:///session']",
          message:
            "spec.hypervisor.libvirt.uri must be qemu:///system or qemu:///session (the host's own libvirtd); " +
            "another URI is an admin's choice, made with the agent's --libvirt-uri flag",
          fieldPath: ".uri",
        },
      ],
    }),
    kubevirt: tsNamed("KubevirtHypervisor", {
      description:
        "Settings for a host whose desktops are KubeVirt VMIs pinned to one node (type: kubevirt).",
      type: "object",
      required: ["nodeName", "namespace"],
      properties: {
        nodeName: objectName("The Kubernetes Node the VMIs are pinned to."),
        namespace: text("The namespace the agent creates VMIs in.", 63, {
          minLength: 1,
          pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
        }),
      },
    }),
    simulated: tsNamed("SimulatedHypervisor", {
      description: "Settings for a simulated host used for scale tests and demos (type: simulated).",
      type: "object",
      properties: {
        profile: text(
          "Name of a simulator behaviour profile (boot time, failure rate), interpreted by the simulated agent.",
          63,
        ),
      },
    }),
  },
  "x-kubernetes-validations": HYPERVISOR_TYPES.map(blockMatchesType),
});

/** `required`: the agent's report (status), where zero is possible; an admin's override must be above zero. */
function hostQuantities(pathPrefix: string, what: string, required: boolean): Schema {
  const positive = !required;
  return tsNamed(required ? "HostResources" : "HostCapacityOverride", {
    description: what,
    type: "object",
    ...(required ? { required: ["cpu", "memory", "localStorage"] } : {}),
    properties: {
      cpu: quantity(`${pathPrefix}.cpu`, "Logical CPUs, e.g. 64.", { positive }),
      memory: quantity(`${pathPrefix}.memory`, "Memory, e.g. 512Gi.", { positive }),
      localStorage: quantity(
        `${pathPrefix}.localStorage`,
        "Disk space for image cache and overlays, e.g. 2Ti.",
        { positive },
      ),
    },
  });
}

const drain: Schema = tsNamed("DrainRequest", {
  description:
    "A drain request: present means drain (cordon, delete idle desktops, warn users, force logoff at the " +
    "deadline); remove it to abort the drain.",
  type: "object",
  required: ["message"],
  properties: {
    message: text("The notice shown to each user still logged on, e.g. 'Host maintenance tonight.'", 1024, {
      minLength: 1,
    }),
    gracePeriod: positiveDuration(
      "spec.drain.gracePeriod",
      "How long users have to log off, from when the drain starts, e.g. 2h or 30m.",
    ),
    deadline: dateTime("The time by which users must have logged off (RFC 3339), e.g. 2026-12-01T18:00:00Z."),
    forceLogoff: {
      description: "Whether sessions still open at the deadline are ended; false waits for users instead.",
      type: "boolean",
      default: true,
    },
    reason: text("A short machine-readable reason recorded in Events, e.g. KernelUpgrade.", 128),
  },
  "x-kubernetes-validations": [
    {
      rule: "has(self.gracePeriod) != has(self.deadline)",
      message: "spec.drain must set exactly one of gracePeriod (e.g. 2h) or deadline (an RFC 3339 time)",
    },
  ],
});

const spec: Schema = tsNamed("HostNodeSpec", {
  description: "The desired state of the host: hypervisor, capacity, overcommit, cordon and drain.",
  type: "object",
  required: ["hypervisor"],
  properties: {
    hypervisor,
    capacity: hostQuantities(
      "spec.capacity",
      "Capacity to offer, overriding what the agent probes; each field omitted is probed.",
      false,
    ),
    overcommit: tsNamed("Overcommit", {
      description: "How far allocations may exceed capacity (allocatable = capacity x ratio).",
      type: "object",
      default: {},
      properties: {
        cpu: {
          description: "CPU overcommit ratio, 1 to 16.",
          type: "number",
          minimum: 1,
          maximum: 16,
          default: 1,
        },
        memory: {
          description: "Memory overcommit ratio, 1 to 4.",
          type: "number",
          minimum: 1,
          maximum: 4,
          default: 1,
        },
      },
    }),
    localStoragePath: text("Absolute directory on the host for the image cache and desktop overlays.", 4096, {
      pattern: "^/\\S*$",
      default: "/var/lib/griddesk",
    }),
    unschedulable: {
      description: "Cordon: when true, no new desktops are placed here; running ones are untouched.",
      type: "boolean",
      default: false,
    },
    drain,
    nodeName: objectName(
      "A Kubernetes Node this host runs on; its cordon (spec.unschedulable) is mirrored onto this HostNode.",
    ),
  },
});

const image: Schema = tsNamed("CachedImage", {
  description: "A golden image in the host's local cache.",
  type: "object",
  required: ["source", "sha256", "state"],
  properties: {
    source: text("Where the image was fetched from (the pool's spec.image.source).", 2048),
    sha256: {
      description: "SHA-256 of the image, 64 lowercase hex digits.",
      type: "string",
      pattern: "^[a-f0-9]{64}$",
    },
    sizeBytes: {
      description: "Size of the cached file in bytes.",
      type: "integer",
      format: "int64",
      minimum: 0,
    },
    state: tsNamed(
      "CachedImageState",
      {
        description: "Pulling while being fetched, Ready when verified and usable, Failed otherwise.",
        type: "string",
        enum: ["Pulling", "Ready", "Failed"],
      },
      "The state of a golden image in a host's cache.",
    ),
    lastUsed: dateTime("When a desktop was last created from this image; the cache evicts the oldest first."),
    message: text("Detail on the state, e.g. why a pull failed.", 4096),
  },
});

const status: Schema = tsNamed("HostNodeStatus", {
  description: "The observed state of the host, written by its agent and by the controller.",
  type: "object",
  properties: {
    observedGeneration: observedGeneration("HostNode"),
    conditions: conditions("Ready (summary), Schedulable, Draining and Drained; see src/api/conditions.ts."),
    agent: text("Name of the agent instance serving this host.", 253),
    facts: tsNamed("HostFacts", {
      description: "What the agent found on the host.",
      type: "object",
      properties: {
        cpuModel: text("CPU model name, e.g. AMD EPYC 9454.", 256),
        cpuVendor: text("CPU vendor, e.g. AuthenticAMD or GenuineIntel.", 64),
        cores: count("Logical CPUs on the host."),
        memory: quantity("status.facts.memory", "Physical memory."),
        hypervisorVersion: text("Version of the hypervisor, e.g. QEMU 8.2.2 / libvirt 10.0.0.", 256),
        adapterVersion: text("Version of the griddesk agent and adapter.", 128),
      },
    }),
    capacity: hostQuantities(
      "status.capacity",
      "Capacity in effect: spec.capacity where set, else probed.",
      true,
    ),
    allocatable: hostQuantities(
      "status.allocatable",
      "Capacity after overcommit: what placement may allocate.",
      true,
    ),
    allocated: tsNamed("HostAllocation", {
      description: "What the desktops placed here take, summed.",
      type: "object",
      required: ["cpu", "memory", "disk", "desktops", "sessions"],
      properties: {
        cpu: quantity("status.allocated.cpu", "Virtual CPUs allocated."),
        memory: quantity("status.allocated.memory", "Memory allocated."),
        disk: quantity("status.allocated.disk", "Disk allocated to overlays (virtual sizes)."),
        desktops: count("Desktops placed on this host, in any phase but Terminating."),
        sessions: count("Desktops on this host bound to a session."),
      },
    }),
    images: {
      description: "The golden images cached on this host.",
      type: "array",
      maxItems: 256,
      items: image,
      "x-kubernetes-list-type": "map",
      "x-kubernetes-list-map-keys": ["sha256"],
    },
    drain: tsNamed("DrainStatus", {
      description: "Progress of the drain requested in spec.drain; absent when no drain is in progress.",
      type: "object",
      properties: {
        startedAt: dateTime("When the drain started."),
        deadline: dateTime(
          "When remaining sessions are forced off (startedAt + gracePeriod, or spec deadline).",
        ),
        sessionsLeft: count("Sessions still open on the host."),
        phase: tsNamed(
          "DrainPhase",
          {
            description:
              "Pending while a pool's maintenance budget does not let the drain start yet, Draining while " +
              "waiting for users, ForcingLogoff after the deadline, Drained when no desktop is left.",
            type: "string",
            enum: ["Pending", "Draining", "ForcingLogoff", "Drained"],
          },
          "Progress of a host drain.",
        ),
      },
    }),
  },
});

export const hostNode: KindDefinition = {
  kind: "HostNode",
  plural: Plurals.HostNode,
  singular: "hostnode",
  shortNames: ["hn"],
  scope: "Cluster",
  description:
    "HostNode is one hypervisor host (libvirt, KubeVirt or simulated) that desktops can be placed on, " +
    "like a Node is for Pods. Its agent reports facts, capacity, cached images and health in status.",
  spec,
  status,
  printerColumns: [
    {
      name: "Hypervisor",
      type: "string",
      jsonPath: ".spec.hypervisor.type",
      description: "Hypervisor type.",
    },
    {
      name: "CPU Model",
      type: "string",
      jsonPath: ".status.facts.cpuModel",
      description: "CPU model reported by the agent.",
    },
    {
      name: "Desktops",
      type: "integer",
      jsonPath: ".status.allocated.desktops",
      description: "Desktops placed here.",
    },
    {
      name: "Sessions",
      type: "integer",
      jsonPath: ".status.allocated.sessions",
      description: "Desktops in use.",
    },
    {
      name: "Cordoned",
      type: "boolean",
      jsonPath: ".spec.unschedulable",
      description: "Whether placement skips this host.",
    },
    {
      name: "Drain",
      type: "string",
      jsonPath: ".status.drain.phase",
      description: "Drain progress, if draining.",
    },
    {
      name: "Ready",
      type: "string",
      jsonPath: '.status.conditions[?(@.type=="Ready")].status',
      description: "Whether the agent heartbeats and the hypervisor answers.",
    },
    {
      name: "Age",
      type: "date",
      jsonPath: ".metadata.creationTimestamp",
      description: "Time since creation.",
    },
  ],
  selectableFields: [".spec.hypervisor.type"],
};
