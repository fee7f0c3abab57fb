// The griddesk agent: the per-node hypervisor adapter host (see DESIGN.md, "Components").
export { runAgent, type AgentHandle } from "./agent.js";
export {
  resolveAgentOptions,
  type AgentHost,
  type AgentOptions,
  type BindAddress,
  type HostSource,
} from "./options.js";
export {
  PROFILE_CYCLE,
  simulatedAgentSetup,
  simulatedHostNames,
  simulatedHosts,
  type SimulatedAgentOptions,
  type SimulatedAgentSetup,
} from "./simulated/setup.js";
export { SimulatedStateStore } from "./simulated/state-store.js";
export { libvirtAgentSetup, type LibvirtAgentOptions, type LibvirtAgentSetup } from "./libvirt/setup.js";
export { kubevirtAgentSetup, kubevirtHosts, type KubevirtAgentOptions } from "./kubevirt/setup.js";
