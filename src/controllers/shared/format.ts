// Quantities as a person reads them in `kubectl get -o yaml`: 4Gi rather than 4294967296.
const BINARY = [
  ["Ti", 2 ** 40],
  ["Gi", 2 ** 30],
  ["Mi", 2 ** 20],
  ["Ki", 2 ** 10],
] as const;

export function formatBytes(bytes: number): string {
  for (const [suffix, size] of BINARY)
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${suffix}`;
  return String(Math.round(bytes));
}

/** Rounded to one decimal in the largest unit, for tables: 12805920Ki reads 12.2Gi. */
export function formatBytesRounded(bytes: number): string {
  for (const [suffix, size] of BINARY)
    if (bytes >= size) return `${Math.round((bytes / size) * 10) / 10}${suffix}`;
  return String(Math.round(bytes));
}

export function formatCpu(milli: number): string {
  return milli % 1000 === 0 ? String(milli / 1000) : `${Math.round(milli)}m`;
}
