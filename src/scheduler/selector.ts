// Label selectors with Kubernetes semantics: every matchLabels pair and every matchExpression
// must hold; an empty or absent selector matches everything.

import type { LabelSelector, LabelSelectorRequirement } from "./types.js";

type Labels = Readonly<Record<string, string>>;

/** Why a selector is invalid (as the API server would refuse it), or undefined when valid. */
export function selectorError(selector: LabelSelector | undefined): string | undefined {
  const expressions = selector?.matchExpressions ?? [];
  for (const [i, req] of expressions.entries()) {
    const where = `matchExpressions[${i}] (key ${JSON.stringify(req.key)})`;
    const count = req.values?.length ?? 0;
    switch (req.operator) {
      case "In":
      case "NotIn":
        if (count === 0) return `${where}: operator ${req.operator} needs at least one value`;
        break;
      case "Exists":
      case "DoesNotExist":
        if (count > 0) return `${where}: operator ${req.operator} takes no values`;
        break;
      default:
        return `${where}: unknown operator ${JSON.stringify(req.operator)}`;
    }
  }
  return undefined;
}

/** Whether the labels satisfy the selector. An invalid selector matches nothing (fail closed). */
export function matchesSelector(selector: LabelSelector | undefined, labels: Labels): boolean {
  if (selector === undefined) return true;
  if (selectorError(selector) !== undefined) return false;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (label(labels, key) !== value) return false;
  }
  return (selector.matchExpressions ?? []).every((req) => matchesRequirement(req, labels));
}

function matchesRequirement(req: LabelSelectorRequirement, labels: Labels): boolean {
  const value = label(labels, req.key);
  switch (req.operator) {
    case "In":
      return value !== undefined && (req.values ?? []).includes(value);
    case "NotIn":
      return value === undefined || !(req.values ?? []).includes(value);
    case "Exists":
      return value !== undefined;
    case "DoesNotExist":
      return value === undefined;
  }
}

// Own properties only, so that a key like "constructor" is not found on the prototype.
function label(labels: Labels, key: string): string | undefined {
  return Object.hasOwn(labels, key) ? labels[key] : undefined;
}
