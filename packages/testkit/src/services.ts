/**
 * Integration tests against real servers, with one policy for every connector: the test names the
 * environment variable that holds the server's address. When it is set, the tests run. When it is
 * not, they FAIL where real services are required (`CI` set to anything but `0`/`false`, or
 * `FAUCET_REQUIRE_SERVICES=1`) and are skipped elsewhere with the reason in the title, so a
 * developer without the servers still sees what did not run, and CI can never pass by skipping.
 */
import { describe, it } from 'vitest';

export interface ServiceSpec {
  /** Who is needed, for messages: `PostgreSQL`, `Redis`. */
  service: string;
  /** The environment variable with its address: `FAUCET_TEST_POSTGRES_URL`. */
  variable: string;
  /** How to get one: `run scripts/services.sh start, then eval "$(scripts/services.sh env)"`. */
  hint: string;
}

/** True where real services are required: `CI` (not `0`/`false`) or `FAUCET_REQUIRE_SERVICES=1`. */
export function servicesRequired(env: NodeJS.ProcessEnv = process.env): boolean {
  const ci = env.CI;
  return (
    (ci !== undefined && ci !== '' && ci !== '0' && ci !== 'false') || env.FAUCET_REQUIRE_SERVICES === '1'
  );
}

/**
 * `describe(title, () => body(address))` when the variable is set; otherwise one failing test (when
 * services are required) or one skipped test whose title says what is missing and how to get it.
 */
export function describeWithService(spec: ServiceSpec, title: string, body: (address: string) => void): void {
  const address = process.env[spec.variable];
  if (address) {
    describe(title, () => body(address));
    return;
  }
  const missing = `${spec.variable} is not set: ${spec.hint}`;
  if (servicesRequired()) {
    describe(title, () => {
      it(`needs ${spec.service}`, () => {
        throw new Error(`${missing} (required here because CI or FAUCET_REQUIRE_SERVICES=1 is set)`);
      });
    });
    return;
  }
  describe(title, () => {
    it.skip(`needs ${spec.service} (skipped: ${missing})`, () => {});
  });
}
