// SPDX-License-Identifier: MIT
//
// emu.js - start and stop difs-emu for a conformance test (shared by the
// Table Store and OSS tests).
//
//   const { startEmu } = require('./emu');
//   const emu = await startEmu({ ots: true, oss: true, buckets: ['b1'] });
//   emu.ots.endpoint      'http://127.0.0.1:PORT'   emu.ots.instance
//   emu.oss.endpoint      'http://127.0.0.1:PORT'
//   emu.accessKeyId / emu.accessKeySecret / emu.dataDir
//   await emu.admin('ots', 'POST', '/_emu/cmd', 'split t1 SHARD')   -> body text
//   await emu.fault('ots', 'op=GetStreamRecord,error=OTSServerBusy,count=2')
//   await emu.clearFaults('ots')
//   await emu.restart()   // same data dir and ports, new process
//   await emu.crash()     // SIGKILL, then start again (durability)
//   await emu.stop()      // SIGTERM; rejects unless difs-emu exits 0
//
// The binary is $DIFS_EMU (tests/conformance/run.sh sets it from meson), else
// ../../build/difs-emu.  Each emulator gets a fresh data directory under the
// OS temp dir (removed by stop() unless opts.keepData), port 0 (free ports)
// and a random key pair.
'use strict';

const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');

function emuBinary() {
  if (process.env.DIFS_EMU) return process.env.DIFS_EMU;
  return path.resolve(__dirname, '..', '..', 'build', 'difs-emu');
}

function request(endpoint, method, urlPath, body) {
  return new Promise((resolve, reject) => {
    const u = new URL(urlPath, endpoint);
    const data = body === undefined ? null : Buffer.from(body);
    const req = http.request(u, { method, headers: data ? { 'content-length': data.length } : {} }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}

class Emu {
  constructor(opts) {
    this.opts = opts;
    this.accessKeyId = opts.accessKeyId || 'emu' + crypto.randomBytes(6).toString('hex');
    this.accessKeySecret = opts.accessKeySecret || crypto.randomBytes(18).toString('base64');
    this.instance = opts.instance || 'difstest';
    this.dataDir = opts.dataDir || fs.mkdtempSync(path.join(os.tmpdir(), 'difs-emu-'));
    this.ots = null;
    this.oss = null;
    this.proc = null;
    this.stderr = '';
    this.exit = null;
  }

  args() {
    const a = ['--data', this.dataDir, '--access-key', `${this.accessKeyId}:${this.accessKeySecret}`,
      '--instance', this.instance];
    // keep the ports across restart() so clients keep working
    if (this.opts.ots) a.push('--ots', this.ots ? this.ots.bind : '127.0.0.1:0');
    if (this.opts.oss) a.push('--oss', this.oss ? this.oss.bind : '127.0.0.1:0');
    for (const b of this.opts.buckets || []) a.push('--bucket', b);
    if (this.opts.shards) a.push('--shards', String(this.opts.shards));
    for (const f of this.opts.faults || []) a.push('--fault', f);
    return a.concat(this.opts.args || []);
  }

  start() {
    return new Promise((resolve, reject) => {
      const proc = spawn(emuBinary(), this.args(), { stdio: ['ignore', 'pipe', 'pipe'] });
      this.proc = proc;
      this.exit = new Promise((res) => proc.on('exit', (code, sig) => res({ code, sig })));
      let out = '';
      let done = false;
      const timer = setTimeout(() => {
        if (!done) { done = true; proc.kill('SIGKILL'); reject(new Error('difs-emu did not start: ' + this.stderr)); }
      }, 15000);
      proc.stderr.on('data', (d) => {
        this.stderr += d.toString();
        if (process.env.EMU_VERBOSE) process.stderr.write(d);
      });
      proc.stdout.on('data', (d) => {
        out += d.toString();
        if (done || !/^ready$/m.test(out)) return;
        done = true;
        clearTimeout(timer);
        for (const line of out.split('\n')) {
          const m = /^(ots|oss) (http:\/\/([^/\s]+))(?: instance=(\S+))?$/.exec(line);
          if (!m) continue;
          const ep = { endpoint: m[2], bind: m[3] };
          if (m[1] === 'ots') { ep.instance = m[4]; this.ots = ep; } else { this.oss = ep; }
        }
        resolve(this);
      });
      proc.on('exit', (code) => {
        if (!done) { done = true; clearTimeout(timer); reject(new Error(`difs-emu exited ${code}: ${this.stderr}`)); }
      });
      proc.on('error', (err) => {
        if (!done) { done = true; clearTimeout(timer); reject(err); }
      });
    });
  }

  endpoint(svc) {
    const ep = this[svc];
    if (!ep) throw new Error(`difs-emu has no ${svc} service`);
    return ep.endpoint;
  }

  async admin(svc, method, urlPath, body) {
    const r = await request(this.endpoint(svc), method, urlPath, body);
    const text = r.body.toString();
    if (r.status !== 200) throw new Error(`admin ${method} ${urlPath} -> ${r.status}: ${text}`);
    return text;
  }

  cmd(svc, line) { return this.admin(svc, 'POST', '/_emu/cmd', line); }
  fault(svc, spec) { return this.admin(svc, 'POST', '/_emu/fault', spec); }
  clearFaults(svc) { return this.admin(svc, 'POST', '/_emu/fault/clear', ''); }
  async stats(svc) {
    const out = {};
    for (const line of (await this.admin(svc, 'GET', '/_emu/stats')).split('\n')) {
      const [k, v] = line.split(' ');
      if (k) out[k] = Number(v);
    }
    return out;
  }

  async halt() {
    if (!this.proc) return;
    this.proc.kill('SIGTERM');
    const { code, sig } = await this.exit;
    this.proc = null;
    if (code !== 0) throw new Error(`difs-emu exited with ${code === null ? sig : code}: ${this.stderr}`);
  }

  async restart() {
    await this.halt();
    await this.start();
    return this;
  }

  // SIGKILL (no clean shutdown), then start again on the same data and ports
  async crash() {
    if (this.proc) {
      this.proc.kill('SIGKILL');
      await this.exit;
      this.proc = null;
    }
    await this.start();
    return this;
  }

  async stop() {
    try {
      await this.halt();
    } finally {
      if (!this.opts.keepData && !this.opts.dataDir) fs.rmSync(this.dataDir, { recursive: true, force: true });
    }
  }
}

async function startEmu(opts = {}) {
  const emu = new Emu(opts);
  await emu.start();
  return emu;
}

module.exports = { startEmu, emuBinary, request };
