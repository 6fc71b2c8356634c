// The extension in a real VS Code (code-server, set up by install.sh), driven through the
// system's headless Chromium as a user drives it: install the .vsix, open a racy .pto file,
// read the race in the Problems panel (code, position, related location), open the quick
// fix menu on it (optionally saving a screenshot), pick the first fix, and read the result.
// It prints what it saw as JSON (tests/test_lsp_editors.py asserts on it).
//
//   node run.js --vsix pto-dsl.vsix --file /tmp/demo/racy.pto \
//     [--server '["/path/to/pto-lsp"]'] [--screenshot out.png] [--chromium /usr/bin/chromium]
//
// In two steps (the test starts the editor once, in its set-up): `--serve` (with --vsix,
// --home and --server) starts code-server, prints its address and keeps it running;
// `--url ADDRESS` (with --file) drives a code-server started so. PTO_E2E_TIMES=1 prints
// the time of each step on stderr.
'use strict';

const { spawn, execFileSync } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const puppeteer = require('puppeteer-core');

const CODE_SERVER = path.join(__dirname, 'node_modules', '.bin', 'code-server');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const T0 = Date.now();
const mark = (what) => { if (process.env.PTO_E2E_TIMES) console.error(`${Date.now() - T0} ms: ${what}`); };

function options(argv) {
  const o = { server: null, screenshot: null, chromium: '/usr/bin/chromium', serve: false };
  for (let i = 0; i < argv.length; i += 2) {
    if (argv[i] === '--serve') { o.serve = true; i -= 1; continue; }
    o[argv[i].replace(/^--/, '')] = argv[i + 1];
  }
  if (o.serve ? !o.vsix || !o.home : !o.file || !(o.vsix || o.url)) {
    throw new Error('usage: run.js --vsix F --file F.pto | --serve --vsix F --home DIR | ' +
      '--url URL --file F.pto');
  }
  return o;
}

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// A code-server of its own: fresh user data and extensions folders, the .vsix installed as
// `code --install-extension` installs it, pto.server.command set when given.
async function startServer(o, home) {
  const data = path.join(home, 'data');
  const exts = path.join(home, 'extensions');
  const dirs = ['--user-data-dir', data, '--extensions-dir', exts];
  const env = { ...process.env, HOME: home, XDG_CONFIG_HOME: path.join(home, 'config') };
  execFileSync(CODE_SERVER, [...dirs, '--install-extension', path.resolve(o.vsix)],
    { stdio: 'ignore', env });
  const settings = {
    'workbench.startupEditor': 'none', 'workbench.colorTheme': 'Default Dark Modern',
    'workbench.tips.enabled': false, 'editor.minimap.enabled': false,
    'editor.stickyScroll.enabled': false, 'telemetry.telemetryLevel': 'off',
    'extensions.ignoreRecommendations': true, 'files.autoSave': 'off',
    'chat.commandCenter.enabled': false, 'window.commandCenter': false,
  };
  if (o.server) settings['pto.server.command'] = JSON.parse(o.server);
  fs.mkdirSync(path.join(data, 'User'), { recursive: true });
  fs.writeFileSync(path.join(data, 'User', 'settings.json'), JSON.stringify(settings));
  mark('installed');
  const port = await freePort();
  const proc = spawn(CODE_SERVER, [...dirs, '--auth', 'none', '--bind-addr',
    `127.0.0.1:${port}`, '--disable-telemetry', '--disable-update-check',
    '--disable-workspace-trust', '--disable-getting-started-override'],
  { stdio: ['ignore', 'pipe', 'pipe'], env });
  await new Promise((resolve, reject) => {
    proc.stdout.on('data', (d) => { if (/HTTP server listening/.test(d)) resolve(); });
    proc.on('exit', (code) => reject(new Error(`code-server exited (${code})`)));
  });
  return { proc, url: `http://127.0.0.1:${port}/` };
}

async function chord(page, mods, key) {
  for (const m of mods) await page.keyboard.down(m);
  await page.keyboard.press(key);
  for (const m of mods.slice().reverse()) await page.keyboard.up(m);
}

const visible = (sel) => `(() => { const e = document.querySelector(${JSON.stringify(sel)});
  return e && e.offsetParent !== null; })()`;

// Type into the quick input (Ctrl+P or F1) and take the first entry once it matches.
async function quickInput(page, open, text, match) {
  await open();
  await page.waitForFunction(visible('.quick-input-widget'), { timeout: 20000 });
  await page.keyboard.type(text);
  await page.waitForFunction((m) => {
    const row = document.querySelector('.quick-input-list .monaco-list-row');
    return row && row.innerText.includes(m);
  }, { timeout: 20000 }, match);
  await page.keyboard.press('Enter');
  await page.waitForFunction(`!(${visible('.quick-input-widget')})`, { timeout: 20000 });
}

const problems = (page) => page.$eval('.markers-panel', (e) => e.innerText);

async function drive(page, o, seen) {
  const name = path.basename(o.file);
  await page.waitForFunction((n) => [...document.querySelectorAll('.explorer-item')]
    .some((e) => e.innerText.includes(n)), { timeout: 60000 }, name);
  mark('explorer');
  await quickInput(page, () => chord(page, ['Control'], 'KeyP'), name, name);
  await page.waitForSelector('.monaco-editor .view-lines', { timeout: 60000 });
  mark('opened');
  await page.waitForSelector('.squiggly-error', { timeout: 60000 });
  mark('squiggle');
  seen.language = await page.$eval('.statusbar', (e) => e.innerText.replace(/\s+/g, ' '));
  await chord(page, ['Control'], 'KeyB');   // the side bar, closed
  await chord(page, ['Control', 'Shift'], 'KeyM');   // the Problems panel
  await page.waitForFunction(() => /E201/.test(document.querySelector('.markers-panel')
    ?.innerText ?? ''), { timeout: 20000 });
  mark('problems');
  seen.problems = await problems(page);
  await chord(page, ['Control'], 'Digit1');   // back to the editor
  await quickInput(page, () => chord(page, ['Control'], 'KeyG'), '20:9', 'line 20');
  // The second fix (the inferred clause) follows the diagnostics by a moment.
  for (let i = 0; i < 50; i++) {
    await chord(page, ['Control'], 'Period');
    await page.waitForFunction(visible('.action-widget'), { timeout: 20000 });
    seen.menu = await page.$eval('.action-widget', (e) => e.innerText);
    if ((seen.menu.match(/\(E201\)/g) || []).length >= 2) break;
    await page.keyboard.press('Escape');
    await sleep(200);
  }
  mark('menu');
  await sleep(500);   // the menu's fade-in, for the picture
  if (o.screenshot) await page.screenshot({ path: o.screenshot });
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => !document.querySelector('.squiggly-error'),
    { timeout: 30000 });
  await page.waitForFunction(() => !/E201/.test(document.querySelector('.markers-panel')
    ?.innerText ?? ''), { timeout: 30000 });
  mark('fixed');
  seen.problems_after = await problems(page);
  seen.lines_after = await page.$$eval('.view-line',
    (ls) => ls.map((l) => l.innerText.replace(/\u00a0/g, ' ')));
}

async function serve(o) {
  const server = await startServer(o, path.resolve(o.home));
  process.stdout.write(`${server.url}\n`);
  const stop = () => server.proc.kill();
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  server.proc.on('exit', () => process.exit(0));
}

async function main() {
  const o = options(process.argv.slice(2));
  if (o.serve) return serve(o);
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'pto-vscode-'));
  const seen = { error: null };
  let server;
  let browser;
  try {
    server = o.url ? { url: o.url, proc: null } : await startServer(o, home);
    browser = await puppeteer.launch({
      executablePath: o.chromium, headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--font-render-hinting=none'],
      defaultViewport: { width: 960, height: 600, deviceScaleFactor: 1 },
      userDataDir: path.join(home, 'chromium'),
    });
  mark('browser');
    const page = await browser.newPage();
    const folder = encodeURIComponent(path.dirname(path.resolve(o.file)));
    await page.goto(`${server.url}?folder=${folder}`, { waitUntil: 'domcontentloaded' });
    await drive(page, o, seen);
  } catch (err) {
    seen.error = String(err && err.stack || err);
  } finally {
    if (browser) await browser.close();
    if (server && server.proc) server.proc.kill();
    fs.rmSync(home, { recursive: true, force: true });
  }
  process.stdout.write(JSON.stringify(seen) + '\n');
  process.exitCode = seen.error ? 1 : 0;
}

main();
