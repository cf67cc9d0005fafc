import { describe, expect, it } from 'vitest';
import { identityOf, interactionSchema } from './interaction-schema.js';

const base = { id: '1', application_id: '2', token: 'tok', version: 1 };
const data = { name: 'ood', options: [{ type: 1, name: 'status' }] };

describe('interactionSchema', () => {
  it('lets through fields Discord adds that OoD does not read', () => {
    const parsed = interactionSchema.parse({ ...base, type: 2, data: { ...data, resolved: {}, guild_id: '9' }, member: { user: { id: '7', banner: null }, nick: 'x' }, entitlements: [], some_new_field: { a: 1 } });
    expect(parsed.type).toBe(2);
  });

  it('takes the caller from member.user in a guild and from user in a DM', () => {
    const guild = interactionSchema.parse({ ...base, type: 2, data, member: { user: { id: '7' } } });
    const dm = interactionSchema.parse({ ...base, type: 2, data, user: { id: '8' } });
    const nobody = interactionSchema.parse({ ...base, type: 2, data });
    expect([guild, dm, nobody].map((i) => (i.type === 1 ? 'ping' : identityOf(i)))).toEqual(['discord:7', 'discord:8', undefined]);
  });

  it('refuses types OoD does not answer, a component without its message, and an id that is no snowflake', () => {
    expect(interactionSchema.safeParse({ ...base, type: 5, data: {} }).success).toBe(false);
    expect(interactionSchema.safeParse({ ...base, type: 3, data: { custom_id: 'ood:start:a' } }).success).toBe(false);
    expect(interactionSchema.safeParse({ ...base, id: 'x1', type: 1 }).success).toBe(false);
    expect(interactionSchema.safeParse({ ...base, type: 3, data: { custom_id: 'ood:start:a' }, message: { id: '5' } }).success).toBe(true);
  });
});
