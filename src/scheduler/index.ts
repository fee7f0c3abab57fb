// Public API of the scheduler: pure placement of desktops onto hypervisor hosts.

export type {
  DesktopRequest,
  FilterReason,
  HostView,
  HypervisorType,
  LabelSelector,
  LabelSelectorRequirement,
  PlacementStrategy,
  Resources,
  ScheduleResult,
  SelectorOperator,
  UnschedulableReason,
} from "./types.js";
export { QuantityError, parseBytes, parseCpuMilli, parseScaled } from "./quantity.js";
export { matchesSelector, selectorError } from "./selector.js";
export { allocatable, load, loadAt, remaining } from "./capacity.js";
export { FILTERS, runFilters } from "./filter.js";
export type { Filter, FilterResult } from "./filter.js";
export { IMAGE_CACHED_BONUS, rankHosts, scoreHost } from "./score.js";
export { requestError, schedule, scheduleBatch, unschedulableMessage } from "./schedule.js";
export { chooseVictims } from "./victims.js";
export type { IdleDesktop } from "./victims.js";
