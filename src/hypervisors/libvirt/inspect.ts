// Reads what a host has for griddesk: desktop records, domains carrying griddesk's metadata,
// their states and VNC ports, and turns each into a VmStatus. A domain's port and UUID are
// fixed for its life, so they are read once per domain and remembered.
import type { Endpoint, VmStatus } from "../adapter.js";
import type { LibvirtHostConfig } from "./config.js";
import { METADATA_NS, domainName, parseDomainOwner, uidOfDomain, type DomainOwner } from "./domain-xml.js";
import type { VmRecord } from "./records.js";
import { libvirtVmStatus, UP_STATES } from "./status.js";
import type { HostStorage } from "./storage.js";
import type { Virsh } from "./virsh.js";

interface DomainFacts {
  readonly endpoint: Endpoint;
  readonly uuid?: string;
}

export class Inspector {
  private readonly facts = new Map<string, DomainFacts>();

  constructor(
    private readonly storage: HostStorage,
    private readonly virsh: Virsh,
    private readonly config: LibvirtHostConfig,
    /** Whether this adapter is still making the VM. */
    private readonly provisioning: (uid: string) => boolean,
    /** Picks up a VM whose making stopped (an agent died mid-way): the steps are idempotent. */
    private readonly resume: (record: VmRecord) => void,
  ) {}

  /** The VM's status, or null when the host has no record and no griddesk domain for `uid`. */
  async status(uid: string, { settled = false } = {}): Promise<VmStatus | null> {
    const name = domainName(uid);
    const [record, state] = await Promise.all([this.storage.records.get(uid), this.virsh.state(name)]);
    return this.build(uid, record, state, settled);
  }

  /** Every VM griddesk made on the host: records, and griddesk domains without one. */
  async all(): Promise<VmStatus[]> {
    const [records, domains] = await Promise.all([this.storage.records.list(), this.virsh.list()]);
    const states = new Map(domains.map((d) => [d.name, d.state]));
    const uids = new Set(records.map((r) => r.id.uid));
    const found = await Promise.all([
      ...records.map((r) => this.build(r.id.uid, r, states.get(domainName(r.id.uid)) ?? null)),
      ...domains
        .map((d) => uidOfDomain(d.name))
        .filter((uid): uid is string => uid !== undefined && !uids.has(uid))
        .map((uid) => this.build(uid, undefined, states.get(domainName(uid)) ?? null)),
    ]);
    return found.filter((s): s is VmStatus => s !== null);
  }

  /** The status of a VM whose making has just started (no need to ask libvirt). */
  started(record: VmRecord): VmStatus {
    const overlayPath = this.storage.overlays.pathOf(record.id.uid);
    return libvirtVmStatus({ owner: record, record, domainState: null, provisioning: true, overlayPath });
  }

  /** Forgets what was remembered about the domain (it was destroyed). */
  forget(uid: string): void {
    this.facts.delete(uid);
  }

  /** `settled`: as if its task had ended (the task asks, just before it ends). */
  private async build(
    uid: string,
    record: VmRecord | undefined,
    state: string | null,
    settled = false,
  ): Promise<VmStatus | null> {
    const name = domainName(uid);
    let owner: DomainOwner | undefined = record;
    if (owner === undefined) {
      if (state === null) return null;
      const meta = await this.virsh.metadata(name, METADATA_NS);
      const parsed = meta === null ? null : parseDomainOwner(meta);
      if (parsed === null || parsed.id.uid !== uid) return null; // not made by griddesk
      owner = parsed;
    }
    const stalled = record !== undefined && state === null && !record.startedAt && !record.failure;
    if (stalled && !settled && !this.provisioning(uid)) this.resume(record); // its task died with an earlier agent
    if (state === null) this.facts.delete(uid);
    const facts = state !== null && UP_STATES.has(state) ? await this.domainFacts(uid) : undefined;
    const overlayPath = this.storage.overlays.pathOf(uid);
    return libvirtVmStatus({
      owner,
      ...(record !== undefined ? { record } : {}),
      domainState: state,
      ...(facts?.endpoint !== undefined ? { endpoint: facts.endpoint } : {}),
      ...(facts?.uuid !== undefined ? { vmId: facts.uuid } : {}),
      provisioning: !settled && this.provisioning(uid),
      overlayPath,
    });
  }

  private async domainFacts(uid: string): Promise<DomainFacts | undefined> {
    const known = this.facts.get(uid);
    if (known !== undefined) return known;
    const name = domainName(uid);
    const [port, uuid] = await Promise.all([this.virsh.vncPort(name), this.virsh.uuid(name)]);
    if (port === null) return undefined;
    const facts: DomainFacts = {
      endpoint: { protocol: "vnc", host: this.config.endpointHost, port },
      ...(uuid !== null ? { uuid } : {}),
    };
    this.facts.set(uid, facts);
    return facts;
  }
}
