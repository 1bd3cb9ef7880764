'use strict';
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { fork, spawnSync } = require('child_process');
const { saveModelFile, loadModelFile, resolveModelPath, backupPath } = require('../dist/src/modelStore');
const { parseModelText, ModelFileError, LIMITS } = require('../dist/src/modelFile');
const { makeModel } = require('./fixtures/models');

function tempFiles(dir) {
  return fs.readdirSync(dir).filter((name) => name.includes('.tmp-'));
}

describe('model store', function () {
  let dir;
  let file;

  beforeEach(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rnn-model-store-'));
    file = path.join(dir, 'model.json');
  });

  afterEach(function () {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  describe('saveModelFile / loadModelFile', function () {
    it('round-trips a valid model through save and load', async function () {
      const model = makeModel();
      await saveModelFile(file, model);
      const loaded = await loadModelFile(file);
      assert.strictEqual(loaded.from, 'file');
      assert.strictEqual(loaded.warning, undefined);
      assert.deepStrictEqual(loaded.model, model);
      assert.deepStrictEqual(tempFiles(dir), []);
    });

    it('creates missing parent directories', async function () {
      const nested = path.join(dir, 'models', 'sensors', 'temp.json');
      await saveModelFile(nested, makeModel());
      assert.deepStrictEqual((await loadModelFile(nested)).model, makeModel());
    });

    it('keeps the previous version in .bak after a second save', async function () {
      const first = makeModel({ seed: 1 });
      const second = makeModel({ seed: 2 });
      await saveModelFile(file, first);
      assert.ok(!fs.existsSync(backupPath(file)), 'no backup before there is a previous version');
      await saveModelFile(file, second);
      assert.deepStrictEqual(parseModelText(fs.readFileSync(file, 'utf8')), second);
      assert.deepStrictEqual(parseModelText(fs.readFileSync(file + '.bak', 'utf8')), first);
      // The backup is its own file: a third save moves it on without touching the main file's old bytes.
      await saveModelFile(file, makeModel({ seed: 3 }));
      assert.deepStrictEqual(parseModelText(fs.readFileSync(file + '.bak', 'utf8')), second);
    });

    it('refuses an invalid model and leaves the existing file byte for byte as it was', async function () {
      await saveModelFile(file, makeModel({ seed: 1 }));
      const before = fs.readFileSync(file);
      const bad = makeModel({ seed: 2 });
      bad.layers[0].weights.W_hh[1][1] = NaN;
      await assert.rejects(saveModelFile(file, bad), (err) => {
        assert.ok(err instanceof ModelFileError);
        assert.strictEqual(err.field, 'layers[0].weights.W_hh[1][1]');
        return true;
      });
      assert.ok(fs.readFileSync(file).equals(before), 'the main file changed');
      assert.ok(!fs.existsSync(file + '.bak'), 'a refused save must not rotate the backup');
      assert.deepStrictEqual(tempFiles(dir), []);
    });

    it('snapshots the model when called, so later changes to the object are not written', async function () {
      const model = makeModel();
      const saving = saveModelFile(file, model);
      model.layers[0].weights.b_h[0] = 99;
      await saving;
      assert.notStrictEqual((await loadModelFile(file)).model.layers[0].weights.b_h[0], 99);
    });

    it('serialises concurrent saves of one path in call order', async function () {
      const models = Array.from({ length: 20 }, (_, i) => makeModel({ seed: i + 1, hidden: [16, 8] }));
      await Promise.all(models.map((m) => saveModelFile(file, m)));
      assert.deepStrictEqual(parseModelText(fs.readFileSync(file, 'utf8')), models[19]);
      assert.deepStrictEqual(parseModelText(fs.readFileSync(file + '.bak', 'utf8')), models[18]);
      assert.deepStrictEqual(tempFiles(dir), []);
    });

    it('a failed save in a chain does not stop the saves queued after it', async function () {
      const bad = makeModel();
      bad.version = 3;
      const results = await Promise.allSettled([
        saveModelFile(file, makeModel({ seed: 1 })),
        saveModelFile(file, bad),
        saveModelFile(file, makeModel({ seed: 3 })),
      ]);
      assert.deepStrictEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
      assert.deepStrictEqual((await loadModelFile(file)).model, makeModel({ seed: 3 }));
    });

    it('rejects with ENOENT when the file is missing, even if a .bak exists', async function () {
      await assert.rejects(loadModelFile(file), (err) => err.code === 'ENOENT');
      // A user who deleted the model must not get an older one back silently.
      fs.writeFileSync(file + '.bak', JSON.stringify(makeModel()));
      await assert.rejects(loadModelFile(file), (err) => err.code === 'ENOENT');
    });

    it('loads the backup with a warning when the main file is corrupt, and leaves the corrupt file alone', async function () {
      const first = makeModel({ seed: 1 });
      await saveModelFile(file, first);
      await saveModelFile(file, makeModel({ seed: 2 }));
      const text = fs.readFileSync(file, 'utf8');
      fs.writeFileSync(file, text.slice(0, text.length >> 1));
      const corrupt = fs.readFileSync(file);
      const loaded = await loadModelFile(file);
      assert.strictEqual(loaded.from, 'backup');
      assert.deepStrictEqual(loaded.model, first);
      assert.match(loaded.warning, /not valid JSON \(truncated or corrupted\)/);
      assert.ok(loaded.warning.includes(file), 'the warning names the damaged file');
      assert.ok(fs.readFileSync(file).equals(corrupt), 'the corrupt main file must not be overwritten');
    });

    it('names the invalid field of the main file in the warning', async function () {
      await saveModelFile(file, makeModel({ seed: 1 }));
      await saveModelFile(file, makeModel({ seed: 2 }));
      const m = JSON.parse(fs.readFileSync(file, 'utf8'));
      m.scaler.features.scale[0] = 0;
      fs.writeFileSync(file, JSON.stringify(m));
      const loaded = await loadModelFile(file);
      assert.strictEqual(loaded.from, 'backup');
      assert.match(loaded.warning, /scaler\.features\.scale\[0\]: must not be zero/);
    });

    it('rejects with the main file error when there is no usable backup', async function () {
      fs.writeFileSync(file, '{"format": "node-red-rnn/model", "version": 1, "inputSize": 1, "lay');
      await assert.rejects(loadModelFile(file), (err) => {
        assert.ok(err instanceof ModelFileError);
        assert.strictEqual(err.file, file);
        assert.match(err.message, /^model file is not valid JSON/);
        return true;
      });
      fs.writeFileSync(file + '.bak', '{"format": "something else"}');
      await assert.rejects(loadModelFile(file), (err) => {
        assert.match(err.message, /^model file is not valid JSON/);
        assert.match(err.message, /the backup .*model\.json\.bak cannot be used either: format: expected/);
        return true;
      });
    });

    it('refuses a file larger than the limit before reading it', async function () {
      // A sparse file: its size is over the limit but it occupies (almost) no disk.
      fs.writeFileSync(file, '{');
      fs.truncateSync(file, LIMITS.maxTextLength + 1);
      await assert.rejects(loadModelFile(file), (err) => {
        assert.ok(err instanceof ModelFileError);
        assert.match(err.message, /too large/);
        return true;
      });
    });
  });

  describe('failed saves leave no temp files', function () {
    it('when the parent "directory" is a file', async function () {
      const blocker = path.join(dir, 'not-a-dir');
      fs.writeFileSync(blocker, 'x');
      await assert.rejects(saveModelFile(path.join(blocker, 'model.json'), makeModel()), (err) => ['ENOTDIR', 'EEXIST'].includes(err.code));
      assert.deepStrictEqual(fs.readdirSync(dir), ['not-a-dir']);
    });

    it('when the target path is a directory (the temp file was already written)', async function () {
      fs.mkdirSync(file);
      await assert.rejects(saveModelFile(file, makeModel()), (err) => typeof err.code === 'string');
      assert.deepStrictEqual(tempFiles(dir), []);
      assert.deepStrictEqual(fs.readdirSync(file), []);
    });

    it('when the backup cannot be replaced, and the main file stays as it was', async function () {
      await saveModelFile(file, makeModel({ seed: 1 }));
      const before = fs.readFileSync(file);
      fs.mkdirSync(file + '.bak');
      fs.writeFileSync(path.join(file + '.bak', 'keep'), 'x'); // a non-empty directory cannot be renamed over
      await assert.rejects(saveModelFile(file, makeModel({ seed: 2 })), (err) => typeof err.code === 'string');
      assert.ok(fs.readFileSync(file).equals(before));
      assert.deepStrictEqual(tempFiles(dir), []);
    });
  });

  it('removes temp files left by a crashed process, but not those of a live one', async function () {
    // A pid that is certainly gone: a child that has already exited and been reaped.
    const deadPid = spawnSync(process.execPath, ['-e', '0']).pid;
    const dead = `${file}.tmp-${deadPid}-abcdef012345`;
    const deadBak = `${file}.tmp-${deadPid}-abcdef012345-bak`;
    const ours = `${file}.tmp-${process.pid}-0123456789ab`; // same pid as us, but not a save of ours
    const live = `${file}.tmp-${process.ppid}-0123456789ab`; // our parent is alive
    const unrelated = `${file}.tmp-notes`;
    for (const f of [dead, deadBak, ours, live, unrelated]) fs.writeFileSync(f, 'partial');
    await saveModelFile(file, makeModel());
    assert.deepStrictEqual(tempFiles(dir).sort(), [path.basename(live), path.basename(unrelated)].sort());
  });

  describe('crash safety', function () {
    it('a save loop killed with SIGKILL at random moments always leaves a loadable model', async function () {
      this.timeout(120000);
      const script = path.join(__dirname, 'fixtures', 'save-loop.js');
      // 30 kills, extended (up to 90) until at least one has landed in the middle of a write.
      let interruptedWrites = 0;
      let kills = 0;
      for (let i = 0; i < 90 && (i < 30 || interruptedWrites === 0); i++, kills++) {
        const child = fork(script, [file, '96', String(i)], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
        let stderr = '';
        child.stderr.on('data', (d) => (stderr += d));
        const exited = new Promise((resolve) => child.on('exit', resolve));
        await new Promise((resolve, reject) => {
          child.once('message', (m) => (m === 'ready' ? resolve() : reject(new Error(String(m)))));
          child.once('exit', (code) => reject(new Error(`child exited (${code}) before it was ready: ${stderr}`)));
        });
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 30));
        child.kill('SIGKILL');
        await exited;
        if (tempFiles(dir).some((f) => f.includes(`.tmp-${child.pid}-`))) interruptedWrites++;

        const loaded = await loadModelFile(file);
        // Renames are atomic, so the main file itself is always complete: the backup is never needed.
        assert.strictEqual(loaded.from, 'file', `kill ${i}: ${loaded.warning}`);
        assert.strictEqual(loaded.model.layers[0].hiddenSize, 96);
        assert.ok(Number.isInteger(loaded.model.training.iteration));
        assert.strictEqual(loaded.model.training.run, i, 'the file holds a save of the process just killed');
        // The backup, when there is one, is a complete version no newer than the main file (the
        // same one when the kill fell between backing up and renaming the new file in).
        if (fs.existsSync(file + '.bak')) {
          const backup = parseModelText(fs.readFileSync(file + '.bak', 'utf8')).training;
          const main = loaded.model.training;
          assert.ok(backup.run < main.run || (backup.run === main.run && backup.iteration <= main.iteration),
            `backup ${JSON.stringify(backup)} is newer than ${JSON.stringify(main)}`);
        }
      }
      // The test is only meaningful if some kills landed in the middle of a write.
      if (process.env.RNN_TEST_VERBOSE) console.log(`      ${interruptedWrites}/${kills} kills interrupted a save`);
      assert.ok(interruptedWrites > 0, 'no kill interrupted a save; the test proved nothing');
      // Each new process cleans up what its killed predecessors left: only the last one's remain.
      assert.ok(tempFiles(dir).length <= 2, `stale temp files accumulated: ${tempFiles(dir)}`);
    });
  });
});

describe('resolveModelPath', function () {
  const userDir = path.resolve(os.tmpdir(), 'node-red-user');

  it('resolves a relative path inside the user directory', function () {
    assert.strictEqual(resolveModelPath(userDir, 'models/temp.json'), path.join(userDir, 'models', 'temp.json'));
    assert.strictEqual(resolveModelPath(userDir, 'a/../b.json'), path.join(userDir, 'b.json'));
  });

  it('accepts an absolute path that lies inside the user directory', function () {
    const inside = path.join(userDir, 'm.json');
    assert.strictEqual(resolveModelPath(userDir, inside), inside);
  });

  it('rejects paths that leave the user directory', function () {
    for (const p of ['../m.json', 'models/../../m.json', path.resolve(userDir, '..', 'other', 'm.json'), path.parse(userDir).root + 'etc/passwd']) {
      assert.throws(() => resolveModelPath(userDir, p), /outside the user directory/, p);
    }
    // A sibling whose name starts with the user directory's name is still outside.
    assert.throws(() => resolveModelPath(userDir, userDir + '-evil/m.json'), /outside/);
  });

  it('allows outside paths only when asked to', function () {
    const outside = path.resolve(userDir, '..', 'shared', 'm.json');
    assert.strictEqual(resolveModelPath(userDir, '../shared/m.json', true), outside);
    assert.strictEqual(resolveModelPath(userDir, outside, true), outside);
  });

  it('rejects an empty path and the user directory itself', function () {
    assert.throws(() => resolveModelPath(userDir, ''), /empty/);
    assert.throws(() => resolveModelPath(userDir, '   '), /empty/);
    assert.throws(() => resolveModelPath(userDir, '.'), /user directory itself/);
    assert.throws(() => resolveModelPath(userDir, 'a\0b'), /NUL/);
    assert.throws(() => resolveModelPath('', 'm.json'), /user directory/);
  });
});
