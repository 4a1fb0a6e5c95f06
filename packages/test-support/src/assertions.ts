/** Small helpers the stores' tests share. */
import type { Logger } from '@faucet/core';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The error an operation fails with; fails the test when it succeeds. */
export async function refusal(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected the operation to fail');
}

/** A logger that keeps its warnings (messages only) and drops the rest. */
export function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return {
    warnings,
    debug() {},
    info() {},
    warn: (message: string) => void warnings.push(message),
    error() {},
  };
}
