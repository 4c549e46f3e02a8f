// SPDX-License-Identifier: MIT
// oss.test.js - the official npm ali-oss SDK against difs-emu's OSS side,
// once with signature V1 and once with V4: put/get (ranges)/head, ListObjectsV2
// paging, delimiters and url encoding, multipart (complete, abort, list parts,
// the rules OSS applies at Complete), append (incl. the 409 path), delete and
// delete-multiple, awkward keys, refused signatures, presigned URLs, path
// style, faults and a restart.
// Run: tests/conformance/run.sh BUILD/difs-emu oss.test.js
'use strict';

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const http = require('node:http');
const OSS = require('ali-oss');
const { startEmu } = require('./emu.js');

const AK = 'AKIDEXAMPLE';
const SK = 'SECRETEXAMPLE';

// CRC-64/XZ (OSS x-oss-hash-crc64ecma), independent of the C code under test
const POLY = 0xC96C5795D7870F42n;
const CRC_T = [];
for (let n = 0n; n < 256n; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = (c & 1n) ? (POLY ^ (c >> 1n)) : (c >> 1n);
  CRC_T.push(c);
}
function crc64(buf) {
  const M = 0xFFFFFFFFFFFFFFFFn;
  let c = M;
  for (const b of buf) c = CRC_T[Number((c ^ BigInt(b)) & 0xFFn)] ^ (c >> 8n);
  return (c ^ M).toString();
}
assert.equal(crc64(Buffer.from('123456789')), BigInt('0x995DC9BBDF1939FA').toString());

const md5hex = b => crypto.createHash('md5').update(b).digest('hex').toUpperCase();
const md5b64 = b => crypto.createHash('md5').update(b).digest('base64');

function rawGet(url) {
  return new Promise((resolve, reject) => {
    http.get(url, res => {
      const chunks = [];
      res.on('data', d => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    }).on('error', reject);
  });
}

async function rejectsWith(p, status, code) {
  await assert.rejects(p, err => {
    assert.equal(err.status, status, `status of ${err.code}: ${err.message}`);
    assert.equal(err.code, code, err.message);
    return true;
  });
}

let emu;
let E;	// { endpoint, port } of the OSS service

const BUCKETS = ['conf-v1', 'conf-v4', 'conf-path'];

before(async () => {
  emu = await startEmu({ oss: true, buckets: BUCKETS, accessKeyId: AK, accessKeySecret: SK,
    args: ['--sync', 'off'] });
  E = { endpoint: emu.oss.endpoint, port: Number(emu.oss.bind.split(':').pop()) };
});

after(async () => {
  if (emu) await emu.stop();	// rejects unless difs-emu exits 0 (sanitizer reports)
});

function client(v4, extra = {}) {
  return new OSS({
    endpoint: E.endpoint, accessKeyId: AK, accessKeySecret: SK,
    bucket: v4 ? 'conf-v4' : 'conf-v1', region: 'oss-cn-hangzhou',
    authorizationV4: v4, retryMax: 0, timeout: 20000, ...extra,
  });
}

const KEYS = ['dir/a b+c.csv', 'uni/日本語 ü.txt', 'plus+plus', 'deep/x/y/z.bin', 'sp ace',
  'odd/100%?#&=.txt', 'a', 'a/b', 'folder/'];

for (const v4 of [false, true]) {
  const tag = v4 ? 'V4' : 'V1';
  const bucket = v4 ? 'conf-v4' : 'conf-v1';

  describe(`ali-oss ${tag}`, () => {
    it('put, get, head with spaces, +, unicode, / and file/dir clashes', async () => {
      const c = client(v4);
      for (const key of KEYS) {
        const body = Buffer.from(`content of ${key}\n`);
        const r = await c.put(key, body, { meta: { src: 'difs' } });
        assert.equal(r.res.status, 200);
        assert.equal(r.res.headers.etag, `"${md5hex(body)}"`);
        assert.equal(r.res.headers['x-oss-hash-crc64ecma'], crc64(body));
        assert.match(r.res.headers['x-oss-request-id'], /^[0-9A-F]{24}$/);
      }
      for (const key of KEYS) {
        const body = Buffer.from(`content of ${key}\n`);
        const g = await c.get(key);
        assert.equal(g.res.status, 200);
        assert.deepEqual(g.content, body);
        assert.equal(g.res.headers['x-oss-hash-crc64ecma'], crc64(body));
        const h = await c.head(key);
        assert.equal(h.status, 200);
        assert.equal(h.res.headers['content-length'], String(body.length));
        assert.equal(h.res.headers['x-oss-object-type'], 'Normal');
        assert.equal(h.meta.src, 'difs');
        assert.equal(h.res.headers.etag, `"${md5hex(body)}"`);
      }
      // exported objects are plain files under DATA/oss/BUCKET/KEY
      const onDisk = fs.readFileSync(path.join(emu.dataDir, 'oss', bucket, 'dir', 'a b+c.csv'));
      assert.deepEqual(onDisk, Buffer.from('content of dir/a b+c.csv\n'));
      assert.deepEqual(fs.readFileSync(path.join(emu.dataDir, 'oss', bucket, 'uni', '日本語 ü.txt')),
        Buffer.from('content of uni/日本語 ü.txt\n'));
    });

    it('keys with "." and ".." segments stay inside the bucket directory', async () => {
      // Node's URL handling would normalise "..", so this request is signed by hand (V1)
      for (const key of ['x/../../escape.txt', '../up.txt', 'a//b', './dot']) {
        const date = new Date().toUTCString();
        const res = `/${bucket}/${key}`;
        const sig = crypto.createHmac('sha1', SK).update(`PUT\n\ntext/plain\n${date}\n${res}`).digest('base64');
        const r = await new Promise((resolve, reject) => {
          const req = http.request({ host: '127.0.0.1', port: E.port, method: 'PUT', path: res,
            headers: { Date: date, 'Content-Type': 'text/plain', Authorization: `OSS ${AK}:${sig}` } }, rs => {
            let b = '';
            rs.on('data', x => { b += x; });
            rs.on('end', () => resolve({ status: rs.statusCode, body: b }));
          });
          req.on('error', reject);
          req.end(`trapped ${key}`);
        });
        assert.equal(r.status, 200, r.body);
      }
      const l = await client(v4).listV2({ 'max-keys': 1000 });
      for (const key of ['x/../../escape.txt', '../up.txt', 'a//b', './dot'])
        assert.ok(l.objects.some(o => o.name === key), key);
      assert.equal(fs.existsSync(path.join(emu.dataDir, 'oss', 'escape.txt')), false);
      assert.equal(fs.existsSync(path.join(emu.dataDir, 'oss', 'up.txt')), false);
      assert.equal(fs.existsSync(path.join(emu.dataDir, 'escape.txt')), false);
      assert.equal(fs.existsSync(path.join(emu.dataDir, 'up.txt')), false);
    });

    it('get with Range answers 206 and Content-Range', async () => {
      const c = client(v4);
      const body = Buffer.from('0123456789abcdef');
      await c.put('range.bin', body);
      let g = await c.get('range.bin', { headers: { Range: 'bytes=2-5' } });
      assert.equal(g.res.status, 206);
      assert.equal(g.content.toString(), '2345');
      assert.equal(g.res.headers['content-range'], 'bytes 2-5/16');
      g = await c.get('range.bin', { headers: { Range: 'bytes=-3' } });
      assert.equal(g.res.status, 206);
      assert.equal(g.content.toString(), 'def');
      g = await c.get('range.bin', { headers: { Range: 'bytes=10-' } });
      assert.equal(g.content.toString(), 'abcdef');
      await rejectsWith(c.get('range.bin', { headers: { Range: 'bytes=99-100' } }), 416, 'InvalidRange');
      // conditional reads
      const etag = `"${md5hex(body)}"`;
      g = await c.get('range.bin', { headers: { 'If-None-Match': etag } });
      assert.equal(g.res.status, 304);
      g = await c.get('range.bin', { headers: { 'If-Match': etag } });
      assert.equal(g.res.status, 200);
      await rejectsWith(c.get('range.bin', { headers: { 'If-Match': '"0123"' } }), 412, 'PreconditionFailed');
    });

    it('listV2 pages with continuation tokens, delimiters and url encoding', async () => {
      const c = client(v4);
      const keys = [];
      for (let i = 0; i < 7; i++) keys.push(`list/k${i}`);
      keys.push('list/sub/a', 'list/sub/b', 'list/sp ace+x', 'list/ü');
      for (const k of keys) await c.put(k, Buffer.from(k));
      const want = keys.slice().sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));

      const got = [];
      let token = null;
      let pages = 0;
      do {
        const q = { prefix: 'list/', 'max-keys': 3 };
        if (token) q['continuation-token'] = token;
        const r = await c.listV2(q);
        pages++;
        assert.ok(r.keyCount <= 3);
        got.push(...r.objects.map(o => o.name));
        token = r.isTruncated ? r.nextContinuationToken : null;
        if (r.isTruncated) assert.ok(token);
      } while (token);
      assert.deepEqual(got, want);
      assert.equal(pages, Math.ceil(want.length / 3));

      const d = await c.listV2({ prefix: 'list/', delimiter: '/' });
      assert.deepEqual(d.prefixes, ['list/sub/']);
      assert.ok(!d.objects.some(o => o.name.startsWith('list/sub/')));
      assert.equal(d.objects.length, want.length - 2);

      // a page boundary on a common prefix does not repeat it
      const p1 = await c.listV2({ prefix: 'list/', delimiter: '/', 'max-keys': 8 });
      assert.equal(p1.isTruncated, true);
      const p2 = await c.listV2({ prefix: 'list/', delimiter: '/', 'max-keys': 8,
        'continuation-token': p1.nextContinuationToken });
      const all = [...p1.objects.map(o => o.name), ...(p1.prefixes || []),
        ...p2.objects.map(o => o.name), ...(p2.prefixes || [])];
      assert.equal(new Set(all).size, all.length);
      assert.equal(all.length, want.length - 1);

      const e = await c.listV2({ prefix: 'list/s', 'encoding-type': 'url' });
      assert.deepEqual(e.objects.map(o => o.name), ['list%2Fsp%20ace%2Bx', 'list%2Fsub%2Fa', 'list%2Fsub%2Fb']);
      assert.deepEqual(e.objects.map(o => decodeURIComponent(o.name)), ['list/sp ace+x', 'list/sub/a', 'list/sub/b']);

      const fo = await c.listV2({ prefix: 'list/k', 'max-keys': 2, 'fetch-owner': true });
      assert.equal(fo.objects[0].owner.id, AK);
      assert.equal((await c.listV2({ prefix: 'list/k', 'max-keys': 2 })).objects[0].owner, null);
      await rejectsWith(c.listV2({ 'max-keys': 1001 }), 400, 'InvalidArgument');

      const v1 = await c.list({ prefix: 'list/', 'max-keys': 4 });
      assert.equal(v1.objects.length, 4);
      assert.equal(v1.isTruncated, true);
      assert.equal(v1.nextMarker, want[3]);
      const v1b = await c.list({ prefix: 'list/', marker: v1.nextMarker, 'max-keys': 100 });
      assert.deepEqual(v1b.objects.map(o => o.name), want.slice(4));
    });

    it('multipart: upload parts, list parts, complete; Complete rules; abort', async () => {
      const c = client(v4);
      const key = 'mp/big file+1.bin';
      const p1 = crypto.randomBytes(150 * 1024);
      const p2 = crypto.randomBytes(3000);
      const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ossemu-'));
      const f = path.join(tmp, 'data');
      fs.writeFileSync(f, Buffer.concat([p1, p2]));
      try {
        const init = await c.initMultipartUpload(key);
        assert.match(init.uploadId, /^[0-9A-F]{32}$/);
        const u1 = await c.uploadPart(key, init.uploadId, 1, f, 0, p1.length);
        const u2 = await c.uploadPart(key, init.uploadId, 2, f, p1.length, p1.length + p2.length);
        assert.equal(u1.etag, `"${md5hex(p1)}"`);
        assert.equal(u2.res.headers['x-oss-hash-crc64ecma'], crc64(p2));

        const lp = await c.listParts(key, init.uploadId);
        assert.deepEqual(lp.parts.map(p => [Number(p.PartNumber), Number(p.Size)]),
          [[1, p1.length], [2, p2.length]]);
        const lu = await c.listUploads({ prefix: 'mp/' });
        assert.ok(lu.uploads.some(u => u.uploadId === init.uploadId && u.name === key));

        // wrong ETag -> InvalidPart; out-of-order list -> InvalidPartOrder
        await rejectsWith(c.completeMultipartUpload(key, init.uploadId,
          [{ number: 1, etag: u1.etag }, { number: 2, etag: '"00000000000000000000000000000000"' }]),
        400, 'InvalidPart');
        const params = c._objectRequestParams('POST', key, { subres: { uploadId: init.uploadId } });
        params.mime = 'xml';
        params.content = '<?xml version="1.0" encoding="UTF-8"?>\n<CompleteMultipartUpload>\n' +
          `<Part><PartNumber>2</PartNumber><ETag>${u2.etag}</ETag></Part>\n` +
          `<Part><PartNumber>1</PartNumber><ETag>${u1.etag}</ETag></Part>\n</CompleteMultipartUpload>`;
        params.successStatuses = [200];
        await rejectsWith(c.request(params), 400, 'InvalidPartOrder');

        const done = await c.completeMultipartUpload(key, init.uploadId,
          [{ number: 1, etag: u1.etag }, { number: 2, etag: u2.etag }]);
        assert.equal(done.res.status, 200);
        const all = Buffer.concat([p1, p2]);
        const multiEtag = crypto.createHash('md5').update(Buffer.concat([
          crypto.createHash('md5').update(p1).digest(), crypto.createHash('md5').update(p2).digest()])).digest('hex').toUpperCase();
        assert.equal(done.etag, `"${multiEtag}-2"`);
        assert.equal(done.res.headers['x-oss-hash-crc64ecma'], crc64(all));
        const g = await c.get(key);
        assert.ok(g.content.equals(all));
        const h = await c.head(key);
        assert.equal(h.res.headers['x-oss-object-type'], 'Multipart');
        assert.equal(h.res.headers['x-oss-hash-crc64ecma'], crc64(all));
        await rejectsWith(c.listParts(key, init.uploadId), 404, 'NoSuchUpload');

        // a non-last part under 100 KiB -> EntityTooSmall
        const small = await c.initMultipartUpload('mp/small');
        const s1 = await c.uploadPart('mp/small', small.uploadId, 1, f, 0, 1000);
        const s2 = await c.uploadPart('mp/small', small.uploadId, 2, f, 1000, 2000);
        await assert.rejects(c.completeMultipartUpload('mp/small', small.uploadId,
          [{ number: 1, etag: s1.etag }, { number: 2, etag: s2.etag }]), err => {
          assert.equal(err.code, 'EntityTooSmall');
          assert.equal(err.ecCode, '0042-00000213');
          return true;
        });
        // ... while a single small last part is fine
        const one = await c.completeMultipartUpload('mp/small', small.uploadId,
          [{ number: 1, etag: s1.etag }]);
        assert.equal(one.res.status, 200);
        assert.equal((await c.head('mp/small')).res.headers['content-length'], '1000');

        // abort: 204, then the upload is gone and the old object is untouched
        const ab = await c.initMultipartUpload(key);
        await c.uploadPart(key, ab.uploadId, 1, f, 0, 5000);
        const a = await c.abortMultipartUpload(key, ab.uploadId);
        assert.equal(a.res.status, 204);
        await rejectsWith(c.listParts(key, ab.uploadId), 404, 'NoSuchUpload');
        await rejectsWith(c.abortMultipartUpload(key, ab.uploadId), 404, 'NoSuchUpload');
        assert.ok((await c.get(key)).content.equals(all));
        const lu2 = await c.listUploads({ prefix: 'mp/' });
        assert.equal(lu2.uploads.length, 0);

        // the SDK's managed multipart upload with a Buffer
        const buf = crypto.randomBytes(250 * 1024 + 17);
        const mu = await c.multipartUpload('mp/managed', buf, { partSize: 100 * 1024 });
        assert.equal(mu.res.status, 200);
        assert.ok((await c.get('mp/managed')).content.equals(buf));
      } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
      }
    });

    it('append: positions, 409 PositionNotEqualToLength, ObjectNotAppendable', async () => {
      const c = client(v4);
      const key = 'app/log file.txt';
      let r = await c.append(key, Buffer.from('row1\n'));
      assert.equal(r.nextAppendPosition, '5');
      assert.equal(r.res.headers['x-oss-hash-crc64ecma'], crc64(Buffer.from('row1\n')));
      r = await c.append(key, Buffer.from('row2\n'), { position: r.nextAppendPosition });
      assert.equal(r.nextAppendPosition, '10');
      assert.equal(r.res.headers['x-oss-hash-crc64ecma'], crc64(Buffer.from('row1\nrow2\n')));
      await assert.rejects(c.append(key, Buffer.from('lost'), { position: '5' }), err => {
        assert.equal(err.status, 409);
        assert.equal(err.code, 'PositionNotEqualToLength');
        assert.equal(err.params && err.params.object, key);
        return true;
      });
      // the 409 carries the next position (raw check through a presigned-free path)
      try {
        await c.append(key, Buffer.from('lost'), { position: '0' });
        assert.fail('append at 0 must fail');
      } catch (err) {
        assert.equal(err.code, 'PositionNotEqualToLength');
      }
      const h = await c.head(key);
      assert.equal(h.res.headers['x-oss-object-type'], 'Appendable');
      assert.equal(h.res.headers['x-oss-next-append-position'], '10');
      assert.equal((await c.get(key)).content.toString(), 'row1\nrow2\n');
      await c.put('app/normal', Buffer.from('x'));
      await rejectsWith(c.append('app/normal', Buffer.from('y'), { position: '1' }), 409, 'ObjectNotAppendable');
    });

    it('delete and delete-multiple', async () => {
      const c = client(v4);
      await c.put('del/one', Buffer.from('1'));
      const d = await c.delete('del/one');
      assert.equal(d.res.status, 204);
      await rejectsWith(c.get('del/one'), 404, 'NoSuchKey');
      await rejectsWith(c.head('del/one'), 404, 'NoSuchKey');
      assert.equal((await c.delete('del/never-existed')).res.status, 204);

      const names = ['del/a b', 'del/c+d', 'del/é&<x>', 'del/deep/x'];
      for (const n of names) await c.put(n, Buffer.from(n));
      const loud = await c.deleteMulti(names.slice(0, 2));
      assert.deepEqual(loud.deleted.map(x => x.Key).sort(), names.slice(0, 2).sort());
      const quiet = await c.deleteMulti(names.slice(2), { quiet: true });
      assert.deepEqual(quiet.deleted, []);
      const left = await c.listV2({ prefix: 'del/' });
      assert.equal(left.objects.length, 0);
      assert.equal(fs.existsSync(path.join(emu.dataDir, 'oss', bucket, 'del', 'deep')), false);
    });

    it('x-oss-forbid-overwrite and Content-MD5', async () => {
      const c = client(v4);
      await c.put('fo/x', Buffer.from('first'));
      await rejectsWith(c.put('fo/x', Buffer.from('second'), { headers: { 'x-oss-forbid-overwrite': 'true' } }),
        409, 'FileAlreadyExists');
      assert.equal((await c.get('fo/x')).content.toString(), 'first');
      await rejectsWith(c.put('fo/y', Buffer.from('body'), { headers: { 'Content-MD5': md5b64(Buffer.from('other')) } }),
        400, 'InvalidDigest');
      await rejectsWith(c.get('fo/y'), 404, 'NoSuchKey');
    });

    it('a wrong secret is refused with SignatureDoesNotMatch, a wrong id with InvalidAccessKeyId', async () => {
      const bad = client(v4, { accessKeySecret: 'WRONG' });
      await assert.rejects(bad.put('sig/x', Buffer.from('y')), err => {
        assert.equal(err.status, 403);
        assert.equal(err.code, 'SignatureDoesNotMatch');
        assert.equal(err.ecCode, '0002-00000040');
        return true;
      });
      await rejectsWith(bad.get('sig/x'), 403, 'SignatureDoesNotMatch');
      await rejectsWith(client(v4, { accessKeyId: 'NOPE' }).get('sig/x'), 403, 'InvalidAccessKeyId');
      await rejectsWith(client(v4).get('sig/x'), 404, 'NoSuchKey');
    });

    it('presigned URLs work and are checked', async () => {
      // ali-oss builds no presigned URL for IP endpoints: use a host name
      const c = client(v4, { endpoint: `http://localhost:${E.port}` });
      const body = Buffer.from('presigned body');
      await client(v4).put('pre/a b+c.txt', body);
      const url = v4 ? await c.signatureUrlV4('GET', 60, undefined, 'pre/a b+c.txt')
        : c.signatureUrl('pre/a b+c.txt', { expires: 60 });
      // the SDK builds a virtual-host URL; send it to the emulator with that Host
      const u = new URL(url);
      const r = await new Promise((resolve, reject) => {
        http.get({ host: '127.0.0.1', port: E.port, path: u.pathname + u.search,
          headers: { Host: u.host } }, res => {
          const chunks = [];
          res.on('data', x => chunks.push(x));
          res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }));
        }).on('error', reject);
      });
      assert.equal(r.status, 200, r.body.toString());
      assert.deepEqual(r.body, body);
      const tampered = u.search.replace(/(Signature|x-oss-signature)=([^&])/, (m, k, ch) => `${k}=${ch === 'A' ? 'B' : 'A'}`);
      const t = await new Promise((resolve, reject) => {
        http.get({ host: '127.0.0.1', port: E.port, path: u.pathname + tampered,
          headers: { Host: u.host } }, res => {
          let s = '';
          res.on('data', x => { s += x; });
          res.on('end', () => resolve({ status: res.statusCode, body: s }));
        }).on('error', reject);
      });
      assert.equal(t.status, 403);
      assert.match(t.body, /<Code>SignatureDoesNotMatch<\/Code>/);
    });
  });
}

describe('difs-emu OSS behaviour', () => {
  it('path style (localhost + sldEnable) reaches the same store', async () => {
    const c = new OSS({ endpoint: `http://localhost:${E.port}`, sldEnable: true, accessKeyId: AK,
      accessKeySecret: SK, bucket: 'conf-path', region: 'oss-cn-hangzhou', retryMax: 0 });
    await c.put('p/x y.txt', Buffer.from('path style'));
    assert.equal((await c.get('p/x y.txt')).content.toString(), 'path style');
    assert.ok(fs.existsSync(path.join(emu.dataDir, 'oss', 'conf-path', 'p', 'x y.txt')));
  });

  it('ali-oss IP endpoint + sldEnable (bucket in Host and path) is understood', async () => {
    for (const v4 of [false, true]) {
      const c = client(v4, { sldEnable: true });
      await c.put('both/k 1.txt', Buffer.from('twice'));
      assert.equal((await c.get('both/k 1.txt')).content.toString(), 'twice');
      assert.equal((await client(v4).get('both/k 1.txt')).content.toString(), 'twice');
    }
  });

  it('bucket operations: listBuckets, getBucketInfo, getBucketLocation, putBucket', async () => {
    const c = client(true);
    const lb = await c.listBuckets();
    assert.deepEqual(lb.buckets.map(b => b.name).filter(n => BUCKETS.includes(n)).sort(), BUCKETS.slice().sort());
    const bi = await c.getBucketInfo('conf-v4');
    assert.equal(bi.bucket.Name, 'conf-v4');
    const loc = await c.getBucketLocation('conf-v4');
    assert.equal(loc.location, 'oss-cn-hangzhou');
    const pb = await c.putBucket('made-by-put');
    assert.equal(pb.res.status, 200);
    const c2 = new OSS({ endpoint: E.endpoint, accessKeyId: AK, accessKeySecret: SK,
      bucket: 'made-by-put', region: 'oss-cn-hangzhou', retryMax: 0 });
    await c2.put('x', Buffer.from('y'));
    await rejectsWith(c.deleteBucket('made-by-put'), 409, 'BucketNotEmpty');
    await c2.delete('x');
    assert.equal((await c.deleteBucket('made-by-put')).res.status, 204);
    await rejectsWith(c2.get('x'), 404, 'NoSuchBucket');
  });

  it('unknown buckets are NoSuchBucket when --bucket fixes the set', async () => {
    const c = new OSS({ endpoint: E.endpoint, accessKeyId: AK, accessKeySecret: SK,
      bucket: 'no-such-bucket', region: 'oss-cn-hangzhou', retryMax: 0 });
    await rejectsWith(c.get('x'), 404, 'NoSuchBucket');
    await rejectsWith(c.listV2({}), 404, 'NoSuchBucket');
  });

  it('error bodies carry Code, Message, RequestId, HostId, EC and StringToSign', async () => {
    const r = await rawGet(`${E.endpoint}/conf-v1/nothing?OSSAccessKeyId=${AK}&Expires=9999999999&Signature=AAAA`);
    assert.equal(r.status, 403);
    const s = r.body.toString();
    for (const t of ['Code', 'Message', 'RequestId', 'HostId', 'EC', 'StringToSign', 'StringToSignBytes', 'SignatureProvided'])
      assert.match(s, new RegExp(`<${t}>`), t);
    assert.equal(r.headers['x-oss-ec'], '0002-00000040');
    assert.match(s, /<StringToSign>GET\n\n\n9999999999\n\/conf-v1\/nothing<\/StringToSign>/);
    // DeleteMultipleObjects without Content-MD5 is refused
    const body = '<?xml version="1.0" encoding="UTF-8"?><Delete><Quiet>true</Quiet><Object><Key>k</Key></Object></Delete>';
    const date = new Date().toUTCString();
    const sig = crypto.createHmac('sha1', SK).update(`POST\n\napplication/xml\n${date}\n/conf-v1/?delete`).digest('base64');
    const dm = await new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: E.port, method: 'POST', path: '/conf-v1/?delete',
        headers: { Date: date, 'Content-Type': 'application/xml', Authorization: `OSS ${AK}:${sig}` } }, rs => {
        let b = '';
        rs.on('data', x => { b += x; });
        rs.on('end', () => resolve({ status: rs.statusCode, body: b }));
      });
      req.on('error', reject);
      req.end(body);
    });
    assert.equal(dm.status, 400, dm.body);
    assert.match(dm.body, /<Code>InvalidRequest<\/Code>/);
    const anon = await rawGet(`${E.endpoint}/conf-v1/nothing`);
    assert.equal(anon.status, 403);
    assert.match(anon.body.toString(), /<Code>AccessDenied<\/Code>/);
  });

  it('the StringToSign in SignatureDoesNotMatch is what the client signed (V1 and V4)', async () => {
    const xmlField = (body, t) => {
      const m = new RegExp(`<${t}>([^<]*)</${t}>`).exec(body);
      assert.ok(m, t);
      return m[1].replace(/&#13;/g, '\r');
    };
    const fetchVia = (u, bucket) => new Promise((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: E.port, path: u.pathname + u.search,
        headers: { Host: `${bucket}.localhost:${E.port}` } }, res => {
        let b = '';
        res.on('data', x => { b += x; });
        res.on('end', () => resolve({ status: res.statusCode, body: b }));
      }).on('error', reject);
    });
    for (const v4 of [false, true]) {
      const bad = client(v4, { endpoint: `http://localhost:${E.port}`, accessKeySecret: 'WRONG' });
      const url = new URL(v4 ? await bad.signatureUrlV4('GET', 60, undefined, 'sts/a b')
        : bad.signatureUrl('sts/a b', { expires: 60 }));
      const r = await fetchVia(url, v4 ? 'conf-v4' : 'conf-v1');
      assert.equal(r.status, 403);
      const sts = xmlField(r.body, 'StringToSign');
      const provided = xmlField(r.body, 'SignatureProvided');
      let mine;
      if (!v4) {
        mine = crypto.createHmac('sha1', 'WRONG').update(sts).digest('base64');
      } else {
        const [, , scope] = sts.split('\n');
        const [day, region, product, term] = scope.split('/');
        let k = crypto.createHmac('sha256', 'aliyun_v4WRONG').update(day).digest();
        for (const part of [region, product, term]) k = crypto.createHmac('sha256', k).update(part).digest();
        mine = crypto.createHmac('sha256', k).update(sts).digest('hex');
      }
      assert.equal(mine, provided, `${v4 ? 'V4' : 'V1'} StringToSign:\n${sts}`);
    }
  });

  it('putStream (chunked upload) and date skew', async () => {
    const { Readable } = require('node:stream');
    const c = client(true);
    const parts = [Buffer.from('chunk one,'), Buffer.from('chunk two,'), crypto.randomBytes(70000)];
    const r = await c.putStream('stream/x.bin', Readable.from(parts));
    assert.equal(r.res.status, 200);
    assert.ok((await c.get('stream/x.bin')).content.equals(Buffer.concat(parts)));

    const date = new Date(Date.now() - 3600 * 1000).toUTCString();
    const res = '/conf-v1/skew';
    const sig = crypto.createHmac('sha1', SK).update(`GET\n\n\n${date}\n${res}`).digest('base64');
    const skew = await new Promise((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: E.port, path: res,
        headers: { Date: date, Authorization: `OSS ${AK}:${sig}` } }, rs => {
        let b = '';
        rs.on('data', x => { b += x; });
        rs.on('end', () => resolve({ status: rs.statusCode, body: b }));
      }).on('error', reject);
    });
    assert.equal(skew.status, 403);
    assert.match(skew.body, /<Code>RequestTimeTooSkewed<\/Code>/);
  });

  it('injected faults: a failing part, then the retry completes', async () => {
    const c = client(false);
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ossemu-'));
    const f = path.join(tmp, 'data');
    const data = crypto.randomBytes(120 * 1024);
    fs.writeFileSync(f, data);
    try {
      const init = await c.initMultipartUpload('fault/mp');
      await emu.fault('oss', 'op=UploadPart,error=InternalError,status=500,count=1');
      await rejectsWith(c.uploadPart('fault/mp', init.uploadId, 1, f, 0, data.length), 500, 'InternalError');
      const p = await c.uploadPart('fault/mp', init.uploadId, 1, f, 0, data.length);
      await c.completeMultipartUpload('fault/mp', init.uploadId, [{ number: 1, etag: p.etag }]);
      assert.ok((await c.get('fault/mp')).content.equals(data));
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
      await emu.clearFaults('oss');
    }
  });

  it('injected faults: SlowDown 503 once, then normal service', async () => {
    const c = client(true);
    await emu.fault('oss', 'op=PutObject,error=SlowDown,status=503,count=1');
    await rejectsWith(c.put('fault/x', Buffer.from('1')), 503, 'SlowDown');
    const r = await c.put('fault/x', Buffer.from('1'));
    assert.equal(r.res.status, 200);
    await emu.clearFaults('oss');
  });

  it('objects and uploads survive a restart', async () => {
    const c = client(false);
    const body = crypto.randomBytes(1000);
    await c.put('persist/a', body);
    const up = await c.initMultipartUpload('persist/mp');
    await c.put('persist/edited.csv', Buffer.from('a,b\n'));
    await emu.halt();
    // a user edits an exported file while the emulator is down
    const edited = Buffer.from('a,b\nc,d\n');
    fs.writeFileSync(path.join(emu.dataDir, 'oss', 'conf-v1', 'persist', 'edited.csv'), edited);
    await emu.start();	// same data directory and port, new process
    const c2 = client(false);
    assert.ok((await c2.get('persist/a')).content.equals(body));
    const lu = await c2.listUploads({ prefix: 'persist/' });
    assert.deepEqual(lu.uploads.map(u => u.uploadId), [up.uploadId]);
    assert.equal((await c2.abortMultipartUpload('persist/mp', up.uploadId)).res.status, 204);
    const h = await c2.head('persist/edited.csv');
    assert.equal(h.res.headers.etag, `"${md5hex(edited)}"`);
    assert.equal(h.res.headers['x-oss-hash-crc64ecma'], crc64(edited));
    assert.ok((await c2.get('persist/edited.csv')).content.equals(edited));
  });
});
