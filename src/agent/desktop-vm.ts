// A Desktop as its adapter sees it: the identity (the uid is the key) and the VM spec, from the
// Desktop's resource quantities and image.
import type { Desktop, DirectKernelBoot } from "../api/index.js";
import type { DesktopIdentity, VmSpec } from "../hypervisors/index.js";
import type { Cached } from "../runtime/index.js";
import { parseBytes, parseCpuMilli } from "../scheduler/quantity.js";

export function desktopIdentity(desktop: Cached<Desktop>): DesktopIdentity {
  const { namespace = "", name, uid = "" } = desktop.metadata;
  return { namespace, name, uid };
}

/** Throws (QuantityError) for a quantity the schema let through but we cannot read. */
export function vmSpecFor(desktop: Cached<Desktop>): VmSpec {
  const { resources, image } = desktop.spec;
  return {
    id: desktopIdentity(desktop),
    cpuMilli: parseCpuMilli(resources.cpu),
    memoryBytes: parseBytes(resources.memory),
    diskBytes: parseBytes(resources.disk),
    image: imageFor(image),
  };
}

/**
 * The image ref, with the image's direct-kernel-boot block and containerDisk riding along as extra
 * fields: the libvirt adapter boots the one, the KubeVirt adapter the other; others ignore them.
 */
function imageFor(image: Cached<Desktop>["spec"]["image"]): VmSpec["image"] {
  const ref: VmSpec["image"] & { boot?: DirectKernelBoot; containerDisk?: string } = {
    source: image.source,
    sha256: image.sha256,
    format: image.format ?? "qcow2",
    ...(image.boot !== undefined ? { boot: { ...image.boot } } : {}),
    ...(image.containerDisk !== undefined ? { containerDisk: image.containerDisk } : {}),
  };
  return ref;
}
