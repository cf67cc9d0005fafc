/**
 * The packets the waiting room speaks, per protocol range: the end of the login (Login Success, Login
 * Acknowledged) and the configuration state (keep-alives, Transfer, Disconnect, and what a client sends
 * there). Transfer came with 1.20.5 (protocol 766), so nothing older is here; a protocol number not in
 * this table is never held (the lobby answers it as before, a kick with the text) rather than guessed.
 *
 * Each row names the page it was read from: minecraft.wiki's "Java Edition protocol" (the wiki.vg
 * "Protocol" page before the merge) as it stood for that release, linked from minecraft.wiki's
 * "Protocol version numbers". waiting-protocol.test.ts checks every row against minecraft-data's
 * protocol.json of each release in its range, and parses what the lobby sends with minecraft-protocol.
 */

/** Ids the client may send in the configuration state; the lobby reads and drops all but Keep Alive. */
export interface ConfigurationServerbound {
  clientInformation: number;
  cookieResponse: number;
  pluginMessage: number;
  acknowledgeFinishConfiguration: number;
  keepAlive: number;
  pong: number;
  resourcePackResponse: number;
  knownPacks: number;
  /** 1.21.6+: a dialog's button (the waiting room's notice has none that sends one, but a client may). */
  customClickAction?: number;
  /** 1.21.9+: the answer to a server's code of conduct. */
  acceptCodeOfConduct?: number;
}

export interface WaitingProtocol {
  /** Releases of the range, as people name them. */
  releases: string;
  /** Where the ids and layouts were read. */
  source: string;
  login: {
    success: number;
    /** 1.20.5–1.21.1 end Login Success with a Strict Error Handling boolean; 1.21.2 removed it. */
    strictErrorHandling: boolean;
    acknowledged: number;
  };
  configuration: {
    clientbound: {
      /** Reason: a text component as network NBT (since 1.20.3). */
      disconnect: number;
      /** Keep Alive ID: a Long. */
      keepAlive: number;
      /** Host: String (32767), Port: VarInt. */
      transfer: number;
      /** 1.21.6+: Show Dialog, a dialog given inline as NBT. */
      showDialog?: number;
    };
    serverbound: ConfigurationServerbound;
  };
}

/** Configuration ids that every release from 1.20.5 on shares (they moved in 1.20.5, not since). */
const SERVERBOUND_1_20_5: ConfigurationServerbound = {
  clientInformation: 0x00,
  cookieResponse: 0x01,
  pluginMessage: 0x02,
  acknowledgeFinishConfiguration: 0x03,
  keepAlive: 0x04,
  pong: 0x05,
  resourcePackResponse: 0x06,
  knownPacks: 0x07,
};
const CLIENTBOUND_1_20_5 = { disconnect: 0x02, keepAlive: 0x04, transfer: 0x0b };
const LOGIN = { success: 0x02, acknowledged: 0x03 };
const WIKI = 'https://minecraft.wiki/w/Java_Edition_protocol';

/** Inclusive protocol ranges; releases of one protocol number are one row's worth of ids. */
const ROWS: { from: number; to: number; row: WaitingProtocol }[] = [
  {
    from: 766,
    to: 767,
    row: {
      releases: '1.20.5–1.21.1',
      source: `${WIKI} as of 1.20.6 (766) and 1.21.1 (767): Login Success ends with Strict Error Handling; Transfer (configuration) 0x0B`,
      login: { ...LOGIN, strictErrorHandling: true },
      configuration: { clientbound: CLIENTBOUND_1_20_5, serverbound: SERVERBOUND_1_20_5 },
    },
  },
  {
    from: 768,
    to: 770,
    row: {
      releases: '1.21.2–1.21.5',
      source: `${WIKI} as of 1.21.3 (768), 1.21.4 (769) and 1.21.5 (770): Login Success without Strict Error Handling`,
      login: { ...LOGIN, strictErrorHandling: false },
      configuration: { clientbound: CLIENTBOUND_1_20_5, serverbound: SERVERBOUND_1_20_5 },
    },
  },
  {
    from: 771,
    to: 772,
    row: {
      releases: '1.21.6–1.21.8',
      source: `${WIKI} as of 1.21.6 (771) and 1.21.8 (772): Show Dialog (configuration) 0x12, Custom Click Action 0x08`,
      login: { ...LOGIN, strictErrorHandling: false },
      configuration: {
        clientbound: { ...CLIENTBOUND_1_20_5, showDialog: 0x12 },
        serverbound: { ...SERVERBOUND_1_20_5, customClickAction: 0x08 },
      },
    },
  },
  {
    from: 773,
    to: 775,
    row: {
      releases: '1.21.9–26.1',
      source: `${WIKI} as of 1.21.10 (773), 1.21.11 (774) and 26.1 (775): Accept Code of Conduct (configuration) 0x09`,
      login: { ...LOGIN, strictErrorHandling: false },
      configuration: {
        clientbound: { ...CLIENTBOUND_1_20_5, showDialog: 0x12 },
        serverbound: { ...SERVERBOUND_1_20_5, customClickAction: 0x08, acceptCodeOfConduct: 0x09 },
      },
    },
  },
];

/** The row for a client's protocol number, or undefined: that client is not held. */
export function waitingProtocol(protocol: number): WaitingProtocol | undefined {
  return ROWS.find(({ from, to }) => protocol >= from && protocol <= to)?.row;
}

/** Every protocol number the table knows, lowest first (for tests and the README). */
export function waitingProtocolNumbers(): number[] {
  return ROWS.flatMap(({ from, to }) => Array.from({ length: to - from + 1 }, (_, i) => from + i));
}
