// The browser test's steps in headless Chromium: the dashboard shows the
// three districts; Konnerud shows offline once its hub stops; a room is
// booked on Fjell's hub page (and a clashing one is refused, naming the
// booking it clashes with); the dashboard counts the new booking after
// sync. Prints one "PASS name" or "FAIL name: why" line per step and exits
// non-zero when any failed.
'use strict';
const path = require('path');
const { chromium } = require(path.join(__dirname, 'node_modules', 'playwright-core'));

const central = process.env.CENTRAL_URL;
const fjell = process.env.FJELL_URL;
const today = process.env.TODAY;
let failed = 0;

function pass(name) { console.log(`PASS ${name}`); }
function fail(name, why) {
  failed++;
  console.log(`FAIL ${name}: ${String(why).split('\n')[0]}`);
}

async function step(name, fn) {
  try {
    await fn();
    pass(name);
  } catch (e) {
    fail(name, e && e.message ? e.message : e);
  }
}

// The dashboard's text for one district's field, e.g. ".state".
async function field(page, hub, sel) {
  const el = page.locator(`section.district[data-hub="${hub}"] ${sel}`);
  return (await el.first().textContent({ timeout: 5000 })).trim();
}

// Wait until fn() is true, polling every 250 ms, at most ms.
async function until(fn, ms, what) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try {
      last = await fn();
      if (last === true) return;
    } catch (e) {
      last = e.message;
    }
    await new Promise(r => setTimeout(r, 250));
  }
  throw new Error(`${what} (last seen: ${last})`);
}

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu'],
  });
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', e => errors.push(e.message));
  let before = -1;

  await step('dashboard_three_districts', async () => {
    await page.goto(`${central}/?refresh=1`);
    for (const hub of ['fjell', 'assiden', 'konnerud'])
      await until(async () => (await field(page, hub, '.state')) === 'online',
                  15000, `${hub} is not shown online`);
    const names = await page.locator('section.district .district-name').allTextContents();
    if (!names.some(n => n.includes('Åssiden')))
      throw new Error(`no district named Åssiden among ${names.join(', ')}`);
  });

  await step('dashboard_counts_bookings', async () => {
    await until(async () => {
      before = parseInt(await field(page, 'fjell', '.bookings-week'), 10);
      return before >= 1;
    }, 10000, 'Fjell\'s bookings this week do not show the booking made at setup');
  });

  await step('district_offline_when_hub_stops', async () => {
    process.kill(parseInt(process.env.KONNERUD_PID, 10), 'SIGTERM');
    await until(async () => (await field(page, 'konnerud', '.state')) === 'offline',
                30000, 'Konnerud is not shown offline');
    if ((await field(page, 'fjell', '.state')) !== 'online')
      throw new Error('Fjell no longer shows online');
  });

  const hubPage = await browser.newPage();
  hubPage.on('pageerror', e => errors.push(e.message));
  let bookedId = '';

  await step('hub_page_books_a_room', async () => {
    await hubPage.goto(`${fjell}/`);
    const form = hubPage.locator('#booking-form');
    await until(async () => (await form.locator('select[name="room"] option').count()) > 0,
                10000, 'the room list never filled');
    await form.locator('select[name="room"]').selectOption('fjell:r1');
    await form.locator('[name="org"]').fill('Frivilligsentralen');
    await form.locator('[name="date"]').fill(today);
    await form.locator('[name="start"]').fill('22:00');
    await form.locator('[name="end"]').fill('23:00');
    await form.locator('[type="submit"]').click();
    await until(async () => /Booked fjell:b\d+/.test(
                  await hubPage.locator('#booking-result').textContent()),
                10000, 'no "Booked fjell:bN" in #booking-result');
    bookedId = (await hubPage.locator('#booking-result').textContent()).match(/fjell:b\d+/)[0];
  });

  await step('hub_page_refuses_clash', async () => {
    const form = hubPage.locator('#booking-form');
    await form.locator('[name="org"]').fill('Blå Kors');
    await form.locator('[name="start"]').fill('22:30');
    await form.locator('[name="end"]').fill('23:30');
    await form.locator('[type="submit"]').click();
    await until(async () => (await hubPage.locator('#booking-result').textContent())
                  .includes(`clashes with booking ${bookedId}`),
                10000, `the refusal does not name ${bookedId}`);
  });

  await step('dashboard_counts_new_booking', async () => {
    await until(async () =>
      parseInt(await field(page, 'fjell', '.bookings-week'), 10) === before + 1,
      20000, `Fjell's bookings this week did not go from ${before} to ${before + 1}`);
  });

  await step('no_script_errors', async () => {
    if (errors.length) throw new Error(errors.join('; '));
  });

  await browser.close();
  process.exit(failed ? 1 : 0);
})().catch(e => {
  console.log(`FAIL browser: ${e.message.split('\n')[0]}`);
  process.exit(1);
});
