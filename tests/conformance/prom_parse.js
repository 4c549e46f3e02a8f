#!/usr/bin/env node
// SPDX-License-Identifier: MIT
//
// prom_parse.js - read a Prometheus text exposition (MOUNT/metrics, or the
// body of `difs mount --metrics`) on stdin, parse it with the npm
// parse-prometheus-text-format parser, check it, print a JSON digest.
//
//   node tests/conformance/prom_parse.js [JOB] < metrics.txt
//
// Checks: the parser accepts every line; every family has HELP and TYPE
// and appears once (a family's samples are together); every value is a
// number; counters (*_total) are >= 0; every histogram's buckets are in
// increasing le order, ending with +Inf, their counts never decrease and
// +Inf equals _count.  With JOB: that job (label job_name) has difs_job_instances with
// state="SUCCESS" >= 1 and difs_job_attempts_total >= 1.  Exit 0 when all
// hold, 1 with the failures on stderr.
'use strict';

const fs = require('fs');
const parse = require('parse-prometheus-text-format');

const job = process.argv[2];
const text = fs.readFileSync(0, 'utf8');
const fails = [];
const fail = (msg) => fails.push(msg);

const num = (v) => {
  if (v === 'NaN') return NaN;
  if (v === '+Inf') return Infinity;
  if (v === '-Inf') return -Infinity;
  const n = Number(v);
  if (v === '' || Number.isNaN(n)) throw new Error(`not a number: '${v}'`);
  return n;
};

let families;
try {
  families = parse(text);
} catch (e) {
  console.error(`prom_parse: the parser refused the text: ${e.message}`);
  process.exit(1);
}
if (!text.endsWith('\n')) fail('the text does not end with a newline');

const seen = new Set();
let samples = 0;
for (const f of families) {
  if (seen.has(f.name)) fail(`${f.name}: the family appears twice (its lines are not together)`);
  seen.add(f.name);
  if (f.type === 'UNTYPED') fail(`${f.name}: no # TYPE line`);
  if (f.help === '') fail(`${f.name}: no # HELP line`);
  if (f.type === 'COUNTER' && !f.name.endsWith('_total'))
    fail(`${f.name}: a counter's name should end in _total`);
  if (f.type === 'HISTOGRAM') continue; // below, sample by sample
  for (const s of f.metrics) {
    samples++;
    try {
      const v = num(s.value);
      if (f.type === 'COUNTER' && !(v >= 0)) fail(`${f.name}: counter value ${s.value} < 0`);
    } catch (e) {
      fail(`${f.name}${JSON.stringify(s.labels || {})}: ${e.message}`);
    }
  }
}

// This parser folds a histogram's samples into one object and drops every
// label but le, so the histograms are read again with their TYPE lines
// made untyped: then _bucket, _sum and _count come back as plain families
// whose samples keep all their labels.
const histos = families.filter((f) => f.type === 'HISTOGRAM').map((f) => f.name);
const plain = parse(text.replace(/^# TYPE (\S+) histogram$/gm, '# TYPE $1 untyped'));
const byName = new Map(plain.map((f) => [f.name, f]));
const digest = { families: families.length, samples: 0, histograms: {}, job: {} };
const keyOf = (labels) => JSON.stringify(Object.entries(labels || {})
  .filter(([k]) => k !== 'le').sort());
for (const h of histos) {
  const series = new Map();
  const get = (labels) => {
    const k = keyOf(labels);
    if (!series.has(k)) series.set(k, { labels, buckets: [], sum: undefined, count: undefined });
    return series.get(k);
  };
  for (const s of (byName.get(`${h}_bucket`) || { metrics: [] }).metrics) {
    samples++;
    if (!s.labels || s.labels.le === undefined) { fail(`${h}_bucket without le`); continue; }
    get(s.labels).buckets.push({ le: num(s.labels.le), n: num(s.value) });
  }
  for (const s of (byName.get(`${h}_sum`) || { metrics: [] }).metrics) {
    samples++;
    get(s.labels).sum = num(s.value);
  }
  for (const s of (byName.get(`${h}_count`) || { metrics: [] }).metrics) {
    samples++;
    get(s.labels).count = num(s.value);
  }
  digest.histograms[h] = series.size;
  for (const [k, s] of series) {
    const where = `${h}${k}`;
    if (s.buckets.length === 0) { fail(`${where}: no buckets`); continue; }
    for (let i = 1; i < s.buckets.length; i++) {
      if (!(s.buckets[i].le > s.buckets[i - 1].le)) fail(`${where}: le not increasing at ${s.buckets[i].le}`);
      if (s.buckets[i].n < s.buckets[i - 1].n) fail(`${where}: bucket le=${s.buckets[i].le} < the one before`);
    }
    const last = s.buckets[s.buckets.length - 1];
    if (last.le !== Infinity) fail(`${where}: the last bucket is not le="+Inf"`);
    if (s.count === undefined) fail(`${where}: no _count`);
    else if (last.n !== s.count) fail(`${where}: +Inf bucket ${last.n} != _count ${s.count}`);
    if (s.sum === undefined) fail(`${where}: no _sum`);
    else if (!(s.sum >= 0)) fail(`${where}: _sum ${s.sum} < 0`);
  }
}
digest.samples = samples;

// the figures of one job, by family (label job_name = JOB)
if (job !== undefined) {
  for (const f of families) {
    if (f.type === 'HISTOGRAM') continue;
    for (const s of f.metrics) {
      if (!s.labels || s.labels.job_name !== job) continue;
      const rest = Object.entries(s.labels).filter(([k]) => k !== 'job_name');
      const key = f.name + (rest.length ? `{${rest.map(([k, v]) => `${k}=${v}`).join(',')}}` : '');
      digest.job[key] = num(s.value);
    }
  }
  const want = (key, min) => {
    if (!(digest.job[key] >= min)) fail(`job ${job}: ${key} is ${digest.job[key]}, expected >= ${min}`);
  };
  want('difs_job_instances{state=SUCCESS}', 1);
  want('difs_job_attempts_total', 1);
}

console.log(JSON.stringify(digest, null, 1));
if (fails.length > 0) {
  for (const m of fails) console.error(`prom_parse: ${m}`);
  process.exit(1);
}
