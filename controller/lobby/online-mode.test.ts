import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { lobbyAuthenticates } from './online-mode.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A template folder with this server.properties (undefined: none). */
function template(properties: string | undefined): string {
  const dir = mkdtempSync(join(tmpdir(), 'ood-online-mode-'));
  dirs.push(dir);
  if (properties !== undefined) writeFileSync(join(dir, 'server.properties'), properties);
  return dir;
}

const server = (o: { driver?: 'local' | 'digitalocean'; kind?: 'bundled' | 'vanilla'; template?: string; authenticate?: boolean }) => ({
  driver: o.driver ?? 'local',
  game: { kind: o.kind ?? 'bundled' },
  local: o.template ? { template: o.template } : {},
  lobby: o.authenticate === undefined ? {} : { authenticate: o.authenticate },
}) as Parameters<typeof lobbyAuthenticates>[0];

describe('lobbyAuthenticates', () => {
  it('follows lobby.authenticate when it is set, whatever the game does', () => {
    expect(lobbyAuthenticates(server({ authenticate: false, kind: 'vanilla', template: template('online-mode=true\n') }))).toBe(false);
    expect(lobbyAuthenticates(server({ authenticate: true, template: template('online-mode=false\n') }))).toBe(true);
    expect(lobbyAuthenticates(server({ authenticate: false, driver: 'digitalocean' }))).toBe(false);
  });

  it("unset: the template's online-mode, else the game's own default (vanilla on, the bundled game off)", () => {
    expect(lobbyAuthenticates(server({ template: template('motd=x\nonline-mode=true\n') }))).toBe(true);
    expect(lobbyAuthenticates(server({ kind: 'vanilla', template: template('online-mode=false\n') }))).toBe(false);
    expect(lobbyAuthenticates(server({ kind: 'vanilla', template: template('motd=no key\n') }))).toBe(true);
    expect(lobbyAuthenticates(server({ kind: 'vanilla', template: template(undefined) }))).toBe(true);
    expect(lobbyAuthenticates(server({ kind: 'vanilla' }))).toBe(true);
    expect(lobbyAuthenticates(server({ template: template('motd=no key\n') }))).toBe(false);
    expect(lobbyAuthenticates(server({}))).toBe(false);
  });

  it('on DigitalOcean: on, as the role writes it by default', () => {
    expect(lobbyAuthenticates(server({ driver: 'digitalocean' }))).toBe(true);
  });
});
