/* SPDX-License-Identifier: MIT */
/*
 * test_difs_load.c - the pure parts of contrib/difs-load.c (compiled in
 * here without its main): mix and access-key parsing, argument table and
 * defaults, value sizing and alphabet, the seeded change generator (same
 * seed = same changes, unique keys per batch, update/delete only on rows
 * believed present) and the --record line format.
 */
#define LOAD_NO_MAIN
#include "../../contrib/difs-load.c"

#include "tap.h"

static void
test_mix(void)
{
	struct eng_errbuf eb = { "" };
	struct load_mix m;
	const char *s;

	s = "put=60,update=30,delete=10";
	is_rc(load_mix_parse(s, strlen(s), &m, &eb), 0, "default mix parses");
	ok(m.pct[LOAD_PUT] == 60 && m.pct[LOAD_UPDATE] == 30 && m.pct[LOAD_DELETE] == 10,
	    "mix values");
	s = "delete=50,put=50";
	is_rc(load_mix_parse(s, strlen(s), &m, &eb), 0, "any order, missing = 0");
	ok(m.pct[LOAD_UPDATE] == 0 && m.pct[LOAD_DELETE] == 50, "missing op is 0");
	s = "put=100";
	is_rc(load_mix_parse(s, strlen(s), &m, &eb), 0, "puts only");
	s = "put=60,update=30";
	is_rc(load_mix_parse(s, strlen(s), &m, &eb), ENG_EINVAL, "sum 90 refused");
	ok(strstr(eb.msg, "90") != NULL, "message names the sum: %s", eb.msg);
	s = "put=60,put=40";
	is_rc(load_mix_parse(s, strlen(s), &m, &eb), ENG_EINVAL, "op twice refused");
	s = "insert=100";
	is_rc(load_mix_parse(s, strlen(s), &m, &eb), ENG_EINVAL, "unknown op refused");
	ok(strstr(eb.msg, "insert") != NULL, "message names it: %s", eb.msg);
	s = "put=101";
	is_rc(load_mix_parse(s, strlen(s), &m, &eb), ENG_EINVAL, "percent > 100 refused");
	s = "put=-1,update=101";
	is_rc(load_mix_parse(s, strlen(s), &m, &eb), ENG_EINVAL, "negative refused");
	s = "put=100,";
	is_rc(load_mix_parse(s, strlen(s), &m, &eb), ENG_EINVAL, "trailing comma refused");
	s = "put";
	is_rc(load_mix_parse(s, strlen(s), &m, &eb), ENG_EINVAL, "no '=' refused");
	/* (buf, len): only len bytes are read */
	is_rc(load_mix_parse("put=100GARBAGE", 7, &m, &eb), 0, "length-bounded parse");
}

static void
test_access_key(void)
{
	char id[16], sec[16];

	is_rc(load_access_key_parse("ak:se:cr", id, sizeof(id), sec, sizeof(sec)), 0, "id:secret");
	is_str(id, "ak", "id");
	is_str(sec, "se:cr", "secret keeps later colons");
	is_rc(load_access_key_parse(":x", id, sizeof(id), sec, sizeof(sec)), ENG_EINVAL, "empty id");
	is_rc(load_access_key_parse("x:", id, sizeof(id), sec, sizeof(sec)), ENG_EINVAL, "empty secret");
	is_rc(load_access_key_parse("x", id, sizeof(id), sec, sizeof(sec)), ENG_EINVAL, "no colon");
	is_rc(load_access_key_parse("x:0123456789abcdef", id, sizeof(id), sec, sizeof(sec)),
	    ENG_EINVAL, "secret too long");
}

static void
test_args(void)
{
	char *argv1[] = { "difs-load", "--endpoint", "http://h:1", "--instance=i",
	    "--access-key", "a:b", "--table", "t", "--rate", "250", "--count", "10", NULL };
	char *argv2[] = { "difs-load", "--endpoint", "http://h:1", "--instance", "i",
	    "--access-key", "a:b", "--table", "t", "--duration", "1", "--count", "3", NULL };
	char *argv3[] = { "difs-load", "--bogus", NULL };
	char *argv4[] = { "difs-load", "--endpoint", "http://h:1", "--instance", "i",
	    "--access-key", "a:b", "--table", "t", "--shards", "4", NULL };
	char *argv5[] = { "difs-load", "--endpoint", "http://h:1", "--instance", "i",
	    "--access-key", "a:b", "--table", "t", "--keys", "5", "--pk", "integer", NULL };
	struct eng_errbuf eb = { "" };
	struct load_config c;
	struct load_args a;

	is_rc(load_args_parse(12, argv1, &a, &eb), 0, "args parse");
	is_rc(load_config_build(&a, &c, &eb), 0, "config builds");
	is_str(c.instance, "i", "--opt=value form");
	ok(c.rate == 250 && c.count == 10, "rate and count");
	is_int(c.batch, 25, "batch = rate/10");
	is_int(c.row_bytes, 200, "default row bytes");
	is_int(c.keys, 10000, "default keys");
	is_int(c.seed, 1, "default seed");
	ok(c.mix.pct[LOAD_PUT] == 60 && c.mix.pct[LOAD_DELETE] == 10, "default mix");
	is_str(c.ak_id, "a", "access key id");
	is_rc(load_args_parse(13, argv2, &a, &eb), 0, "args parse");
	is_rc(load_config_build(&a, &c, &eb), ENG_EINVAL, "--duration with --count refused");
	is_rc(load_args_parse(2, argv3, &a, &eb), ENG_EINVAL, "unknown option refused");
	ok(strstr(eb.msg, "bogus") != NULL, "message names it: %s", eb.msg);
	is_rc(load_args_parse(11, argv4, &a, &eb), 0, "args parse");
	is_rc(load_config_build(&a, &c, &eb), ENG_EINVAL, "--shards without --create refused");
	is_rc(load_args_parse(13, argv5, &a, &eb), 0, "args parse");
	is_rc(load_config_build(&a, &c, &eb), 0, "integer pk");
	ok(c.pk_int == 1, "pk integer");
	is_int(c.batch, 5, "batch capped by keys");
	ok(c.rate == 0, "unlimited rate by default");
}

static void
test_value(void)
{
	struct buf b;
	char uid[LOAD_UID_MAX];
	size_t ulen, i;
	int good = 1;

	ulen = load_uid_format(42, uid, sizeof(uid));
	is_str(uid, "u0000000042", "uid format");
	is_int(ulen, 11, "uid length");
	buf_init(&b, 4096);
	is_rc(load_value_format(7, 123, 200, ulen, &b), 0, "value");
	is_int(b.len + ulen + 3, 200, "CSV line of row-bytes");
	ok(strncmp(b.p, "s7n123-", 7) == 0, "value starts with seed and serial: %.12s", b.p);
	for (i = 0; i < b.len; i++)
		if (!((b.p[i] >= 'a' && b.p[i] <= 'z') || (b.p[i] >= '0' && b.p[i] <= '9') ||
		    b.p[i] == '-'))
			good = 0;
	ok(good, "only [a-z0-9-]");
	buf_reset(&b);
	is_rc(load_value_format(7, 123456789, 16, ulen, &b), 0, "small row-bytes");
	is_str(b.p, "s7n123456789-", "prefix kept even when longer than asked");
	buf_free(&b);
}

static void
test_gen(void)
{
	struct load_mix mix = { { 60, 30, 10 } };
	struct load_change ch[200], ch2[200];
	struct load_gen g, g2;
	uint64_t taken[200];
	size_t n, i, j;
	unsigned counts[LOAD_NOPS] = { 0, 0, 0 };
	int dup = 0, bad_target = 0, same = 1;
	uint64_t made = 0;
	uint8_t *shadow;

	is_rc(load_gen_init(&g, &mix, 0, 1), ENG_EINVAL, "0 keys refused");
	is_rc(load_gen_init(&g, &mix, 1000, 5), 0, "gen init");
	is_rc(load_gen_init(&g2, &mix, 1000, 5), 0, "gen init 2");
	shadow = calloc(1000, 1);
	for (int batch = 0; batch < 200; batch++) {
		for (n = 0; n < 100; n++) {
			int r1 = load_gen_next(&g, taken, n, &ch[n]);
			int r2 = load_gen_next(&g2, taken, n, &ch2[n]);

			if (r1 != r2 || (r1 == 0 && (ch2[n].key != ch[n].key ||
			    ch2[n].op != ch[n].op || ch2[n].serial != ch[n].serial)))
				same = 0;
			if (r1 != 0)
				break;
			taken[n] = ch[n].key;
			made++;
		}
		for (i = 0; i < n; i++) {
			for (j = 0; j < i; j++)
				if (ch[j].key == ch[i].key)
					dup = 1;
			if (ch[i].op != LOAD_PUT && !shadow[ch[i].key])
				bad_target = 1;
			counts[ch[i].op]++;
			shadow[ch[i].key] = ch[i].op != LOAD_DELETE;
			load_gen_apply(&g, &ch[i]);
			load_gen_apply(&g2, &ch2[i]);
		}
	}
	ok(same, "same seed gives the same changes");
	ok(!dup, "no key twice in a batch");
	ok(!bad_target, "updates and deletes only hit present rows");
	is_int(g.serial, made, "serials count every change");
	ok(made > 19900, "batches rarely end early (%llu of 20000)", (unsigned long long)made);
	ok(counts[LOAD_PUT] > 10000 && counts[LOAD_UPDATE] > 4500 && counts[LOAD_DELETE] > 1200,
	    "mix roughly kept: put %u update %u delete %u", counts[LOAD_PUT],
	    counts[LOAD_UPDATE], counts[LOAD_DELETE]);
	load_gen_fini(&g);
	load_gen_fini(&g2);
	/* a batch larger than the key space ends early instead of repeating a key */
	is_rc(load_gen_init(&g, &mix, 3, 1), 0, "gen init 3 keys");
	for (n = 0; n < 10; n++) {
		if (load_gen_next(&g, taken, n, &ch[n]) != 0)
			break;
		taken[n] = ch[n].key;
	}
	is_int(n, 3, "batch stops at the key space");
	load_gen_fini(&g);
	free(shadow);
}

static void
test_outcome(void)
{
	ok(load_outcome_unknown(ENG_ECONN), "connection failure: maybe applied");
	ok(load_outcome_unknown(-ETIMEDOUT), "timeout: maybe applied");
	ok(load_outcome_unknown(ENG_EPROTO), "malformed answer: maybe applied");
	ok(load_outcome_unknown(ENG_ERETRYABLE), "retryable service error left: maybe applied");
	ok(!load_outcome_unknown(ENG_ESIG), "signature refused: not applied");
	ok(!load_outcome_unknown(ENG_EREMOTE), "service error answer: not applied");
	ok(!load_outcome_unknown(ENG_ETHROTTLE), "throttled: not applied");
	ok(!load_outcome_unknown(ENG_EINVAL), "bad request: not applied");
}

static void
test_usage(void)
{
	char text[4096];
	FILE *fp = tmpfile();
	size_t n, i;
	int all = 1;

	if (!ok(fp != NULL, "tmpfile"))
		return;
	load_usage(fp);
	rewind(fp);
	n = fread(text, 1, sizeof(text) - 1, fp);
	text[n] = '\0';
	fclose(fp);
	for (i = 0; i < LOAD_NOPTS; i++) {
		char opt[64];

		snprintf(opt, sizeof(opt), "--%s", load_opts[i].name);
		if (strstr(text, opt) == NULL)
			all = 0;
	}
	ok(all, "usage lists every option");
}

static void
test_record(void)
{
	struct load_change c = { LOAD_UPDATE, 3, 9 };
	struct buf b;

	buf_init(&b, 4096);
	is_rc(load_record_line(&b, 17, 'c', &c, "u0000000003", "v", 100, 200), 0, "line");
	is_str(b.p, "17\tc\tupdate\tu0000000003\tv\t100\t200\n", "record line format");
	buf_reset(&b);
	c.op = LOAD_DELETE;
	is_rc(load_record_line(&b, 18, 'u', &c, "u0000000003", NULL, 1, 2), 0, "line");
	is_str(b.p, "18\tu\tdelete\tu0000000003\t-\t1\t2\n", "delete has '-' as value");
	buf_free(&b);
}

int
main(void)
{
	test_mix();
	test_access_key();
	test_args();
	test_value();
	test_gen();
	test_record();
	test_usage();
	test_outcome();
	return done_testing();
}
