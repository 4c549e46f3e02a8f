/* SPDX-License-Identifier: MIT */
/*
 * fs_mount.h - the `difs mount` subcommand (fs/fs_mount.c).  Declared apart
 * from fs_i.h so that fs_main.c needs no FUSE header.
 */
#ifndef DIFS_FS_MOUNT_H
#define DIFS_FS_MOUNT_H

/**
 * fs_mount_cmd - difs mount MOUNTPOINT [--state DIR] [-f|--foreground]
 * [-o OPTIONS] [--allow-other] [--workers N] [--metrics [ADDR:]PORT].  argv[0] is "mount".  Returns the exit
 * status: 0 after a clean unmount, 1 when the mount failed or the daemon
 * could not start (message on stderr), 2 for a usage error.
 */
int	fs_mount_cmd(int argc, char **argv);

#endif /* DIFS_FS_MOUNT_H */
