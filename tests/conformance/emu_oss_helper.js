// SPDX-License-Identifier: MIT
// emu_oss_helper.js - start/stop a difs-emu serving OSS for oss.test.js.
//
// The binary is $DIFS_EMU, else the newest build*/difs-emu of the tree.
// start() picks a free port (--oss 127.0.0.1:0), waits for "ready" and
// returns { port, endpoint, dataDir, admin(path, body), stop() }.
'use strict';

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const http = require('node:http');

function findEmu() {
  if (process.env.DIFS_EMU) return process.env.DIFS_EMU;
  const root = path.resolve(__dirname, '..', '..');
  let best = null;
  for (const d of fs.readdirSync(root)) {
    if (!d.startsWith('build')) continue;
    const p = path.join(root, d, 'difs-emu');
    try {
      const st = fs.statSync(p);
      if (st.isFile() && (!best || st.mtimeMs > best.mtime)) best = { p, mtime: st.mtimeMs };
    } catch (e) { /* not built there */ }
  }
  if (!best) throw new Error('difs-emu not found: build it or set DIFS_EMU');
  return best.p;
}

function adminRequest(port, method, p, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: '/_emu/' + p }, res => {
      let data = '';
      res.on('data', d => { data += d; });
      res.on('end', () => resolve({ status: res.statusCode, body: data }));
    });
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

// opts: { dataDir, args: [...extra flags], accessKey: 'ID:SECRET' }
async function start(opts = {}) {
  const dataDir = opts.dataDir || fs.mkdtempSync(path.join(os.tmpdir(), 'difs-emu-oss-'));
  const args = ['--data', dataDir, '--access-key', opts.accessKey || 'AKIDEXAMPLE:SECRETEXAMPLE',
    '--oss', '127.0.0.1:0', '--sync', 'off', ...(opts.args || [])];
  const child = spawn(findEmu(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', d => { stderr += d; });
  const port = await new Promise((resolve, reject) => {
    let out = '';
    let p = null;
    const timer = setTimeout(() => reject(new Error('difs-emu did not start: ' + stderr)), 10000);
    child.stdout.on('data', d => {
      out += d;
      const m = /^oss http:\/\/127\.0\.0\.1:(\d+)/m.exec(out);
      if (m) p = Number(m[1]);
      if (p && /^ready$/m.test(out)) { clearTimeout(timer); resolve(p); }
    });
    child.on('exit', code => { clearTimeout(timer); reject(new Error(`difs-emu exited ${code}: ${stderr}`)); });
  });
  child.removeAllListeners('exit');
  return {
    port,
    dataDir,
    endpoint: `http://127.0.0.1:${port}`,
    stderr: () => stderr,
    admin: (method, p, body) => adminRequest(port, method, p, body),
    // resolves with the exit code; a non-zero exit (e.g. a sanitizer
    // report) prints the emulator's stderr
    stop: () => new Promise(resolve => {
      const done = code => {
        if (code !== 0) process.stderr.write(`difs-emu exited ${code}:\n${stderr}\n`);
        resolve(code);
      };
      if (child.exitCode !== null) return done(child.exitCode);
      child.on('exit', (code, sig) => done(code === null ? sig : code));
      child.kill('SIGTERM');
    }),
  };
}

module.exports = { start, findEmu };
