/**
 * Headless Chromium for browser tests: Debian's `chromium` package (`.ci/run` installs it), or the
 * binary named by FAUCET_TEST_CHROMIUM. The same policy as a missing server (`describeWithService`):
 * without the browser a test FAILS where real services are required (CI, FAUCET_REQUIRE_SERVICES=1)
 * and is skipped elsewhere, printing why and how to get it.
 */
import { accessSync, constants } from 'node:fs';
import { servicesRequired } from '@faucet/testkit';
import { describe, it } from 'vitest';

export const CHROMIUM_HINT =
  "install Debian's chromium (apt-get install -y --no-install-recommends chromium) or set FAUCET_TEST_CHROMIUM to a Chromium binary";

/** The browser's path, or undefined when it is not there (or not executable). */
export function chromiumPath(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const path = env.FAUCET_TEST_CHROMIUM || '/usr/bin/chromium';
  try {
    accessSync(path, constants.X_OK);
    return path;
  } catch {
    return undefined;
  }
}

/**
 * Flags for a closed network and a root user: no sandbox (root), no GPU, and none of Chromium's own
 * background connections (updates, sync, QUIC probes), which this machine refuses and which make a
 * start hang. Playwright's `launch()` gives each browser a fresh temporary profile (--user-data-dir)
 * of its own, and refuses one in the flags.
 */
export function chromiumArgs(): string[] {
  return [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ];
}

/** `describe(title, () => body(path))` with the browser, or a failing / skipped stand-in without it. */
export function withChromium(title: string, body: (path: string) => void): void {
  const path = chromiumPath();
  if (path) {
    describe(title, () => body(path));
    return;
  }
  const missing = `no Chromium at ${process.env.FAUCET_TEST_CHROMIUM || '/usr/bin/chromium'}: ${CHROMIUM_HINT}`;
  if (servicesRequired()) {
    describe(title, () => {
      it('needs Chromium', () => {
        throw new Error(`${missing} (required here because CI or FAUCET_REQUIRE_SERVICES=1 is set)`);
      });
    });
    return;
  }
  // The reason is printed too: a skipped test's title is not shown by the default reporter.
  console.warn(`skipping "${title}": ${missing}`);
  describe(title, () => {
    it.skip(`needs Chromium (skipped: ${missing})`, () => {});
  });
}
