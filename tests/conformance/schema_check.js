#!/usr/bin/env node
// SPDX-License-Identifier: MIT
//
// schema_check.js - contrib/schema/{job,source}.schema.json (JSON Schema
// draft 2020-12, for editors) against difs' own validator, with Ajv:
//
//   node tests/conformance/schema_check.js SOURCE_ROOT
//
//   1. both schemas compile in Ajv's strict mode;
//   2. every key of every key table of the C validator (engine/conf/conf_job.c,
//      conf_plugin.c, conf_source.c: `static const struct conf_key X[]`) is
//      a property at the matching place of the schema, and the schema has
//      no key the validator does not know (drift check both ways);
//   3. contrib/examples/*.json validate;
//   4. every tests/golden/cases/*.json that `difs check` accepts (its .out
//      has no "error:") validates, and structural errors that `difs check`
//      reports (unknown keys, wrong plugin, missing required key, bad enum)
//      are rejected by the schema too.
// TAP output.  Exit 77 (skip) when ajv is not installed (npm ci here).
'use strict';

const fs = require('fs');
const path = require('path');

let Ajv2020;
try {
	Ajv2020 = require('ajv/dist/2020');
} catch (e) {
	console.log('1..0 # SKIP ajv not installed (run npm ci in tests/conformance)');
	process.exit(77);
}

const root = process.argv[2] || path.join(__dirname, '..', '..');
let n = 0, failed = 0;
function ok(cond, name, diag) {
	n++;
	console.log(`${cond ? 'ok' : 'not ok'} ${n} - ${name}`);
	if (!cond) {
		failed++;
		if (diag)
			console.log(String(diag).split('\n').map((l) => '#   ' + l).join('\n'));
	}
	return cond;
}

const read = (p) => fs.readFileSync(path.join(root, p), 'utf8');
const jobSchema = JSON.parse(read('contrib/schema/job.schema.json'));
const srcSchema = JSON.parse(read('contrib/schema/source.schema.json'));

const ajv = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true,
	strictRequired: false });
let vJob, vSrc;
try {
	vJob = ajv.compile(jobSchema);
	vSrc = ajv.compile(srcSchema);
	ok(true, 'schemas compile (strict)');
} catch (e) {
	ok(false, 'schemas compile (strict)', e.message);
	console.log(`1..${n}`);
	process.exit(1);
}

// ---- 2. key tables of the C validator vs schema properties ----------------
function cTables(file) {
	const src = read(file), out = {};
	const re = /static const struct conf_key (\w+)\[\] = \{([\s\S]*?)\n\};/g;
	let m;
	while ((m = re.exec(src)) !== null) {
		const keys = [];
		const kre = /\{\s*"([^"]+)",\s*VT_/g;
		let k;
		while ((k = kre.exec(m[2])) !== null)
			keys.push(k[1]);
		out[m[1]] = keys;
	}
	return out;
}
const jd = jobSchema.$defs, sd = srcSchema.$defs;
const props = (o) => Object.keys(o.properties || {}).sort();
const map = [
	['engine/conf/conf_job.c', 'top_keys', jobSchema],
	['engine/conf/conf_job.c', 'configuration_keys', jd.configuration],
	['engine/conf/conf_job.c', 'setting_keys', jd.setting],
	['engine/conf/conf_job.c', 'errorlimit_keys', jd.setting.properties.errorLimit],
	['engine/conf/conf_job.c', 'speed_keys', jd.setting.properties.speed],
	['engine/conf/conf_job.c', 'plugin_keys', jd.reader],
	['engine/conf/conf_job.c', 'plugin_keys', jd.writer],
	['engine/conf/conf_job.c', 'schedule_keys', jd.schedule],
	['engine/conf/conf_job.c', 'rerun_keys', jd.schedule.properties.rerun],
	['engine/conf/conf_job.c', 'dep_keys', jd.schedule.properties.dependsOn.items],
	['engine/conf/conf_job.c', 'alert_keys', jd.schedule.properties.alert],
	['engine/conf/conf_plugin.c', 'otsstream_keys', jd.otsstream],
	['engine/conf/conf_plugin.c', 'otscol_keys', jd.otsstream.properties.column.items],
	['engine/conf/conf_plugin.c', 'stream_keys', jd.stream],
	['engine/conf/conf_plugin.c', 'streamcol_keys', jd.stream.properties.column.items],
	['engine/conf/conf_plugin.c', 'oss_keys', jd.oss],
	['engine/conf/conf_plugin.c', 'txtfile_keys', jd.txtfile],
	['engine/conf/conf_source.c', 'ots_keys', sd.ots],
	['engine/conf/conf_source.c', 'oss_keys', sd.oss],
];
const tables = {};
for (const [file, table, node] of map) {
	tables[file] = tables[file] || cTables(file);
	const c = (tables[file][table] || []).slice().sort();
	const s = props(node);
	ok(c.length > 0 && JSON.stringify(c) === JSON.stringify(s),
		`${file} ${table} == schema properties (${c.length} keys)`,
		`validator only: ${c.filter((k) => !s.includes(k)).join(', ') || '-'}\n` +
		`schema only: ${s.filter((k) => !c.includes(k)).join(', ') || '-'}`);
}

// ---- 3. examples -----------------------------------------------------------
function validate(doc) {
	const v = doc && doc.type === 'job' ? vJob : vSrc;
	const good = v(doc);
	return { good, errors: ajv.errorsText(v.errors, { separator: '\n' }) };
}
const exdir = 'contrib/examples';
for (const f of fs.readdirSync(path.join(root, exdir)).filter((x) => x.endsWith('.json')).sort()) {
	const r = validate(JSON.parse(read(path.join(exdir, f))));
	ok(r.good, `${exdir}/${f} validates`, r.errors);
}

// ---- 4. golden cases -------------------------------------------------------
// difs check errors that are structural, so the schema must reject them too
const mustReject = [
	'job-unknown-top-key', 'job-type-wrong', 'job-missing-configuration',
	'job-reader-unknown-plugin', 'job-writer-unknown-plugin', 'job-setting-unknown-keys',
	'ots-missing-required', 'ots-column-entry-bad', 'ots-mode-bad', 'oss-fileformat-bad',
	'oss-writemode-bad', 'oss-writemode-unknown', 'oss-compress', 'schedule-ops-bad',
];
const gdir = 'tests/golden/cases';
let accepted = 0, rejectedToo = 0, withErrors = 0;
for (const f of fs.readdirSync(path.join(root, gdir)).filter((x) => x.endsWith('.json')).sort()) {
	const base = f.slice(0, -5);
	let doc, out = '';
	try {
		doc = JSON.parse(read(path.join(gdir, f)));
	} catch (e) {
		continue;	// not plain JSON (comments, syntax-error cases)
	}
	try {
		out = read(path.join(gdir, base + '.out'));
	} catch (e) {
		continue;
	}
	if (doc === null || typeof doc !== 'object' || Array.isArray(doc))
		continue;
	const r = validate(doc);
	if (!/: error: /.test(out)) {
		accepted++;
		ok(r.good, `golden ${base}: accepted by difs check, valid for the schema`, r.errors);
	} else {
		withErrors++;
		if (!r.good)
			rejectedToo++;
		if (mustReject.includes(base))
			ok(!r.good, `golden ${base}: rejected by difs check and by the schema`);
	}
}
ok(accepted >= 3, `golden cases accepted by difs check were checked (${accepted})`);
console.log(`# golden cases with difs check errors: ${withErrors}, also rejected by the schema: ${rejectedToo}`);

// ---- 5. a few direct negative cases -----------------------------------------
const seed = JSON.parse(read('contrib/examples/seed-job.json'));
const clone = () => JSON.parse(JSON.stringify(seed));
let d = clone();
d.configuration.reader.parameter.dataTabel = 'x';
ok(!validate(d).good, 'misspelt reader key rejected');
d = clone();
d.schedule.cycle = '5s';
ok(!validate(d).good, 'cycle in seconds rejected');
d = clone();
d.configuration.writer.parameter.writeMode = 'overwrite';
ok(!validate(d).good, 'unknown writeMode rejected');
d = clone();
d.schedule.params['bad-name'] = 'x';
ok(!validate(d).good, 'parameter name with "-" rejected');
d = clone();
d.configuration.reader.parameter.safetyMarginSeconds = 30;
ok(validate(d).good, 'safetyMarginSeconds accepted');
d = clone();
d.schedule.catchup = 'all';
d.schedule.dependsOn = [{ job: 'orders' }, { job: 'users', cycle: 'latest' }];
d.schedule.alert = { on: ['exhausted', 'skipped'], exec: ['/usr/local/bin/page', 'data'] };
ok(validate(d).good, 'catchup "all", dependsOn and alert accepted', validate(d).errors);
d.schedule.dependsOn[1].cycle = 'previous';
ok(!validate(d).good, 'dependsOn cycle other than same/latest rejected');
d = clone();
d.schedule.dependsOn = [{ job: 'orders.json' }];
ok(!validate(d).good, 'dependsOn job written as a file name rejected');
d = clone();
d.schedule.alert = { on: ['failed'] };
ok(!validate(d).good, 'alert without exec or webhook rejected');
d.schedule.alert = { on: ['late'], webhook: 'https://h/x' };
ok(!validate(d).good, 'unknown alert event rejected');
d.schedule.alert = { on: ['failed'], webhook: 'https://h/a b' };
ok(!validate(d).good, 'webhook with a space rejected');
ok(!validate({ type: 'oss', endpoint: 'http://h', bucket: 'B', accessId: 'a', accessKey: 'k' }).good,
	'invalid bucket name rejected');
ok(!validate({ type: 'ots', endpoint: 'http://h', instanceName: 'i', accessId: 'a' }).good,
	'source without accessKey rejected');

console.log(`1..${n}`);
process.exit(failed ? 1 : 0);
