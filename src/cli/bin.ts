#!/usr/bin/env node
// The installed `griddesk` / `kubectl-griddesk` entry point. It checks the Node.js version
// before any dependency loads, because on an older Node the HTTP client fails at import time
// with a TypeError that does not say what is wrong. Then it runs the CLI (main.ts).
const REQUIRED_MAJOR = 24;
const major = Number(process.versions.node.split(".")[0]);
if (major < REQUIRED_MAJOR) {
  console.error(
    `griddesk needs Node.js ${REQUIRED_MAJOR} or later; this is ${process.version} (${process.execPath}).\n` +
      `In a checkout, run bin/griddesk (it uses the project's own Node from node_modules), or install Node ${REQUIRED_MAJOR}.`,
  );
  process.exit(1);
}
await import("./main.js");
