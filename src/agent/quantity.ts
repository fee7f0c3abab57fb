// Byte counts as Kubernetes quantities, in the largest binary unit that divides them exactly,
// so that `kubectl get -o yaml` reads "256Gi" rather than "274877906944".

const UNITS = ["Ei", "Pi", "Ti", "Gi", "Mi", "Ki"] as const;

export function formatBytes(bytes: number): string {
  if (!Number.isSafeInteger(bytes) || bytes < 0) throw new RangeError(`not a byte count: ${bytes}`);
  if (bytes === 0) return "0";
  for (const [i, unit] of UNITS.entries()) {
    const size = 1024 ** (UNITS.length - i);
    if (bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return String(bytes);
}
