// Checks every adapter runs on its inputs before touching the hypervisor, so that a bad spec
// is refused the same way (AdapterError InvalidSpec, naming the field) whatever is underneath.
import {
  IMAGE_FORMATS,
  type AttachedDisk,
  type DesktopIdentity,
  type ImageRef,
  type VmSpec,
} from "./adapter.js";
import { AdapterError } from "./errors.js";

const SHA256 = /^[0-9a-f]{64}$/;

function invalid(field: string, problem: string): never {
  throw new AdapterError("InvalidSpec", `${field} ${problem}`);
}

function positiveInteger(field: string, value: unknown): void {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value <= 0) {
    invalid(field, `must be a positive integer, got ${String(value)}`);
  }
}

export function validateIdentity(id: DesktopIdentity, field = "id"): void {
  for (const key of ["namespace", "name", "uid"] as const) {
    if (typeof id?.[key] !== "string" || id[key] === "")
      invalid(`${field}.${key}`, "must be a non-empty string");
  }
}

export function validateDisk(disk: AttachedDisk, field = "disk"): void {
  if (typeof disk?.path !== "string" || !disk.path.startsWith("/"))
    invalid(`${field}.path`, "must be an absolute path on the host");
  validateSerial(disk.serial, `${field}.serial`);
}

export function validateSerial(serial: string, field = "serial"): void {
  if (typeof serial !== "string" || !/^[A-Za-z0-9_-]{1,20}$/.test(serial))
    invalid(field, "must be 1 to 20 characters of A-Z, a-z, 0-9, _ and -");
}

export function validateImageRef(image: ImageRef, field = "image"): void {
  if (typeof image?.source !== "string" || image.source === "") {
    invalid(`${field}.source`, "must be a non-empty string");
  }
  if (typeof image.sha256 !== "string" || !SHA256.test(image.sha256)) {
    invalid(`${field}.sha256`, "must be 64 lower-case hex characters");
  }
  if (!IMAGE_FORMATS.includes(image.format)) {
    invalid(`${field}.format`, `must be one of ${IMAGE_FORMATS.join(", ")}, got ${String(image.format)}`);
  }
}

export function validateVmSpec(spec: VmSpec): void {
  validateIdentity(spec?.id, "spec.id");
  positiveInteger("spec.cpuMilli", spec.cpuMilli);
  positiveInteger("spec.memoryBytes", spec.memoryBytes);
  positiveInteger("spec.diskBytes", spec.diskBytes);
  validateImageRef(spec.image, "spec.image");
  const firmware = spec.image.firmware;
  if (firmware !== undefined && firmware !== "bios" && firmware !== "uefi") {
    invalid("spec.image.firmware", `must be bios or uefi, got ${String(firmware)}`);
  }
  // The message never quotes the password.
  if (spec.consolePassword !== undefined && !/^[A-Za-z0-9]{1,8}$/.test(spec.consolePassword))
    invalid("spec.consolePassword", "must be 1 to 8 characters of A-Z, a-z and 0-9");
}
