import { createRequire } from 'node:module';
import mc from 'minecraft-protocol';
import nbt from 'prismarine-nbt';
import { describe, expect, it } from 'vitest';
import { configurationDisconnect, keepAlive, loginAccount, loginSuccess, nbtString, offlineUuid, transfer, waitingNotice } from './waiting-packets.js';
import { waitingProtocol, waitingProtocolNumbers, type ConfigurationServerbound } from './waiting-protocol.js';

/**
 * The waiting room's table against minecraft-data (the packet ids and layouts of every release it
 * covers), and what the lobby builds from it against minecraft-protocol's own parser of each release.
 */

interface Mappings {
  [id: string]: string;
}
interface States {
  toClient: { types: Record<string, unknown> };
  toServer: { types: Record<string, unknown> };
}
interface McData {
  version: { version: number; minecraftVersion: string };
  protocol: { login: States; configuration: States; types: Record<string, unknown> };
}
type McDataModule = ((version: string) => McData | null) & { versions: { pc: { minecraftVersion: string; version: number; releaseType: string }[] } };

const minecraftData = createRequire(import.meta.url)('minecraft-data') as McDataModule;

/**
 * Every release minecraft-data has protocol data for, from 1.20.5 (Transfer's first) on. It answers a
 * release it has no data of (1.21.2, 1.21.7) with an older one's, of another protocol number: those
 * are left out, their protocol number is checked through its other release.
 */
const releases = minecraftData.versions.pc.filter((v) => v.releaseType === 'release' && v.version >= 766 && minecraftData(v.minecraftVersion)?.version.version === v.version);

function ids(state: States, side: 'toClient' | 'toServer'): Mappings {
  const packet = state[side].types.packet as [string, [{ type: [string, { type: [string, { mappings: Mappings }] }] }]];
  const mapper = packet[1][0].type as unknown as [string, { mappings: Mappings }];
  return Object.fromEntries(Object.entries(mapper[1].mappings).map(([id, name]) => [String(Number(id)), name]));
}

/** The names minecraft-data gives what the table calls each serverbound configuration packet. */
const SERVERBOUND_NAMES: Record<keyof ConfigurationServerbound, string> = {
  clientInformation: 'settings',
  cookieResponse: 'cookie_response',
  pluginMessage: 'custom_payload',
  acknowledgeFinishConfiguration: 'finish_configuration',
  keepAlive: 'keep_alive',
  pong: 'pong',
  resourcePackResponse: 'resource_pack_receive',
  knownPacks: 'select_known_packs',
  customClickAction: 'custom_click_action',
  acceptCodeOfConduct: 'accept_code_of_conduct',
};

/**
 * Serverbound in minecraft-data's 1.21–1.21.5 data but never sent by a client: vanilla has only the
 * clientbound Custom Report Details and Server Links (minecraft.wiki Java Edition protocol, 1.21).
 */
const NOT_SENT_BY_CLIENTS = new Set(['custom_report_details', 'server_links']);

describe('the waiting room protocol table', () => {
  it('covers every release of minecraft-data from 1.20.5 on, and no other protocol number', () => {
    expect(releases.map((r) => r.minecraftVersion)).toContain('1.21.11');
    expect(waitingProtocolNumbers()).toEqual([...new Set(releases.map((r) => r.version))].sort((a, b) => a - b));
    for (const unknown of [0, 5, 47, 340, 765, 776, 9999, 0x40000001, -1]) expect(waitingProtocol(unknown), String(unknown)).toBeUndefined();
  });

  it.each(releases.map((r) => [r.minecraftVersion, r.version] as const))('%s (%i): ids and Login Success layout match minecraft-data', (version, protocol) => {
    const row = waitingProtocol(protocol)!;
    const data = minecraftData(version)!;
    expect(data.version.version).toBe(protocol);
    const { login, configuration } = data.protocol;

    expect(ids(login, 'toClient')[row.login.success]).toBe('success');
    expect(ids(login, 'toServer')[row.login.acknowledged]).toBe('login_acknowledged');
    const success = JSON.stringify(login.toClient.types.packet_success);
    expect(success.includes('strictErrorHandling'), `Login Success of ${version} and strictErrorHandling`).toBe(row.login.strictErrorHandling);

    const clientbound = ids(configuration, 'toClient');
    const out = row.configuration.clientbound;
    expect([clientbound[out.disconnect], clientbound[out.keepAlive], clientbound[out.transfer]]).toEqual(['disconnect', 'keep_alive', 'transfer']);
    if (out.showDialog !== undefined) expect(clientbound[out.showDialog]).toBe('show_dialog');

    // Each id the table reads is the packet it names, and every packet a client may send is in the table
    // (one missing would close a real client in the waiting room).
    const serverbound = ids(configuration, 'toServer');
    for (const [key, id] of Object.entries(row.configuration.serverbound)) expect(serverbound[id], `${key} in ${version}`).toBe(SERVERBOUND_NAMES[key as keyof ConfigurationServerbound]);
    const listed = new Set(Object.values(row.configuration.serverbound).map(String));
    const missing = Object.entries(serverbound).filter(([id, name]) => !listed.has(id) && !NOT_SENT_BY_CLIENTS.has(name));
    expect(missing, `serverbound configuration packets of ${version} the table leaves out`).toEqual([]);
  });

  it.each(releases.map((r) => [r.minecraftVersion, r.version] as const))('%s (%i): minecraft-protocol reads what the lobby sends', (version, protocol) => {
    const row = waitingProtocol(protocol)!;
    const unframe = (packet: Buffer) => packet.subarray(1); // every packet here is under 128 bytes
    const loginParser = mc.createDeserializer({ state: mc.states.LOGIN, isServer: false, version, customPackets: {} });
    const configParser = mc.createDeserializer({ state: mc.states.CONFIGURATION, isServer: false, version, customPackets: {} });

    const offline = loginParser.parsePacketBuffer(unframe(loginSuccess(row, loginAccount('Steve', undefined)))).data;
    expect(offline.name).toBe('success');
    expect(offline.params).toMatchObject({ uuid: '5627dd98-e6be-3c21-b8a8-e92344183641', username: 'Steve', properties: [] });

    const proven = { id: '069a79f444e94726a5befca90e38aaf5', name: 'Notch', properties: [{ name: 'textures', value: 'e30=', signature: 'c2ln' }, { name: 'other', value: 'x' }] };
    const online = loginParser.parsePacketBuffer(unframe(loginSuccess(row, loginAccount('notch', proven)))).data.params;
    expect(online).toMatchObject({ uuid: '069a79f4-44e9-4726-a5be-fca90e38aaf5', username: 'Notch', properties: [{ name: 'textures', value: 'e30=', signature: 'c2ln' }, { name: 'other', value: 'x' }] });

    // minecraft-protocol reads an i64 as [high, low] int32s.
    expect(configParser.parsePacketBuffer(unframe(keepAlive(row, 1_765_000_000_123n))).data).toEqual({ name: 'keep_alive', params: { keepAliveId: [410, -231_558_533] } });
    expect(configParser.parsePacketBuffer(unframe(transfer(row, 'survival.example.com', 25566))).data).toEqual({ name: 'transfer', params: { host: 'survival.example.com', port: 25566 } });
    const kick = configParser.parsePacketBuffer(unframe(configurationDisconnect(row, 'Survival failed to start — ask an admin'))).data;
    expect(kick).toEqual({ name: 'disconnect', params: { reason: { type: 'string', value: 'Survival failed to start — ask an admin' } } });

    const notice = waitingNotice(row, 'Starting survival — ready in about 40 s');
    expect(notice !== undefined, `a dialog for ${version}`).toBe(protocol >= 771);
    if (!notice) return;
    const body = notice.subarray(notice[0]! < 0x80 ? 1 : 2); // this one is over 127 bytes
    const shown = configParser.parsePacketBuffer(body).data as { name: string; params: { dialog: nbt.NBT } };
    expect(shown.name).toBe('show_dialog');
    expect(nbt.simplify(shown.params.dialog)).toEqual({
      type: 'minecraft:notice',
      title: 'Starting survival — ready in about 40 s',
      body: { type: 'minecraft:plain_message', contents: expect.stringMatching(/moved in as soon as the server is ready/) },
    });
  });
});

describe('waiting room packets', () => {
  it('gives the offline UUID vanilla gives (version 3 of "OfflinePlayer:" + name)', () => {
    // The id an offline-mode vanilla server gives "Notch" (UUID.nameUUIDFromBytes).
    expect(offlineUuid('Notch').toString('hex')).toBe('b50ad385829d3141a2167e7d7539ba7f');
  });

  it('writes NBT strings in Java modified UTF-8: NUL as two bytes, a character outside the BMP as two 3-byte halves', () => {
    expect(nbtString('a\0b')).toEqual(Buffer.from([0x08, 0x00, 0x04, 0x61, 0xc0, 0x80, 0x62]));
    expect(nbtString('😀')).toEqual(Buffer.from([0x08, 0x00, 0x06, 0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80]));
    expect(nbtString('é')).toEqual(Buffer.from([0x08, 0x00, 0x02, 0xc3, 0xa9]));
    expect(nbtString('x'.repeat(70_000)).readUInt16BE(1)).toBe(4096);
  });

  it('refuses a proven account whose id is not a UUID', () => {
    expect(() => loginAccount('x', { id: 'nope', name: 'x', properties: [] })).toThrow(/not a UUID/);
  });
});
