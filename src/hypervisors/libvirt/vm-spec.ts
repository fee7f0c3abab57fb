// A create call's spec, checked and turned into the desktop's record. The image may carry a
// direct-kernel-boot block (`boot`, from Desktop.spec.image.boot) as an extra beside ImageRef.
import type { VmSpec } from "../adapter.js";
import { AdapterError } from "../errors.js";
import { validateVmSpec } from "../validate.js";
import { Overlays, locate } from "../../volumes/index.js";
import type { BootFileRef } from "../../volumes/boot-files.js";
import type { VmRecord } from "./records.js";

function invalid(message: string): never {
  throw new AdapterError("InvalidSpec", message);
}

/** An image's direct-kernel-boot block as the pool names it: sources and their digests. */
export interface BootSources {
  readonly kernel: BootFileRef;
  readonly initrd?: BootFileRef;
  readonly cmdline?: string;
}

const SHA256 = /^[a-f0-9]{64}$/;

/** The boot block, checked (InvalidSpec naming the field), or undefined. */
export function bootOf(spec: VmSpec): BootSources | undefined {
  const boot = (spec.image as { boot?: Partial<Record<string, unknown>> }).boot;
  if (boot === undefined) return undefined;
  const file = (field: "kernel" | "initrd"): BootFileRef | undefined => {
    const source = boot[field];
    const sha256 = boot[`${field}Sha256`];
    if (source === undefined && sha256 === undefined && field === "initrd") return undefined;
    if (typeof source !== "string" || source === "")
      invalid(`spec.image.boot.${field} must be a non-empty string`);
    if (typeof sha256 !== "string" || !SHA256.test(sha256))
      invalid(`spec.image.boot.${field}Sha256 must be 64 lowercase hex digits`);
    locate(source);
    return { source, sha256 };
  };
  const { cmdline } = boot;
  if (cmdline !== undefined && (typeof cmdline !== "string" || cmdline === ""))
    invalid("spec.image.boot.cmdline must be a non-empty string");
  const kernel = file("kernel") as BootFileRef;
  const initrd = file("initrd");
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
    ...(spec.consolePassword ? { consolePassword: spec.consolePassword } : {}),
  };
}
