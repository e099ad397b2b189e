// Issue #4's browser scenarios: Debian's Chromium driven by playwright-core against a real
// feedline daemon (started by tests/tests/ui.rs, which passes its address and setup code).
//
//   FEEDLINE_URL   http://127.0.0.1:PORT of the daemon (fresh store: no users, no channels)
//   SETUP_CODE     the one-time code from its log
//   SRT_PORT       a free UDP port for the channel's SRT listener output
//   ARTIFACTS      where screenshots go
//   HEAP_UPDATES   live updates in the heap measurement (default 600 = 10 minutes at 1 Hz)
//   FAILOVER_NO_DATA_MS  the appliance's default loss time, which the editor must show
//
// Exits non-zero at the first failed check, saying which.

import { execFile, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { launchChromium, need } from './browser.mjs';

const base = need('FEEDLINE_URL');
const defaultNoData = need('FAILOVER_NO_DATA_MS');
const setupCode = need('SETUP_CODE');
const srtPort = Number(need('SRT_PORT'));
const artifacts = process.env.ARTIFACTS ?? 'e2e-artifacts';
const heapUpdates = Number(process.env.HEAP_UPDATES ?? 600);
const workDir = process.env.WORK_DIR ?? artifacts;
const PASSPHRASE = 'venue-contribution-key';
// The appliance serves HTTPS with a self-signed certificate until one is installed.
const contextOptions = { viewport: { width: 1500, height: 1000 }, ignoreHTTPSErrors: true };
mkdirSync(artifacts, { recursive: true });

const ADMIN = { user: 'admin', password: 'venue-admin-pass-1' };
const VIEWER = { user: 'viewer1', password: 'viewer-pass-123' };

function check(ok, what) {
  if (!ok) throw new Error(`check failed: ${what}`);
  console.log(`  ok: ${what}`);
}

async function eventually(read, test, what, timeoutMs = 20000) {
  const until = Date.now() + timeoutMs;
  let last;
  while (Date.now() < until) {
    last = await read();
    if (test(last)) {
      console.log(`  ok: ${what} (${JSON.stringify(last)})`);
      return last;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`check failed: ${what}; last seen ${JSON.stringify(last)}`);
}

async function shot(page, name) {
  const path = join(artifacts, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  console.log(`  screenshot ${path}`);
}

/** Every form control on the page has a label (its own <label>, or aria-label). */
async function checkLabels(page, screen) {
  const unlabelled = await page.evaluate(() =>
    [...document.querySelectorAll('input, select, textarea')]
      .filter((el) => el.labels.length === 0 && !el.getAttribute('aria-label'))
      .map((el) => el.getAttribute('name') ?? el.outerHTML.slice(0, 60)),
  );
  check(unlabelled.length === 0, `every control on the ${screen} has a label (${unlabelled.join(', ')})`);
}

function step(name) {
  console.log(`step: ${name}`);
}

function run(cmd, args, timeoutMs) {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 1 << 24 }, (error, stdout) =>
      resolve({ ok: !error, stdout: String(stdout) }),
    );
  });
}

const browser = await launchChromium();

const timecodeFrames = (tc) => {
  const p = String(tc).split(/[:;.]/).map(Number);
  return p.length === 4 && p.every((n) => Number.isFinite(n)) ? ((p[0] * 60 + p[1]) * 60 + p[2]) * 30 + p[3] : -1;
};

try {
  const admin = await browser.newContext(contextOptions);
  const page = await admin.newPage();
  const consoleErrors = [];
  page.on('pageerror', (e) => consoleErrors.push(String(e)));

  step('first start: setup with the one-time code');
  await page.goto(base);
  await page.getByRole('heading', { name: 'Set up this Feedline' }).waitFor();
  await page.getByLabel('Setup code').fill('WRONG-CODE-0000-0000');
  await page.getByLabel('User name').fill(ADMIN.user);
  await page.getByLabel('Password').fill(ADMIN.password);
  await shot(page, '01-setup');
  await page.getByRole('button', { name: 'Create admin and sign in' }).click();
  await page.locator('.field-error').first().waitFor();
  check((await page.locator('.field-error').first().textContent()).includes('setup code'), 'a wrong setup code is named next to its field');
  await page.getByLabel('Setup code').fill(setupCode);
  await page.getByRole('button', { name: 'Create admin and sign in' }).click();
  await page.getByText(`${ADMIN.user} (admin)`).waitFor();
  check(true, 'the first admin is created and signed in');

  step('logout and login');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in to Feedline' }).waitFor();
  await page.getByLabel('User name').fill(ADMIN.user);
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').waitFor();
  check((await page.getByRole('alert').textContent()).includes('wrong'), 'a wrong password is refused');
  await page.getByLabel('Password').fill(ADMIN.password);
  await shot(page, '02-login');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText(`${ADMIN.user} (admin)`).waitFor();
  check(true, 'login works');

  step('create a channel: test pattern, 2-rung ladder, SRT listener output');
  await page.getByRole('link', { name: 'New channel' }).click();
  await page.locator('input[name="name"]').fill('studio');
  await page.locator('select[name="input.type"]').selectOption('test_pattern');
  await page.locator('input[name="input.width"]').fill('640');
  await page.locator('input[name="input.height"]').fill('360');
  await page.locator('input[name="input.frame_rate"]').fill('30');
  await page.locator('input[name="video.gop_frames"]').fill('30');
  await page.locator('select[name="preset"]').selectOption('360p-2');
  await page.getByRole('button', { name: 'Use preset' }).click();
  check((await page.locator('input[name="ladder[1].name"]').inputValue()) === '180p', 'the preset fills two rungs');
  await page.locator('input[name="outputs[0].address"]').fill('127.0.0.1');
  await page.locator('input[name="outputs[0].port"]').fill(String(srtPort));
  await page.locator('input[name="outputs[0].latency_ms"]').fill('200');
  await page.locator('input[name="outputs[0].passphrase"]').fill(PASSPHRASE);
  await page.locator('input[name="outputs[0].stream_id"]').fill('feedline/studio');
  const found = (await (await page.request.get(`${base}/api/v1/system`)).json()).capture_devices;
  const listed = await page.locator('select[name="input.type"] optgroup[label="Capture devices found"] option').count();
  check(listed === found.length, `the input chooser lists the ${found.length} capture device(s) the appliance found`);
  if (found.length === 0) {
    check(await page.getByText('No capture devices found on this box.').isVisible(), 'and says when there are none');
  }
  await checkLabels(page, 'channel editor');
  await shot(page, '03-channel-editor');
  await page.getByRole('button', { name: 'Create channel' }).click();
  await page.locator('[data-channel="studio"]').waitFor();
  check(true, 'the channel is created and shown on the dashboard');
  const created = await (await page.request.get(`${base}/api/v1/channels/studio`)).json();
  const out = created.outputs[0];
  check(
    out.latency_ms === 200 && out.stream_id === 'feedline/studio' && out.passphrase === '<redacted>',
    `the editor stored latency, stream ID and a passphrase (read back redacted): ${JSON.stringify(out)}`,
  );

  step('start it from the dashboard');
  const card = page.locator('[data-channel="studio"]');
  await card.waitFor();
  // A new channel starts at once; stop it first so that starting is what the test shows.
  await card.getByRole('button', { name: 'Stop studio' }).click();
  await eventually(() => card.getByRole('status', { name: 'Channel studio state' }).textContent(), (t) => t === 'STOPPED', 'stopping shows STOPPED');
  await card.getByRole('button', { name: 'Start studio' }).click();
  await eventually(() => card.getByRole('status', { name: 'Channel studio state' }).textContent(), (t) => t.startsWith('RUNNING') || t === 'ON AIR', 'starting shows RUNNING');

  step('fps and bitrate become non-zero, the timecode advances');
  const fps = await eventually(() => card.locator('[data-rendition="360p"] [data-testid="fps"]').textContent(), (t) => Number(t) > 20, '360p fps is live');
  check(Number(fps) < 40, '360p fps is about 30');
  await eventually(() => card.locator('[data-rendition="180p"] [data-testid="bitrate"]').textContent(), (t) => /[1-9]/.test(t) && !t.startsWith('0 '), '180p bitrate is non-zero');
  const h264 = (await (await page.request.get(`${base}/api/v1/system`)).json()).encoder_backends.find((b) => b.codec === 'h264' && b.available);
  await eventually(() => card.locator('[data-rendition="360p"] [data-testid="encoder"]').textContent(), (t) => t.trim() === h264.element, 'the card names the encoder in use');
  const encodeMs = (rung) => card.locator(`[data-rendition="${rung}"] [data-testid="encode-latency"]`).textContent();
  await eventually(() => encodeMs('360p'), (t) => /^[1-9]\d* ms$/.test(t.trim()), "the card shows a picture's time in the 360p encoder");
  // 360p has four times 180p's pixels: its pictures take longer in the encoder.
  await eventually(
    async () => [parseInt(await encodeMs('360p'), 10), parseInt(await encodeMs('180p'), 10)],
    ([big, small]) => big > small,
    'a larger rung spends longer in its encoder',
  );
  await eventually(() => card.getByTestId('ladder-backlog').textContent(), (t) => /backlog [0-4]\/15 frames\s*$/.test(t.trim()), 'a ladder that keeps up has (almost) nothing waiting and no "full" badge');
  const tc1 = timecodeFrames(await card.getByTestId('timecode').textContent());
  await page.waitForTimeout(2000);
  const tc2 = timecodeFrames(await card.getByTestId('timecode').textContent());
  check(tc1 >= 0 && tc2 - tc1 >= 30 && tc2 - tc1 <= 100, `timecode advances about 60 frames in 2 s (${tc1} → ${tc2})`);
  await eventually(() => card.getByTestId('audio-level').count(), (n) => n === 2, 'two audio level meters');
  const peak = Number(await card.getByRole('meter', { name: 'Audio channel 1 peak' }).getAttribute('aria-valuenow'));
  check(peak > -24 && peak < -12, `the test tone reads about -18 dBFS peak (${peak.toFixed(1)})`);
  const rmsText = await card.getByTestId('audio-level').first().textContent();
  const rms = Number(/rms (-?[\d.]+) dBFS/.exec(rmsText)?.[1]);
  check(rms > -27 && rms < -15 && rms < peak, `and about -21 dBFS RMS, below its peak (${rmsText.trim()})`);

  step('the thumbnail is the real picture and changes over time');
  const thumb = card.getByTestId('thumbnail');
  await eventually(() => thumb.evaluate((img) => img.naturalWidth), (w) => w === 320, 'thumbnail decoded at 320 px');
  // Refreshed at least once a second: four looks 1.1 s apart, each different from the one before.
  let previous = await thumb.screenshot();
  for (let i = 1; i <= 3; i++) {
    await page.waitForTimeout(1100);
    const next = await thumb.screenshot();
    check(!previous.equals(next), `the thumbnail changed within 1.1 s (look ${i})`);
    previous = next;
  }

  step('ffprobe receives the output');
  const probe = await run(
    'ffprobe',
    ['-v', 'error', '-show_streams', '-of', 'json', `srt://127.0.0.1:${srtPort}?mode=caller&passphrase=${PASSPHRASE}`],
    30000,
  );
  check(probe.ok, 'ffprobe connected and read the stream');
  const streams = JSON.parse(probe.stdout).streams ?? [];
  const sizes = streams.filter((s) => s.codec_type === 'video').map((s) => `${s.width}x${s.height}`).sort();
  check(JSON.stringify(sizes) === JSON.stringify(['320x180', '640x360']), `ffprobe sees both rungs (${sizes})`);
  check(streams.some((s) => s.codec_type === 'audio'), 'ffprobe sees the audio');

  step('charts: a receiver stays connected; RTT is plotted');
  const receiver = spawn('srt-live-transmit', [`srt://127.0.0.1:${srtPort}?mode=caller&passphrase=${PASSPHRASE}`, 'file://con'], {
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  try {
    await eventually(() => card.getByRole('status', { name: 'Channel studio state' }).textContent(), (t) => t === 'ON AIR', 'a connected receiver puts the channel ON AIR');
    await eventually(() => card.locator('.uplot canvas').count(), (n) => n >= 1, 'the SRT link chart is drawn');
    await eventually(
      () => card.getByTestId('delay').first().textContent(),
      (t) => /^delay \d+ ms$/.test(t.trim()) && Number(t.match(/\d+/)[0]) < 1000,
      'the output shows its delay from capture',
    );
    await page.waitForTimeout(3000);
    await shot(page, '04-dashboard');

    step(`heap: ${heapUpdates} live updates (10 minutes' worth at 1 Hz) delivered at 10 Hz`);
    const heapPage = await admin.newPage();
    heapPage.on('pageerror', (e) => consoleErrors.push(String(e)));
    const cdp = await admin.newCDPSession(heapPage);
    await heapPage.goto(`${base}/?live_interval_ms=100#/`);
    await heapPage.locator('[data-channel="studio"] .uplot').waitFor();
    const heap = async () => {
      await cdp.send('HeapProfiler.collectGarbage');
      return (await cdp.send('Runtime.getHeapUsage')).usedSize;
    };
    // Warm up until the five-minute chart history is full (300 points), then measure.
    await heapPage.waitForTimeout(32000);
    const samples = [];
    const started = Date.now();
    const measureMs = heapUpdates * 100;
    while (Date.now() - started < measureMs) {
      samples.push({ s: (Date.now() - started) / 1000, bytes: await heap() });
      await heapPage.waitForTimeout(Math.min(10000, measureMs / 6));
    }
    samples.push({ s: (Date.now() - started) / 1000, bytes: await heap() });
    const first = samples[0].bytes;
    const last = samples[samples.length - 1].bytes;
    // Least-squares slope over all samples: growth per minute of updates.
    const n = samples.length;
    const mx = samples.reduce((a, p) => a + p.s, 0) / n;
    const my = samples.reduce((a, p) => a + p.bytes, 0) / n;
    const slope = samples.reduce((a, p) => a + (p.s - mx) * (p.bytes - my), 0) / samples.reduce((a, p) => a + (p.s - mx) ** 2, 0);
    const growthKb = (last - first) / 1024;
    const report = {
      updates: heapUpdates,
      heap_start_kb: Math.round(first / 1024),
      heap_end_kb: Math.round(last / 1024),
      growth_kb: Math.round(growthKb),
      slope_kb_per_100_updates: Math.round((slope * 10) / 1024),
      samples: samples.map((p) => [Math.round(p.s), Math.round(p.bytes / 1024)]),
    };
    writeFileSync(join(artifacts, 'heap.json'), JSON.stringify(report, null, 2));
    console.log(`  heap: ${JSON.stringify(report)}`);
    check(growthKb < 1024, `heap grew ${growthKb.toFixed(0)} KB over ${heapUpdates} updates (limit 1024 KB)`);
    await heapPage.close();
  } finally {
    receiver.kill('SIGKILL');
  }

  step('a receiver that vanishes raises an alarm');
  await page.locator('.alarm-list').getByText('output/main').waitFor({ timeout: 20000 });
  check(true, 'the dashboard lists an alarm for output main');

  step('stop it');
  await card.getByRole('button', { name: 'Stop studio' }).click();
  await eventually(() => card.getByRole('status', { name: 'Channel studio state' }).textContent(), (t) => t === 'STOPPED', 'the channel shows STOPPED');
  const stopped = await page.request.get(`${base}/api/v1/status`);
  check((await stopped.json()).channels.find((c) => c.name === 'studio').state === 'stopped', 'the API agrees it is stopped');

  step('an invalid bitrate shows the field error and changes nothing');
  await card.getByRole('link', { name: 'Edit studio' }).click();
  const bitrate = page.locator('input[name="ladder[0].bitrate_kbps"]');
  await bitrate.waitFor();
  await bitrate.fill('50');
  await page.locator('input[name="outputs[0].passphrase"]').fill('short');
  await page.getByRole('button', { name: 'Save and apply' }).click();
  await page.getByTestId('save-error').waitFor();
  check((await bitrate.getAttribute('aria-invalid')) === 'true', 'the bitrate field is marked invalid');
  const fieldError = await page.locator('[id="err-ladder[0].bitrate_kbps"]').textContent();
  check(/100/.test(fieldError), `the error next to the field says why (${fieldError})`);
  const passError = await page.locator('[id="err-outputs[0].passphrase"]').textContent();
  check(/10 to 79/.test(passError), `the passphrase's error is next to it too (${passError})`);
  await shot(page, '05-field-error');
  const stored = await (await page.request.get(`${base}/api/v1/channels/studio`)).json();
  check(stored.ladder[0].bitrate_kbps === 1200, 'the stored bitrate is unchanged');
  const storedOut = (await (await page.request.get(`${base}/api/v1/config?include_secrets=true`)).json()).channels[0].outputs[0];
  check(storedOut.passphrase === PASSPHRASE, 'the stored passphrase is unchanged');

  step('an SRT group output: a bad link address is named, then two links are saved and shown');
  await bitrate.fill('1200');
  await page.locator('input[name="outputs[0].passphrase"]').fill(PASSPHRASE);
  await page.getByRole('button', { name: 'Add SRT group output' }).click();
  const groupPort = String(srtPort + 2);
  for (const j of [0, 1]) {
    await page.locator(`input[name="outputs[1].links[${j}].address"]`).fill('127.0.0.1');
    await page.locator(`input[name="outputs[1].links[${j}].port"]`).fill(groupPort);
  }
  await page.locator('input[name="outputs[1].links[1].bind"]').fill('wan2');
  await page.getByRole('button', { name: 'Save and apply' }).click();
  const bindError = page.locator('[id="err-outputs[1].links[1].bind"]');
  await bindError.waitFor();
  check(/local IP address/.test(await bindError.textContent()), `the bad bind address is named at its link (${await bindError.textContent()})`);
  check((await (await page.request.get(`${base}/api/v1/channels/studio`)).json()).outputs.length === 1, 'nothing was saved');
  await page.locator('input[name="outputs[1].links[1].bind"]').fill('127.0.0.1');
  await page.locator('input[name="outputs[1].links[0].interface"]').fill('lo');
  await page.getByRole('button', { name: 'Save and apply' }).click();
  await page.getByText('Saved and applied.').waitFor();
  const group = (await (await page.request.get(`${base}/api/v1/channels/studio`)).json()).outputs[1];
  check(group.type === 'srt_group' && group.mode === 'broadcast' && group.links.length === 2, `the group output is stored (${JSON.stringify(group)})`);
  check(group.links[0].bind === undefined && group.links[1].bind === '127.0.0.1', 'an empty bind is left out, a filled one kept');
  check(group.links[0].interface === 'lo' && group.links[1].interface === undefined, `a link's interface is stored, an empty one left out (${JSON.stringify(group.links)})`);

  step('a bonded RIST output: a path on an odd port is named at that path, then both paths are saved');
  await page.getByRole('button', { name: 'Add RIST output' }).click();
  await page.locator('input[name="outputs[2].address"]').fill('127.0.0.1');
  await page.getByRole('button', { name: 'Add bonded path' }).click();
  await page.locator('input[name="outputs[2].bonding[0].address"]').fill('127.0.0.2');
  await page.locator('input[name="outputs[2].bonding[0].port"]').fill('5011');
  await page.getByRole('button', { name: 'Save and apply' }).click();
  const pathError = page.locator('[id="err-outputs[2].bonding[0].port"]');
  await pathError.waitFor();
  check(/even port/.test(await pathError.textContent()), `the odd port is named at its path (${await pathError.textContent()})`);
  check((await (await page.request.get(`${base}/api/v1/channels/studio`)).json()).outputs.length === 2, 'nothing was saved');
  await page.locator('input[name="outputs[2].bonding[0].port"]').fill('5012');
  await page.getByRole('button', { name: 'Save and apply' }).click();
  await page.getByText('Saved and applied.').waitFor();
  const rist = (await (await page.request.get(`${base}/api/v1/channels/studio`)).json()).outputs[2];
  check(rist.type === 'rist' && rist.bonding?.length === 1 && rist.bonding[0].address === '127.0.0.2' && rist.bonding[0].port === 5012, `the bonded RIST output is stored (${JSON.stringify(rist)})`);
  await page.getByRole('link', { name: 'Dashboard' }).first().click();
  await card.getByRole('button', { name: 'Start studio' }).click();
  const linkRow = card.locator('[data-output="out2"] [data-link="1"]');
  await linkRow.waitFor({ timeout: 20000 });
  const linkText = await linkRow.textContent();
  check(linkText.includes(`127.0.0.1:${groupPort} from 127.0.0.1`) && /CONNECTING|DOWN/.test(linkText), `the card shows each link and its state (${linkText.trim()})`);
  const firstLinkText = await card.locator('[data-output="out2"] [data-link="0"]').textContent();
  check(firstLinkText.includes(`127.0.0.1:${groupPort} via lo`), `the card shows the interface a link leaves by (${firstLinkText.trim()})`);
  const ristFigures = card.locator('[data-output="out3"] [data-testid="rist"]');
  await eventually(() => ristFigures.textContent(), (t) => /sent [1-9]\d* · retransmitted \d+ · RTT /.test(t), 'the card shows the RIST output sending');
  await shot(page, '05b-srt-group');
  await card.getByRole('button', { name: 'Stop studio' }).click();
  await eventually(() => card.getByRole('status', { name: 'Channel studio state' }).textContent(), (t) => t === 'STOPPED', 'the channel is stopped again');

  step('failover: a backup file and a slate image are saved, a bad threshold is named at its field, then failover is removed');
  await card.getByRole('link', { name: 'Edit studio' }).click();
  const failoverBox = page.locator('input[name="failover"]');
  await failoverBox.waitFor();
  check(!(await failoverBox.isChecked()), 'no failover until it is asked for');
  await failoverBox.check();
  const noData = page.locator('input[name="failover.no_data_ms"]');
  check((await noData.inputValue()) === defaultNoData, `the appliance's default loss time (${defaultNoData}) is shown (${await noData.inputValue()})`);
  await page.locator('select[name="failover.backup.type"]').selectOption('file');
  const holding = `${workDir}/holding.ts`;
  await page.locator('input[name="failover.backup.path"]').fill(holding);
  await page.locator('select[name="failover.slate.type"]').selectOption('image');
  await page.locator('input[name="failover.slate.path"]').fill('/srv/slate.png');
  await noData.fill('10');
  await page.getByRole('button', { name: 'Save and apply' }).click();
  const noDataError = page.locator('[id="err-failover.no_data_ms"]');
  await noDataError.waitFor();
  check(/40/.test(await noDataError.textContent()), `the loss time's error is next to it (${await noDataError.textContent()})`);
  check((await (await page.request.get(`${base}/api/v1/channels/studio`)).json()).failover == null, 'nothing was saved');
  await noData.fill('200');
  await page.getByRole('button', { name: 'Save and apply' }).click();
  await page.getByText('Saved and applied.').waitFor();
  const failover = (await (await page.request.get(`${base}/api/v1/channels/studio`)).json()).failover;
  check(
    failover?.backup?.type === 'file' && failover.backup.path === holding && failover.backup.loop_playback === true &&
      failover.slate?.type === 'image' && failover.slate.path === '/srv/slate.png' && failover.no_data_ms === 200 && failover.revert_after_s === 5,
    `the failover section is stored (${JSON.stringify(failover)})`,
  );
  await shot(page, '05c-failover');
  // Running, the card shows the switch: what is on air, and each input's health and buffer.
  await page.getByRole('link', { name: 'Dashboard' }).first().click();
  await card.getByRole('button', { name: 'Start studio' }).click();
  await eventually(() => card.getByTestId('on-air').textContent(), (t) => t.trim() === 'PRIMARY', 'the primary input is shown on air');
  await eventually(
    () => card.getByTestId('playout-primary').textContent(),
    (t) => /^buffer \d+ ms$/.test(t.trim()),
    'the card shows how long the primary input\'s pictures wait for air',
  );
  await card.getByRole('button', { name: 'Stop studio' }).click();
  await eventually(() => card.getByRole('status', { name: 'Channel studio state' }).textContent(), (t) => t === 'STOPPED', 'the channel is stopped again');
  await card.getByRole('link', { name: 'Edit studio' }).click();
  await failoverBox.waitFor();
  check(await failoverBox.isChecked(), 'the editor shows the stored failover again');
  check((await page.locator('input[name="failover.backup.path"]').inputValue()) === holding, 'with its backup file');
  await failoverBox.uncheck();
  await page.getByRole('button', { name: 'Save and apply' }).click();
  await eventually(
    async () => (await (await page.request.get(`${base}/api/v1/channels/studio`)).json()).failover ?? null,
    (f) => f === null,
    'failover removed from the channel',
  );
  await page.getByRole('link', { name: 'Dashboard' }).first().click();

  step('system page: version, hardware, users, tokens, audit, events');
  await page.getByRole('link', { name: 'System' }).click();
  await page.getByTestId('version').waitFor();
  await page.getByRole('heading', { name: 'Audit log' }).waitFor();
  const rows = (section) => () => page.locator(`section[aria-labelledby="${section}"] tbody tr`).count();
  await eventually(rows('sys-audit'), (n) => n > 0, 'the audit log lists the changes made');
  await eventually(rows('sys-events'), (n) => n > 0, 'the event list shows what happened');
  check(
    (await page.locator('section[aria-labelledby="sys-about"] tbody tr').filter({ hasText: 'yes' }).count()) > 0,
    'the encoder backends table shows an available encoder',
  );
  await checkLabels(page, 'system page');
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Export TOML' }).click(),
  ]);
  const exported = readFileSync(await download.path(), 'utf8');
  check(exported.includes('name = "studio"') && exported.includes('<redacted>') && !exported.includes(PASSPHRASE),
    'Export TOML downloads the config with the passphrase redacted');
  await page.locator('input[name="token-name"]').fill('noc-prometheus');
  await page.getByRole('button', { name: 'Create token' }).click();
  const token = await page.getByTestId('new-token').textContent();
  check(/^fl_/.test(token), 'a new token is shown once');
  await page.locator('input[name="new-username"]').fill(VIEWER.user);
  await page.locator('input[name="new-password"]').fill(VIEWER.password);
  await page.locator('select[name="new-role"]').selectOption('viewer');
  await page.getByRole('button', { name: 'Add user' }).click();
  await page.getByText(`User ${VIEWER.user} created.`).waitFor();
  await page.locator('input[name="new-username"]').fill('operator1');
  await page.locator('input[name="new-password"]').fill(VIEWER.password);
  await page.locator('select[name="new-role"]').selectOption('operator');
  await page.getByRole('button', { name: 'Add user' }).click();
  await page.getByText('User operator1 created.').waitFor();
  const configBefore = await (await page.request.get(`${base}/api/v1/config`)).text();
  await page.locator('input[name="import"]').setInputFiles({
    name: 'broken.toml',
    mimeType: 'application/toml',
    buffer: Buffer.from('[[channels]]\nname = "studio"\n[channels.input]\ntype = "test_pattern"\nwidth = 640\nheight = 360\nframe_rate = 30\n[[channels.ladder]]\nname = "360p"\nwidth = 640\nheight = 360\nframe_rate = 30\nbitrate_kbps = 5\n[[channels.outputs]]\nname = "main"\ntype = "srt"\nmode = "listener"\nport = 9000\n'),
  });
  await page.locator('section[aria-labelledby="sys-config"] [role="alert"]').waitFor();
  const importError = await page.locator('section[aria-labelledby="sys-config"] [role="alert"]').textContent();
  check(importError.includes('channels[0].ladder[0].bitrate_kbps'), `a bad import names the field (${importError})`);
  check((await (await page.request.get(`${base}/api/v1/config`)).text()) === configBefore, 'a bad import changes nothing');
  // Install a certificate of our own: the page then shows its fingerprint.
  const cert = join(workDir, 'venue.crt');
  const key = join(workDir, 'venue.key');
  const made = await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=feedline.venue.test'], 20000);
  check(made.ok, 'openssl made a certificate');
  const fp = (await run('openssl', ['x509', '-in', cert, '-noout', '-fingerprint', '-sha256'], 10000)).stdout.split('=')[1].trim();
  await page.locator('input[name="certificate"]').setInputFiles(cert);
  await page.locator('input[name="private-key"]').setInputFiles(key);
  await page.getByRole('button', { name: 'Install certificate' }).click();
  await page.getByText('Certificate installed').waitFor();
  check(await page.getByText('installed certificate').isVisible(), 'the page says an installed certificate is served');
  check((await page.locator('.fp').textContent()).includes(fp), `and shows its fingerprint (${fp.slice(0, 11)}…)`);
  await shot(page, '06-system');
  await page.getByRole('button', { name: 'I have copied it' }).click();
  await page.reload();
  await page.getByTestId('version').waitFor();
  check((await page.getByTestId('new-token').count()) === 0, 'the token is not shown again');

  step('session expiry: back to login, no broken screen');
  await page.request.post(`${base}/api/v1/logout`, {
    headers: { 'X-CSRF-Token': (await (await page.request.get(`${base}/api/v1/session`)).json()).csrf_token },
  });
  // The next API call (or the live stream's reconnect) finds the session gone.
  for (const link of ['Dashboard', 'System']) {
    await page.getByRole('link', { name: link }).click({ timeout: 3000 }).catch(() => {});
  }
  await page.getByText('Your session ended').waitFor();
  check(await page.getByRole('heading', { name: 'Sign in to Feedline' }).isVisible(), 'an ended session returns to the login screen');

  step('a viewer sees no edit controls and cannot edit');
  const viewer = await browser.newContext(contextOptions);
  const vpage = await viewer.newPage();
  vpage.on('pageerror', (e) => consoleErrors.push(String(e)));
  await vpage.goto(base);
  await vpage.getByLabel('User name').fill(VIEWER.user);
  await vpage.getByLabel('Password').fill(VIEWER.password);
  await vpage.getByRole('button', { name: 'Sign in' }).click();
  const vcard = vpage.locator('[data-channel="studio"]');
  await vcard.waitFor();
  check((await vcard.getByRole('button').count()) === 0, 'no start/stop buttons for a viewer');
  check((await vpage.getByRole('link', { name: /Edit|New channel/ }).count()) === 0, 'no edit or new-channel links for a viewer');
  await shot(vpage, '07-viewer');
  await vpage.goto(`${base}/#/channels/studio`);
  await vpage.getByText('Only an admin can change channel settings.').waitFor();
  const csrf = (await (await vpage.request.get(`${base}/api/v1/session`)).json()).csrf_token;
  const forbidden = await vpage.request.put(`${base}/api/v1/channels/studio`, {
    headers: { 'X-CSRF-Token': csrf, 'Content-Type': 'application/json' },
    data: stored,
  });
  check(forbidden.status() === 403, `the server refuses a viewer's edit (${forbidden.status()})`);
  const vstart = await vpage.request.post(`${base}/api/v1/channels/studio/start`, { headers: { 'X-CSRF-Token': csrf } });
  check(vstart.status() === 403, `the server refuses a viewer's start (${vstart.status()})`);

  step('an operator can start and stop but not configure');
  const operator = await browser.newContext(contextOptions);
  const opage = await operator.newPage();
  await opage.goto(base);
  await opage.getByLabel('User name').fill('operator1');
  await opage.getByLabel('Password').fill(VIEWER.password);
  await opage.getByRole('button', { name: 'Sign in' }).click();
  const ocard = opage.locator('[data-channel="studio"]');
  await ocard.getByRole('button', { name: 'Start studio' }).click();
  await eventually(() => ocard.getByRole('status', { name: 'Channel studio state' }).textContent(), (t) => t.startsWith('RUNNING') || t === 'ON AIR', 'an operator starts the channel');
  // Keyboard only: Tab to the Stop button and press Enter.
  let focused = '';
  for (let i = 0; i < 40 && focused !== 'Stop studio'; i++) {
    await opage.keyboard.press('Tab');
    focused = await opage.evaluate(() => document.activeElement?.textContent?.trim() ?? '');
  }
  check(focused === 'Stop studio', 'Tab reaches the Stop button');
  await opage.keyboard.press('Enter');
  await eventually(() => ocard.getByRole('status', { name: 'Channel studio state' }).textContent(), (t) => t === 'STOPPED', 'an operator stops the channel with the keyboard');
  check((await opage.getByRole('link', { name: /Edit|New channel/ }).count()) === 0, 'no edit or new-channel links for an operator');

  step('keyboard: the login form works without a mouse');
  const kctx = await browser.newContext(contextOptions);
  const kpage = await kctx.newPage();
  await kpage.goto(base);
  await kpage.getByLabel('User name').focus();
  await kpage.keyboard.type(ADMIN.user);
  await kpage.keyboard.press('Tab');
  await kpage.keyboard.type(ADMIN.password);
  await kpage.keyboard.press('Enter');
  await kpage.getByText(`${ADMIN.user} (admin)`).waitFor();
  check(true, 'signed in with the keyboard alone');

  check(consoleErrors.length === 0, `no uncaught errors in the pages (${consoleErrors.join('; ')})`);
  console.log('ui.mjs: all checks passed');
} catch (e) {
  console.error(`ui.mjs: ${e.message}`);
  process.exitCode = 1;
  let n = 0;
  for (const context of browser.contexts()) {
    for (const p of context.pages()) {
      await p.screenshot({ path: join(artifacts, `failure-${++n}.png`), fullPage: true }).catch(() => {});
    }
  }
} finally {
  await browser.close();
}
