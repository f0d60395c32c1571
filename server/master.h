/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * master: the supervising process of merpatid.
 *
 * It keeps root so that it can bind ports and re-read keys on SIGHUP, but it
 * parses no network input: it binds the listeners, forks the workers (which
 * drop privileges before serving) and restarts any that die, reloads on
 * SIGHUP by starting a new generation of workers and retiring the old one
 * gracefully, and on SIGTERM stops everything and exits 0.
 */
#ifndef MERPATI_MASTER_H
#define MERPATI_MASTER_H

#include "server/config.h"

/* Runs until SIGTERM/SIGINT; takes ownership of config. Returns the exit
   status (0 after a clean stop, 1 when start-up failed). */
int master_run(struct config *config, const char *config_path);

#endif
