// Stands in for `node:child_process` in the unit project (jest.config.js maps both spellings
// here): unit tests run on a machine with nothing but Node, so a test that starts a program,
// even by absolute path, fails at once and says where such a test belongs. The canary test
// (test/unit/no-programs.test.ts) shows the guard is in place. CommonJS, because packages such
// as commander require() child_process, and jest cannot require() an ES module in a cycle.
"use strict";

const refuse =
  (call) =>
  (...args) => {
    const program = typeof args[0] === "string" ? ` ${args[0]}` : "";
    throw new Error(
      `unit tests spawn no programs (child_process.${call}${program}): ` +
        `test what the code decides with data, or move the test to test/integration`,
    );
  };

class ChildProcess {
  constructor() {
    refuse("ChildProcess")();
  }
}

module.exports = {
  spawn: refuse("spawn"),
  spawnSync: refuse("spawnSync"),
  exec: refuse("exec"),
  execSync: refuse("execSync"),
  execFile: refuse("execFile"),
  execFileSync: refuse("execFileSync"),
  fork: refuse("fork"),
  _forkChild: refuse("_forkChild"),
  ChildProcess,
};
