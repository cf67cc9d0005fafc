import mineflayer, { type Bot } from 'mineflayer';
import { reasonText } from './bot.js';

/** The handshake's intent after a Transfer packet (https://minecraft.wiki/w/Java_Edition_protocol/Packets#Handshake). */
const INTENT_TRANSFER = 3;

interface Writer {
  write(name: string, params: object): void;
}

/**
 * Makes a minecraft-protocol client open with handshake intent 3 (Transfer), as the vanilla client
 * does when a Transfer packet sent it to this host: minecraft-protocol 1.68's client never follows a
 * Transfer by itself and always says intent 2. Call it right after `createClient`/`createBot`, before
 * the socket connects (the handshake is written on 'connect').
 */
export function handshakeAsTransfer(client: Writer): void {
  const write = client.write.bind(client);
  client.write = (name, params) => write(name, name === 'set_protocol' ? { ...params, nextState: INTENT_TRANSFER } : params);
}

/** What a transferred join came to: the player in the world, or the kick's text. */
export type TransferredJoin = { bot: Bot } | { kicked: string };

/** A mineflayer player (1.21.4 unless told) that joins `host:port` the way a transferred vanilla client does. */
export async function joinTransferred(port: number, username: string, host = '127.0.0.1', timeoutMs = 20_000, version = '1.21.4'): Promise<TransferredJoin> {
  const bot = mineflayer.createBot({ host, port, username, version, auth: 'offline', hideErrors: true });
  handshakeAsTransfer(bot._client);
  return new Promise<TransferredJoin>((resolve, reject) => {
    const timer = setTimeout(() => {
      bot.end();
      reject(new Error(`${username} neither spawned nor was kicked within ${timeoutMs} ms after a transfer handshake to ${host}:${port}`));
    }, timeoutMs);
    bot.once('spawn', () => {
      clearTimeout(timer);
      resolve({ bot });
    });
    bot.once('kicked', (reason) => {
      clearTimeout(timer);
      resolve({ kicked: reasonText(reason) });
    });
    bot.once('end', (why) => {
      clearTimeout(timer);
      reject(new Error(`${username}'s transfer handshake to ${host}:${port} ended with no kick reason (${why})`));
    });
    bot.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}
