// The agent's Desktop reconciler: makes each Desktop bound to one of its hosts real through the
// host's adapter, and reports what the hypervisor says. Level-triggered; every step idempotent.
// Opening sequence: fetch from the cache, ignore other agents' hosts, finalize if deleting,
// ensure the finalizer, leave Failed desktops to the pool; then observe the VM (creating it when
// there is none) and write status once, by a resourceVersion-checked merge patch, if it changed.
import { Finalizers, type Desktop, type DesktopStatus } from "../api/index.js";
import type { EventSink } from "../controllers/shared/events.js";
import { Superseded } from "../controllers/shared/superseded.js";
import { AdapterError, type VmStatus } from "../hypervisors/index.js";
import {
  done,
  keyOf,
  requeueAfter,
  type Cached,
  type Clock,
  type Informer,
  type ObjectClient,
  type ReconcileContext,
  type Reconciler,
  type Request,
  type Result,
} from "../runtime/index.js";
import { QuantityError } from "../scheduler/quantity.js";
import { desiredDesktopStatus, type VmObservation } from "./desktop-status.js";
import { desktopIdentity, vmSpecFor } from "./desktop-vm.js";
import { deliverNotice } from "./notice.js";
import { addFinalizer, hasFinalizer, removeFinalizer } from "./finalizers.js";
import type { HostTable, ServedHost } from "./hosts.js";
import { AGENT_DESKTOP_FIELDS, fieldPatch } from "./status-patch.js";

const FINALIZER = Finalizers.DesktopCleanup;

/**
 * A VM made in this pass is given this long to come up before its desktop's first status write:
 * most do (the adapter's hint brings the next pass), and their desktops go straight to
 * Available, one status write instead of two. Slower ones are reported Provisioning then.
 */
const FIRST_REPORT_GRACE_MS = 1_000;

export interface DesktopReconcilerDeps {
  readonly desktops: Informer<Desktop>;
  readonly client: ObjectClient<Desktop>;
  readonly hosts: HostTable;
  readonly events: EventSink;
  readonly clock: Clock;
  /** Safety net while a VM provisions (a lost adapter hint costs this much latency). */
  readonly provisioningRecheckMs: number;
  /** Level-triggered safety net for settled desktops: a lost hint (VM gone) is noticed this late. */
  readonly resyncMs: number;
  /** How soon to look again when the desktop's host is ours but not served yet. */
  readonly hostWaitMs: number;
  /** The host's VMs or images changed: report its status soon. */
  readonly hostTouched: (host: string) => void;
}

export class DesktopReconciler implements Reconciler {
  /** Desktops this agent wrote: a pass on a cache that has not seen the write is skipped. */
  private readonly superseded = new Superseded();

  constructor(private readonly deps: DesktopReconcilerDeps) {}

  async reconcile(req: Request, ctx: ReconcileContext): Promise<Result> {
    const desktop = this.deps.desktops.get(keyOf(req));
    if (desktop === undefined) this.superseded.forget(keyOf(req));
    else if (this.superseded.isBehind(desktop)) return done(); // our write's event is on its way
    const hostName = desktop?.spec.hostRef;
    if (desktop === undefined || hostName === undefined || !this.deps.hosts.isOurs(hostName)) return done();
    const host = this.deps.hosts.get(hostName);
    if (host === undefined) {
      if (this.deps.hosts.isRefused(hostName)) return done();
      ctx.log.debug({ host: hostName }, "host not served (yet); waiting");
      return requeueAfter(this.deps.hostWaitMs);
    }
    if (desktop.metadata.deletionTimestamp) return this.finalize(desktop, host);
    if (!hasFinalizer(desktop, FINALIZER)) {
      await addFinalizer(this.deps.client, desktop, FINALIZER); // its own write; the update re-queues
      this.superseded.wrote(desktop);
      return done();
    }
    if (desktop.status?.phase === "Failed") return done(); // the pool controller replaces it
    return this.sync(desktop, host, ctx);
  }

  private async finalize(desktop: Cached<Desktop>, host: ServedHost): Promise<Result> {
    if (!hasFinalizer(desktop, FINALIZER)) return done();
    await host.adapter.destroy(desktopIdentity(desktop));
    await removeFinalizer(this.deps.client, desktop, FINALIZER);
    this.superseded.wrote(desktop);
    this.deps.events.event(desktop, "Normal", "Destroyed", `VM and overlay removed from host ${host.name}`);
    this.deps.hostTouched(host.name);
    return done();
  }

  private async sync(desktop: Cached<Desktop>, host: ServedHost, ctx: ReconcileContext): Promise<Result> {
    const obs = await this.observe(desktop, host, ctx);
    if (obs.kind === "vm" && obs.created && obs.vm.state === "provisioning" && !desktop.status?.phase)
      return requeueAfter(Math.min(FIRST_REPORT_GRACE_MS, this.deps.provisioningRecheckMs));
    const status = desiredDesktopStatus(desktop, obs, new Date(this.deps.clock.now()));
    const patch = fieldPatch(desktop.status, status, AGENT_DESKTOP_FIELDS);
    if (patch !== undefined) {
      const { namespace, name, resourceVersion } = desktop.metadata;
      await this.deps.client.mergePatch(
        { namespace, name: name as string },
        { metadata: { resourceVersion }, status: patch },
        { subresource: "status" },
      );
      this.superseded.wrote(desktop);
      this.announce(desktop, status, host);
    }
    if (obs.kind !== "vm" || obs.vm.state === "failed") return done(); // Failed: the pool's turn
    if (obs.vm.state === "running")
      await deliverNotice(desktop, host.adapter, this.deps.client, this.deps.events);
    const provisioning = obs.vm.state === "provisioning";
    return requeueAfter(provisioning ? this.deps.provisioningRecheckMs : this.deps.resyncMs);
  }

  /** The VM as the adapter reports it, creating it when there is none (and there should be). */
  private async observe(
    desktop: Cached<Desktop>,
    host: ServedHost,
    ctx: ReconcileContext,
  ): Promise<VmObservation> {
    const { adapter } = host;
    let vm: VmStatus | null = await adapter.get(desktopIdentity(desktop));
    let created = false;
    if (vm === null) {
      const phase = desktop.status?.phase;
      if (phase === "Available" || phase === "InUse") return { kind: "lost", host: host.name };
      try {
        vm = await adapter.create(vmSpecFor(desktop));
      } catch (err) {
        if (err instanceof QuantityError)
          return { kind: "rejected", reason: "InvalidSpec", message: err.message };
        if (err instanceof AdapterError && !err.retryable)
          return { kind: "rejected", reason: err.reason, message: err.message };
        throw err; // retried with backoff (host unreachable, no room right now, ...)
      }
      created = true;
      ctx.log.info({ host: host.name, state: vm.state }, "VM created");
      this.deps.hostTouched(host.name);
    }
    if (vm.state === "running") return { kind: "vm", vm, created };
    // Provisioning or failed: the image's state says whether (and why) the pull is the cause.
    const image = (await adapter.listImages()).find((i) => i.sha256 === vm.imageSha256);
    return { kind: "vm", vm, created, ...(image ? { image } : {}) };
  }

  /**
   * Events for phase transitions, once each: the status write that made them was checked. A VM
   * that came up within the first-report grace has one Event, DesktopReady, not two.
   */
  private announce(desktop: Cached<Desktop>, status: DesktopStatus, host: ServedHost): void {
    const was = desktop.status?.phase;
    const ready = (p: string | undefined): boolean => p === "Available" || p === "InUse";
    if (status.phase === "Provisioning" && !was)
      this.deps.events.event(desktop, "Normal", "Provisioning", `creating the VM on host ${host.name}`);
    if (ready(status.phase) && !ready(was)) {
      const e = status.endpoint;
      const where = e ? ` at ${e.protocol}://${e.host}:${e.port}` : "";
      this.deps.events.event(desktop, "Normal", "DesktopReady", `VM running on host ${host.name}${where}`);
    }
    if (status.phase === "Failed" && was !== "Failed") {
      const reason = status.conditions?.find((c) => c.type === "Ready")?.reason ?? "Failed";
      this.deps.events.event(desktop, "Warning", reason, status.message ?? "the desktop failed");
    }
  }
}
