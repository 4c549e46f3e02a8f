/* SPDX-License-Identifier: MIT */
/*
 * alert.h - delivering one alert of schedule.alert: run its command and/or
 * POST its webhook, and say what happened (for the instance log).
 *
 * The scheduler decides WHEN an alert fires (once per instance and event)
 * and calls alert_deliver on a thread of its own; this file only delivers.
 *
 * The command (schedule.alert.exec, an argv array, no shell) runs with the
 * daemon's environment plus the instance facts below, stdin /dev/null,
 * stdout and stderr captured (first ALERT_OUTPUT_MAX bytes) into the
 * report, and is killed (its process group) after o->exec_timeout_ms.
 *   DIFS_EVENT          failed | exhausted | timeout | skipped | unfinished_by
 *   DIFS_JOB, DIFS_CYCLE, DIFS_STATE, DIFS_REASON, DIFS_ERROR,
 *   DIFS_ATTEMPT, DIFS_ATTEMPTS_ALLOWED, DIFS_WINDOW_START, DIFS_WINDOW_END,
 *   DIFS_TIME (ISO 8601 of the event), DIFS_INSTANCE (path under the mount,
 *   "instances/JOB/CYCLE")
 * The webhook gets the same facts as one JSON object (keys: the names above
 * in lower case without DIFS_, "attempt"/"attempts_allowed" as numbers), as
 * POST with Content-Type application/json, TLS verified; a failure
 * (connection, 5xx, 429) is retried o->webhook_tries times in all with
 * backoff; any 2xx is delivered.
 */
#ifndef DIFS_ALERT_H
#define DIFS_ALERT_H

#include <stdint.h>

#include "buf.h"
#include "conf.h"

#define ALERT_OUTPUT_MAX	4096

struct alert_event {
	const char	*event;		/**< "failed", ... */
	const char	*job;
	const char	*cycle;
	const char	*state;
	const char	*reason;
	const char	*error;		/**< "" when none */
	int		 attempt;
	int		 attempts_allowed;
	const char	*window_start;	/**< ISO 8601 or "" */
	const char	*window_end;
	const char	*time;		/**< ISO 8601 of the event */
};

struct alert_opts {
	int		 exec_timeout_ms;	/**< 0: 30000 */
	int		 webhook_tries;		/**< 0: 3 */
	int		 webhook_backoff_ms;	/**< first retry delay; 0: 1000 */
	int		 webhook_timeout_ms;	/**< per request; 0: 10000 */
};

/**
 * alert_deliver - deliver ev through a's exec and webhook (either may be
 * absent).  Blocks until both are done.  Appends to report one line per
 * channel ("alert failed: exec /path: exit 0", "alert failed: webhook
 * http://...: 200 after 1 try", or the failure), then the command's output
 * indented.  No secret is in ev, so none reaches the report; the webhook
 * URL is shown without userinfo or query.  Returns 0 when every channel
 * delivered, ENG_EREMOTE (webhook) / ENG_EINVAL (exec could not start) /
 * -ETIMEDOUT (exec killed at the limit) otherwise, -ENOMEM.
 */
int	alert_deliver(const struct conf_alert *a, const struct alert_event *ev,
	    const struct alert_opts *o, struct buf *report);

#endif /* DIFS_ALERT_H */
