/* SPDX-License-Identifier: MIT */
/*
 * cli.h - the difs subcommands that need no mount (check, params, run)
 * and edit, which edits a mount's definition through the mount.
 * Each takes argv with argv[0] == the subcommand name and returns the
 * process exit status: 0 success, 1 failure/invalid files, 2 usage error.
 */
#ifndef DIFS_CLI_H
#define DIFS_CLI_H

int	cli_check(int argc, char **argv);
int	cli_params(int argc, char **argv);
int	cli_run(int argc, char **argv);
int	cli_edit(int argc, char **argv);
/* cli_backup.c: copies of the state store (work while a mount runs) */
int	cli_backup(int argc, char **argv);
int	cli_restore(int argc, char **argv);

#endif /* DIFS_CLI_H */
