// Time as a dependency, so that adapters (the simulated one above all) can be driven by tests
// without real waits. The same Clock the runtime uses, so one clock serves a whole agent.
export { systemClock, type Clock } from "../runtime/clock.js";
