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
