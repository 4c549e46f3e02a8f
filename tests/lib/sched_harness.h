/* SPDX-License-Identifier: MIT */
/*
 * sched_harness.h - what scheduler tests share (tests/lib/sched_harness.c):
 * a fake clock, a job from JSON text with its diagnostics printed, an
 * instance record, counts by state, and reading a log.  Test code only.
 */
#ifndef DIFS_SCHED_HARNESS_H
#define DIFS_SCHED_HARNESS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "conf.h"
#include "inst.h"
#include "scheduler.h"
#include "store.h"

/** The fake clock (ms): sh_clock for sched_config.now_ms. */
extern atomic_llong sh_now;
int64_t	sh_clock(void *arg);

/** A job from printf-formatted JSON (NULL, diagnostics printed, when invalid). */
struct conf_job *sh_job(const char *name, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/** A source from JSON (NULL when invalid). */
struct conf_source *sh_source(const char *name, const char *json);
/** The record of job/cycle into in (re-initialized): sched_instance_get's rc. */
int	sh_get(struct sched *s, const char *job, const char *cycle, struct inst *in);
/** Records of job in state st (-1: all). */
int	sh_count(struct store *st, const char *job, int state);
/** The log of job/cycle (cycle NULL: the job's) into out (reset first). */
int	sh_log(struct store *st, const char *job, const char *cycle, struct buf *out);
/** True when the log has needle (else the log is printed as a diagnostic). */
bool	sh_log_has(struct store *st, const char *job, const char *cycle, const char *needle);
/** The cycle id of UTC second t in zone name ("" when it fails). */
const char *sh_cycle(int64_t t, const char *zone, char out[16]);
/** Step and wait for the runs it started (timeout 30 s). */
void	sh_step_idle(struct sched *s);

#endif /* DIFS_SCHED_HARNESS_H */
