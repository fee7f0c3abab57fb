// A create call's spec, checked and turned into the desktop's record. The image may carry a
// direct-kernel-boot block (`boot`, from Desktop.spec.image.boot) as an extra beside ImageRef.
import type { VmSpec } from "../adapter.js";
import { AdapterError } from "../errors.js";
import { validateVmSpec } from "../validate.js";
import { Overlays, locate } from "../../volumes/index.js";
import type { KernelBoot } from "./domain-xml.js";
import type { VmRecord } from "./records.js";

function invalid(message: string): never {
  throw new AdapterError("InvalidSpec", message);
}

/** The boot block, checked (InvalidSpec naming the field), or undefined. */
export function bootOf(spec: VmSpec): KernelBoot | undefined {
  const boot = (spec.image as { boot?: Partial<KernelBoot> }).boot;
  if (boot === undefined) return undefined;
  for (const field of ["kernel", "initrd", "cmdline"] as const) {
    const value = boot[field];
    if (value === undefined && field !== "kernel") continue;
    if (typeof value !== "string" || value === "")
      invalid(`spec.image.boot.${field} must be a non-empty string`);
    if (field !== "cmdline") locate(value);
  }
  const { kernel, initrd, cmdline } = boot as KernelBoot;
  return { kernel, ...(initrd ? { initrd } : {}), ...(cmdline ? { cmdline } : {}) };
}

export function recordFor(spec: VmSpec, now: number): VmRecord {
  validateVmSpec(spec);
  if (!Overlays.isSafeUid(spec.id.uid))
    invalid(`spec.id.uid must be letters, digits and dashes: ${spec.id.uid}`);
  const boot = bootOf(spec);
  const { source, sha256, format, firmware } = spec.image;
  return {
    id: { namespace: spec.id.namespace, name: spec.id.name, uid: spec.id.uid },
    resources: { cpuMilli: spec.cpuMilli, memoryBytes: spec.memoryBytes, diskBytes: spec.diskBytes },
    imageSha256: sha256,
    image: { source, sha256, format, ...(firmware ? { firmware } : {}), ...(boot ? { boot } : {}) },
    createdAt: now,
  };
}
