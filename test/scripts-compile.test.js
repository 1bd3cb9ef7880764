'use strict';
// The bench and helper scripts are not run by the suite (they time things or draw pictures), so a
// syntax error in one of them would otherwise go unnoticed until someone runs it. Every one of them
// is compiled here with `node --check`, which parses the file without running it.
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const root = path.join(__dirname, '..');

function scriptsUnder(dir) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory() && entry.name !== 'node_modules') out.push(...scriptsUnder(full));
    else if (entry.isFile() && entry.name.endsWith('.js')) out.push(full);
  }
  return out;
}

describe('bench and helper scripts', function () {
  const files = ['bench', 'scripts'].flatMap((d) => scriptsUnder(path.join(root, d)));

  it('finds the scripts it checks', function () {
    assert.ok(files.some((f) => f.endsWith(path.join('bench', 'core.js'))), 'bench/core.js is among them');
    assert.ok(files.length >= 20, `only ${files.length} scripts found`);
  });

  for (const file of files) {
    it(`${path.relative(root, file)} compiles`, function () {
      const r = spawnSync(process.execPath, ['--check', file], { encoding: 'utf8' });
      assert.strictEqual(r.status, 0, r.stderr);
    });
  }
});
