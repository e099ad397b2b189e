// What the browser checks share: their settings from the environment, and Debian's Chromium
// launched the same way (headless, no network chatter of its own that could disturb a test).

import { chromium } from 'playwright-core';
import { basename } from 'node:path';

/** The environment variable `name`; the script exits 2 naming it when it is not set. */
export function need(name) {
  const v = process.env[name];
  if (!v) {
    console.error(`${basename(process.argv[1])}: ${name} is not set`);
    process.exit(2);
  }
  return v;
}

export function launchChromium() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
