// SPDX-License-Identifier: MIT
//
// ots.test.js - the official npm `tablestore` SDK against difs-emu's Table
// Store service (node:test).
//
// The SDK is used unmodified, except that the four stream operations it
// lacks are registered through its own encoder/decoder hooks
// (TableStore.encoder.encode / TableStore.decoder.decode,
// contrib/doc/tablestore.md section 6).  Stream records are decoded by the
// PlainBuffer decoder below, written here from the byte grammar
// (contrib/doc/tablestore.md section 3), not by difs code and not by the SDK's
// decoder (which cannot read them).
//
// Scenario: a table with a stream; rows of every value type written with
// puts, updates (put, delete one version, delete all versions) and deletes,
// single and batched (with a per-row failure); read back with GetRow,
// GetRange (both directions, INF_MIN/INF_MAX, limit paging) and
// BatchGetRow; the stream listed, described (shard paging), and every
// record read and checked against what was written, in commit order; shard
// split and merge; seek by timestamp; trimming; persistence across a
// restart; and refusals of a wrong key, a tampered body and a stale date.
'use strict';

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const http = require('node:http');

const TableStore = require('tablestore');
const protobuf = require('protobufjs');
const P = require('tablestore/lib/protocol/tablestore_compiled_proto.js').main.proto;
const { startEmu } = require('./emu');

const Long = TableStore.Long;

// ---- the four stream operations, through the SDK's own hooks ------------------

// GetShardIteratorRequest of the node proto lacks field 3 (timestamp, µs);
// this reflection type carries it (field numbers from
// contrib/doc/tablestore.md 2.2).
const GetShardIteratorTs = new protobuf.Type('GetShardIteratorRequestTs')
  .add(new protobuf.Field('streamId', 1, 'string', 'required'))
  .add(new protobuf.Field('shardId', 2, 'string', 'required'))
  .add(new protobuf.Field('timestamp', 3, 'int64', 'optional'));
new protobuf.Root().define('emu').add(GetShardIteratorTs);

const STREAM_OPS = {
  listStream: ['ListStreamRequest', 'ListStreamResponse'],
  describeStream: ['DescribeStreamRequest', 'DescribeStreamResponse'],
  getShardIterator: ['GetShardIteratorRequest', 'GetShardIteratorResponse'],
  getStreamRecord: ['GetStreamRecordRequest', 'GetStreamRecordResponse'],
};
const enc0 = TableStore.encoder.encode;
const dec0 = TableStore.decoder.decode;
TableStore.encoder.encode = (op, p) => {
  if (op === 'getShardIterator' && p.timestamp !== undefined) return GetShardIteratorTs.create(p);
  return STREAM_OPS[op] ? P[STREAM_OPS[op][0]].create(p) : enc0(op, p);
};
TableStore.decoder.decode = (op, b) => (STREAM_OPS[op] ? P[STREAM_OPS[op][1]].decode(b) : dec0(op, b));

// ---- PlainBuffer decoder (contrib/doc/tablestore.md section 3) --------------

const CRC8 = (() => {
  const t = new Uint8Array(256);
  for (let i = 0; i < 256; i++) {
    let x = i;
    for (let j = 0; j < 8; j++) x = ((x << 1) ^ (x & 0x80 ? 0x07 : 0)) & 0xff;
    t[i] = x;
  }
  return t;
})();
const crc8 = (c, bytes) => { for (const b of bytes) c = CRC8[(c ^ b) & 0xff]; return c; };

function decodePlainBuffer(buf) {
  buf = Buffer.from(buf);
  let off = 0;
  const need = (n) => { if (off + n > buf.length) throw new Error(`PlainBuffer truncated at ${off}`); };
  const u8 = () => { need(1); return buf[off++]; };
  const u32 = () => { need(4); const v = buf.readUInt32LE(off); off += 4; return v; };
  const i64 = () => { need(8); const v = buf.readBigInt64LE(off); off += 8; return v; };
  const bytes = (n) => { need(n); const v = buf.subarray(off, off + n); off += n; return v; };
  const expect = (tag) => { const t = u8(); if (t !== tag) throw new Error(`tag ${t} at ${off - 1}, want ${tag}`); };

  function readCell() {
    expect(0x04);
    const name = bytes(u32());
    const cell = { name: name.toString('utf8') };
    let c = crc8(0, name);
    let tag = u8();
    if (tag === 0x05) {
      const len = u32();
      const end = off + len;
      const vt = u8();
      c = crc8(c, [vt]);
      if (vt === 0x0) {
        const raw = bytes(8); c = crc8(c, raw); cell.value = raw.readBigInt64LE(0); cell.type = 'INTEGER';
      } else if (vt === 0x1) {
        const raw = bytes(8); c = crc8(c, raw); cell.value = raw.readDoubleLE(0); cell.type = 'DOUBLE';
      } else if (vt === 0x2) {
        const v = u8(); c = crc8(c, [v]); cell.value = v === 1; cell.type = 'BOOLEAN';
      } else if (vt === 0x3 || vt === 0x7) {
        const lenb = bytes(4); const n = lenb.readUInt32LE(0); const data = bytes(n);
        c = crc8(crc8(c, lenb), data);
        cell.value = vt === 0x3 ? data.toString('utf8') : Buffer.from(data);
        cell.type = vt === 0x3 ? 'STRING' : 'BINARY';
      } else if (vt === 0x9 || vt === 0xa || vt === 0xb) {
        cell.type = { 9: 'INF_MIN', 10: 'INF_MAX', 11: 'AUTO_INCREMENT' }[vt];
      } else {
        throw new Error(`unknown value type ${vt}`);
      }
      if (off !== end) throw new Error('value length mismatch');
      tag = u8();
    }
    let op = null;
    if (tag === 0x06) { op = u8(); tag = u8(); }
    if (tag === 0x07) {
      const raw = bytes(8); c = crc8(c, raw); cell.ts = raw.readBigInt64LE(0); tag = u8();
    }
    if (op !== null) { c = crc8(c, [op]); cell.op = op; }
    if (tag !== 0x0a) throw new Error(`cell checksum tag missing (${tag})`);
    const want = u8();
    if (want !== c) throw new Error(`cell checksum ${want} != ${c} for ${cell.name}`);
    cell.crc = c;
    return cell;
  }

  function readRow() {
    const row = { pk: [], attrs: [], deleted: false };
    expect(0x01);
    let tag = u8();
    while (tag === 0x03) { row.pk.push(readCell()); tag = u8(); }
    if (tag === 0x02) {
      tag = u8();
      while (tag === 0x03) { row.attrs.push(readCell()); tag = u8(); }
    }
    if (tag === 0x08) { row.deleted = true; tag = u8(); }
    if (tag === 0x0b) {
      const len = u32();
      const end = off + len;
      while (off < end) {
        const item = u8();
        const ilen = u32();
        if (item !== 0x0c) { bytes(ilen); continue; }
        expect(0x0d); const epoch = u32();
        expect(0x0e); const ts = i64();
        expect(0x0f); const rowIndex = u32();
        row.seq = { epoch, ts, rowIndex };
      }
      tag = u8();
    }
    if (tag !== 0x09) throw new Error(`row checksum tag missing (${tag})`);
    let r = 0;
    for (const c of row.pk) r = CRC8[(r ^ c.crc) & 0xff];
    for (const c of row.attrs) r = CRC8[(r ^ c.crc) & 0xff];
    r = CRC8[(r ^ (row.deleted ? 1 : 0)) & 0xff];
    const want = u8();
    if (want !== r) throw new Error(`row checksum ${want} != ${r}`);
    return row;
  }

  if (buf.length === 0) return [];
  if (u32() !== 0x75) throw new Error('bad PlainBuffer header');
  const rows = [];
  while (off < buf.length) {
    if (buf.subarray(off).every((b) => b === 0)) break;
    rows.push(readRow());
  }
  return rows;
}

// ---- helpers ------------------------------------------------------------------

const TABLE = 'conf_all';
const IGNORE = () => new TableStore.Condition(TableStore.RowExistenceExpectation.IGNORE, null);
const EXPECT_EXIST = () => new TableStore.Condition(TableStore.RowExistenceExpectation.EXPECT_EXIST, null);
const EXPECT_NOT_EXIST = () => new TableStore.Condition(TableStore.RowExistenceExpectation.EXPECT_NOT_EXIST, null);

function pk(s, i, b) {
  return [{ pk_s: s }, { pk_i: typeof i === 'string' ? Long.fromString(i) : Long.fromNumber(i) }, { pk_b: Buffer.from(b) }];
}
const pkText = (s, i, b) => `${s}|${i}|${Buffer.from(b).toString('hex')}`;
const pkOfCells = (cells) => `${cells[0].value}|${cells[1].value}|${cells[2].value.toString('hex')}`;

// SDK attribute values -> comparable strings
function sdkValue(v) {
  if (Buffer.isBuffer(v)) return 'bin:' + v.toString('hex');
  if (v && typeof v.toBuffer === 'function') return 'int:' + v.toString(10);	// int64-buffer
  if (typeof v === 'number') return 'num:' + v;
  if (typeof v === 'boolean') return 'bool:' + v;
  return 'str:' + v;
}
function cellValue(c) {
  switch (c.type) {
    case 'INTEGER': return 'int:' + c.value.toString();
    case 'DOUBLE': return 'num:' + c.value;
    case 'BOOLEAN': return 'bool:' + c.value;
    case 'BINARY': return 'bin:' + c.value.toString('hex');
    default: return 'str:' + c.value;
  }
}

async function refused(promise, status, code) {
  await assert.rejects(promise, (err) => {
    assert.equal(err.code, status, `HTTP status of ${code}: ${err.message}`);
    assert.match(String(err.message), new RegExp(code));
    return true;
  });
}

// raw, hand-signed requests (V2 signature, contrib/doc/tablestore.md 1.3)
function signedRequest(emu, api, body, { secret, date, tamper } = {}) {
  const headers = {
    'x-ots-accesskeyid': emu.accessKeyId,
    'x-ots-apiversion': '2015-12-31',
    'x-ots-contentmd5': crypto.createHash('md5').update(body).digest('base64'),
    'x-ots-date': date || new Date().toISOString(),
    'x-ots-instancename': emu.ots.instance,
  };
  const canon = Object.keys(headers).sort().map((k) => `${k}:${headers[k].trim()}\n`).join('');
  const sts = `/${api}\nPOST\n\n${canon}`;
  headers['x-ots-signature'] = crypto.createHmac('sha1', secret || emu.accessKeySecret).update(sts).digest('base64');
  let sent = body;
  if (tamper) { sent = Buffer.from(body); sent[sent.length - 1] ^= 0x01; }
  headers['content-length'] = sent.length;
  return new Promise((resolve, reject) => {
    const req = http.request(new URL('/' + api, emu.ots.endpoint), { method: 'POST', headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      // 'close' also comes when the server cuts the body (complete false)
      res.on('close', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks),
        complete: res.complete }));
    });
    req.on('error', reject);
    req.end(sent);
  });
}

function checkResponseSignature(emu, api, res) {
  const names = Object.keys(res.headers).filter((h) => h.startsWith('x-ots-')).sort();
  const sts = names.map((h) => `${h}:${res.headers[h].trim()}\n`).join('') + '/' + api;
  const sig = crypto.createHmac('sha1', emu.accessKeySecret).update(sts).digest('base64');
  assert.equal(res.headers.authorization, `OTS ${emu.accessKeyId}:${sig}`, 'response signature');
  assert.equal(res.headers['x-ots-contentmd5'], crypto.createHash('md5').update(res.body).digest('base64'));
  assert.equal(res.headers['x-ots-contenttype'], 'protocol buffer');
  assert.ok(res.headers['x-ots-requestid']);
  assert.match(res.headers['x-ots-date'], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$/);
}

// ---- the scenario -------------------------------------------------------------------

describe('tablestore SDK against difs-emu', () => {
  let emu;
  let client;
  const expected = [];	// stream records we expect, in commit order
  const T0 = Date.now() - 60000;
  let expiration = 24;	// hours

  // record the expected stream record of a committed write
  function expectRecord(action, key, cells, t0, t1) {
    expected.push({ action, key, cells, t0, t1 });
  }

  async function write(fn, action, key, cells) {
    const t0 = Date.now() * 1000;
    const r = await fn();
    expectRecord(action, key, cells, t0, Date.now() * 1000);
    return r;
  }

  async function shards(streamId) {
    const out = [];
    let start;
    do {
      const d = await client.makeRequest('describeStream', { streamId, inclusiveStartShardId: start, shardLimit: 1 });
      assert.equal(d.streamId, streamId);
      assert.equal(d.tableName, TABLE);
      assert.equal(d.expirationTime, expiration);
      assert.ok(d.shards.length <= 1, 'shard_limit honoured');
      out.push(...d.shards);
      start = d.nextShardId || undefined;
    } while (start);
    return out;
  }

  // read a shard from an iterator; returns { records, next } (next null = closed and read)
  async function readShard(iterator, limit = 3) {
    const records = [];
    let it = iterator;
    for (;;) {
      const r = await client.makeRequest('getStreamRecord', { shardIterator: it, limit });
      assert.ok(r.streamRecords.length <= limit, 'limit honoured');
      for (const rec of r.streamRecords) {
        const rows = decodePlainBuffer(rec.record);
        assert.equal(rows.length, 1, 'one row per stream record');
        records.push({ action: rec.actionType, row: rows[0] });
      }
      if (!r.nextShardIterator) return { records, next: null };
      if (r.streamRecords.length === 0) return { records, next: r.nextShardIterator };
      it = r.nextShardIterator;
    }
  }

  async function readAll(streamId) {
    const all = [];
    const state = {};
    for (const s of await shards(streamId)) {
      const it = await client.makeRequest('getShardIterator', { streamId, shardId: s.shardId });
      const r = await readShard(it.shardIterator);
      state[s.shardId] = { shard: s, next: r.next, records: r.records };
      all.push(...r.records);
    }
    all.sort((a, b) => (a.row.seq.ts < b.row.seq.ts ? -1 : a.row.seq.ts > b.row.seq.ts ? 1 : a.row.seq.rowIndex - b.row.seq.rowIndex));
    return { all, state };
  }

  function checkRecords(all) {
    assert.equal(all.length, expected.length, 'one stream record per committed row change');
    for (let i = 0; i < all.length; i++) {
      const got = all[i];
      const want = expected[i];
      const what = `record ${i} (${want.key})`;
      assert.equal(got.action, want.action, `${what}: action type`);
      assert.equal(pkOfCells(got.row.pk), want.key, `${what}: primary key`);
      assert.equal(got.row.pk.length, 3);
      assert.ok(got.row.seq, `${what}: sequence info`);
      assert.equal(got.row.seq.epoch, 0);
      const ts = Number(got.row.seq.ts);
      assert.ok(ts >= want.t0 - 1000 && ts <= want.t1 + 1000, `${what}: commit time ${ts} in [${want.t0}, ${want.t1}]`);
      if (i > 0) {
        const prev = all[i - 1].row.seq;
        assert.ok(got.row.seq.ts > prev.ts || (got.row.seq.ts === prev.ts && got.row.seq.rowIndex > prev.rowIndex),
          `${what}: strictly after the previous record`);
      }
      if (want.action === 3) {
        assert.equal(got.row.attrs.length, 0, `${what}: DELETE_ROW has no columns`);
        continue;
      }
      assert.equal(got.row.attrs.length, want.cells.length, `${what}: cell count`);
      for (let j = 0; j < want.cells.length; j++) {
        const g = got.row.attrs[j];
        const w = want.cells[j];
        assert.equal(g.name, w.name, `${what}: cell ${j} name`);
        if (w.op === 'PUT') {
          assert.equal(g.op, undefined, `${what}: ${w.name} is a put`);
          assert.equal(cellValue(g), w.value, `${what}: ${w.name} value`);
          assert.notEqual(g.ts, undefined, `${what}: ${w.name} has a timestamp`);
          if (w.ts !== undefined) assert.equal(Number(g.ts), w.ts, `${what}: ${w.name} timestamp`);
          else assert.ok(Number(g.ts) >= Math.floor(want.t0 / 1000) - 1000 && Number(g.ts) <= Math.ceil(want.t1 / 1000) + 1000,
            `${what}: ${w.name} server timestamp`);
        } else if (w.op === 'DELETE_ONE') {
          assert.equal(g.op, 0x03, `${what}: ${w.name} delete one version`);
          assert.equal(g.value, undefined);
          assert.equal(Number(g.ts), w.ts);
        } else {
          assert.equal(g.op, 0x01, `${what}: ${w.name} delete all versions`);
          assert.equal(g.value, undefined);
          assert.equal(g.ts, undefined);
        }
      }
    }
  }

  before(async () => {
    emu = await startEmu({ ots: true });
    client = new TableStore.Client({
      accessKeyId: emu.accessKeyId, secretAccessKey: emu.accessKeySecret,
      endpoint: emu.ots.endpoint, instancename: emu.ots.instance, maxRetries: 0,
    });
  });
  after(async () => { if (emu) await emu.stop(); });

  it('creates and describes a table with a stream', async () => {
    assert.deepEqual((await client.listTable({})).tableNames, []);
    await client.createTable({
      tableMeta: { tableName: TABLE, primaryKey: [{ name: 'pk_s', type: 'STRING' }, { name: 'pk_i', type: 'INTEGER' }, { name: 'pk_b', type: 'BINARY' }] },
      reservedThroughput: { capacityUnit: { read: 0, write: 0 } },
      tableOptions: { timeToLive: -1, maxVersions: 3 },
      streamSpecification: { enableStream: true, expirationTime: 24 },
    });
    await refused(client.createTable({
      tableMeta: { tableName: TABLE, primaryKey: [{ name: 'k', type: 'STRING' }] },
      reservedThroughput: { capacityUnit: { read: 0, write: 0 } }, tableOptions: { timeToLive: -1, maxVersions: 1 },
    }), 409, 'OTSObjectAlreadyExist');
    const d = await client.describeTable({ tableName: TABLE });
    assert.equal(d.tableMeta.tableName, TABLE);
    assert.deepEqual(d.tableMeta.primaryKey.map((c) => [c.name, c.type]),
      [['pk_s', P.PrimaryKeyType.STRING], ['pk_i', P.PrimaryKeyType.INTEGER], ['pk_b', P.PrimaryKeyType.BINARY]]);
    assert.equal(d.tableOptions.maxVersions, 3);
    assert.equal(d.tableOptions.timeToLive, -1);
    assert.equal(d.streamDetails.enableStream, true);
    assert.equal(d.streamDetails.expirationTime, 24);
    assert.ok(d.streamDetails.streamId);
    assert.deepEqual((await client.listTable({})).tableNames, [TABLE]);
    await refused(client.describeTable({ tableName: 'nope' }), 404, 'OTSObjectNotExist');
  });

  it('writes rows of every type with puts, updates and deletes', async () => {
    await write(() => client.putRow({
      tableName: TABLE, condition: EXPECT_NOT_EXIST(), primaryKey: pk('a', 1, [1]),
      attributeColumns: [{ s: 'hello', timestamp: T0 }, { i: Long.fromNumber(-42) }, { d: 3.25 }, { b: true }, { x: Buffer.from([0, 255, 1]) }],
    }), 1, pkText('a', 1, [1]), [
      { name: 's', op: 'PUT', value: 'str:hello', ts: T0 }, { name: 'i', op: 'PUT', value: 'int:-42' },
      { name: 'd', op: 'PUT', value: 'num:3.25' }, { name: 'b', op: 'PUT', value: 'bool:true' },
      { name: 'x', op: 'PUT', value: 'bin:00ff01' }]);
    await write(() => client.putRow({ tableName: TABLE, condition: IGNORE(), primaryKey: pk('a', 2, [2]), attributeColumns: [{ s: 'two' }] }),
      1, pkText('a', 2, [2]), [{ name: 's', op: 'PUT', value: 'str:two' }]);
    await write(() => client.putRow({
      tableName: TABLE, condition: IGNORE(), primaryKey: pk('b', -5, [0, 1]), attributeColumns: [{ i: Long.fromNumber(7), timestamp: T0 }],
    }), 1, pkText('b', -5, [0, 1]), [{ name: 'i', op: 'PUT', value: 'int:7', ts: T0 }]);
    await write(() => client.putRow({
      tableName: TABLE, condition: IGNORE(), primaryKey: pk('c', '9007199254740993', []), attributeColumns: [{ d: -0.5 }],
    }), 1, pkText('c', '9007199254740993', []), [{ name: 'd', op: 'PUT', value: 'num:-0.5' }]);

    // a second version of s, and a new column
    await write(() => client.updateRow({
      tableName: TABLE, condition: EXPECT_EXIST(), primaryKey: pk('a', 1, [1]),
      updateOfAttributeColumns: [{ PUT: [{ s: 'hello2', timestamp: T0 + 1 }, { n: 'new' }] }],
    }), 2, pkText('a', 1, [1]), [{ name: 's', op: 'PUT', value: 'str:hello2', ts: T0 + 1 }, { name: 'n', op: 'PUT', value: 'str:new' }]);
    let r = await client.getRow({ tableName: TABLE, primaryKey: pk('a', 1, [1]), maxVersions: 3, columnsToGet: ['s'] });
    assert.deepEqual(r.row.attributes.map((a) => [a.columnName, a.columnValue, Number(a.timestamp)]),
      [['s', 'hello2', T0 + 1], ['s', 'hello', T0]], 'two versions, newest first');
    r = await client.getRow({ tableName: TABLE, primaryKey: pk('a', 1, [1]), timeRange: { startTime: T0, endTime: T0 + 1 }, columnsToGet: ['s'] });
    assert.deepEqual(r.row.attributes.map((a) => a.columnValue), ['hello'], 'time range selects the old version');

    // delete one version, delete all versions
    await write(() => client.updateRow({
      tableName: TABLE, condition: IGNORE(), primaryKey: pk('a', 1, [1]),
      updateOfAttributeColumns: [{ DELETE: [{ s: Long.fromNumber(T0) }] }, { DELETE_ALL: ['x'] }],
    }), 2, pkText('a', 1, [1]), [{ name: 's', op: 'DELETE_ONE', ts: T0 }, { name: 'x', op: 'DELETE_ALL' }]);
    await write(() => client.deleteRow({ tableName: TABLE, condition: IGNORE(), primaryKey: pk('a', 2, [2]) }),
      3, pkText('a', 2, [2]), []);

    // condition failures change nothing and record nothing
    await refused(client.putRow({ tableName: TABLE, condition: EXPECT_NOT_EXIST(), primaryKey: pk('a', 1, [1]), attributeColumns: [{ s: 'no' }] }),
      403, 'OTSConditionCheckFail');
    await refused(client.deleteRow({ tableName: TABLE, condition: EXPECT_EXIST(), primaryKey: pk('zz', 0, []) }), 403, 'OTSConditionCheckFail');
    await refused(client.putRow({ tableName: TABLE, condition: IGNORE(), primaryKey: [{ pk_s: 'a' }], attributeColumns: [{ s: 'no' }] }),
      400, 'OTSInvalidPK');
    await refused(client.putRow({ tableName: 'nope', condition: IGNORE(), primaryKey: pk('a', 1, [1]), attributeColumns: [{ s: 'no' }] }),
      404, 'OTSObjectNotExist');
  });

  it('applies BatchWriteRow with a per-row failure', async () => {
    const t0 = Date.now() * 1000;
    const res = await client.batchWriteRow({
      tables: [{
        tableName: TABLE,
        rows: [
          { type: 'PUT', condition: IGNORE(), primaryKey: pk('d', 1, [5]), attributeColumns: [{ s: 'batch' }], returnContent: { returnType: TableStore.ReturnType.Primarykey } },
          { type: 'UPDATE', condition: IGNORE(), primaryKey: pk('c', '9007199254740993', []), attributeColumns: [{ PUT: [{ e: false }] }] },
          { type: 'UPDATE', condition: EXPECT_EXIST(), primaryKey: pk('zz', 0, []), attributeColumns: [{ PUT: [{ e: true }] }] },
          { type: 'DELETE', condition: IGNORE(), primaryKey: pk('b', -5, [0, 1]) },
        ],
      }],
    });
    const t1 = Date.now() * 1000;
    const rows = res.tables;
    assert.equal(rows.length, 4);
    assert.deepEqual(rows.map((x) => x.isOk), [true, true, false, true]);
    assert.equal(rows[2].errorCode, 'OTSConditionCheckFail');
    assert.equal(rows[2].errorMessage, 'Condition check failed.');
    expectRecord(1, pkText('d', 1, [5]), [{ name: 's', op: 'PUT', value: 'str:batch' }], t0, t1);
    expectRecord(2, pkText('c', '9007199254740993', []), [{ name: 'e', op: 'PUT', value: 'bool:false' }], t0, t1);
    expectRecord(3, pkText('b', -5, [0, 1]), [], t0, t1);
  });

  it('reads rows back with GetRow, GetRange and BatchGetRow', async () => {
    let r = await client.getRow({ tableName: TABLE, primaryKey: pk('a', 1, [1]), maxVersions: 3 });
    assert.deepEqual(r.row.primaryKey.map((c) => c.name), ['pk_s', 'pk_i', 'pk_b']);
    assert.deepEqual(r.row.attributes.map((a) => [a.columnName, sdkValue(a.columnValue)]),
      [['b', 'bool:true'], ['d', 'num:3.25'], ['i', 'int:-42'], ['n', 'str:new'], ['s', 'str:hello2']]);
    r = await client.getRow({ tableName: TABLE, primaryKey: pk('a', 2, [2]), maxVersions: 1 });
    assert.deepEqual(r.row, {}, 'deleted row is absent');
    r = await client.getRow({ tableName: TABLE, primaryKey: pk('c', '9007199254740993', []), maxVersions: 1 });
    assert.equal(r.row.primaryKey[1].value.toString(), '9007199254740993');
    assert.deepEqual(r.row.attributes.map((a) => [a.columnName, sdkValue(a.columnValue)]), [['d', 'num:-0.5'], ['e', 'bool:false']]);

    const order = ['a|1|01', 'c|9007199254740993|', 'd|1|05'];
    const keyOf = (row) => `${row.primaryKey[0].value}|${row.primaryKey[1].value}|${row.primaryKey[2].value.toString('hex')}`;
    // forward with paging by next_start_primary_key
    const seen = [];
    let start = [{ pk_s: TableStore.INF_MIN }, { pk_i: TableStore.INF_MIN }, { pk_b: TableStore.INF_MIN }];
    const end = [{ pk_s: TableStore.INF_MAX }, { pk_i: TableStore.INF_MAX }, { pk_b: TableStore.INF_MAX }];
    for (let pages = 0; start; pages++) {
      assert.ok(pages < 5);
      const g = await client.getRange({ tableName: TABLE, direction: TableStore.Direction.FORWARD, inclusiveStartPrimaryKey: start,
        exclusiveEndPrimaryKey: end, limit: 2, maxVersions: 1 });
      assert.ok(g.rows.length <= 2);
      seen.push(...g.rows.map(keyOf));
      start = g.nextStartPrimaryKey ? g.nextStartPrimaryKey.map((c) => ({ [c.name]: c.value })) : null;
    }
    assert.deepEqual(seen, order, 'forward range in primary-key order');
    const back = await client.getRange({ tableName: TABLE, direction: TableStore.Direction.BACKWARD, inclusiveStartPrimaryKey: end,
      exclusiveEndPrimaryKey: [{ pk_s: TableStore.INF_MIN }, { pk_i: TableStore.INF_MIN }, { pk_b: TableStore.INF_MIN }], maxVersions: 1 });
    assert.deepEqual(back.rows.map(keyOf), [...order].reverse(), 'backward range');
    const part = await client.getRange({ tableName: TABLE, direction: TableStore.Direction.FORWARD,
      inclusiveStartPrimaryKey: [{ pk_s: 'a' }, { pk_i: TableStore.INF_MIN }, { pk_b: TableStore.INF_MIN }],
      exclusiveEndPrimaryKey: [{ pk_s: 'c' }, { pk_i: TableStore.INF_MIN }, { pk_b: TableStore.INF_MIN }], maxVersions: 1, columnsToGet: ['s'] });
    assert.deepEqual(part.rows.map(keyOf), ['a|1|01']);
    assert.deepEqual(part.rows[0].attributes.map((a) => a.columnName), ['s']);
    await refused(client.getRange({ tableName: TABLE, direction: TableStore.Direction.FORWARD, inclusiveStartPrimaryKey: end,
      exclusiveEndPrimaryKey: start || [{ pk_s: TableStore.INF_MIN }, { pk_i: TableStore.INF_MIN }, { pk_b: TableStore.INF_MIN }], maxVersions: 1 }),
    400, 'Begin key must less than end key in FORWARD');

    const bg = await client.batchGetRow({ tables: [{ tableName: TABLE, primaryKey: [pk('a', 1, [1]), pk('a', 2, [2]), pk('d', 1, [5])], maxVersions: 1, columnsToGet: ['s'] }] });
    const got = bg.tables[0];
    assert.deepEqual(got.map((x) => x.isOk), [true, true, true]);
    assert.deepEqual(got[0].attributes.map((a) => a.columnValue), ['hello2']);
    assert.equal(got[1].primaryKey ?? null, null, 'absent row');
    assert.deepEqual(got[2].attributes.map((a) => a.columnValue), ['batch']);
  });

  let streamId;
  let firstShard;
  let firstIterator;

  it('lists and describes the stream and reads every record', async () => {
    const ls = await client.makeRequest('listStream', { tableName: TABLE });
    assert.equal(ls.streams.length, 1);
    assert.equal(ls.streams[0].tableName, TABLE);
    streamId = ls.streams[0].streamId;
    assert.equal(streamId, (await client.describeTable({ tableName: TABLE })).streamDetails.streamId);
    const sh = await shards(streamId);
    assert.equal(sh.length, 2, 'default 2 shards');
    const { all, state } = await readAll(streamId);
    checkRecords(all);
    // the busiest shard is the one split later
    firstShard = sh.map((s) => s.shardId).sort((x, y) => state[y].records.length - state[x].records.length)[0];
    assert.ok(state[firstShard].records.length > 0);
    firstIterator = (await client.makeRequest('getShardIterator', { streamId, shardId: firstShard })).shardIterator;
    for (const s of Object.values(state)) assert.ok(s.next, 'open shard gives a next iterator when caught up');
    // caught up: an empty batch and an iterator again
    const again = await client.makeRequest('getStreamRecord', { shardIterator: state[firstShard].next, limit: 10 });
    assert.equal(again.streamRecords.length, 0);
    assert.ok(again.nextShardIterator);
    // seek by timestamp: the last record's commit time
    const last = all[all.length - 1];
    const lastShard = Object.values(state).find((s) => s.records.includes(last)).shard.shardId;
    // µs since the epoch fit a double exactly (< 2^53)
    const seek = await client.makeRequest('getShardIterator', { streamId, shardId: lastShard, timestamp: Number(last.row.seq.ts) });
    const fromSeek = await readShard(seek.shardIterator, 100);
    const want = state[lastShard].records.filter((x) => x.row.seq.ts >= last.row.seq.ts);
    assert.ok(want.length < state[lastShard].records.length, 'the seek skips older records');
    assert.deepEqual(fromSeek.records.map((x) => x.row.seq), want.map((x) => x.row.seq), 'seek lands on the first record at or after the time');
    await refused(client.makeRequest('getStreamRecord', { shardIterator: 'garbage', limit: 1 }), 400, 'OTSParameterInvalid');
  });

  it('splits and merges shards (parents closed, children with parent ids)', async () => {
    const [c1, c2] = (await emu.cmd('ots', `split ${TABLE} ${firstShard}`)).trim().split(' ');
    let sh = await shards(streamId);
    assert.equal(sh.length, 4);
    const byId = Object.fromEntries(sh.map((s) => [s.shardId, s]));
    assert.equal(byId[c1].parentId, firstShard);
    assert.equal(byId[c2].parentId, firstShard);
    // enough rows that both halves of the hash range get some
    for (let i = 0; i < 12; i++) {
      await write(() => client.putRow({ tableName: TABLE, condition: IGNORE(), primaryKey: pk('s' + i, i, [i]), attributeColumns: [{ v: Long.fromNumber(i) }] }),
        1, pkText('s' + i, i, [i]), [{ name: 'v', op: 'PUT', value: 'int:' + i }]);
    }
    const merged = (await emu.cmd('ots', `merge ${TABLE} ${c1} ${c2}`)).trim();
    sh = await shards(streamId);
    const m = sh.find((s) => s.shardId === merged);
    assert.equal(m.parentId, c1);
    assert.equal(m.parentSiblingId, c2);
    await write(() => client.putRow({ tableName: TABLE, condition: IGNORE(), primaryKey: pk('after', 0, []), attributeColumns: [{ v: 'm' }] }),
      1, pkText('after', 0, []), [{ name: 'v', op: 'PUT', value: 'str:m' }]);
    const { all, state } = await readAll(streamId);
    checkRecords(all);
    assert.equal(state[firstShard].next, null, 'closed parent read to its end has no next iterator');
    assert.equal(state[c1].next, null);
    assert.equal(state[c2].next, null);
    assert.ok(state[merged].next, 'open child continues');
    // the parent's records all precede its children's
    const parentLast = state[firstShard].records.at(-1).row.seq.ts;
    for (const c of [c1, c2]) for (const r of state[c].records) assert.ok(r.row.seq.ts > parentLast);
  });

  it('keeps tables, rows and streams across a restart', async () => {
    await emu.restart();
    assert.deepEqual((await client.listTable({})).tableNames, [TABLE]);
    const r = await client.getRow({ tableName: TABLE, primaryKey: pk('a', 1, [1]), maxVersions: 3, columnsToGet: ['s'] });
    assert.deepEqual(r.row.attributes.map((a) => a.columnValue), ['hello2']);
    const { all } = await readAll(streamId);
    checkRecords(all);
    // an iterator from before the restart still reads
    const old = await readShard(firstIterator, 100);
    assert.ok(old.records.length > 0);
  });

  it('keeps every acknowledged write across SIGKILL', async () => {
    await write(() => client.putRow({ tableName: TABLE, condition: IGNORE(), primaryKey: pk('kill', 1, []), attributeColumns: [{ v: 'durable' }] }),
      1, pkText('kill', 1, []), [{ name: 'v', op: 'PUT', value: 'str:durable' }]);
    await emu.crash();
    const r = await client.getRow({ tableName: TABLE, primaryKey: pk('kill', 1, []), maxVersions: 1 });
    assert.deepEqual(r.row.attributes.map((a) => a.columnValue), ['durable']);
    const { all } = await readAll(streamId);
    checkRecords(all);
  });

  it('trims records and refuses old iterators with OTSTrimmedDataAccess', async () => {
    const n = Number((await emu.cmd('ots', `trim ${TABLE} 0`)).trim());
    assert.equal(n, expected.length, 'every record was trimmed');
    await refused(client.makeRequest('getStreamRecord', { shardIterator: firstIterator, limit: 10 }), 400, 'OTSTrimmedDataAccess');
    const { all } = await readAll(streamId);
    assert.equal(all.length, 0);
  });

  it('disables and re-enables the stream with UpdateTable', async () => {
    const tableOptions = { timeToLive: -1, maxVersions: 3 };
    await client.updateTable({ tableName: TABLE, tableOptions, streamSpecification: { enableStream: false } });
    assert.equal((await client.makeRequest('listStream', { tableName: TABLE })).streams.length, 0);
    assert.equal((await client.describeTable({ tableName: TABLE })).streamDetails.enableStream, false);
    await client.updateTable({ tableName: TABLE, tableOptions, streamSpecification: { enableStream: true, expirationTime: 12 } });
    const ls = await client.makeRequest('listStream', { tableName: TABLE });
    assert.equal(ls.streams.length, 1);
    assert.notEqual(ls.streams[0].streamId, streamId, 'a new stream');
    expiration = 12;
    expected.length = 0;
    await write(() => client.deleteRow({ tableName: TABLE, condition: IGNORE(), primaryKey: pk('a', 1, [1]) }), 3, pkText('a', 1, [1]), []);
    const d = await client.makeRequest('describeStream', { streamId: ls.streams[0].streamId });
    assert.equal(d.expirationTime, 12);
    streamId = ls.streams[0].streamId;
    const { all } = await readAll(streamId);
    checkRecords(all);
  });

  it('refuses a wrong key, a tampered body and a stale date with the real codes', async () => {
    const body = Buffer.from(P.ListTableRequest.encode(P.ListTableRequest.create({})).finish());
    const body2 = Buffer.from(P.DescribeTableRequest.encode(P.DescribeTableRequest.create({ tableName: TABLE })).finish());
    const ok = await signedRequest(emu, 'DescribeTable', body2);
    assert.equal(ok.status, 200);
    checkResponseSignature(emu, 'DescribeTable', ok);
    const cases = [
      ['wrong key', await signedRequest(emu, 'DescribeTable', body2, { secret: 'not-the-secret' }), 'Signature mismatch.'],
      ['tampered body', await signedRequest(emu, 'DescribeTable', body2, { tamper: true }),
        'Mismatch between MD5 value of request body and x-ots-contentmd5 in header.'],
      ['stale date', await signedRequest(emu, 'ListTable', body, { date: new Date(Date.now() - 20 * 60000).toISOString() }), null],
    ];
    for (const [what, res, msg] of cases) {
      assert.equal(res.status, 403, what);
      const err = P.Error.decode(res.body);
      assert.equal(err.code, 'OTSAuthFailed', what);
      if (msg) assert.equal(err.message, msg, what);
      else assert.match(err.message, /^Mismatch between system time and x-ots-date: /, what);
      checkResponseSignature(emu, what === 'stale date' ? 'ListTable' : 'DescribeTable', res);
    }
    // and through the SDK: a client with the wrong secret
    const bad = new TableStore.Client({ accessKeyId: emu.accessKeyId, secretAccessKey: 'wrong', endpoint: emu.ots.endpoint,
      instancename: emu.ots.instance, maxRetries: 0 });
    await refused(bad.listTable({}), 403, 'OTSAuthFailed');
    const badId = new TableStore.Client({ accessKeyId: 'nobody', secretAccessKey: emu.accessKeySecret, endpoint: emu.ots.endpoint,
      instancename: emu.ots.instance, maxRetries: 0 });
    await refused(badId.listTable({}), 403, 'The AccessKeyID does not exist');
  });

  it('injects faults per operation (error, drop, reset, latency; fail next N)', async () => {
    await emu.fault('ots', 'op=ListTable,error=OTSServerBusy,count=1');
    await refused(client.listTable({}), 503, 'OTSServerBusy');
    assert.deepEqual((await client.listTable({})).tableNames, [TABLE], 'the fault expired after one request');
    // a dropped connection and a reply cut in the middle of its body
    await emu.fault('ots', 'op=DescribeTable,drop,count=1');
    await assert.rejects(client.describeTable({ tableName: TABLE }));
    // (the SDK never settles a cut reply, so this one is a raw request)
    await emu.fault('ots', 'op=DescribeTable,reset,count=1');
    const body = Buffer.from(P.DescribeTableRequest.encode(P.DescribeTableRequest.create({ tableName: TABLE })).finish());
    const cut = await signedRequest(emu, 'DescribeTable', body);
    assert.equal(cut.status, 200);
    assert.equal(cut.complete, false, 'the body was cut');
    assert.equal(cut.body.length, Math.floor(Number(cut.headers['content-length']) / 2));
    const whole = await signedRequest(emu, 'DescribeTable', body);
    assert.equal(whole.complete, true);
    assert.equal(whole.body.length, Number(whole.headers['content-length']));
    // added latency
    await emu.fault('ots', 'op=ListTable,latency=300,count=1');
    const t0 = Date.now();
    await client.listTable({});
    assert.ok(Date.now() - t0 >= 290, 'latency was added');
    const stats = await emu.stats('ots');
    assert.equal(stats['ots.faults'], 4);
    assert.ok(stats['ots.requests'] > 50);
  });

  it('configures the shard count per table (admin)', async () => {
    await emu.cmd('ots', 'shards conf_three 3');
    await client.createTable({
      tableMeta: { tableName: 'conf_three', primaryKey: [{ name: 'k', type: 'INTEGER' }] },
      reservedThroughput: { capacityUnit: { read: 0, write: 0 } }, tableOptions: { timeToLive: -1, maxVersions: 1 },
      streamSpecification: { enableStream: true, expirationTime: 1 },
    });
    const sid = (await client.makeRequest('listStream', { tableName: 'conf_three' })).streams[0].streamId;
    const d = await client.makeRequest('describeStream', { streamId: sid });
    assert.equal(d.shards.length, 3);
    assert.equal(d.expirationTime, 1);
    await client.deleteTable({ tableName: 'conf_three' });
  });

  it('deletes the table', async () => {
    await client.deleteTable({ tableName: TABLE });
    assert.deepEqual((await client.listTable({})).tableNames, []);
    await refused(client.getRow({ tableName: TABLE, primaryKey: pk('a', 1, [1]), maxVersions: 1 }), 404, 'OTSObjectNotExist');
  });
});
