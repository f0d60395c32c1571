/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "server/master.h"

#include "auth/auth_server.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "server/auth_glue.h"
#include "server/config_check.h"
#include "server/ipcount.h"
#include "server/listener.h"
#include "server/sdnotify.h"
#include "server/tls.h"
#include "server/worker.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MASTER_STOP_SECONDS 5
#define MASTER_MAX_WORKERS 64
/* a failed or crash-looping auth helper is retried after 1, 2, 4 ... s */
#define MASTER_AUTH_BACKOFF_MAX 30

struct worker_slot {
	pid_t pid;
	time_t started;
	unsigned fast_deaths; /* consecutive deaths within a second of start */
	int ipcount_column;   /* its column in master.ipcount, or -1 */
};

static volatile sig_atomic_t got_chld, got_hup, got_term, got_alrm;

static struct {
	struct config *config;
	const char *config_path;
	struct listener_set *listeners;
	struct worker_slot workers[MASTER_MAX_WORKERS];
	struct worker_slot *retired; /* old generations, retiring after a
					reload */
	size_t n_retired;
	/* connections per client address, shared with every worker of every
	   generation (auth.max_connections_per_ip) */
	struct ipcount *ipcount;
	int auth_channel[2]; /* auth_server_channel(): client, server end */
	pid_t auth_pid;	     /* the auth helper; 0 while none runs */
	time_t auth_started;
	unsigned auth_backoff; /* seconds of the last scheduled retry */
	bool auth_retry;       /* a retry is scheduled (SIGALRM) */
} master;

static void master_signal(int signo)
{
	if (signo == SIGCHLD)
		got_chld = 1;
	else if (signo == SIGHUP)
		got_hup = 1;
	else if (signo == SIGALRM)
		got_alrm = 1;
	else
		got_term = 1;
}

static int master_spawn_worker(unsigned index)
{
	struct worker_slot *slot = &master.workers[index];
	int column = ipcount_column_take(master.ipcount);
	pid_t parent = getpid(), pid;

	if (column < 0)
		log_warn("event=ipcount_no_column worker=%u", index);
	pid = fork();
	if (pid < 0) {
		log_error("event=fork_failed error=\"%s\"", strerror(errno));
		ipcount_column_release(master.ipcount, column);
		return -1;
	}
	if (pid == 0) {
		struct worker_params p = {
			.config = master.config,
			.listeners = master.listeners,
			.auth_channel = master.auth_channel[0],
			.ipcount = master.ipcount,
			.ipcount_column = column,
			.index = index,
			.master = parent,
		};

		/* the helper's end: a worker must never read other workers'
		   connections to the helper */
		close(master.auth_channel[1]);
		alarm(0);
		signal(SIGALRM, SIG_DFL);
		signal(SIGCHLD, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGQUIT, SIG_DFL);
		worker_main(&p);
	}
	slot->pid = pid;
	slot->started = time(NULL);
	slot->ipcount_column = column;
	return 0;
}

/* Loads the TLS files once to find errors before any worker does. */
static int master_check_tls(const struct config *c, char **error_r)
{
	struct tls_creds *creds = tls_creds_load(c->tls_cert, c->tls_key,
						 c->tls_priorities, error_r);

	if (creds == NULL)
		return -1;
	tls_creds_unref(&creds);
	return 0;
}

static int master_spawn_auth(const struct config *c, const char **error_r)
{
	if (auth_glue_spawn(c, master.auth_channel[1], &master.auth_pid,
			    error_r) < 0) {
		master.auth_pid = 0;
		return -1;
	}
	master.auth_started = time(NULL);
	if (master.auth_retry) {
		master.auth_retry = false;
		alarm(0);
	}
	log_info("event=auth_helper_started pid=%ld", (long)master.auth_pid);
	return 0;
}

/* Tries again later (SIGALRM), waiting twice as long as last time. */
static void master_schedule_auth(void)
{
	unsigned d = master.auth_backoff == 0 ? 1 : master.auth_backoff * 2;

	if (d > MASTER_AUTH_BACKOFF_MAX)
		d = MASTER_AUTH_BACKOFF_MAX;
	master.auth_backoff = d;
	master.auth_retry = true;
	log_warn("event=auth_helper_retry seconds=%u", d);
	alarm(d);
}

/* SIGALRM: the scheduled retry. */
static void master_retry_auth(void)
{
	const char *error;

	if (!master.auth_retry || master.auth_pid > 0)
		return;
	master.auth_retry = false;
	if (master_spawn_auth(master.config, &error) < 0) {
		log_error("event=auth_helper_failed reason=\"%s\"", error);
		master_schedule_auth();
	}
}

/* Stops the auth helper and waits for it (it exits at once on SIGTERM). */
static void master_stop_auth(void)
{
	pid_t pid = master.auth_pid;

	if (pid <= 0)
		return;
	master.auth_pid = 0;
	kill(pid, SIGTERM);
	for (int i = 0; i < 200; i++) {
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* Tells systemd (Type=notify) what we are doing; a no-op elsewhere. */
static void master_notify(const char *state)
{
	const char *error;

	if (sdnotify_send(state, &error) < 0)
		log_warn("event=notify_failed reason=\"%s\"", error);
}

/* Returns 0 when the new configuration is in force, -1 when the old one
   was kept. */
static int master_reload(void)
{
	struct config *fresh;
	char *error = NULL;

	fresh = config_load(master.config_path, &error);
	/* the checks of the start (config_check.h): a reload to a file the
	   workers cannot run with (server.user = root) keeps the old one */
	if (fresh == NULL || config_check_text(fresh, &error) < 0 ||
	    listener_set_update(master.listeners, fresh, &error) < 0) {
		log_error("event=reload_failed reason=\"%s\" keeping=old",
			  error);
		free(error);
		config_free(&fresh);
		return -1;
	}
	/* the helper serves the new [auth] settings; logins in flight get a
	   temporary failure, sessions stay */
	const char *aerror;

	master_stop_auth();
	if (master_spawn_auth(fresh, &aerror) < 0) {
		log_error("event=reload_failed reason=\"auth: %s\" keeping=old",
			  aerror);
		if (master_spawn_auth(master.config, &aerror) < 0) {
			log_error("event=auth_helper_failed reason=\"%s\"",
				  aerror);
			master_schedule_auth();
		}
		config_free(&fresh);
		return -1;
	}
	/* retire the old generation: it stops accepting and finishes */
	for (unsigned i = 0; i < master.config->workers; i++) {
		if (master.workers[i].pid <= 0)
			continue;
		kill(master.workers[i].pid, SIGQUIT);
		master.retired = xrealloc(master.retired,
					  (master.n_retired + 1) *
						  sizeof(*master.retired));
		master.retired[master.n_retired++] = master.workers[i];
		master.workers[i].pid = 0;
	}
	config_free(&master.config);
	master.config = fresh;
	log_init("merpatid", log_target_current(), master.config->log_level);
	for (unsigned i = 0; i < master.config->workers; i++) {
		master.workers[i].fast_deaths = 0;
		master_spawn_worker(i);
	}
	log_info("event=reloaded config=%s workers=%u", master.config_path,
		 master.config->workers);
	return 0;
}

/* A retired worker exited: forgets it and gives back what it counted. */
static bool master_forget_retired(pid_t pid)
{
	for (size_t i = 0; i < master.n_retired; i++) {
		if (master.retired[i].pid == pid) {
			ipcount_column_release(
				master.ipcount,
				master.retired[i].ipcount_column);
			master.retired[i] = master.retired[--master.n_retired];
			return true;
		}
	}
	return false;
}

static void master_describe_exit(int status, char *out, size_t size)
{
	if (WIFEXITED(status))
		snprintf(out, size, "exit=%d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(out, size, "signal=%d%s", WTERMSIG(status),
			 WCOREDUMP(status) ? " core=1" : "");
	else
		snprintf(out, size, "status=%d", status);
}

static void master_auth_died(const char *how, bool stopping)
{
	const char *error;

	master.auth_pid = 0;
	if (stopping)
		return;
	log_error("event=auth_helper_died %s", how);
	if (time(NULL) - master.auth_started <= 1) {
		/* do not spin on a helper that crashes at start: retry
		   later, with a growing delay; sessions go on meanwhile */
		master_schedule_auth();
		return;
	}
	master.auth_backoff = 0;
	if (master_spawn_auth(master.config, &error) < 0) {
		log_error("event=auth_helper_failed reason=\"%s\"", error);
		master_schedule_auth();
	}
}

/* A stop asked for but not handled yet (signals are blocked outside
   sigsuspend): children dying now are part of it. */
static bool master_stop_pending(void)
{
	sigset_t pending;

	if (got_term)
		return true;
	if (sigpending(&pending) < 0)
		return false;
	return sigismember(&pending, SIGTERM) == 1 ||
	       sigismember(&pending, SIGINT) == 1;
}

static void master_reap(bool stopping)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		char how[64];

		stopping = stopping || master_stop_pending();

		master_describe_exit(status, how, sizeof(how));
		if (pid == master.auth_pid) {
			master_auth_died(how, stopping);
			continue;
		}
		if (master_forget_retired(pid)) {
			log_info("event=worker_retired pid=%ld %s", (long)pid,
				 how);
			continue;
		}
		for (unsigned i = 0; i < master.config->workers; i++) {
			struct worker_slot *slot = &master.workers[i];

			if (slot->pid != pid)
				continue;
			slot->pid = 0;
			/* whatever it still counted (killed, or stopped with
			   connections open) is no longer held */
			ipcount_column_release(master.ipcount,
					       slot->ipcount_column);
			slot->ipcount_column = -1;
			if (stopping)
				break;
			log_error("event=worker_died pid=%ld %s", (long)pid,
				  how);
			if (time(NULL) - slot->started <= 1)
				slot->fast_deaths++;
			else
				slot->fast_deaths = 0;
			if (slot->fast_deaths >= 5) {
				log_error(
					"event=worker_failing worker=%u reason=\"died 5 times right after start\" action=stop",
					i);
				got_term = 1;
				break;
			}
			if (slot->fast_deaths > 0)
				sleep(1); /* do not spin on a crashing worker */
			master_spawn_worker(i);
			break;
		}
	}
}

static int master_children(void)
{
	int n = (int)master.n_retired;

	for (unsigned i = 0; i < master.config->workers; i++)
		n += master.workers[i].pid > 0;
	return n;
}

static void master_signal_all(int signo)
{
	for (unsigned i = 0; i < master.config->workers; i++) {
		if (master.workers[i].pid > 0)
			kill(master.workers[i].pid, signo);
	}
	for (size_t i = 0; i < master.n_retired; i++)
		kill(master.retired[i].pid, signo);
}

static void master_stop(void)
{
	struct timespec deadline, now;

	log_info("event=stopping");
	master_notify("STOPPING=1");
	alarm(0);
	master_signal_all(SIGTERM);
	master_stop_auth();
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += MASTER_STOP_SECONDS;
	while (master_children() > 0) {
		master_reap(true);
		if (master_children() == 0)
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec >= deadline.tv_sec) {
			log_warn("event=stop_kill children=%d",
				 master_children());
			master_signal_all(SIGKILL);
			deadline.tv_sec = now.tv_sec + MASTER_STOP_SECONDS;
		}
		usleep(20000);
	}
}

int master_run(struct config *config, const char *config_path)
{
	struct sigaction sa;
	sigset_t block, old;
	char *error = NULL;
	int status = 0;

	master.config = config;
	master.config_path = config_path;
	tls_global_init();
	if (master_check_tls(config, &error) < 0) {
		fprintf(stderr, "merpatid: %s\n", error);
		log_error("event=start_failed reason=\"%s\"", error);
		free(error);
		config_free(&master.config);
		return 1;
	}
	master.listeners = listener_set_new();
	/* socket activation (merpati.socket): systemd bound some addresses */
	unsigned n_adopted = sdnotify_listen_fds();
	const char *adopt_error;

	if (n_adopted > 0 &&
	    listener_set_adopt(master.listeners, SDNOTIFY_LISTEN_FDS_START,
			       n_adopted, &adopt_error) < 0)
		error = xstrdup(adopt_error);
	if (error != NULL ||
	    listener_set_update(master.listeners, config, &error) < 0) {
		fprintf(stderr, "merpatid: %s\n", error);
		log_error("event=start_failed reason=\"%s\"", error);
		free(error);
		listener_set_free(&master.listeners);
		config_free(&master.config);
		return 1;
	}
	/* before any fork: no child may keep them open either */
	n_adopted = listener_set_close_unmatched(master.listeners);
	if (n_adopted > 0)
		log_warn("event=sockets_unused count=%u reason=\"passed by "
			 "systemd, but no [listen] address names them\"",
			 n_adopted);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = master_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGALRM);
	sigaddset(&block, SIGCHLD);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &old);

	const char *aerror;

	/* the one channel to the auth helper, kept across helper restarts
	   and reloads: nothing to bind, so nothing anyone can take over */
	if (auth_server_channel(&master.auth_channel[0],
				&master.auth_channel[1], &aerror) < 0 ||
	    master_spawn_auth(config, &aerror) < 0) {
		fprintf(stderr, "merpatid: auth: %s\n", aerror);
		log_error("event=start_failed reason=\"auth: %s\"", aerror);
		listener_set_free(&master.listeners);
		config_free(&master.config);
		return 1;
	}
	for (size_t i = 0; i < listener_set_count(master.listeners); i++)
		log_info("event=listening proto=%s addr=%s%s",
			 config_listener_name(
				 listener_set_kind(master.listeners, i)),
			 listener_set_addr(master.listeners, i),
			 listener_set_is_adopted(master.listeners, i)
				 ? " from=systemd"
				 : "");
	/* sized for what the workers may hold at once; a reload keeps it */
	master.ipcount = ipcount_new((size_t)config->workers *
				     config->max_connections * 2);
	if (master.ipcount == NULL) {
		fprintf(stderr,
			"merpatid: mmap of the per-address table failed\n");
		log_error("event=start_failed reason=\"ipcount: mmap failed\"");
		master_stop_auth();
		listener_set_free(&master.listeners);
		config_free(&master.config);
		return 1;
	}
	for (unsigned i = 0; i < config->workers; i++)
		master_spawn_worker(i);
	log_info("event=started version=%s workers=%u config=%s",
		 MERPATI_VERSION, config->workers, config_path);
	master_notify("READY=1\nSTATUS=serving");

	while (!got_term) {
		sigsuspend(&old);
		/* Ctrl-C reaches every process of the terminal's group: the
		   children exiting on it are not deaths to repair */
		if (got_term)
			break;
		if (got_alrm) {
			got_alrm = 0;
			master_retry_auth();
		}
		if (got_chld) {
			got_chld = 0;
			master_reap(false);
		}
		if (got_hup) {
			struct timespec now;
			char state[96];

			got_hup = 0;
			/* systemd >= 253 wants the time of the reload request */
			clock_gettime(CLOCK_MONOTONIC, &now);
			snprintf(state, sizeof(state),
				 "RELOADING=1\nMONOTONIC_USEC=%llu",
				 (unsigned long long)now.tv_sec * 1000000ULL +
					 (unsigned long long)now.tv_nsec /
						 1000ULL);
			master_notify(state);
			master_notify(
				master_reload() == 0
					? "READY=1\nSTATUS=serving"
					: "READY=1\nSTATUS=reload failed, "
					  "old configuration kept");
		}
	}
	master_stop();
	log_info("event=stopped");
	listener_set_free(&master.listeners);
	config_free(&master.config);
	free(master.retired);
	ipcount_free(&master.ipcount);
	close(master.auth_channel[0]);
	close(master.auth_channel[1]);
	return status;
}
