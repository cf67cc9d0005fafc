import { describe, expect, it } from 'vitest';
import { Store } from './store.js';
import { LastAdminError, may } from './people.js';

describe('people and one-time tokens', () => {
  it('keeps permissions, makes config admins without taking anything away, and links a Minecraft name to one person', () => {
    const store = Store.open(':memory:');
    store.people.put('github:1', ['start'], 'test', 1);
    store.people.ensureAdmins(['github:1', 'discord:2'], 2);
    expect(store.people.get('github:1')!.permissions).toEqual(['start', 'admin']);
    expect(store.people.get('discord:2')!.addedBy).toBe('config');
    expect(may(store.people.get('discord:2')!, 'stop')).toBe(true);
    store.people.linkMinecraft('github:1', 'Alex');
    expect(store.people.byMinecraftName('alex')!.identity).toBe('github:1');
    expect(() => store.people.linkMinecraft('discord:2', 'ALEX')).toThrow(/already linked/);
    store.people.linkMinecraft('github:1', null);
    expect(store.people.byMinecraftName('Alex')).toBeUndefined();
  });

  it('lets a token work once, until it expires, and stores only its hash', () => {
    const store = Store.open(':memory:');
    const token = store.tokens.create('invite', 'start,stop', 'github:1', 1_000, 60_000);
    expect(store.tokens.use('login', token, 'x', 2_000)).toEqual({ refused: 'unknown' });
    expect(store.tokens.use('invite', token, 'github:5', 2_000)).toEqual({ payload: 'start,stop' });
    expect(store.tokens.use('invite', token, 'github:6', 2_001)).toEqual({ refused: 'used' });
    const late = store.tokens.create('invite', 'start', 'github:1', 1_000, 60_000);
    expect(store.tokens.use('invite', late, 'github:5', 61_000)).toEqual({ refused: 'expired' });
    const rows = store.db.prepare('SELECT token_hash FROM one_time_tokens').all() as { token_hash: string }[];
    expect(rows.map((r) => r.token_hash)).not.toContain(token);
  });

  it('refuses any change that would leave no admin', () => {
    const store = Store.open(':memory:');
    store.people.put('github:1', ['admin'], 'test', 1);
    store.people.put('github:2', ['start'], 'test', 1);
    expect(() => store.people.put('github:1', ['start'], 'test', 2)).toThrow(LastAdminError);
    expect(() => store.people.remove('github:1')).toThrow(/last admin/);
    expect(store.people.admins().map((p) => p.identity)).toEqual(['github:1']);
    store.people.put('github:2', ['admin'], 'github:1', 3);
    store.people.put('github:1', ['stop'], 'github:2', 4);
    expect(() => store.people.remove('github:2')).toThrow(LastAdminError);
    expect(store.people.remove('github:1')).toBe(true);
    expect(store.people.admins().map((p) => p.identity)).toEqual(['github:2']);
  });

  it('ends every session of a person', () => {
    const store = Store.open(':memory:');
    store.sessions.set('a', { identity: 'github:1' }, 10_000, 0);
    store.sessions.set('b', { identity: 'github:1' }, 10_000, 0);
    store.sessions.set('c', { identity: 'github:2' }, 10_000, 0);
    expect(store.sessions.endAllOf('github:1')).toBe(2);
    expect(store.sessions.get('a', 1)).toBeUndefined();
    expect(store.sessions.get('c', 1)).toEqual({ identity: 'github:2' });
    expect(store.sessions.get('c', 10_000)).toBeUndefined();
  });
});
