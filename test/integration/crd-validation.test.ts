// The CRDs refuse bad manifests at `kubectl apply`, with messages naming the offending field,
// and fill in defaults: checked against the real kube-apiserver.
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { createTestNamespace, deleteNamespace, kubectl, mustKubectl } from "./support/cluster.js";

jest.setTimeout(120_000);

const CRD_DIR = fileURLToPath(new URL("../../crds/", import.meta.url));
const CRDS = ["hostnodes", "desktoppools", "desktops", "desktopsessions", "desktopprofiles"].map(
  (p) => `crd/${p}.griddesk.io`,
);
const FIELD_MANAGER = "griddesk-crd-validation-test";
const SHA = "103ecec02b76eb300eb38d15d9f22efe9662c51e85e3d3dbc4f9b3440cbb2736";
const run = randomBytes(3).toString("hex");
let ns = "";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- test manifests are edited freely
type Spec = Record<string, any>;
type Obj = { apiVersion: string; kind: string; metadata: Record<string, unknown>; spec: Spec };

async function installCrds(): Promise<void> {
  await mustKubectl([
    "apply",
    "--server-side",
    "--force-conflicts",
    `--field-manager=${FIELD_MANAGER}`,
    "-f",
    CRD_DIR,
  ]);
  await mustKubectl(["wait", "--for=condition=Established", "--timeout=60s", ...CRDS]);
}

const host = (name: string): Obj => ({
  apiVersion: "griddesk.io/v1alpha1",
  kind: "HostNode",
  metadata: { name: `crdval-${run}-${name}`, labels: { "griddesk.io/test-run": run } },
  spec: { hypervisor: { type: "simulated", simulated: {} } },
});
const pool = (name: string): Obj => ({
  apiVersion: "griddesk.io/v1alpha1",
  kind: "DesktopPool",
  metadata: { name, namespace: ns },
  spec: {
    image: { source: "file:///srv/images/win11.qcow2", sha256: SHA },
    resources: { cpu: 2, memory: "4Gi", disk: "40Gi" },
    max: 10,
  },
});
const desktop = (name: string): Obj => ({
  apiVersion: "griddesk.io/v1alpha1",
  kind: "Desktop",
  metadata: { name, namespace: ns },
  spec: {
    poolRef: "p",
    image: { source: "file:///srv/images/win11.qcow2", sha256: SHA },
    resources: { cpu: 2, memory: "4Gi", disk: "40Gi" },
  },
});
const profiled = (name: string, profile: Spec = {}): Obj =>
  tweak(pool(name), (o) => {
    o.spec.session = { persistence: "ProfileManaged" };
    o.spec.profile = {
      store: { address: "sftp://files.example.com:2222", path: "/profiles", secretRef: { name: "store" } },
      quota: "5Gi",
      ...profile,
    };
  });
const profileObj = (name: string): Obj => ({
  apiVersion: "griddesk.io/v1alpha1",
  kind: "DesktopProfile",
  metadata: { name, namespace: ns },
  spec: {
    user: "alice@example.com",
    store: { address: "sftp://files.example.com", path: "/profiles", secretRef: { name: "store" } },
  },
});
const session = (name: string): Obj => ({
  apiVersion: "griddesk.io/v1alpha1",
  kind: "DesktopSession",
  metadata: { name, namespace: ns },
  spec: { poolRef: "p", user: "alice@example.com" },
});

/** A copy of `base` changed by `edit` (which may mutate its argument freely). */
function tweak(base: Obj, edit: (o: Obj) => void): Obj {
  const copy = structuredClone(base);
  edit(copy);
  return copy;
}

const apply = (o: Obj) =>
  kubectl(["apply", "--server-side", `--field-manager=${FIELD_MANAGER}`, "-f", "-"], JSON.stringify(o));

function ref(o: Obj): string[] {
  const name = `${o.kind.toLowerCase()}.griddesk.io/${o.metadata.name as string}`;
  return o.metadata.namespace ? [name, "-n", o.metadata.namespace as string] : [name];
}

const patch = (o: Obj, body: unknown) =>
  kubectl(["patch", ...ref(o), "--type=merge", "-p", JSON.stringify(body)]);

async function getJson(o: Obj): Promise<Obj> {
  return JSON.parse(await mustKubectl(["get", ...ref(o), "-o", "json"])) as Obj;
}

beforeAll(async () => {
  await installCrds();
  ns = await createTestNamespace("crdval");
});

afterAll(async () => {
  if (ns) await deleteNamespace(ns);
  await kubectl(["delete", "hostnodes.griddesk.io", "-l", `griddesk.io/test-run=${run}`, "--wait=false"]);
});

interface InvalidCase {
  name: string;
  manifest: () => Obj;
  /** Substrings the refusal must contain: the field path, and what is allowed where useful. */
  errors: string[];
}

const invalidOnCreate: InvalidCase[] = [
  {
    name: "pool without spec.image",
    manifest: () => tweak(pool("no-image"), (o) => delete o.spec.image),
    errors: ["spec.image: Required value"],
  },
  {
    name: "pool without spec.max",
    manifest: () => tweak(pool("no-max"), (o) => delete o.spec.max),
    errors: ["spec.max: Required value"],
  },
  {
    name: "pool without spec.resources.memory",
    manifest: () => tweak(pool("no-memory"), (o) => delete o.spec.resources.memory),
    errors: ["spec.resources.memory: Required value"],
  },
  {
    name: "pool with a malformed memory quantity",
    manifest: () => tweak(pool("bad-memory"), (o) => (o.spec.resources.memory = "4GB")),
    errors: ["spec.resources.memory", "should match"],
  },
  {
    name: "pool with zero CPUs",
    manifest: () => tweak(pool("zero-cpu"), (o) => (o.spec.resources.cpu = "0")),
    errors: ["spec.resources.cpu must be a quantity greater than zero"],
  },
  {
    name: "pool with a negative integer disk",
    manifest: () => tweak(pool("negative-disk"), (o) => (o.spec.resources.disk = -40)),
    errors: ["spec.resources.disk must be a quantity greater than zero"],
  },
  {
    name: "pool with an uppercase sha256",
    manifest: () => tweak(pool("bad-sha"), (o) => (o.spec.image.sha256 = SHA.toUpperCase())),
    errors: ["spec.image.sha256", "^[a-f0-9]{64}$"],
  },
  {
    name: "pool with an ftp image source",
    manifest: () => tweak(pool("bad-source"), (o) => (o.spec.image.source = "ftp://images/win11.qcow2")),
    errors: ["spec.image.source", "should match"],
  },
  {
    name: "pool with an unknown image format",
    manifest: () => tweak(pool("bad-format"), (o) => (o.spec.image.format = "vmdk")),
    errors: ['spec.image.format: Unsupported value: "vmdk"', '"qcow2"', '"raw"'],
  },
  {
    name: "pool with min greater than max",
    manifest: () => tweak(pool("min-over-max"), (o) => (o.spec.min = 11)),
    errors: ["spec.min", "spec.min must be less than or equal to spec.max"],
  },
  {
    name: "pool with buffer greater than max",
    manifest: () => tweak(pool("buffer-over-max"), (o) => (o.spec.buffer = 20)),
    errors: ["spec.buffer", "spec.buffer must be less than or equal to spec.max"],
  },
  {
    name: "pool with max 0",
    manifest: () => tweak(pool("max-zero"), (o) => (o.spec.max = 0)),
    errors: ["spec.max", "greater than or equal to 1"],
  },
  {
    name: "pool with max above 10000",
    manifest: () => tweak(pool("max-huge"), (o) => (o.spec.max = 10001)),
    errors: ["spec.max", "less than or equal to 10000"],
  },
  {
    name: "pool with an idle timeout that is not a Go duration",
    manifest: () => tweak(pool("bad-duration"), (o) => (o.spec.session = { idleTimeout: "30 minutes" })),
    errors: ["spec.session.idleTimeout", "should match"],
  },
  {
    name: "pool with a zero idle timeout",
    manifest: () => tweak(pool("idle-zero"), (o) => (o.spec.session = { idleTimeout: "0m" })),
    errors: ["spec.session.idleTimeout must be a duration greater than zero"],
  },
  {
    name: "pool with a zero disconnected timeout",
    manifest: () => tweak(pool("disc-zero"), (o) => (o.spec.session = { disconnectedTimeout: "0s" })),
    errors: ["spec.session.disconnectedTimeout must be a duration greater than zero"],
  },
  {
    name: "pool with a zero maximum session duration",
    manifest: () => tweak(pool("maxdur-zero"), (o) => (o.spec.session = { maxDuration: "0h0m" })),
    errors: ["spec.session.maxDuration must be a duration greater than zero"],
  },
  {
    name: "pool with a negative buffer",
    manifest: () => tweak(pool("buffer-negative"), (o) => (o.spec.buffer = -1)),
    errors: ["spec.buffer", "greater than or equal to 0"],
  },
  {
    name: "pool with a negative min",
    manifest: () => tweak(pool("min-negative"), (o) => (o.spec.min = -2)),
    errors: ["spec.min", "greater than or equal to 0"],
  },
  {
    name: "pool with zero memory",
    manifest: () => tweak(pool("zero-memory"), (o) => (o.spec.resources.memory = "0Mi")),
    errors: ["spec.resources.memory must be a quantity greater than zero"],
  },
  {
    name: "ProfileManaged pool without a profile",
    manifest: () => tweak(pool("no-profile"), (o) => (o.spec.session = { persistence: "ProfileManaged" })),
    errors: ["spec.profile", "required when spec.session.persistence is ProfileManaged"],
  },
  {
    name: "profile without a quota",
    manifest: () => tweak(profiled("no-quota"), (o) => delete o.spec.profile.quota),
    errors: ["spec.profile.quota: Required value"],
  },
  {
    name: "profile quota of zero",
    manifest: () => profiled("zero-quota", { quota: "0" }),
    errors: ["spec.profile.quota must be a quantity greater than zero"],
  },
  {
    name: "profile quota above 2Ti",
    manifest: () => profiled("huge-quota", { quota: "3Ti" }),
    errors: ["spec.profile.quota", "must be at most 2Ti"],
  },
  {
    name: "profile write-back more often than every 10s",
    manifest: () => profiled("fast-writeback", { writeBackInterval: "5s" }),
    errors: ["spec.profile.writeBackInterval must be at least 10s"],
  },
  {
    name: "profile retention of zero",
    manifest: () => profiled("no-retention", { retention: 0 }),
    errors: ["spec.profile.retention", "greater than or equal to 1"],
  },
  {
    name: "profile store on smb://",
    manifest: () => tweak(profiled("smb"), (o) => (o.spec.profile.store.address = "smb://files/profiles")),
    errors: ["spec.profile.store.address must be sftp://HOST or sftp://HOST:PORT", "smb://"],
  },
  {
    name: "profile store address with a path",
    manifest: () =>
      tweak(profiled("addr-path"), (o) => (o.spec.profile.store.address = "sftp://files/profiles")),
    errors: ["spec.profile.store.address must be sftp://HOST or sftp://HOST:PORT"],
  },
  {
    name: "profile store with a relative path",
    manifest: () => tweak(profiled("rel-path"), (o) => (o.spec.profile.store.path = "profiles")),
    errors: ["spec.profile.store.path", "should match"],
  },
  {
    name: "profile store path climbing out with ..",
    manifest: () => tweak(profiled("dotdot"), (o) => (o.spec.profile.store.path = "/profiles/../etc")),
    errors: ["spec.profile.store.path must be an absolute path without . or .. segments"],
  },
  {
    name: "profile store without a credentials Secret",
    manifest: () => tweak(profiled("no-secret"), (o) => delete o.spec.profile.store.secretRef),
    errors: ["spec.profile.store.secretRef: Required value"],
  },
  {
    name: "profile store Secret with an invalid name",
    manifest: () =>
      tweak(profiled("bad-secret"), (o) => (o.spec.profile.store.secretRef = { name: "Store!" })),
    errors: ["spec.profile.store.secretRef.name", "should match"],
  },
  {
    name: "profile with an unknown concurrent-session policy",
    manifest: () => profiled("bad-policy", { concurrentSession: "Share" }),
    errors: ['spec.profile.concurrentSession: Unsupported value: "Share"', '"Refuse"', '"ReadOnly"'],
  },
  {
    name: "profile compacting after one version",
    manifest: () => profiled("compact-one", { compactAfter: 1 }),
    errors: ["spec.profile.compactAfter", "greater than or equal to 2"],
  },
  {
    name: "profile on a NonPersistent pool",
    manifest: () => tweak(profiled("nonpersistent"), (o) => (o.spec.session = {})),
    errors: ["spec.profile is only used when spec.session.persistence is ProfileManaged"],
  },
  {
    name: "DesktopProfile without a user",
    manifest: () => tweak(profileObj("dp-no-user"), (o) => delete o.spec.user),
    errors: ["spec.user: Required value"],
  },
  {
    name: "DesktopProfile on an nfs:// store",
    manifest: () => tweak(profileObj("dp-nfs"), (o) => (o.spec.store.address = "nfs://files")),
    errors: ["spec.store.address must be sftp://HOST or sftp://HOST:PORT"],
  },
  {
    name: "DesktopProfile whose lock is not at the newest epoch",
    manifest: () =>
      tweak(profileObj("dp-old-lock"), (o) => {
        o.spec.epoch = 3;
        o.spec.lock = { session: "alice-1", sessionUID: "uid-1", epoch: 2 };
      }),
    errors: ["spec.lock", "spec.lock.epoch must equal spec.epoch"],
  },
  {
    name: "DesktopProfile lock without the session's uid",
    manifest: () =>
      tweak(profileObj("dp-no-uid"), (o) => {
        o.spec.epoch = 1;
        o.spec.lock = { session: "alice-1", epoch: 1 };
      }),
    errors: ["spec.lock.sessionUID: Required value"],
  },
  {
    name: "DesktopProfile restore naming no version",
    manifest: () => tweak(profileObj("dp-bad-restore"), (o) => (o.spec.restore = { version: "latest" })),
    errors: ["spec.restore.version", "should match"],
  },
  {
    name: "DesktopProfile restore while a session holds the lock",
    manifest: () =>
      tweak(profileObj("dp-restore-locked"), (o) => {
        o.spec.epoch = 2;
        o.spec.lock = { session: "alice-1", sessionUID: "uid-1", epoch: 2 };
        o.spec.restore = { version: "v000001-e1.qcow2" };
      }),
    errors: ["spec.restore", "cannot be set while a session holds the profile's write lock"],
  },
  {
    name: "pool with an unknown placement strategy",
    manifest: () => tweak(pool("bad-strategy"), (o) => (o.spec.placement = { strategy: "Random" })),
    errors: ['spec.placement.strategy: Unsupported value: "Random"', '"BreadthFirst"'],
  },
  {
    name: "pool with maxProvisioningPerHost 0",
    manifest: () => tweak(pool("bad-concurrency"), (o) => (o.spec.placement = { maxProvisioningPerHost: 0 })),
    errors: ["spec.placement.maxProvisioningPerHost", "greater than or equal to 1"],
  },
  {
    name: "pool with maxUnavailableHosts 150%",
    manifest: () => tweak(pool("bad-budget"), (o) => (o.spec.maintenance = { maxUnavailableHosts: "150%" })),
    errors: ["spec.maintenance.maxUnavailableHosts must be an integer of at least 0 or a percentage"],
  },
  {
    name: "pool listing a hypervisor type twice",
    manifest: () => tweak(pool("dup-types"), (o) => (o.spec.hypervisorTypes = ["libvirt", "libvirt"])),
    errors: ["spec.hypervisorTypes: duplicate entries"], // server-side apply refuses it before validation
  },
  {
    name: "pool booting a kernel with no checksum",
    manifest: () =>
      tweak(pool("boot-no-sha"), (o) => (o.spec.image.boot = { kernel: "/srv/images/vmlinuz" })),
    errors: ["spec.image.boot.kernelSha256: Required value"],
  },
  {
    name: "pool naming an initrd without its checksum",
    manifest: () =>
      tweak(
        pool("initrd-no-sha"),
        (o) =>
          (o.spec.image.boot = {
            kernel: "/srv/images/vmlinuz",
            kernelSha256: "a".repeat(64),
            initrd: "/srv/images/initrd.gz",
          }),
      ),
    errors: ["spec.image.boot.initrdSha256 is required with spec.image.boot.initrd"],
  },
  {
    name: "pool whose kernel checksum is not a sha256",
    manifest: () =>
      tweak(
        pool("boot-bad-sha"),
        (o) => (o.spec.image.boot = { kernel: "/srv/images/vmlinuz", kernelSha256: "md5:abc" }),
      ),
    errors: ["spec.image.boot.kernelSha256"],
  },
  {
    name: "host without spec.hypervisor",
    manifest: () => tweak(host("no-hypervisor"), (o) => delete o.spec.hypervisor),
    errors: ["spec.hypervisor: Required value"],
  },
  {
    name: "libvirt host reached over ssh",
    manifest: () =>
      tweak(
        host("uri-ssh"),
        (o) =>
          (o.spec.hypervisor = { type: "libvirt", libvirt: { uri: "qemu+ssh://root@elsewhere/system" } }),
      ),
    errors: ["spec.hypervisor.libvirt.uri must be qemu:///system or qemu:///session"],
  },
  {
    name: "libvirt host whose URI runs a command",
    manifest: () =>
      tweak(
        host("uri-ext"),
        (o) =>
          (o.spec.hypervisor = { type: "libvirt", libvirt: { uri: "qemu+ext:///system?command=/bin/sh" } }),
      ),
    errors: ["spec.hypervisor.libvirt.uri must be qemu:///system or qemu:///session"],
  },
  {
    name: "host with an unknown hypervisor type",
    manifest: () => tweak(host("vmware"), (o) => (o.spec.hypervisor = { type: "vmware" })),
    errors: ['spec.hypervisor.type: Unsupported value: "vmware"', '"libvirt"'],
  },
  {
    name: "libvirt host carrying the simulated block",
    manifest: () => tweak(host("mismatch"), (o) => (o.spec.hypervisor.type = "libvirt")),
    errors: [
      "spec.hypervisor.libvirt must be set when spec.hypervisor.type is libvirt",
      "spec.hypervisor.simulated must be set when spec.hypervisor.type is simulated, and omitted otherwise",
    ],
  },
  {
    name: "kubevirt host without its kubevirt block",
    manifest: () => tweak(host("no-kubevirt"), (o) => (o.spec.hypervisor = { type: "kubevirt" })),
    errors: ["spec.hypervisor.kubevirt must be set when spec.hypervisor.type is kubevirt"],
  },
  {
    name: "drain with both gracePeriod and deadline",
    manifest: () =>
      tweak(host("drain-both"), (o) => {
        o.spec.drain = { message: "bye", gracePeriod: "2h", deadline: "2026-12-01T18:00:00Z" };
      }),
    errors: ["spec.drain", "exactly one of gracePeriod"],
  },
  {
    name: "drain with neither gracePeriod nor deadline",
    manifest: () => tweak(host("drain-neither"), (o) => (o.spec.drain = { message: "bye" })),
    errors: ["spec.drain", "exactly one of gracePeriod"],
  },
  {
    name: "drain without a message",
    manifest: () => tweak(host("drain-silent"), (o) => (o.spec.drain = { gracePeriod: "2h" })),
    errors: ["spec.drain.message: Required value"],
  },
  {
    name: "drain with a grace period that is not a Go duration",
    manifest: () =>
      tweak(host("drain-bad"), (o) => (o.spec.drain = { message: "bye", gracePeriod: "2 hours" })),
    errors: ["spec.drain.gracePeriod", "should match"],
  },
  {
    name: "drain with a deadline that is not a date-time",
    manifest: () =>
      tweak(host("drain-date"), (o) => (o.spec.drain = { message: "bye", deadline: "tomorrow" })),
    errors: ["spec.drain.deadline"],
  },
  {
    name: "host with CPU overcommit above 16",
    manifest: () => tweak(host("overcommit"), (o) => (o.spec.overcommit = { cpu: 32 })),
    errors: ["spec.overcommit.cpu", "less than or equal to 16"],
  },
  {
    name: "host with a relative local storage path",
    manifest: () => tweak(host("relative-path"), (o) => (o.spec.localStoragePath = "var/lib/griddesk")),
    errors: ["spec.localStoragePath", "should match"],
  },
  {
    name: "host with a negative CPU capacity",
    manifest: () => tweak(host("negative-cpu"), (o) => (o.spec.capacity = { cpu: -4 })),
    errors: ["spec.capacity.cpu must be a quantity greater than zero"],
  },
  {
    name: "host with a zero memory capacity",
    manifest: () => tweak(host("zero-memory"), (o) => (o.spec.capacity = { memory: "0Gi" })),
    errors: ["spec.capacity.memory must be a quantity greater than zero"],
  },
  {
    name: "host with no local storage",
    manifest: () => tweak(host("zero-storage"), (o) => (o.spec.capacity = { localStorage: 0 })),
    errors: ["spec.capacity.localStorage must be a quantity greater than zero"],
  },
  {
    name: "host with memory overcommit 0",
    manifest: () => tweak(host("overcommit-zero"), (o) => (o.spec.overcommit = { memory: 0 })),
    errors: ["spec.overcommit.memory", "greater than or equal to 1"],
  },
  {
    name: "drain with a zero grace period",
    manifest: () => tweak(host("drain-zero"), (o) => (o.spec.drain = { message: "bye", gracePeriod: "0s" })),
    errors: ["spec.drain.gracePeriod must be a duration greater than zero"],
  },
  {
    name: "session without a user",
    manifest: () => tweak(session("no-user"), (o) => delete o.spec.user),
    errors: ["spec.user: Required value"],
  },
  {
    name: "session naming a pool with an invalid name",
    manifest: () => tweak(session("bad-pool"), (o) => (o.spec.poolRef = "Call_Center")),
    errors: ["spec.poolRef", "should match"],
  },
  {
    name: "desktop without a pool",
    manifest: () => tweak(desktop("orphan"), (o) => delete o.spec.poolRef),
    errors: ["spec.poolRef: Required value"],
  },
  {
    name: "desktop with a read-only profile carrying an epoch",
    manifest: () =>
      tweak(desktop("ro-epoch"), (o) => {
        o.spec.profile = {
          name: "alice",
          mode: "ReadOnly",
          epoch: 3,
          store: { address: "sftp://files", path: "/p", secretRef: { name: "s" } },
          quota: "1Gi",
        };
      }),
    errors: ["spec.profile.epoch is required for mode ReadWrite and not allowed for mode ReadOnly"],
  },
  {
    name: "desktop with a writable profile without its epoch",
    manifest: () =>
      tweak(desktop("rw-no-epoch"), (o) => {
        o.spec.profile = {
          name: "alice",
          mode: "ReadWrite",
          store: { address: "sftp://files", path: "/p", secretRef: { name: "s" } },
          quota: "1Gi",
        };
      }),
    errors: ["spec.profile.epoch is required for mode ReadWrite"],
  },
  {
    name: "desktop with an unknown hypervisor type",
    manifest: () => tweak(desktop("bad-hv"), (o) => (o.spec.hypervisorType = "hyperv")),
    errors: ['spec.hypervisorType: Unsupported value: "hyperv"'],
  },
];

describe("CRD validation refuses bad manifests on create", () => {
  it.each(invalidOnCreate)("$name", async ({ manifest, errors }) => {
    const r = await apply(manifest());
    expect(r.code).not.toBe(0);
    for (const e of errors) expect(r.stderr).toContain(e);
  });
});

interface UpdateCase {
  name: string;
  base: () => Obj;
  /** A merge patch applied after `base` exists. */
  first?: unknown;
  change: unknown;
  errors: string[];
}

const invalidOnUpdate: UpdateCase[] = [
  {
    name: "changing a profile's user",
    base: () => profileObj("dp-reuser"),
    change: { spec: { user: "mallory@example.com" } },
    errors: ["spec.user", "spec.user is immutable"],
  },
  {
    name: "moving a profile to another store",
    base: () => profileObj("dp-restore"),
    change: { spec: { store: { path: "/elsewhere" } } },
    errors: ["spec.store", "spec.store is immutable"],
  },
  {
    name: "turning a profile's epoch back",
    base: () => tweak(profileObj("dp-epoch"), (o) => (o.spec.epoch = 5)),
    change: { spec: { epoch: 4 } },
    errors: ["spec.epoch", "spec.epoch never decreases"],
  },
  {
    name: "changing a host's hypervisor type",
    base: () => host("retype"),
    change: { spec: { hypervisor: { type: "libvirt", simulated: null, libvirt: {} } } },
    errors: ["spec.hypervisor.type", "spec.hypervisor.type is immutable"],
  },
  {
    name: "changing a session's user",
    base: () => session("reuser"),
    change: { spec: { user: "mallory@example.com" } },
    errors: ["spec.user", "spec.user is immutable"],
  },
  {
    name: "changing a session's pool",
    base: () => session("repool"),
    change: { spec: { poolRef: "other" } },
    errors: ["spec.poolRef", "spec.poolRef is immutable"],
  },
  {
    name: "changing a desktop's sessionRef once set",
    base: () => desktop("rebind"),
    first: { spec: { sessionRef: { name: "alice-1", uid: "uid-1" } } },
    change: { spec: { sessionRef: { name: "bob-1", uid: "uid-2" } } },
    errors: ["spec.sessionRef", "spec.sessionRef cannot be changed or removed once set"],
  },
  {
    name: "removing a desktop's sessionRef",
    base: () => desktop("unbind"),
    first: { spec: { sessionRef: { name: "alice-2", uid: "uid-3" } } },
    change: { spec: { sessionRef: null } },
    errors: ["spec.sessionRef", "spec.sessionRef cannot be changed or removed once set"],
  },
  {
    name: "changing a desktop's profile once set",
    base: () => desktop("reprofile"),
    first: {
      spec: {
        profile: {
          name: "alice",
          mode: "ReadWrite",
          epoch: 1,
          store: { address: "sftp://files", path: "/p", secretRef: { name: "s" } },
          quota: "1Gi",
        },
      },
    },
    change: { spec: { profile: { epoch: 2 } } },
    errors: ["spec.profile", "spec.profile cannot be changed or removed once set"],
  },
  {
    name: "moving a desktop to another host",
    base: () => tweak(desktop("move"), (o) => (o.spec.hostRef = "host-a")),
    change: { spec: { hostRef: "host-b" } },
    errors: ["spec.hostRef", "spec.hostRef cannot be changed or removed once set"],
  },
  {
    name: "changing a desktop's image",
    base: () => desktop("reimage"),
    change: { spec: { image: { source: "/srv/images/other.qcow2" } } },
    errors: ["spec.image", "spec.image is immutable"],
  },
  {
    name: "moving a desktop to another pool",
    base: () => desktop("repool"),
    change: { spec: { poolRef: "other" } },
    errors: ["spec.poolRef", "spec.poolRef is immutable"],
  },
];

describe("CRD validation refuses forbidden updates", () => {
  it.each(invalidOnUpdate)("$name", async ({ base, first, change, errors }) => {
    const obj = base();
    const created = await apply(obj);
    expect(created.stderr).toBe("");
    if (first !== undefined) {
      const allowed = await patch(obj, first);
      expect(allowed.stderr).toBe("");
    }
    const r = await patch(obj, change);
    expect(r.code).not.toBe(0);
    for (const e of errors) expect(r.stderr).toContain(e);
  });
});

describe("CRD validation accepts what it should", () => {
  it("defaults a profile policy to Refuse, and takes and releases a profile's lock", async () => {
    const p = profiled("profile-defaults");
    expect((await apply(p)).stderr).toBe("");
    expect((await getJson(p)).spec.profile).toMatchObject({
      concurrentSession: "Refuse",
      quota: "5Gi",
      compactAfter: 16,
      retention: 10,
    });
    expect((await getJson(p)).spec.profile.writeBackInterval).toBeUndefined(); // off by default
    const wb = profiled("profile-writeback", { writeBackInterval: "15m" });
    expect((await apply(wb)).stderr).toBe("");

    const dp = profileObj("dp-lock");
    expect((await apply(dp)).stderr).toBe("");
    expect((await getJson(dp)).spec.epoch).toBe(0);
    const lock = { session: "alice-1", sessionUID: "uid-1", pool: "p", epoch: 1 };
    expect((await patch(dp, { spec: { epoch: 1, lock } })).stderr).toBe("");
    expect((await patch(dp, { spec: { lock: null } })).stderr).toBe("");
    expect((await patch(dp, { spec: { epoch: 2, lock: { ...lock, epoch: 2 } } })).stderr).toBe("");
  });

  it("fills in a minimal pool's defaults", async () => {
    const p = pool("minimal");
    expect((await apply(p)).stderr).toBe("");
    const { spec } = await getJson(p);
    expect(spec).toMatchObject({
      image: { format: "qcow2" },
      hostSelector: {},
      min: 0,
      buffer: 0,
      placement: { strategy: "BreadthFirst", maxProvisioningPerHost: 4 },
      session: { persistence: "NonPersistent" },
      maintenance: { maxUnavailableHosts: 1 },
      paused: false,
    });
  });

  it("fills in a minimal libvirt host's defaults", async () => {
    const h = tweak(host("defaults"), (o) => (o.spec.hypervisor = { type: "libvirt", libvirt: {} }));
    expect((await apply(h)).stderr).toBe("");
    const { spec } = await getJson(h);
    expect(spec).toEqual({
      hypervisor: { type: "libvirt", libvirt: { uri: "qemu:///system" } },
      overcommit: { cpu: 1, memory: 1 },
      localStoragePath: "/var/lib/griddesk",
      unschedulable: false,
    });
  });

  it("accepts a full pool with integer and percentage budgets, and lets max change", async () => {
    const p = tweak(pool("full"), (o) => {
      Object.assign(o.spec, {
        hostSelector: { matchExpressions: [{ key: "zone", operator: "In", values: ["a", "b"] }] },
        hypervisorTypes: ["libvirt", "simulated"],
        min: 1,
        buffer: 10,
        session: { persistence: "ProfileManaged", idleTimeout: "1h30m", maxDuration: "12h" },
        profile: {
          store: { address: "sftp://[fd00::7]:2222", path: "/srv/profiles", secretRef: { name: "store" } },
          quota: "5Gi",
          concurrentSession: "ReadOnly",
        },
        maintenance: { maxUnavailableHosts: "25%" },
      });
    });
    expect((await apply(p)).stderr).toBe("");
    expect((await patch(p, { spec: { max: 20, maintenance: { maxUnavailableHosts: 3 } } })).stderr).toBe("");
  });

  it("accepts a drain with either a grace period or a deadline, and its withdrawal", async () => {
    const h = host("drain-ok");
    expect((await apply(h)).stderr).toBe("");
    expect(
      (await patch(h, { spec: { unschedulable: true, drain: { message: "bye", gracePeriod: "45m" } } }))
        .stderr,
    ).toBe("");
    const deadline = { drain: { gracePeriod: null, deadline: "2026-12-01T18:00:00Z", forceLogoff: false } };
    expect((await patch(h, { spec: deadline })).stderr).toBe("");
    expect((await patch(h, { spec: { drain: null } })).stderr).toBe("");
  });

  it("lets placement set a desktop's host and the session controller bind it, once", async () => {
    const d = desktop("bind-once");
    expect((await apply(d)).stderr).toBe("");
    expect((await patch(d, { spec: { hostRef: "host-a", hypervisorType: "simulated" } })).stderr).toBe("");
    expect((await patch(d, { spec: { sessionRef: { name: "alice-3", uid: "uid-9" } } })).stderr).toBe("");
    expect((await getJson(d)).spec).toMatchObject({ hostRef: "host-a", sessionRef: { name: "alice-3" } });
  });

  it("validates status written through the status subresource", async () => {
    const d = desktop("status");
    expect((await apply(d)).stderr).toBe("");
    const status = (s: unknown) =>
      kubectl([
        "patch",
        ...ref(d),
        "--subresource=status",
        "--type=merge",
        "-p",
        JSON.stringify({ status: s }),
      ]);
    const ok = await status({
      phase: "Available",
      endpoint: { protocol: "vnc", host: "10.0.0.7", port: 5901 },
    });
    expect(ok.stderr).toBe("");
    const bad = await status({ phase: "Sleeping" });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('status.phase: Unsupported value: "Sleeping"');
  });
});
