/**
 * Handshake intent 3 (Transfer) for the bundled game. Since Minecraft 1.20.5 (protocol 766) a client
 * told to move by a Transfer packet (OoD's waiting room sends one) connects to the named host with
 * intent 3 instead of 2; vanilla then logs it in like any other join when `accepts-transfers=true` is
 * in server.properties, and otherwise answers with a login Disconnect, "Server does not accept
 * transfers" (ServerHandshakePacketListenerImpl; the text is 1.21.4's
 * `multiplayer.disconnect.transfers_disabled`).
 * https://minecraft.wiki/w/Java_Edition_protocol/Packets#Handshake
 *
 * minecraft-protocol 1.68's server handshake (src/server/handshake.js) knows intents 1 and 2 only: on
 * 3 it leaves the connection in the handshaking state, and the Login Start that follows is read as a
 * handshake packet. Instead of forking it, this turns a Transfer into a login before handshake.js
 * reads the packet (a listener put in front of its own), and refuses it after handshake.js has moved
 * the connection to the login state when transfers are off, as vanilla does.
 */

/** The intents of the handshake's `nextState` field. */
const INTENT_LOGIN = 2;
const INTENT_TRANSFER = 3;

/** Vanilla 1.21.4's words for a refused transfer. */
export const TRANSFERS_DISABLED = 'Server does not accept transfers';

/** The first protocol with Transfer (1.20.5); an older client never sends intent 3. */
const FIRST_TRANSFER_PROTOCOL = 766;

interface Handshake {
  protocolVersion: number;
  nextState: number;
}
/** The parts of minecraft-protocol's server-side `Client` used here. */
interface ProtocolClient {
  prependOnceListener(event: 'set_protocol', listener: (packet: Handshake) => void): unknown;
  once(event: 'set_protocol', listener: (packet: Handshake) => void): unknown;
  end(reason: string): void;
}
export interface TransferringServer {
  on(event: 'connection', listener: (client: ProtocolClient) => void): unknown;
}

/**
 * Makes `server` take a handshake with intent 3 as a login, or refuse it when `accepts` is false.
 * Call it after minecraft-protocol's `createServer` (whose own 'connection' listener adds handshake.js
 * first) and before the first connection.
 */
export function handleTransfers(server: TransferringServer, accepts: boolean): void {
  server.on('connection', (client) => {
    let transfer: 'none' | 'known' | 'unknown' = 'none';
    // One packet object reaches every listener in turn, so the change is what handshake.js reads.
    client.prependOnceListener('set_protocol', (packet) => {
      if (packet.nextState !== INTENT_TRANSFER) return;
      // Before 1.20.5 the intent does not exist: vanilla of those versions closes the connection.
      if (packet.protocolVersion < FIRST_TRANSFER_PROTOCOL) {
        transfer = 'unknown';
        return;
      }
      transfer = 'known';
      packet.nextState = INTENT_LOGIN;
    });
    // Runs after handshake.js: the connection is in the login state, so end() sends a login Disconnect
    // (still in the handshaking one for an unknown intent, where end() only closes).
    client.once('set_protocol', () => {
      if (transfer === 'unknown') client.end('Unknown handshake intent 3 before Minecraft 1.20.5');
      else if (transfer === 'known' && !accepts) client.end(TRANSFERS_DISABLED);
    });
  });
}
