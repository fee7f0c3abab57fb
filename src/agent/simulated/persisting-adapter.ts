// A simulated adapter whose host state is saved after every call that can change it, and once
// more on close. Only calls change a simulated host's records (time alone moves a VM from
// provisioning to running without touching them), so nothing else needs watching.
import type {
  AdapterListener,
  AttachedDisk,
  DesktopIdentity,
  HostFacts,
  HypervisorAdapter,
  ImageRef,
  ImageStatus,
  VmSpec,
  VmStatus,
} from "../../hypervisors/index.js";

export interface StateSink {
  changed(host: string): void;
  flush(host: string): Promise<void>;
}

export class PersistingAdapter implements HypervisorAdapter {
  readonly type;
  readonly hostName: string;
  readonly diskDir?: string;
  readonly consolePasswords: boolean;

  constructor(
    private readonly inner: HypervisorAdapter,
    private readonly sink: StateSink,
  ) {
    this.type = inner.type;
    this.hostName = inner.hostName;
    this.consolePasswords = inner.consolePasswords;
    if (inner.diskDir !== undefined) this.diskDir = inner.diskDir;
  }

  probe(): Promise<HostFacts> {
    return this.inner.probe();
  }

  prepareImage(image: ImageRef, signal?: AbortSignal): Promise<ImageStatus> {
    return this.changing(this.inner.prepareImage(image, signal));
  }

  listImages(): Promise<ImageStatus[]> {
    return this.inner.listImages();
  }

  create(spec: VmSpec): Promise<VmStatus> {
    return this.changing(this.inner.create(spec));
  }

  get(id: DesktopIdentity): Promise<VmStatus | null> {
    return this.inner.get(id);
  }

  list(): Promise<VmStatus[]> {
    return this.inner.list();
  }

  destroy(id: DesktopIdentity): Promise<void> {
    return this.changing(this.inner.destroy(id));
  }

  attachDisk(id: DesktopIdentity, disk: AttachedDisk): Promise<void> {
    return this.changing(this.inner.attachDisk(id, disk));
  }

  detachDisk(id: DesktopIdentity, serial: string): Promise<boolean> {
    return this.changing(this.inner.detachDisk(id, serial));
  }

  freezeDisk(id: DesktopIdentity, serial: string, next: string): Promise<boolean> {
    return this.changing(this.inner.freezeDisk(id, serial, next));
  }

  notify(id: DesktopIdentity, message: string): Promise<boolean> {
    return this.changing(this.inner.notify(id, message));
  }

  onChange(listener: AdapterListener): () => void {
    return this.inner.onChange(listener);
  }

  async close(): Promise<void> {
    await this.inner.close();
    this.sink.changed(this.hostName);
    await this.sink.flush(this.hostName);
  }

  /** The records may have changed once the call began, whether it then succeeded or not. */
  private async changing<T>(call: Promise<T>): Promise<T> {
    try {
      return await call;
    } finally {
      this.sink.changed(this.hostName);
    }
  }
}
