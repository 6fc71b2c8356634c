// The extension's tests (npm test): grammar snapshots of every bundled example and of
// test/snap/constructs.pto, the scope assertions of test/*.test.pto, and the recognition of
// pto-dsl files among .pto files (firstLine and detect.js) against the examples and MLIR.
'use strict';

const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { isPtoDsl, looksLikeMlir } = require('../detect');

const here = path.resolve(__dirname, '..');
const examples = path.resolve(here, '..', '..', 'examples');
const copies = path.join(here, 'test', 'snap', 'examples');
const update = process.argv.includes('--updateSnapshot');
const failures = [];
let passed = 0;

function check(ok, what) {
  if (ok) passed += 1; else failures.push(what);
}

function examplePrograms() {
  return fs.readdirSync(examples, { withFileTypes: true }).filter((d) => d.isDirectory())
    .flatMap((d) => fs.readdirSync(path.join(examples, d.name))
      .filter((f) => f.endsWith('.pto')).map((f) => path.join(d.name, f)))
    .sort();
}

// Every example is copied next to its committed snapshot (the copies are not committed).
function copyExamples() {
  const wanted = new Set();
  for (const rel of examplePrograms()) {
    const copy = path.join(copies, rel);
    fs.mkdirSync(path.dirname(copy), { recursive: true });
    fs.copyFileSync(path.join(examples, rel), copy);
    wanted.add(copy + '.snap');
    check(update || fs.existsSync(copy + '.snap'),
      `no snapshot for examples/${rel}: run 'npm run update-snapshots' and review it`);
  }
  for (const dir of fs.readdirSync(copies)) {
    for (const f of fs.readdirSync(path.join(copies, dir))) {
      const file = path.join(copies, dir, f);
      if (f.endsWith('.snap') && !wanted.has(file)) {
        if (update) fs.unlinkSync(file);
        else check(false, `snapshot of a removed example: ${path.relative(here, file)}`);
      }
    }
  }
}

function run(tool, args) {
  const bin = path.join(here, 'node_modules', '.bin', tool);
  const result = spawnSync(bin, args, { cwd: here, stdio: 'inherit' });
  check(result.status === 0, `${tool} ${args.join(' ')} failed`);
}

function firstLine() {
  const pattern = new RegExp(require('../package.json').contributes.languages[0].firstLine);
  for (const rel of examplePrograms()) {
    const text = fs.readFileSync(path.join(examples, rel), 'utf8');
    check(pattern.test(text.split('\n')[0]), `firstLine misses examples/${rel}`);
    check(isPtoDsl(text) && !looksLikeMlir(text), `detect.js misses examples/${rel}`);
  }
  const mlir = [
    'module {\n  func.func @kernel() { return }\n}\n',
    '#map = affine_map<(d0) -> (d0)>\nmodule {\n}\n',
    '// RUN: ptoas %s\nfunc.func @f(%arg0: !pto.tile) {\n  return\n}\n',
    '#loc = loc("a.py":1:2)\n%0 = pto.load %arg0\n',
  ];
  for (const text of mlir) {
    check(!pattern.test(text.split('\n')[0]), `firstLine claims MLIR: ${text.split('\n')[0]}`);
    check(!isPtoDsl(text) && looksLikeMlir(text), `detect.js claims MLIR: ${text}`);
  }
}

// In every snapshot each character of the program has a scope of its own: a run left with
// the file's scope alone is a construct the grammar misses (e.g. a parenthesis in a cost).
function everythingScoped() {
  const snaps = [];
  const walk = (dir) => fs.readdirSync(dir, { withFileTypes: true }).forEach((d) => {
    const file = path.join(dir, d.name);
    if (d.isDirectory()) walk(file); else if (d.name.endsWith('.snap')) snaps.push(file);
  });
  walk(path.join(here, 'test', 'snap'));
  for (const file of snaps) {
    let source = '';
    const bare = [];
    for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
      if (line.startsWith('>')) { source = line.slice(1); continue; }
      const m = /^#( *)(\^+) (.*)$/.exec(line);
      if (!m) continue;
      const text = source.substr(m[1].length, m[2].length);
      if (m[3].trim() === 'source.pto' && text.trim()) bare.push(text.trim());
    }
    check(bare.length === 0,
      `${path.relative(here, file)}: no scope for ${JSON.stringify(bare.slice(0, 5))}`);
  }
}

function syntax() {  // the client cannot run outside VS Code: check that it parses at least
  for (const file of ['extension.js', 'detect.js']) {
    const result = spawnSync(process.execPath, ['--check', file], { cwd: here, stdio: 'inherit' });
    check(result.status === 0, `${file} does not parse`);
  }
}

copyExamples();
firstLine();
syntax();
run('vscode-tmgrammar-snap', ['-s', 'source.pto', '-g', 'syntaxes/pto.tmLanguage.json',
  ...(update ? ['--updateSnapshot'] : []), 'test/snap/**/*.pto']);
run('vscode-tmgrammar-test', ['-g', 'syntaxes/pto.tmLanguage.json', 'test/*.test.pto']);
everythingScoped();
for (const f of failures) console.error(`FAIL: ${f}`);
console.log(`grammar: ${passed} passed, ${failures.length} failed`);
process.exit(failures.length ? 1 : 0);
