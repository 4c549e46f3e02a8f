/* SPDX-License-Identifier: MIT */
/*
 * loopback.h - small helpers for tests that talk to servers on 127.0.0.1
 * (tests/lib/loopback.c).  Test code only.
 */
#ifndef DIFS_LOOPBACK_H
#define DIFS_LOOPBACK_H

#include <stdint.h>

/**
 * loopback_free_port - a TCP port on 127.0.0.1 that nobody listens on
 * (bound to port 0, read back, closed), for "connection refused" cases.
 * 0 when no socket could be bound.
 */
uint16_t	loopback_free_port(void);

#endif /* DIFS_LOOPBACK_H */
