/* SPDX-License-Identifier: MIT */
/*
 * cli_i.h - helpers shared by the subcommands of cli.h (defined in cli.c).
 */
#ifndef DIFS_CLI_I_H
#define DIFS_CLI_I_H

#include "buf.h"
#include "conf.h"

/** Append the whole file at path to b (b's limit applies: -E2BIG).  0 or -errno. */
int	cli_read(const char *path, struct buf *b);
/** The same from fd's current offset to its end (fd stays open). */
int	cli_read_fd(int fd, struct buf *b);
/** Print d's diagnostics as FILE:LINE:COL lines naming file, to stderr. */
void	cli_print_diags(const struct conf_diags *d, const char *file);

#endif /* DIFS_CLI_I_H */
