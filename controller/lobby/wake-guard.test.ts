import { describe, expect, it } from 'vitest';
import { Store } from '../store/store.js';
import { WakeGuard } from './wake-guard.js';

const HOUR = 3_600_000;
const NOW = 10 * HOUR;

function setup(wakeFrom: 'anyone' | 'web-addresses') {
  const store = Store.open(':memory:');
  const guard = new WakeGuard({ id: 'world', lobby: { wakeFrom, wakeCooldown: 30 * 60_000 } as never }, store.audit, 24 * HOUR);
  const login = (identity: string, source: string) => store.audit.add({ at: NOW - HOUR, actor: identity, source, action: 'login', server: null, detail: 'with github' });
  const nobodyJoined = (name: string, source: string) =>
    store.audit.add({ at: NOW - 60_000, actor: `minecraft:${name}`, source, action: 'wake outcome', server: 'world', detail: 'nobody joined' });
  return { store, guard, login, nobodyJoined };
}

describe('wakeFrom: web-addresses', () => {
  it('opens only for logins by listed people who may start servers now', () => {
    const { store, guard, login } = setup('web-addresses');
    login('github:99', '203.0.113.5'); // a stranger with a provider account: not on the list
    expect(guard.refusal('Alex_1', '203.0.113.5', NOW)).toMatch(/wakes only from addresses where someone who may start it logged into/);

    store.people.put('github:7', ['stop'], 'test', 0); // listed, but may not start
    login('github:7', '203.0.113.6');
    expect(guard.refusal('Alex_1', '203.0.113.6', NOW)).toMatch(/wakes only from/);

    store.people.put('github:8', ['start'], 'test', 0);
    login('github:8', '203.0.113.7');
    expect(guard.refusal('Alex_1', '203.0.113.7', NOW)).toBeUndefined();
    // The permission counts as it is now, not as it was at login.
    store.people.put('github:8', ['stop'], 'test', 0);
    expect(guard.refusal('Alex_1', '203.0.113.7', NOW)).toMatch(/wakes only from/);
  });

  it('matches the login and the join by address key: IPv6 by /64, ::ffff:a.b.c.d as a.b.c.d', () => {
    const { store, guard, login } = setup('web-addresses');
    store.people.put('github:8', ['admin'], 'test', 0);
    login('github:8', '2001:db8:1:2::5');
    login('github:8', '::ffff:198.51.100.4');
    expect(guard.refusal('Alex_1', '2001:db8:1:2:abcd::99', NOW)).toBeUndefined();
    expect(guard.refusal('Alex_1', '198.51.100.4', NOW)).toBeUndefined();
    expect(guard.refusal('Alex_1', '2001:db8:1:3::5', NOW)).toMatch(/wakes only from/);
    expect(guard.refusal('Alex_1', '198.51.100.5', NOW)).toMatch(/wakes only from/);
  });
});

describe('wakeCooldown', () => {
  it('cools down the address a wake nobody used came from, never the name elsewhere', () => {
    const { guard, nobodyJoined } = setup('anyone');
    nobodyJoined('Alex_1', '198.51.100.7'); // an attacker woke as Alex_1 and never joined
    // The real Alex_1 at home is not locked out.
    expect(guard.refusal('Alex_1', '203.0.113.9', NOW)).toBeUndefined();
    // The attacker's address is held off, whatever name or spelling it uses.
    expect(guard.refusal('ALEX_1', '198.51.100.7', NOW)).toMatch(/^A wake of world from this address ended 1 min ago/);
    expect(guard.refusal('Bea_2', '198.51.100.7', NOW)).toMatch(/from this address/);
  });

  it('keys an IPv6 address by its /64', () => {
    const { guard, nobodyJoined } = setup('anyone');
    nobodyJoined('Alex_1', '2001:db8:1:2::1');
    expect(guard.refusal('Bea_2', '2001:db8:1:2:ffff::2', NOW)).toMatch(/from this address/);
    expect(guard.refusal('Bea_2', '2001:db8:1:3::1', NOW)).toBeUndefined();
  });
});
