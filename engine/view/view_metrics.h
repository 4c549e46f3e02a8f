/* SPDX-License-Identifier: MIT */
/*
 * view_metrics.h - MOUNT/metrics and `difs mount --metrics`: the
 * scheduler's figures (sched_metrics_get) and the daemon's own in the
 * Prometheus text exposition format 0.0.4.  Every metric is documented in
 * README.md ("Metrics"); a name or label change is a format change.
 *
 * The renderer is a pure function of its two inputs (no clock, no /proc),
 * so the unit test (tests/unit/test_metrics.c) pins its bytes and the mount
 * can tell whether the figures changed by rendering again.
 */
#ifndef DIFS_VIEW_METRICS_H
#define DIFS_VIEW_METRICS_H

#include <stdint.h>

#include "buf.h"
#include "scheduler.h"

/** The daemon process's figures (view_proc_get). */
struct view_proc {
	int64_t		 rss_bytes;	/**< resident set size; < 0: unknown (left out) */
	int64_t		 open_fds;	/**< < 0: unknown (left out) */
	int64_t		 max_fds;	/**< soft RLIMIT_NOFILE; < 0: unknown */
	int64_t		 start_ms;	/**< when the daemon started (ms since the epoch) */
	const char	*version;	/**< difs_build_info's label */
};

/** view_proc_get - this process's figures now (/proc/self); start_ms given. */
void	view_proc_get(struct view_proc *p, int64_t start_ms);

/**
 * view_metrics_render - m and p as Prometheus text, appended to out:
 * "# HELP" and "# TYPE" for every family (also one without samples), the
 * families in a fixed order, each job's samples in m's (name) order with
 * the label job_name, label values escaped.  Time spans (freshness lag)
 * are measured at m->now_ms.  0, or out's error (-ENOMEM, -E2BIG).
 */
int	view_metrics_render(const struct sched_metrics *m, const struct view_proc *p,
	    struct buf *out);

/** view_prom_label - s as a label value's inside: \ " and newline escaped,
 *  a byte that is not UTF-8 replaced by U+FFFD. */
int	view_prom_label(struct buf *out, const char *s);

/** view_prom_double - v as a sample value: shortest exact decimal, NaN, +Inf, -Inf. */
int	view_prom_double(struct buf *out, double v);

#endif /* DIFS_VIEW_METRICS_H */
