// Issue #6 §3 in the browser: the capture signal an appliance sees, as the UI shows it. Run by
// tests/tests/vm_image.rs against the daemon in the VM (vivid as its HDMI input), through the
// forwarded port.
//
//   FEEDLINE_URL   http://127.0.0.1:PORT of the daemon
//   FEEDLINE_USER, FEEDLINE_PASSWORD   an admin
//   CHANNEL        the capture channel's name
//   EXPECT_SIGNAL  what both the channel card and the System page must show: a detected format
//                  (1280x720p60), or a signal fault (no signal, out of range), which the card
//                  shows as the input's fault with the slate on air
//   ARTIFACTS      where screenshots go
//
// Exits non-zero at the first failed check, saying which.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { launchChromium, need } from './browser.mjs';

const base = need('FEEDLINE_URL');
const channel = need('CHANNEL');
const expected = need('EXPECT_SIGNAL');
const artifacts = process.env.ARTIFACTS ?? 'e2e-artifacts';
mkdirSync(artifacts, { recursive: true });

const browser = await launchChromium();
let failed = false;
try {
  const page = await (await browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage();
  await page.goto(base);
  await page.getByLabel('User name').fill(need('FEEDLINE_USER'));
  await page.getByLabel('Password').fill(need('FEEDLINE_PASSWORD'));
  await page.getByRole('button', { name: 'Sign in' }).click();
  const card = page.locator(`[data-channel="${channel}"]`);
  const isFormat = /^\d/.test(expected);
  if (isFormat) {
    await card.getByTestId('signal-primary').filter({ hasText: expected }).waitFor({ timeout: 20000 });
    console.log(`  ok: channel card shows the primary input's signal ${expected}`);
  } else {
    await card.getByTestId('fault-primary').filter({ hasText: expected }).waitFor({ timeout: 20000 });
    await card.getByTestId('on-air').filter({ hasText: 'SLATE' }).waitFor({ timeout: 5000 });
    console.log(`  ok: channel card shows the primary input's fault '${expected}' with the slate on air`);
  }
  await page.screenshot({ path: join(artifacts, `signal-card-${expected.replace(/ /g, '-')}.png`) });
  await page.goto(`${base}/#/system`);
  await page.getByTestId('device-signal').filter({ hasText: expected }).waitFor({ timeout: 30000 });
  console.log(`  ok: System page lists the capture device with ${expected}`);
  await page.screenshot({ path: join(artifacts, `signal-system-${expected.replace(/ /g, '-')}.png`) });
} catch (e) {
  console.error(`check failed: ${e.message}`);
  failed = true;
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
