// driver.cjs drives browser phones in headless Chromium for Switchboard's
// end-to-end tests (test/phone_e2e_test.go): one JSON command per line on
// stdin, one JSON result per line on stdout.
//
//   {"id":1,"cmd":"open","page":"a","url":"http://127.0.0.1:PORT/phone/"}
//   {"id":2,"cmd":"eval","page":"a","js":"sbPhone.login('1000','pw')"}
//   {"id":3,"cmd":"close","page":"a"}      closes the tab
//   → {"id":2,"ok":true,"value":...} or {"id":2,"ok":false,"error":"..."}
//
// Environment: CHROMIUM (the browser binary), TONE_WAV (the fake
// microphone: a WAV file Chromium loops), HEADLESS_ARGS (extra flags).
'use strict';

const readline = require('readline');
const puppeteer = require('puppeteer-core');

async function main() {
  const args = [
    '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
    '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
    '--autoplay-policy=no-user-gesture-required', '--ignore-certificate-errors',
    '--disable-background-networking', '--disable-features=WebRtcHideLocalIpsWithMdns',
    '--no-first-run', '--no-default-browser-check', '--mute-audio',
  ];
  if (process.env.TONE_WAV) args.push('--use-file-for-fake-audio-capture=' + process.env.TONE_WAV);
  if (process.env.HEADLESS_ARGS) args.push(...process.env.HEADLESS_ARGS.split(' ').filter(Boolean));
  const browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true, args, acceptInsecureCerts: true,
    userDataDir: process.env.PROFILE_DIR || undefined,
  });
  const pages = {};
  const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
  const rl = readline.createInterface({ input: process.stdin });
  let queue = Promise.resolve();
  rl.on('line', (line) => {
    queue = queue.then(async () => {
      let m;
      try { m = JSON.parse(line); } catch (e) { out({ ok: false, error: 'bad json: ' + e.message }); return; }
      try {
        let value = null;
        switch (m.cmd) {
          case 'open': {
            // Each page has its own context: its own cookies and socket,
            // like a separate browser.
            const ctx = await browser.createBrowserContext();
            const p = await ctx.newPage();
            p.on('console', (msg) => process.stderr.write('[' + m.page + '] ' + msg.text() + '\n'));
            p.on('pageerror', (err) => process.stderr.write('[' + m.page + '] pageerror ' + err.message + '\n'));
            await p.goto(m.url, { waitUntil: 'load' });
            pages[m.page] = { p, ctx };
            value = await p.title();
            break;
          }
          case 'eval':
            value = await pages[m.page].p.evaluate((js) => Promise.resolve(eval(js)), m.js);
            break;
          case 'close':
            await pages[m.page].p.close();
            await pages[m.page].ctx.close();
            delete pages[m.page];
            break;
          case 'quit':
            await browser.close();
            out({ id: m.id, ok: true, value: null });
            process.exit(0);
          default:
            throw new Error('unknown command ' + m.cmd);
        }
        out({ id: m.id, ok: true, value: value === undefined ? null : value });
      } catch (e) {
        out({ id: m.id, ok: false, error: String(e && e.message || e) });
      }
    });
  });
  rl.on('close', () => { queue.then(() => browser.close()).then(() => process.exit(0)); });
}

main().catch((e) => { process.stderr.write('driver: ' + (e && e.stack || e) + '\n'); process.exit(1); });
