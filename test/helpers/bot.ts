import mineflayer, { type Bot } from 'mineflayer';

/** A real Minecraft client (mineflayer, pinned to 1.21.4: a version mismatch hangs silently). */
export async function joinBot(port: number, username: string, host = '127.0.0.1'): Promise<Bot> {
  const bot = mineflayer.createBot({ host, port, username, version: '1.21.4', auth: 'offline', hideErrors: true });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${username} did not spawn within 30 s`)), 30_000);
    bot.once('spawn', () => {
      clearTimeout(timer);
      resolve();
    });
    bot.once('kicked', (reason) => reject(new Error(`${username} was kicked: ${JSON.stringify(reason)}`)));
    bot.once('error', reject);
  });
  return bot;
}

export async function leave(bot: Bot): Promise<void> {
  const ended = new Promise<void>((resolve) => bot.once('end', () => resolve()));
  bot.quit();
  await ended;
}

/** A kick reason as text, whatever shape the client library hands it over in (JSON string, chat object, NBT). */
export function reasonText(reason: unknown): string {
  if (typeof reason === 'string') {
    try {
      return reasonText(JSON.parse(reason));
    } catch (err) {
      if (err instanceof SyntaxError) return reason;
      throw err;
    }
  }
  if (Array.isArray(reason)) return reason.map(reasonText).join('');
  if (reason && typeof reason === 'object') {
    const r = reason as Record<string, unknown>;
    if ('type' in r && 'value' in r) return reasonText(r.value);
    return reasonText(r.text ?? '') + reasonText(r.extra ?? '');
  }
  return reason === undefined || reason === null ? '' : String(reason);
}

/** Joins expecting to be turned away at login (by the lobby): resolves to the kick reason's text. */
export async function joinExpectingKick(port: number, username: string, version = '1.21.4', host = '127.0.0.1'): Promise<string> {
  const bot = mineflayer.createBot({ host, port, username, version, auth: 'offline', hideErrors: true });
  const reason = await new Promise<unknown>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${username} was not turned away within 30 s`)), 30_000);
    bot.once('kicked', (why) => {
      clearTimeout(timer);
      resolve(why);
    });
    bot.once('spawn', () => {
      clearTimeout(timer);
      bot.quit();
      reject(new Error(`${username} spawned instead of being turned away`));
    });
    bot.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
  return reasonText(reason);
}
