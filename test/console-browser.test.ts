// The console on the server page in a real browser (issue 21): headless Chromium against one OoD running
// the bundled game, with a real Minecraft client (mineflayer) in it. The admin sees the bot's join line
// arrive live, says hello (the bot hears it) and lists the players (the answer shows); a person without
// `console` gets no console and cannot post to it; the page is axe-clean in both schemes and fits 375 px.
import { appendFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AxeResults } from 'axe-core';
import type { Bot } from 'mineflayer';
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Serving } from '../controller/cli/serve.js';
import { LOCAL_ADMIN } from '../controller/web/auth/local-admin.js';
import { apiFor } from './helpers/api.js';
import { joinBot, leave } from './helpers/bot.js';
import { launchBrowser } from './helpers/browser.js';
import { serveInProcess } from './helpers/in-process.js';
import { makeOodHome, type OodHome } from './helpers/ood-home.js';
import { waitUntil } from './helpers/wait.js';
import { loginAs, type WebClient } from './helpers/web-client.js';

const AXE_SCRIPT = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const RESULTS_DIR = fileURLToPath(new URL('../test-results/', import.meta.url));
/** Every Playwright wait gives up after this, so a stuck page fails the step, not the file. */
const STEP_MS = 15_000;

describe('the console on the server page, in Chromium', () => {
  let home: OodHome;
  let serving: Serving;
  let browser: Browser;
  let admin: WebClient;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    home = await makeOodHome();
    serving = await serveInProcess(home.configPath);
    browser = await launchBrowser();
    admin = await loginAs(serving, LOCAL_ADMIN);
    expect((await apiFor(serving.url).start()).status).toBe(202);
    await waitUntil('running', () => serving.controller.view('world').state.phase === 'running', 60_000);
  }, 90_000);

  afterAll(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await serving?.close();
    await home?.cleanup();
  });

  /** A browser profile logged in with a WebClient's session. */
  async function pageAs(client: WebClient, options: BrowserContextOptions = {}): Promise<Page> {
    const context = await browser.newContext(options);
    contexts.push(context);
    context.setDefaultTimeout(STEP_MS);
    await context.addCookies(client.cookie.split('; ').map((pair) => {
      const [name, ...value] = pair.split('=');
      return { name: name!, value: value.join('='), url: serving.url };
    }));
    return await context.newPage();
  }

  /** The server page with its console following the log live. */
  async function openConsole(page: Page): Promise<void> {
    const response = await page.goto(`${serving.url}/servers/world`);
    expect(response?.status()).toBe(200);
    await page.locator('[data-console-status]', { hasText: 'Live' }).waitFor();
  }

  it('shows the admin a bot joining live, sends say hello (the bot hears it) and list (the answer shows), with history on Up', async () => {
    const page = await pageAs(admin);
    await openConsole(page);
    const log = page.locator('pre[role="log"]');
    // The backlog: the game's start, and OoD's phase lines set apart.
    await log.locator('.game-line', { hasText: 'Done (' }).first().waitFor();
    expect(await log.locator('.ood-line', { hasText: '[OoD] phase booting → running' }).count()).toBeGreaterThan(0);
    await page.evaluate('window.__marker = 1');

    let bot: Bot | undefined;
    try {
      bot = await joinBot(home.gamePort, 'Alex');
      const heard: string[] = [];
      bot.on('messagestr', (text: string) => void heard.push(text));
      // Live, without a reload: the page kept its marker.
      await log.locator('.game-line', { hasText: 'Alex joined the game' }).waitFor();
      expect(await page.evaluate('window.__marker')).toBe(1);

      const input = page.getByLabel("Command for world's console");
      const answer = page.locator('[data-console-answer]');
      await input.fill('say hello');
      await input.press('Enter');
      await waitUntil('the bot to hear hello', () => heard.some((t) => t.includes('[Server] hello')), 10_000);
      await answer.filter({ hasText: '> say hello' }).waitFor();
      await log.locator('.game-line', { hasText: '[Server] hello' }).waitFor();

      await input.fill('/list');
      await input.press('Enter');
      await answer.filter({ hasText: /There are 1 of a max of \d+ players online: Alex/ }).waitFor();
      expect(await answer.getAttribute('class')).not.toContain('error');

      // Up brings back the commands as they were typed, newest first; Down goes forward again.
      await input.press('ArrowUp');
      expect(await input.inputValue()).toBe('/list');
      await input.press('ArrowUp');
      expect(await input.inputValue()).toBe('say hello');
      await input.press('ArrowDown');
      expect(await input.inputValue()).toBe('/list');

      // A refused command shows why, as an error.
      await input.fill('say two\u0007lines');
      await input.press('Enter');
      await answer.filter({ hasText: 'control character (U+0007)' }).waitFor();
      expect(await answer.getAttribute('class')).toContain('error');
    } finally {
      if (bot) await leave(bot);
    }
    await log.locator('.game-line', { hasText: 'Alex left the game' }).waitFor();
    const audit = serving.controller.store.audit.list(200).filter((a) => a.action === 'console').map((a) => a.detail);
    expect(audit).toEqual(expect.arrayContaining(['say hello', 'list']));
  }, 90_000);

  it('has no serious or critical axe-core violations on the server page with its console, light and dark, at 375 and 1280 px', async () => {
    mkdirSync(RESULTS_DIR, { recursive: true });
    const problems: string[] = [];
    for (const colorScheme of ['light', 'dark'] as const) {
      // bypassCSP: axe is injected as an inline script.
      const page = await pageAs(admin, { bypassCSP: true, colorScheme });
      for (const width of [375, 1280]) {
        await page.setViewportSize({ width, height: width === 375 ? 740 : 800 });
        await openConsole(page);
        // OoD's own lines are in the ring still (this runs before the chatty test), so their colour is checked too.
        await page.locator('pre[role="log"] .ood-line').first().waitFor();
        // An answer and an error shown, so their colours are checked too.
        await page.getByLabel("Command for world's console").fill('list');
        await page.getByLabel("Command for world's console").press('Enter');
        await page.locator('[data-console-answer]', { hasText: 'players online' }).waitFor();
        await page.locator('section.console').scrollIntoViewIfNeeded();
        await page.screenshot({ path: `${RESULTS_DIR}console-${colorScheme}-${width}.png`, fullPage: true });
        const scroll = await page.evaluate<number>('document.documentElement.scrollWidth');
        if (scroll > width) problems.push(`${colorScheme} at ${width} px: the page is ${scroll} px wide`);
        await page.addScriptTag({ path: AXE_SCRIPT });
        const results = await page.evaluate<AxeResults>("axe.run(document, { resultTypes: ['violations'] })");
        for (const v of results.violations.filter((x) => x.impact === 'serious' || x.impact === 'critical')) {
          problems.push(`${colorScheme} ${width} px: ${v.id} (${v.impact}) at ${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')}`);
        }
      }
    }
    expect(problems, problems.join('\n')).toEqual([]);
  }, 90_000);

  it('pauses auto-scroll while the reader has scrolled up, keeps at most 2000 lines, and wraps a long line inside 375 px', async () => {
    const page = await pageAs(admin);
    await page.setViewportSize({ width: 375, height: 740 });
    await openConsole(page);
    const log = page.locator('pre[role="log"]');
    const gameLog = join(home.hostDir(), '.ood-game.log');

    appendFileSync(gameLog, Array.from({ length: 60 }, (_, i) => `filler ${i}`).join('\n') + '\n');
    await log.locator('.game-line', { hasText: 'filler 59' }).waitFor();
    const atBottom = () => log.evaluate((el) => el.scrollTop + el.clientHeight >= el.scrollHeight - 8);
    expect(await atBottom()).toBe(true);

    // Scrolled up, new lines do not pull the reader down.
    await log.evaluate((el) => el.scrollTo({ top: 0 }));
    await page.locator('[data-console-status]', { hasText: 'Paused' }).waitFor();
    appendFileSync(gameLog, 'while reading\n');
    await log.locator('.game-line', { hasText: 'while reading' }).waitFor();
    expect(await log.evaluate((el) => el.scrollTop)).toBe(0);
    // Back at the bottom, it follows again.
    await log.evaluate((el) => el.scrollTo({ top: el.scrollHeight }));
    await page.locator('[data-console-status]', { hasText: 'Live' }).waitFor();
    appendFileSync(gameLog, 'following again\n');
    await log.locator('.game-line', { hasText: 'following again' }).waitFor();
    expect(await atBottom()).toBe(true);

    // A long line without a space wraps, and a chatty game leaves at most 2000 lines on the page.
    appendFileSync(gameLog, `${'W'.repeat(4_000)}\n` + Array.from({ length: 2_100 }, (_, i) => `chatty ${i}`).join('\n') + '\n');
    await log.locator('.game-line', { hasText: 'chatty 2099' }).waitFor();
    expect(await log.locator('span').count()).toBeLessThanOrEqual(2_000);
    mkdirSync(RESULTS_DIR, { recursive: true });
    await page.screenshot({ path: `${RESULTS_DIR}console-375.png`, fullPage: true });
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(375);
    // Game text is text: a line shaped like markup is shown as written, never made into elements.
    appendFileSync(gameLog, '<img src=x onerror="window.__pwned=1"><b>bold</b>\n');
    await log.locator('.game-line', { hasText: '<b>bold</b>' }).waitFor();
    expect(await log.locator('img, b').count()).toBe(0);
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
  }, 60_000);

  it('shows a person without console no console, and refuses their forged post with 403', async () => {
    serving.controller.store.people.put('test:player', ['start', 'stop'], 'test', Date.now());
    const player = await loginAs(serving, 'test:player');
    const page = await pageAs(player);
    const response = await page.goto(`${serving.url}/servers/world`);
    expect(response?.status()).toBe(200);
    await page.locator('h1', { hasText: 'History of world' }).waitFor();
    expect(await page.locator('section.console, pre[role="log"], script[src="/static/console.js"]').count()).toBe(0);
    expect(await page.getByRole('heading', { name: 'Console' }).count()).toBe(0);

    // With their own valid CSRF token: refused for want of the permission.
    await player.get('/servers/world');
    const forged = await player.post('/servers/world/console', { command: 'op player' }, { headers: { accept: 'application/json' } });
    expect(forged.status).toBe(403);
    expect((JSON.parse(forged.text) as { error: string }).error).toContain('ask an admin to give you "console"');
    const events = await player.get('/servers/world/console/events', { accept: 'text/event-stream' });
    expect(events.status).toBe(403);
    expect(serving.controller.store.audit.list(200).some((a) => a.action === 'console' && a.detail === 'op player')).toBe(false);
  }, 30_000);
});
