// Kubernetes resource quantities ("500m", "4Gi", "1.5G", "1e3") to integer millicores or bytes.
// Arithmetic is exact (bigint) and rounds up, like resource.Quantity's Value and MilliValue.

export class QuantityError extends Error {
  constructor(
    readonly input: unknown,
    detail: string,
  ) {
    super(`invalid quantity ${typeof input === "string" ? JSON.stringify(input) : String(input)}: ${detail}`);
    this.name = "QuantityError";
  }
}

// sign, number (1, 1.5, 1., .5), then one of: binary SI, decimal exponent, decimal SI.
const PATTERN = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?\d+|[numkMGTPE])?$/;
const BINARY: Readonly<Record<string, number>> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const DECIMAL: Readonly<Record<string, number>> = {
  n: -9,
  u: -6,
  m: -3,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};
const MAX_EXPONENT = 64;

/** CPU quantity to millicores ("2" → 2000, "500m" → 500, "0.1" → 100). */
export function parseCpuMilli(quantity: string | number): number {
  return parseScaled(quantity, 3);
}

/** Memory or disk quantity to bytes ("4Gi" → 4294967296, "1.5G" → 1500000000). */
export function parseBytes(quantity: string | number): number {
  return parseScaled(quantity, 0);
}

/** The quantity times 10^scale, rounded up to an integer; throws QuantityError when invalid. */
export function parseScaled(quantity: string | number, scale: number): number {
  const text = toText(quantity);
  const match = PATTERN.exec(text);
  if (match === null) throw new QuantityError(quantity, "expected a number with an optional suffix");
  const [, sign = "", number = "", suffix = ""] = match;
  const [whole = "", fraction = ""] = number.split(".");
  const digits = BigInt(whole + fraction || "0");
  if (sign === "-" && digits !== 0n) throw new QuantityError(quantity, "must not be negative");

  let exponent = scale - fraction.length;
  let binary = 0;
  if (suffix in BINARY) binary = BINARY[suffix] ?? 0;
  else if (suffix in DECIMAL) exponent += DECIMAL[suffix] ?? 0;
  else if (suffix !== "") {
    const e = Number(suffix.slice(1));
    if (Math.abs(e) > MAX_EXPONENT) throw new QuantityError(quantity, "exponent out of range");
    exponent += e;
  }

  let numerator = digits << BigInt(binary);
  let denominator = 1n;
  if (exponent >= 0) numerator *= 10n ** BigInt(exponent);
  else denominator = 10n ** BigInt(-exponent);
  const value = (numerator + denominator - 1n) / denominator;
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new QuantityError(quantity, "too large");
  return Number(value);
}

function toText(quantity: string | number): string {
  if (typeof quantity === "number") {
    if (!Number.isFinite(quantity)) throw new QuantityError(quantity, "must be a finite number");
    return String(quantity);
  }
  if (typeof quantity !== "string") throw new QuantityError(quantity, "must be a string or a number");
  if (quantity === "") throw new QuantityError(quantity, "must not be empty");
  return quantity;
}
