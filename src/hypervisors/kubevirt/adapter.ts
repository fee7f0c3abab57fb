// The KubeVirt adapter: the desktops of one HostNode are VirtualMachineInstances in the host's
// namespace, pinned to its Node. Everything goes through the API server (KubeVirt's virt-api and
// virt-controller act on the VMIs); nothing is opened on the node itself. Which contract steps
// apply is in CONTRACT.md: no image cache of griddesk's (the node's container runtime pulls the
// containerDisk), no hot-plugged profile disks yet, no notice channel.
import type {
  AdapterListener,
  DesktopIdentity,
  HostFacts,
  HypervisorAdapter,
  ImageRef,
  ImageStatus,
  VmSpec,
  VmStatus,
} from "../adapter.js";
import { abortedError } from "../abort.js";
import type { Clock } from "../clock.js";
import { AdapterError, toAdapterError } from "../errors.js";
import { validateIdentity, validateImageRef, validateVmSpec } from "../validate.js";
import {
  ConflictError,
  Informer,
  NotFoundError,
  ObjectClient,
  type Cached,
  type KubeObject,
  type RestClient,
  type WatchClient,
} from "../../runtime/index.js";
import type { KubevirtHostConfig } from "./config.js";
import { nodeFacts, type NodeObject } from "./node-facts.js";
import { containerDiskOf, ownerIdOf, statusOf, VMI_LABELS, vmiFor, vmiName, type Vmi } from "./vmi.js";

export const KUBEVIRT_ADAPTER_VERSION = "0.1.0";

const VMI_RESOURCE = {
  group: "kubevirt.io",
  version: "v1",
  plural: "virtualmachineinstances",
  namespaced: true,
};
const NODE_RESOURCE = { group: "", version: "v1", plural: "nodes", namespaced: false };
/** How often destroy looks whether the VMI is gone (virt-controller removes its finalizer). */
const GONE_POLL_MS = 250;
const GONE_TIMEOUT_MS = 120_000;

export interface KubevirtAdapterOptions {
  readonly hostName: string;
  readonly config: KubevirtHostConfig;
  readonly rest: RestClient;
  readonly watcher: WatchClient;
  readonly clock: Clock;
  /** The admin's containerDisk prefixes (--allow-container-disk-prefix); none allows nothing. */
  readonly containerDiskPrefixes: readonly string[];
}

export class KubevirtAdapter implements HypervisorAdapter {
  readonly type = "kubevirt" as const;
  /** The console is the VMI's VNC subresource, reached through the API server. */
  readonly consolePasswords = false;
  readonly hostName: string;
  private readonly config: KubevirtHostConfig;
  private readonly clock: Clock;
  private readonly vmis: ObjectClient<Vmi>;
  private readonly nodes: ObjectClient<NodeObject & KubeObject>;
  private readonly listeners = new Set<AdapterListener>();
  private watch?: Informer<Vmi>;
  private closed = false;

  constructor(private readonly o: KubevirtAdapterOptions) {
    this.hostName = o.hostName;
    this.config = o.config;
    this.clock = o.clock;
    // Strict: a VMI field KubeVirt's schema does not know is refused, never silently pruned.
    this.vmis = new ObjectClient<Vmi>(o.rest, VMI_RESOURCE, { strictCreate: true });
    this.nodes = new ObjectClient<NodeObject & KubeObject>(o.rest, NODE_RESOURCE);
  }

  probe(): Promise<HostFacts> {
    return this.call(async () => {
      const node = await this.nodes.tryGet({ name: this.config.nodeName });
      if (node === undefined)
        throw new AdapterError("HostUnreachable", `Node ${this.config.nodeName} does not exist`);
      return nodeFacts(node, KUBEVIRT_ADAPTER_VERSION);
    });
  }

  /**
   * Nothing to prepare: the node's container runtime pulls the containerDisk when a VMI starts.
   * One the admin does not allow is refused here, as a libvirt host refuses a source at its fetch.
   */
  prepareImage(image: ImageRef, signal?: AbortSignal): Promise<ImageStatus> {
    return this.call(async () => {
      validateImageRef(image);
      if ("containerDisk" in image) containerDiskOf(image, this.o.containerDiskPrefixes);
      if (signal?.aborted) throw abortedError();
      return { ...image, state: "ready" };
    });
  }

  /** griddesk keeps no image cache on a KubeVirt node. */
  listImages(): Promise<ImageStatus[]> {
    return this.call(async () => []);
  }

  create(spec: VmSpec): Promise<VmStatus> {
    return this.call(async () => {
      validateVmSpec(spec);
      const vmi = vmiFor({
        hostName: this.hostName,
        config: this.config,
        id: spec.id,
        resources: { cpuMilli: spec.cpuMilli, memoryBytes: spec.memoryBytes, diskBytes: spec.diskBytes },
        imageSha256: spec.image.sha256,
        containerDisk: containerDiskOf(spec.image, this.o.containerDiskPrefixes),
        createdAt: this.clock.now(),
      });
      this.startWatch();
      try {
        return this.ours(await this.vmis.create(vmi), spec.id);
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err;
        // Made already (a retry, or a concurrent create): its status as it is, never resized.
        const existing = await this.vmis.get({ namespace: this.config.namespace, name: vmi.metadata.name });
        return this.ours(existing, spec.id);
      }
    });
  }

  get(id: DesktopIdentity): Promise<VmStatus | null> {
    return this.call(async () => {
      validateIdentity(id);
      const vmi = await this.vmis.tryGet({ namespace: this.config.namespace, name: vmiName(id.uid) });
      const status = vmi === undefined ? undefined : statusOf(vmi);
      return status?.id.uid === id.uid ? status : null;
    });
  }

  list(): Promise<VmStatus[]> {
    return this.call(async () => {
      const all = await this.vmis.list({
        namespace: this.config.namespace,
        labelSelector: `${VMI_LABELS.host}=${this.hostName}`,
      });
      return all.flatMap((vmi) => statusOf(vmi) ?? []);
    });
  }

  destroy(id: DesktopIdentity): Promise<void> {
    return this.call(async () => {
      validateIdentity(id);
      const key = { namespace: this.config.namespace, name: vmiName(id.uid) };
      const vmi = await this.vmis.tryGet(key);
      if (vmi === undefined || vmi.metadata.labels?.[VMI_LABELS.desktopUid] !== id.uid) return;
      await this.vmis.delete(key, {
        preconditions: { uid: vmi.metadata.uid },
        propagationPolicy: "Background",
      });
      // Resolves once the VMI is gone: KubeVirt stops the VM and its launcher pod first.
      const deadline = this.clock.now() + GONE_TIMEOUT_MS;
      while ((await this.vmis.tryGet(key))?.metadata.uid === vmi.metadata.uid) {
        if (this.clock.now() > deadline)
          throw new AdapterError(
            "Internal",
            `VMI ${key.namespace}/${key.name} still there ${GONE_TIMEOUT_MS} ms after its deletion`,
          );
        await new Promise((r) => setTimeout(r, GONE_POLL_MS));
      }
    });
  }

  attachDisk(): Promise<void> {
    return this.call(async () => {
      throw noDisks();
    });
  }

  detachDisk(): Promise<boolean> {
    return this.call(async () => false);
  }

  freezeDisk(): Promise<boolean> {
    return this.call(async () => false);
  }

  /** No channel into the guest yet (the Desktop's and session's Events carry every notice). */
  notify(): Promise<boolean> {
    return this.call(async () => false);
  }

  onChange(listener: AdapterListener): () => void {
    this.listeners.add(listener);
    this.startWatch();
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    await this.watch?.stop();
  }

  /** The status of a VMI this call made or found, checked to be the desktop's. */
  private ours(vmi: Vmi, id: DesktopIdentity): VmStatus {
    const status = statusOf(vmi);
    if (status?.id.uid !== id.uid)
      throw new AdapterError("Internal", `VMI ${vmi.metadata.name} exists and is not desktop ${id.uid}'s`);
    return status;
  }

  /** Watches this host's VMIs (lazily: a factory does no I/O) to hint when one changes state. */
  private startWatch(): void {
    if (this.watch !== undefined || this.closed) return;
    this.watch = new Informer<Vmi>(this.o.rest, this.o.watcher, {
      resource: VMI_RESOURCE,
      namespace: this.config.namespace,
      labelSelector: `${VMI_LABELS.host}=${this.hostName}`,
      clock: this.clock,
    });
    const hint = (vmi: Cached<Vmi>, gone: boolean): void => {
      const status = statusOf(vmi as Vmi);
      const id = ownerIdOf(vmi as Vmi);
      if (id === undefined) return; // not griddesk's
      for (const listener of this.listeners) {
        try {
          listener({ kind: "vm", id, status: gone ? null : (status ?? null) });
        } catch {
          // A listener must not throw; one that does is ignored (CONTRACT.md).
        }
      }
    };
    this.watch.addHandler({
      // No hint for a VMI as first seen: its state did not change (create's caller has it).
      update: (before, after) => {
        if (statusOf(before as Vmi)?.state !== statusOf(after as Vmi)?.state)
          hint(after, statusOf(after as Vmi) === undefined);
      },
      delete: (vmi) => hint(vmi, true),
    });
    this.watch.start();
  }

  private async call<T>(f: () => Promise<T>): Promise<T> {
    if (this.closed)
      throw new AdapterError("AdapterClosed", `the adapter of host ${this.hostName} is closed`);
    try {
      return await f();
    } catch (err) {
      if (err instanceof NotFoundError && /namespaces/.test(err.message))
        throw new AdapterError("HostUnreachable", `namespace ${this.config.namespace}: ${err.message}`, {
          cause: err,
        });
      throw toAdapterError(err);
    }
  }
}

function noDisks(): AdapterError {
  return new AdapterError(
    "InvalidSpec",
    "hot-plugged profile disks are not supported on KubeVirt hosts yet: use a NonPersistent pool there",
  );
}
