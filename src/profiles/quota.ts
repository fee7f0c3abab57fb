// When a profile is "at its quota" (pure). The quota is the profile disk's size, so the guest can
// never write past it; what the product owes the admin is to say when a user is about to hit it.
// 95%: ext4 keeps 5% for root by default, so a user's writes already fail there.

export const AT_QUOTA_SHARE = 0.95;

export interface QuotaState {
  readonly atQuota: boolean;
  /** e.g. "uses 250Mi of its 256Mi quota (98%)". */
  readonly message: string;
}

export function quotaState(
  usedBytes: number,
  quotaBytes: number,
  format: (bytes: number) => string,
): QuotaState {
  const share = quotaBytes > 0 ? usedBytes / quotaBytes : 1;
  return {
    atQuota: share >= AT_QUOTA_SHARE,
    message: `uses ${format(usedBytes)} of its ${format(quotaBytes)} quota (${Math.floor(share * 100)}%)`,
  };
}
