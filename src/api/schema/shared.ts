// Compound schema pieces used by more than one kind: conditions, label selectors, images,
// desktop sizes and endpoints. Each is one object so the generated types share one interface.
import type { Schema } from "./openapi.js";
import { dateTime, integer, objectName, quantity, text } from "./primitives.js";
import { tsNamed } from "./ts-names.js";

export const condition: Schema = tsNamed("Condition", {
  description: "One aspect of the object's state, in the shape of metav1.Condition.",
  type: "object",
  required: ["type", "status", "lastTransitionTime", "reason", "message"],
  properties: {
    type: text("Condition type in CamelCase, e.g. Ready. Each kind documents its closed set of types.", 316, {
      pattern:
        "^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$",
    }),
    status: tsNamed(
      "ConditionStatus",
      {
        description: "Whether the condition holds: True, False or Unknown.",
        type: "string",
        enum: ["True", "False", "Unknown"],
      },
      "Whether a condition holds.",
    ),
    observedGeneration: {
      description: "The metadata.generation the condition was computed from.",
      type: "integer",
      format: "int64",
      minimum: 0,
    },
    lastTransitionTime: dateTime("When status last changed (not when reason or message last changed)."),
    reason: text("Machine-readable CamelCase reason for the current status.", 1024, {
      minLength: 1,
      pattern: "^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$",
    }),
    message: text("Human-readable detail about the current status; may be empty.", 32768),
  },
});

export function conditions(description: string): Schema {
  return {
    description,
    type: "array",
    maxItems: 32,
    items: condition,
    "x-kubernetes-list-type": "map",
    "x-kubernetes-list-map-keys": ["type"],
  };
}

export function observedGeneration(kind: string): Schema {
  return {
    description: `The ${kind}'s metadata.generation that this status was last computed from.`,
    type: "integer",
    format: "int64",
    minimum: 0,
  };
}

const labelSelectorRequirement: Schema = tsNamed("LabelSelectorRequirement", {
  description: "One requirement on a label: a key, an operator and (for In/NotIn) values.",
  type: "object",
  required: ["key", "operator"],
  properties: {
    key: text("The label key the requirement applies to.", 317, { minLength: 1 }),
    operator: {
      description: "How the key relates to the values: In, NotIn, Exists or DoesNotExist.",
      type: "string",
      enum: ["In", "NotIn", "Exists", "DoesNotExist"],
    },
    values: {
      description: "Label values; non-empty for In and NotIn, empty for Exists and DoesNotExist.",
      type: "array",
      maxItems: 64,
      items: text("A label value.", 63),
      "x-kubernetes-list-type": "atomic",
    },
  },
});

/** A metav1.LabelSelector; an empty selector matches every object. */
export function labelSelector(description: string, extra: Partial<Schema> = {}): Schema {
  return tsNamed("LabelSelector", {
    description,
    type: "object",
    ...extra,
    "x-kubernetes-map-type": "atomic",
    properties: {
      matchLabels: {
        description: "Labels that must all be present with exactly these values.",
        type: "object",
        maxProperties: 64,
        additionalProperties: text("A label value.", 63),
      },
      matchExpressions: {
        description: "Requirements that must all hold (ANDed with matchLabels).",
        type: "array",
        maxItems: 32,
        items: labelSelectorRequirement,
        "x-kubernetes-list-type": "atomic",
      },
    },
  });
}

const imageLocation = "^(file:///|/|https?://)\\S+$";

const sha256Digest = (what: string): Schema => ({
  description: `SHA-256 of ${what} as 64 lowercase hex digits; a host refuses a mismatching copy.`,
  type: "string",
  pattern: "^[a-f0-9]{64}$",
});

const bootSpec: Schema = tsNamed("DirectKernelBoot", {
  description:
    "Direct kernel boot: start the VM from this kernel (and initrd) instead of the disk's boot loader. " +
    "For small Linux test images; omit for ordinary disk images. Each file is verified by its sha256, like the image.",
  type: "object",
  required: ["kernel", "kernelSha256"],
  properties: {
    kernel: text("The kernel: an absolute path, a file:/// URL or an http(s) URL.", 2048, {
      pattern: imageLocation,
    }),
    kernelSha256: sha256Digest("the kernel file"),
    initrd: text("The initial ramdisk: an absolute path, a file:/// URL or an http(s) URL.", 2048, {
      pattern: imageLocation,
    }),
    initrdSha256: sha256Digest("the initrd file"),
    cmdline: text("The kernel command line, e.g. 'console=ttyS0 root=/dev/vda'.", 4096),
  },
  "x-kubernetes-validations": [
    {
      rule: "has(self.initrd) == has(self.initrdSha256)",
      message:
        "spec.image.boot.initrdSha256 is required with spec.image.boot.initrd, and allowed only with it",
      fieldPath: ".initrdSha256",
    },
  ],
});

/** The golden image a desktop's copy-on-write overlay sits on. */
export const desktopImage: Schema = tsNamed("DesktopImage", {
  description: "The golden image desktops boot from; hosts cache it locally, verified by sha256.",
  type: "object",
  required: ["source", "sha256"],
  properties: {
    source: text(
      "Where hosts fetch the image: an absolute path or file:/// URL on the host, or an http(s) URL.",
      2048,
      { pattern: imageLocation },
    ),
    sha256: sha256Digest("the image file"),
    format: {
      description: "Disk format of the image file: qcow2 or raw.",
      type: "string",
      enum: ["qcow2", "raw"],
      default: "qcow2",
    },
    boot: bootSpec,
    containerDisk: text(
      "The same golden image as a KubeVirt containerDisk, for KubeVirt hosts: an OCI image reference pinned " +
        "by digest, e.g. registry.example.com/golden/win11@sha256:<64 hex>. Build it from the file whose sha256 " +
        "is above (the qcow2 under /disk/ in the image), so every kind of host boots the same bytes. Pools " +
        "without it are refused on KubeVirt hosts.",
      1024,
      { pattern: "^[a-z0-9]([a-z0-9._/:-]*[a-z0-9])?@sha256:[a-f0-9]{64}$" },
    ),
  },
});

const resourcesPath = "spec.resources";

/** A desktop's size; both DesktopPool and Desktop carry it at spec.resources. */
export const desktopResources: Schema = tsNamed("DesktopResources", {
  description: "The size of one desktop: virtual CPUs, memory and system disk.",
  type: "object",
  required: ["cpu", "memory", "disk"],
  properties: {
    cpu: quantity(
      `${resourcesPath}.cpu`,
      "Virtual CPUs, e.g. 2 (adapters round fractions such as 500m up).",
      {
        positive: true,
      },
    ),
    memory: quantity(`${resourcesPath}.memory`, "Guest memory, e.g. 4Gi.", { positive: true }),
    disk: quantity(
      `${resourcesPath}.disk`,
      "Virtual size of the system disk (the overlay's limit), e.g. 40Gi.",
      {
        positive: true,
      },
    ),
  },
});

export const endpoint: Schema = tsNamed("DesktopEndpoint", {
  description:
    "Where a client connects to the desktop's console or remote display: a host and port (libvirt, " +
    "simulated), or a KubeVirt VirtualMachineInstance whose console the API server serves (kubevirt).",
  type: "object",
  required: ["protocol"],
  properties: {
    protocol: tsNamed(
      "DisplayProtocol",
      {
        description: "Remote display protocol: vnc, spice or rdp.",
        type: "string",
        enum: ["vnc", "spice", "rdp"],
      },
      "A remote display protocol.",
    ),
    host: text("Host name or IP address to connect to.", 253, { minLength: 1 }),
    port: integer("TCP port to connect to.", 1, 65535),
    kubevirt: tsNamed("KubevirtConsole", {
      description:
        "The VirtualMachineInstance whose VNC console is the API server's subresource " +
        "/apis/subresources.kubevirt.io/v1/namespaces/NAMESPACE/virtualmachineinstances/NAME/vnc (a " +
        "websocket; RBAC: get on virtualmachineinstances/vnc).",
      type: "object",
      required: ["namespace", "name"],
      properties: {
        namespace: text("The VMI's namespace.", 63, { minLength: 1 }),
        name: text("The VMI's name.", 253, { minLength: 1 }),
      },
    }),
  },
  "x-kubernetes-validations": [
    {
      rule: "has(self.kubevirt) ? !has(self.host) && !has(self.port) : has(self.host) && has(self.port)",
      message: "status.endpoint has either host and port, or kubevirt (a VMI's console), not both",
    },
    {
      rule: "!has(self.kubevirt) || self.protocol == 'vnc'",
      message: "status.endpoint.protocol must be vnc for a KubeVirt console",
      fieldPath: ".protocol",
    },
  ],
});

const SFTP_ADDRESS = "^sftp://([A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?|\\[[0-9A-Fa-f:.]+\\])(:[0-9]{1,5})?$";

/** Where a profile store is: the file server and a directory on it (no credentials). */
function storeLocationProperties(path: string): Record<string, Schema> {
  return {
    address: text(
      "The file server, as sftp://HOST or sftp://HOST:PORT (port 22 when omitted). Only SFTP is implemented: " +
        "smb:// and nfs:// are refused.",
      262,
      {
        minLength: 1,
        "x-kubernetes-validations": [
          {
            rule: `self.matches('${SFTP_ADDRESS.replace(/\\/g, "\\\\")}')`,
            message:
              `${path}.address must be sftp://HOST or sftp://HOST:PORT; other protocols (smb://, nfs://) are ` +
              "not supported by this version of griddesk",
          },
        ],
      },
    ),
    path: text(
      "The directory on the file server that holds the profiles, an absolute path such as /profiles.",
      1024,
      {
        minLength: 1,
        pattern: "^/[A-Za-z0-9._/-]*$",
        "x-kubernetes-validations": [
          {
            rule: "!self.matches('(^|/)[.][.]?(/|$)')",
            message: `${path}.path must be an absolute path without . or .. segments, such as /profiles`,
          },
        ],
      },
    ),
  };
}

/** A profile store: its location and the Secret with the credentials to reach it. */
function profileStoreSchema(tsName: string, path: string): Schema {
  return tsNamed(tsName, {
    description:
      "The profile store: an SFTP server, a directory on it, and a Secret (in the same namespace) with the " +
      "credentials: keys username, ssh-privatekey (an OpenSSH private key) and ssh-hostkey (the server's public " +
      "host key, pinned: a server presenting another key is refused).",
    type: "object",
    required: ["address", "path", "secretRef"],
    properties: {
      ...storeLocationProperties(path),
      secretRef: tsNamed("LocalSecretReference", {
        description: "A Secret in the same namespace.",
        type: "object",
        required: ["name"],
        properties: { name: objectName("The Secret's name.") },
      }),
    },
  });
}

/** A pool's profile store (spec.profile.store). */
export const profileStore: Schema = profileStoreSchema("ProfileStore", "spec.profile.store");
/** A DesktopProfile's store (spec.store), copied from the pool that made it. */
export const profileStoreRef: Schema = profileStoreSchema("ProfileStoreRef", "spec.store");

export const profileMode: Schema = tsNamed(
  "ProfileMode",
  {
    description:
      "ReadWrite: this session holds the profile's write lock. ReadOnly: another session holds it; this " +
      "one gets a throwaway copy whose changes are discarded.",
    type: "string",
    enum: ["ReadWrite", "ReadOnly"],
  },
  "Whether a session may write the user's profile.",
);
