import { describe, expect, it } from 'vitest';
import { servicesRequired } from '../src/index.js';

describe('servicesRequired', () => {
  it('requires real services in CI or with FAUCET_REQUIRE_SERVICES=1, not elsewhere', () => {
    expect(servicesRequired({ CI: 'true' })).toBe(true);
    expect(servicesRequired({ CI: '1' })).toBe(true);
    expect(servicesRequired({ FAUCET_REQUIRE_SERVICES: '1' })).toBe(true);
    expect(servicesRequired({ CI: 'false' })).toBe(false);
    expect(servicesRequired({ CI: '0' })).toBe(false);
    expect(servicesRequired({ CI: '' })).toBe(false);
    expect(servicesRequired({})).toBe(false);
  });
});
