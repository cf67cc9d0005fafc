import { describe, expect, it } from 'vitest';
import type { Person } from '../../store/people.js';
import { adminBody } from './admin.js';

const person = (over: Partial<Person>): Person => ({
  identity: 'testid:alice',
  name: null,
  avatar: null,
  permissions: ['admin'],
  minecraftName: null,
  addedAt: 0,
  addedBy: 'ood serve',
  lastLogin: null,
  ...over,
});

const render = (people: Person[]) =>
  adminBody({ person: people[0], csrf: 'x' }, { people, invites: [], audit: { entries: [], refusedLogins: 0 }, newInvite: undefined, notice: undefined, now: 10_000, providers: ['Test ID'] }).toString();

describe('the People page', () => {
  it('says "not logged in yet" only of someone who never logged in; a provider that gave no name is said so', () => {
    const page = render([person({ lastLogin: 8_000 }), person({ identity: 'testid:bob' })]);
    const rows = page.split('<tr>').slice(2);
    expect(rows[0]).not.toContain('not logged in yet');
    expect(rows[0]).toContain('(no name given)');
    expect(rows[1]).toContain('(not logged in yet)');
  });
});
