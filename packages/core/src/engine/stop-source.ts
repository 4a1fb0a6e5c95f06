import { errorMessage } from '../errors.js';
import type { Logger, Page } from '../types.js';

/** Ask the source to stop (generator return), waiting at most `graceMs` for it. */
export async function stopSource(
  iterator: AsyncIterator<Page> | undefined,
  pending: Promise<IteratorResult<Page>> | undefined,
  graceMs: number,
  logger: Logger,
): Promise<void> {
  if (!iterator?.return) return;
  const stop = (async () => {
    // An async generator queues return() behind a pending next(); let that settle first.
    if (pending) await pending.catch(() => {});
    await (iterator.return as () => Promise<IteratorResult<Page>>).call(iterator);
  })();
  stop.catch(() => {});
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), graceMs);
    timer.unref();
  });
  try {
    const outcome = await Promise.race([stop.then(() => 'stopped' as const), timeout]);
    if (outcome === 'timeout')
      logger.warn('the source did not stop within the grace period', { grace_ms: graceMs });
  } catch (error) {
    logger.debug('the source failed while stopping', { error: errorMessage(error) });
  } finally {
    clearTimeout(timer);
  }
}
