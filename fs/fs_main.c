/* SPDX-License-Identifier: MIT */
/*
 * fs_main.c - the difs command: argv -> subcommand.
 *
 * Subcommands come from one table (name, handler, synopsis).  Only this file
 * and the rest of fs/ may die on startup errors; the engine never exits.
 * Every command may hold secrets (sources, --param-file, the store key), so
 * the process is made non-dumpable first (sys_harden: no core dump, no
 * ptrace or /proc/PID/{mem,environ,maps} for other processes of the user).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "fs_mount.h"
#include "sys.h"

struct fs_cmd {
	const char	*name;
	int		(*run)(int argc, char **argv);
	const char	*synopsis;
};

static const struct fs_cmd fs_cmds[] = {
	{ "mount",  fs_mount_cmd, "mount MOUNTPOINT [--state DIR] [-f|--foreground] [-o OPTIONS]\n"
	                        "                [--allow-other] [--workers N] [--metrics [ADDR:]PORT]\n"
	                        "                                mount sources/, jobs/, instances/" },
	{ "check",  cli_check,  "check [--state DIR] FILE...   validate job and source files" },
	{ "params", cli_params, "params JOB --cycle YYYYMMDDHHMMSS [--state DIR] [SOURCE...]\n"
	                        "                                print resolved parameters and job" },
	{ "run",    cli_run,    "run JOB.json [-p name=value]... [--param-file FILE]...\n"
	                        "                [--cycle YYYYMMDDHHMMSS] [--source FILE]... [--state DIR]\n"
	                        "                                run one instance now, log to stderr" },
	{ "edit",   cli_edit,   "edit MOUNT/jobs/NAME.json | MOUNT/sources/NAME.json\n"
	                        "                                edit with $EDITOR, install when valid" },
	{ "backup", cli_backup, "backup [--state DIR] [--force] FILE|-\n"
	                        "                                consistent copy of the state (mount may run)" },
	{ "restore", cli_restore, "restore FILE|- [--state DIR]  a backup into a new or empty state dir" },
};

static void
fs_usage(FILE *fp)
{
	size_t i;

	fprintf(fp,
	    "usage: difs COMMAND [ARGS]\n"
	    "\n"
	    "difs turns DataWorks-style Data Integration into a filesystem.\n"
	    "\n"
	    "commands:\n");
	for (i = 0; i < sizeof(fs_cmds) / sizeof(fs_cmds[0]); i++)
		fprintf(fp, "  difs %s\n", fs_cmds[i].synopsis);
	fprintf(fp,
	    "  difs --help                   this text\n"
	    "  difs --version                print the version\n"
	    "\n"
	    "See difs(1) and README.md.\n");
}

int
main(int argc, char **argv)
{
	size_t i;

	if (sys_harden() != 0)
		fprintf(stderr, "difs: warning: cannot make the process non-dumpable: %s\n",
		    strerror(errno));
	if (argc < 2) {
		fs_usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fs_usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		printf("difs %s\n", DIFS_VERSION);
		return 0;
	}
	for (i = 0; i < sizeof(fs_cmds) / sizeof(fs_cmds[0]); i++)
		if (strcmp(argv[1], fs_cmds[i].name) == 0)
			return fs_cmds[i].run(argc - 1, argv + 1);
	fprintf(stderr, "difs: unknown command '%s' (see difs --help)\n", argv[1]);
	return 2;
}
