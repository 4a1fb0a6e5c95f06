/**
 * The PostgreSQL and Redis of `scripts/services.sh`. Tests that need them run when the variable is
 * set, fail in CI (or with FAUCET_REQUIRE_SERVICES=1) when it is not, and are skipped elsewhere with
 * the reason in the title: the policy of `describeWithService` in @faucet/testkit.
 */
import { describeWithService, type ServiceSpec } from '@faucet/testkit';

export const SERVICES_HINT =
  'run `bash scripts/services.sh start && eval "$(bash scripts/services.sh env)"` at the repository root';

export const POSTGRES_SERVICE: ServiceSpec = {
  service: 'PostgreSQL',
  variable: 'FAUCET_TEST_POSTGRES_URL',
  hint: SERVICES_HINT,
};

export const REDIS_SERVICE: ServiceSpec = {
  service: 'Redis',
  variable: 'FAUCET_TEST_REDIS_URL',
  hint: SERVICES_HINT,
};

/** `describe(title, …)` with the PostgreSQL URL, or a failing / skipped stand-in when there is none. */
export function withPostgres(title: string, register: (url: string) => void): void {
  describeWithService(POSTGRES_SERVICE, title, register);
}

/** `describe(title, …)` with the Redis URL, or a failing / skipped stand-in when there is none. */
export function withRedis(title: string, register: (url: string) => void): void {
  describeWithService(REDIS_SERVICE, title, register);
}
