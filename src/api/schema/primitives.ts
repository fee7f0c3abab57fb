// Scalar building blocks shared by all the kinds: names, quantities, durations, times.
// Each helper takes the field's path so CEL messages can name it (`kubectl apply` prints them).
import type { Schema, ValidationRule } from "./openapi.js";
import { tsNamed } from "./ts-names.js";

/** A DNS-1123 subdomain, the shape of most Kubernetes object names. */
export const DNS_SUBDOMAIN_PATTERN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";

/**
 * A Kubernetes quantity without a sign ("2", "500m", "4Gi", "1.5T"); the apiserver's own
 * grammar minus the leading +/-, so negative sizes are refused by the pattern.
 */
export const QUANTITY_PATTERN =
  "^(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$";

/** A Go duration as time.ParseDuration reads it: "30m", "2h", "1h30m", "45s", "1.5h". */
export const DURATION_PATTERN = "^([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$";

/** The values of HostNode spec.hypervisor.type and of every field that names one. */
export const HYPERVISOR_TYPES = ["libvirt", "kubevirt", "simulated"] as const;

export function objectName(description: string): Schema {
  return { description, type: "string", minLength: 1, maxLength: 253, pattern: DNS_SUBDOMAIN_PATTERN };
}

export function text(description: string, maxLength: number, extra: Partial<Schema> = {}): Schema {
  return { description, type: "string", maxLength, ...extra };
}

export function integer(
  description: string,
  minimum: number,
  maximum: number,
  extra: Partial<Schema> = {},
): Schema {
  return { description, type: "integer", format: "int32", minimum, maximum, ...extra };
}

export function count(description: string): Schema {
  return { description, type: "integer", format: "int32", minimum: 0 };
}

export function dateTime(description: string): Schema {
  return { description, type: "string", format: "date-time" };
}

export function duration(description: string): Schema {
  return { description, type: "string", maxLength: 64, pattern: DURATION_PATTERN };
}

/** A duration that must be longer than zero ("0s" would end or cut short at once). */
export function positiveDuration(path: string, description: string): Schema {
  return {
    ...duration(description),
    "x-kubernetes-validations": [
      {
        rule: "duration(self) > duration('0s')",
        message: `${path} must be a duration greater than zero such as 30m`,
      },
    ],
  };
}

export function hypervisorType(description: string, extra: Partial<Schema> = {}): Schema {
  return tsNamed(
    "HypervisorType",
    { description, type: "string", enum: HYPERVISOR_TYPES, ...extra },
    "A hypervisor adapter type.",
  );
}

/** Guards against a negative integer, which the string pattern cannot see. */
function nonNegativeRule(path: string): ValidationRule {
  return {
    rule: "!isQuantity(string(self)) || !quantity(string(self)).isLessThan(quantity('0'))",
    message: `${path} must be a non-negative quantity such as 4Gi or 500m`,
  };
}

function positiveRule(path: string): ValidationRule {
  return {
    rule: "!isQuantity(string(self)) || quantity(string(self)).isGreaterThan(quantity('0'))",
    message: `${path} must be a quantity greater than zero such as 2, 500m or 4Gi`,
  };
}

/**
 * A Kubernetes quantity written as a string ("4Gi") or an integer (2), as in Pod resources.
 * `path` is the field's full path, used in the CEL message.
 */
export function quantity(path: string, description: string, opts: { positive?: boolean } = {}): Schema {
  return tsNamed(
    "Quantity",
    {
      description,
      "x-kubernetes-int-or-string": true,
      anyOf: [{ type: "integer" }, { type: "string" }],
      pattern: QUANTITY_PATTERN,
      "x-kubernetes-validations": [opts.positive ? positiveRule(path) : nonNegativeRule(path)],
    },
    'A Kubernetes quantity: a string such as "4Gi" or "500m", or an integer.',
  );
}
