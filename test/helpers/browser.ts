// Playwright-core driving Debian's Chromium (no Playwright browser download in this project).
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';

/** False where Chromium is not installed; browser tests skip and say so. */
export const browserAvailable: boolean = existsSync(CHROMIUM);

export async function launchBrowser(): Promise<Browser> {
  return await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      // Tests stay on loopback: every host but localhost and 127.x fails to resolve (the rules apply to
      // IP literals too), so a stray remote font or script cannot reach the network.
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.*',
    ],
  });
}
