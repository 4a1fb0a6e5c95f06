import { describe, expect, it } from 'vitest';
import { ConfigError, Redactor } from '../src/index.js';

describe('smoke', () => {
  it('formats config errors', () => {
    expect(new ConfigError([{ path: 'a.b', message: 'bad' }]).message).toContain('a.b: bad');
    expect(new Redactor(['hunter2']).redact('pw hunter2 postgres://u:p4ss@h:5432/db')).toBe(
      'pw *** postgres://u:***@h:5432/db',
    );
  });
});
