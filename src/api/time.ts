// Timestamps as Kubernetes writes them (metav1.Time): RFC 3339 in UTC, whole seconds.

export function toKubeTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}
