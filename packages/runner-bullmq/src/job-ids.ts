/**
 * Job ids derived from state keys, so submitting the same run again finds the job already there
 * instead of adding a second one. BullMQ refuses `:` in custom ids and state keys never hold `|`,
 * so `orders::users` becomes `orders||users` (and back).
 */
export function jobIdFor(stateKey: string): string {
  return stateKey.replaceAll(':', '|');
}

export function stateKeyOf(jobId: string): string {
  return jobId.replaceAll('|', ':');
}
