/* SPDX-License-Identifier: MIT */
/*
 * emu_harness.h - start and stop a difs-emu process for a test, and talk to
 * its admin endpoint (tests/lib/emu_harness.c).  Test code only: the product
 * never links it.
 *
 * th_emu_start makes a fresh directory under $TMPDIR (mkdtemp), runs
 * difs-emu on free loopback ports (127.0.0.1:0) with its data under
 * DIR/data, and reads the lines difs-emu prints once listening
 * ("ots URL instance=NAME", "oss URL", "ready") to learn the endpoints.
 * th_emu_stop sends SIGTERM, reaps the process and removes DIR with all a
 * test put in it.
 */
#ifndef DIFS_EMU_HARNESS_H
#define DIFS_EMU_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"

/** What to run.  Strings are borrowed for the call only. */
struct th_emu_opts {
	const char	*name;		/**< the test directory is $TMPDIR/NAME-XXXXXX
					     ($TMPDIR unset or empty: /tmp) */
	const char	*access_key;	/**< --access-key "ID:SECRET" */
	const char	*ots_instance;	/**< non-NULL: --ots on a free port, --instance */
	const char	*oss_bucket;	/**< non-NULL: --oss on a free port, --bucket */
	bool		 sync_off;	/**< --sync off */
	const char	*log_level;	/**< --log-level (NULL: difs-emu's default) */
};

/** A running difs-emu.  Zero it (or use TH_EMU_INIT) before th_emu_start. */
struct th_emu {
	pid_t	 pid;		/**< -1 when not running */
	char	 dir[160];	/**< the test's directory ("" when none) */
	char	 data[176];	/**< difs-emu's --data, DIR/data */
	char	 ots_url[128];	/**< "http://127.0.0.1:PORT" or "" */
	char	 oss_url[128];	/**< "http://127.0.0.1:PORT" or "" */
};

#define TH_EMU_INIT	{ -1, "", "", "", "" }

/**
 * th_emu_start - run exe with o and wait (20 s at most) for "ready".
 * The child gets SIGTERM when the test dies (no orphan).  Returns 0 when
 * difs-emu is ready with every asked-for service's URL known, -1 otherwise
 * (call th_emu_stop in either case).
 */
int	th_emu_start(struct th_emu *e, const char *exe, const struct th_emu_opts *o);
/** Stop difs-emu (SIGTERM, wait) and remove e->dir.  Safe to call twice. */
void	th_emu_stop(struct th_emu *e);

/**
 * th_emu_admin - one admin request to base (e->ots_url or e->oss_url):
 * POST base/_emu/PATH with body, or GET when body is NULL (unsigned; the
 * admin endpoint answers on loopback only).  The answer's body is appended
 * to out when out is not NULL.  Returns the HTTP status, or -1 when no
 * answer arrived.
 */
int	th_emu_admin(const char *base, const char *path, const char *body, struct buf *out);
/** th_emu_post - POST body to base/_emu/PATH; 0 when it answers 200, else -EIO. */
int	th_emu_post(const char *base, const char *path, const char *body);
/**
 * th_emu_stat - the counter NAME ("oss.faults") of GET base/_emu/stats,
 * which prints "NAME VALUE" pairs; -1 when absent or unreachable.
 */
long	th_emu_stat(const char *base, const char *name);

/** th_now_ms - the wall clock, ms since the epoch (difs-emu stamps stream records with it). */
int64_t	th_now_ms(void);
/** th_sleep_ms - sleep ms (nothing when ms <= 0). */
void	th_sleep_ms(int64_t ms);
/**
 * th_boundary - a whole second after every write so far (now + 200 ms,
 * rounded up), returned once it is 300 ms past: a stream window ending
 * there holds every earlier write and none of the later ones.
 */
int64_t	th_boundary(void);

/**
 * th_emu_main_start - a test's start: exit status 77 (skip, "1..0 # SKIP"
 * printed) when argv[1] is not an executable difs-emu; otherwise SIGPIPE
 * ignored and th_emu_start.  Returns 0 ready, 77 skip, or -1 when
 * difs-emu did not start (the caller reports it; call th_emu_stop).
 */
int	th_emu_main_start(struct th_emu *e, int argc, char **argv, const struct th_emu_opts *o);

#endif /* DIFS_EMU_HARNESS_H */
