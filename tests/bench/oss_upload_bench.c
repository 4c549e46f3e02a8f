/* SPDX-License-Identifier: MIT */
/*
 * oss_upload_bench.c - push a generated stream through oss_upload (the
 * writers' streaming multipart API) and report throughput and peak RSS.
 * Driven by tests/bench/oss_upload_rss.sh against difs-emu.
 *
 *   oss_upload_bench ENDPOINT BUCKET ID:SECRET KEY SIZE_MIB PART_KIB PARALLEL
 *
 * Prints "key value" lines: bytes, seconds, mib_per_s, peak_rss_kib,
 * buffer_bound_kib (= parallel x part size), crc_ok.  Exit 0 when the upload
 * succeeded and the stored object's CRC-64 equals the stream's.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "crc64.h"
#include "oss.h"

static int
parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

int
main(int argc, char **argv)
{
	struct oss_config cfg;
	struct oss *oss = NULL;
	struct oss_upload *up = NULL;
	struct oss_put_result pr;
	struct oss_head h;
	struct oss_error e;
	struct sign_cred *cred = NULL;
	struct eng_errbuf eb;
	struct timespec t0, t1;
	struct rusage ru;
	uint64_t size_mib, part_kib, par, total, done = 0, crc = 0, x = 0x9E3779B97F4A7C15ULL;
	static uint64_t chunk[8192];	/* 64 KiB */
	char id[128], line[600], *colon;
	double secs;
	int rc;

	if (argc != 8 || parse_u64(argv[5], &size_mib) != 0 ||
	    parse_u64(argv[6], &part_kib) != 0 || parse_u64(argv[7], &par) != 0) {
		fprintf(stderr, "usage: %s ENDPOINT BUCKET ID:SECRET KEY SIZE_MIB PART_KIB PARALLEL\n",
		    argv[0]);
		return 2;
	}
	snprintf(id, sizeof(id), "%s", argv[3]);
	if ((colon = strchr(id, ':')) == NULL)
		return 2;
	*colon = '\0';
	if (sign_cred_new(id, colon + 1, NULL, &cred) != 0)
		return 1;
	oss_config_defaults(&cfg);
	cfg.endpoint = argv[1];
	cfg.bucket = argv[2];
	cfg.cred = cred;
	cfg.part_size = part_kib << 10;
	cfg.parallel = (unsigned)par;
	if ((rc = oss_new(&cfg, &oss, &eb)) != 0) {
		fprintf(stderr, "oss_new: %s\n", eb.msg);
		return 1;
	}
	total = size_mib << 20;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((rc = oss_upload_new(oss, argv[4], NULL, &up)) != 0)
		return 1;
	while (done < total) {
		size_t n = sizeof(chunk), i;

		if (total - done < n)
			n = (size_t)(total - done);
		for (i = 0; i < sizeof(chunk) / sizeof(chunk[0]); i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			chunk[i] = x;
		}
		crc = crc64_update(crc, chunk, n);
		if ((rc = oss_upload_write(up, chunk, n)) != 0)
			break;
		done += n;
	}
	if (rc == 0)
		rc = oss_upload_finish(up, &pr);
	if (rc != 0) {
		oss_error_format(oss_upload_error(up), line, sizeof(line));
		fprintf(stderr, "upload failed: %s\n", line);
		oss_upload_free(up);
		return 1;
	}
	oss_upload_free(up);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	getrusage(RUSAGE_SELF, &ru);
	rc = oss_head(oss, argv[4], &h, &e);
	printf("bytes %" PRIu64 "\n", total);
	printf("seconds %.2f\n", secs);
	printf("mib_per_s %.1f\n", secs > 0 ? (double)size_mib / secs : 0.0);
	printf("peak_rss_kib %ld\n", ru.ru_maxrss);
	printf("buffer_bound_kib %" PRIu64 "\n", par * part_kib);
	printf("crc_ok %d\n", rc == 0 && h.crc64 == crc && pr.crc64 == crc && h.size == total);
	(void)oss_delete(oss, argv[4], NULL);
	oss_free(oss);
	sign_cred_free(cred);
	return rc == 0 && h.crc64 == crc ? 0 : 1;
}
