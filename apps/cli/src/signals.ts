/** Waiting for Ctrl-C or a service manager's stop, for the long-running commands (worker, dashboard). */

/** Resolves with the first SIGINT or SIGTERM, then stops listening for them. */
export function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const handler = (signal: NodeJS.Signals) => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
      resolve(signal);
    };
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
  });
}
