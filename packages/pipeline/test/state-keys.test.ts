import { describe, expect, it } from 'vitest';
import { projectRecord } from '../src/runtime/sinks.js';
import { childStateKeys, parentKeyValue, rowStateKey } from '../src/state-keys.js';

describe('state keys', () => {
  it('names rows {pipeline}::{row}', () => {
    expect(rowStateKey('github_issues', 'row-0')).toBe('github_issues::row-0');
  });

  it('names children {pipeline}::{row}::{parentKeyValue}; strings as is, others as JSON', () => {
    const { keys, problems } = childStateKeys('gh', 'posts', 'id', [{ id: 'u1' }, { id: 42 }, { id: true }]);
    expect(problems).toEqual([]);
    expect(keys).toEqual(['gh::posts::u1', 'gh::posts::42', 'gh::posts::true']);
    expect(parentKeyValue({ user: { id: 7 } }, 'user.id')).toBe('7');
  });

  it('reports duplicates, missing values and bad characters before anything runs', () => {
    const { problems } = childStateKeys('gh', 'posts', 'id', [
      { id: 'a' },
      { id: 'a' },
      { name: 'no id' },
      { id: 'has space' },
      { id: null },
    ]);
    expect(problems).toHaveLength(4);
    expect(problems[0]).toContain('parent record 3 has no "id"');
    expect(problems[1]).toContain('parent record 4');
    expect(problems[1]).toContain('only letters, digits and _ . : - are allowed');
    expect(problems[2]).toContain('parent record 5 has no "id"');
    expect(problems[3]).toContain('duplicate state keys: "gh::posts::a" (parent records 1 and 2)');
  });

  it('captures only the fields children reference', () => {
    const record = { id: 1, user: { id: 2, name: 'x', big: 'y'.repeat(1000) }, other: [1, 2, 3] };
    expect(projectRecord(record, ['id', 'user.id', 'missing.path'])).toEqual({ id: 1, user: { id: 2 } });
  });
});
