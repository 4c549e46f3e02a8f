#!/usr/bin/env node
// SPDX-License-Identifier: MIT
//
// peer_export.js - the benchmark peer: the same export difs does (a window
// of a Table Store stream -> CSV objects in OSS, single_version_and_update_only
// over `uid,name`), written the way a user would without difs, in Node.js
// with the official SDKs:
//   - `tablestore` for the stream: it has no stream methods, so ListStream,
//     DescribeStream, GetShardIterator and GetStreamRecord are added by
//     patching its encoder/decoder lookups (contrib/doc/tablestore.md 6) and
//     sent with client.makeRequest (the SDK signs them);
//   - its PlainBuffer decoder cannot read stream records
//     (contrib/doc/tablestore.md 3.6), so the records are decoded by the small
//     decoder below (cell and row CRC-8 checked, as the SDKs and difs do);
//   - `ali-oss` multipart upload: initMultipartUpload, uploadPart of 8 MiB
//     parts, completeMultipartUpload; one object per shard, shards in
//     parallel (difs runs one channel per shard).
// Rows: PUT_ROW/UPDATE_ROW -> pk + put cells, one CSV line over the columns;
// DELETE_ROW skipped (DataX's row mode).  Records outside [start, end) ms are
// dropped.  Prints one JSON line: {records, lines, bytes, seconds, objects}.
//
//   node peer_export.js OTS_URL INSTANCE OSS_URL BUCKET ID SECRET TABLE START_MS END_MS PREFIX
'use strict';

const path = require('path');
const nm = path.join(__dirname, '..', 'conformance', 'node_modules');
const TableStore = require(path.join(nm, 'tablestore'));
const OSS = require(path.join(nm, 'ali-oss'));
const P = require(path.join(nm, 'tablestore', 'lib', 'protocol', 'tablestore_compiled_proto.js')).main.proto;

const [otsUrl, instance, ossUrl, bucket, id, secret, table, startS, endS, prefix] = process.argv.slice(2);
const startMs = Number(startS), endMs = Number(endS);
const PART = 8 << 20;
const COLUMNS = ['uid', 'name'];

// ---- stream operations through the SDK -------------------------------------
const S = {
	listStream: ['ListStreamRequest', 'ListStreamResponse'],
	describeStream: ['DescribeStreamRequest', 'DescribeStreamResponse'],
	getShardIterator: ['GetShardIteratorRequest', 'GetShardIteratorResponse'],
	getStreamRecord: ['GetStreamRecordRequest', 'GetStreamRecordResponse'],
};
const enc0 = TableStore.encoder.encode, dec0 = TableStore.decoder.decode;
TableStore.encoder.encode = (op, p) => (S[op] ? P[S[op][0]].create(p) : enc0(op, p));
TableStore.decoder.decode = (op, b) => (S[op] ? P[S[op][1]].decode(b) : dec0(op, b));

// ---- PlainBuffer stream-record decoder (contrib/doc/tablestore.md 3) --------
const CRC = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
	let x = i;
	for (let k = 0; k < 8; k++)
		x = ((x << 1) ^ (x & 0x80 ? 0x07 : 0)) & 0xff;
	CRC[i] = x;
}
const crcBytes = (c, b, s, e) => { for (let i = s; i < e; i++) c = CRC[(c ^ b[i]) & 0xff]; return c; };

function decodeRecord(buf) {
	// -> { pk: {name: value}, cells: [{name, value, op}], ts }
	let p = 0;
	const u32 = () => { const v = buf.readUInt32LE(p); p += 4; return v; };
	if (u32() !== 0x75)
		throw new Error('bad PlainBuffer header');
	const row = { pk: {}, cells: [], ts: 0 };
	let rowCrc = 0, deleted = 0, section = 0;
	while (p < buf.length) {
		const tag = buf[p++];
		if (tag === 0x01) { section = 1; continue; }
		if (tag === 0x02) { section = 2; continue; }
		if (tag === 0x03) {
			let name = null, value = null, op = 0, c = 0, vt = -1, tsHi = null;
			while (p < buf.length) {
				const t = buf[p++];
				if (t === 0x04) {
					const n = u32();
					name = buf.toString('utf8', p, p + n);
					c = crcBytes(c, buf, p, p + n);
					p += n;
				} else if (t === 0x05) {
					const n = u32(), s = p;
					vt = buf[p];
					if (vt === 0x03 || vt === 0x07) {
						const m = buf.readUInt32LE(p + 1);
						value = vt === 0x03 ? buf.toString('utf8', p + 5, p + 5 + m) : buf.subarray(p + 5, p + 5 + m);
					} else if (vt === 0x00) {
						value = buf.readBigInt64LE(p + 1);
					} else if (vt === 0x01) {
						value = buf.readDoubleLE(p + 1);
					} else if (vt === 0x02) {
						value = buf[p + 1] !== 0;
					}
					c = crcBytes(c, buf, s, s + n);	// type byte + payload as on the wire
					p = s + n;
				} else if (t === 0x06) {
					op = buf[p++];
				} else if (t === 0x07) {
					tsHi = p;
					p += 8;
				} else if (t === 0x0A) {
					if (tsHi !== null)
						c = crcBytes(c, buf, tsHi, tsHi + 8);
					if (op !== 0)
						c = CRC[(c ^ op) & 0xff];
					if (buf[p++] !== c)
						throw new Error(`cell checksum mismatch (${name})`);
					break;
				} else {
					throw new Error(`unexpected tag ${t} in a cell`);
				}
			}
			rowCrc = CRC[(rowCrc ^ c) & 0xff];
			if (section === 1)
				row.pk[name] = value;
			else
				row.cells.push({ name, value, op });
			continue;
		}
		if (tag === 0x08) { deleted = 1; continue; }
		if (tag === 0x0B) {
			const n = u32(), end = p + n;
			while (p < end) {
				const t = buf[p++], m = u32();
				if (t === 0x0C) {
					// 0x0D epoch, 0x0E ts (µs), 0x0F row index
					row.ts = Number(buf.readBigInt64LE(p + 5 + 1));
				}
				p += m;
			}
			continue;
		}
		if (tag === 0x09) {
			rowCrc = CRC[(rowCrc ^ deleted) & 0xff];
			if (buf[p++] !== rowCrc)
				throw new Error('row checksum mismatch');
			return row;
		}
		throw new Error(`unexpected tag ${tag}`);
	}
	throw new Error('truncated PlainBuffer');
}

// DataX csv rules for a field (values here never need more than this)
function csvField(v, first) {
	if (v === null || v === undefined)
		return 'null';
	let s = typeof v === 'string' ? v.trim() : String(v);
	if (/[",\r\n]/.test(s) || (first && (s === '' || s[0] === '#')))
		s = '"' + s.replace(/"/g, '""') + '"';
	return s;
}

async function exportShard(ots, oss, streamId, shardId, idx, stats) {
	const name = `${prefix}__peer_${idx}`;
	const up = await oss.initMultipartUpload(name);
	const parts = [];
	let chunks = [], size = 0;
	const flush = async (force) => {
		if (size === 0 || (!force && size < PART))
			return;
		const body = Buffer.concat(chunks, size);
		chunks = [];
		size = 0;
		const r = await oss.uploadPart(name, up.uploadId, parts.length + 1, body, 0, body.length);
		parts.push({ number: parts.length + 1, etag: r.etag });
		stats.bytes += body.length;
	};
	let it = (await ots.makeRequest('getShardIterator', { streamId, shardId })).shardIterator;
	for (;;) {
		const r = await ots.makeRequest('getStreamRecord', { shardIterator: it });
		const recs = r.streamRecords || [];
		let past = false;
		for (const rec of recs) {
			const row = decodeRecord(Buffer.from(rec.record));
			const ms = Math.floor(row.ts / 1000);
			if (ms < startMs)
				continue;
			if (ms >= endMs) {
				past = true;
				break;
			}
			stats.records++;
			if (rec.actionType === 3)	// DELETE_ROW
				continue;
			const m = Object.assign({}, row.pk);
			for (const c of row.cells)
				if (c.op === 0)
					m[c.name] = c.value;
			if (!COLUMNS.some((k) => k in m))
				continue;
			const line = COLUMNS.map((k, i) => csvField(k in m ? m[k] : null, i === 0)).join(',') + '\n';
			const b = Buffer.from(line);
			chunks.push(b);
			size += b.length;
			stats.lines++;
			await flush(false);
		}
		if (past || recs.length === 0 || !r.nextShardIterator)
			break;
		it = r.nextShardIterator;
	}
	await flush(true);
	if (parts.length === 0) {
		await oss.abortMultipartUpload(name, up.uploadId);
		return;
	}
	await oss.completeMultipartUpload(name, up.uploadId, parts);
	stats.objects++;
}

async function main() {
	const t0 = process.hrtime.bigint();
	const mk = () => new TableStore.Client({ accessKeyId: id, secretAccessKey: secret,
		endpoint: otsUrl, instancename: instance, maxRetries: 3 });
	const mkOss = () => new OSS({ accessKeyId: id, accessKeySecret: secret, bucket,
		endpoint: ossUrl, region: 'oss-cn-hangzhou', secure: false, timeout: 600000 });
	const ots = mk();
	const ls = await ots.makeRequest('listStream', { tableName: table });
	const ds = await ots.makeRequest('describeStream', { streamId: ls.streams[0].streamId });
	const stats = { records: 0, lines: 0, bytes: 0, objects: 0 };
	await Promise.all(ds.shards.map((s, i) => exportShard(mk(), mkOss(), ds.streamId, s.shardId, i, stats)));
	const secs = Number(process.hrtime.bigint() - t0) / 1e9;
	console.log(JSON.stringify({ ...stats, seconds: secs, shards: ds.shards.length }));
}

main().catch((e) => { console.error('peer_export:', e && e.stack ? e.stack : e); process.exit(1); });
