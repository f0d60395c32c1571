/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "storage/watch.h"

#include "storage/mailbox.h"

#include "lib/log.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <ev.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#define WATCH_POLL_DEFAULT 30
#define NFS_SUPER_MAGIC_ 0x6969

/* One inotify descriptor per loop, shared by its watches. */
struct watch_hub {
	struct ev_loop *loop;
	int fd;
	ev_io io;
	struct mailbox_watch *watches; /* linked through next */
	struct watch_hub *next;
};

struct mailbox_watch {
	struct watch_hub *hub;
	struct mailbox_watch *next;
	char *path;
	int wd_new, wd_cur; /* -1 when not watched by inotify */
	ev_timer timer;
	bool polling;
	struct timespec new_mtime, cur_mtime;
	mailbox_watch_cb *callback;
	void *context;
};

static struct watch_hub *hubs;

static bool watch_is_live(struct watch_hub *hub, struct mailbox_watch *w)
{
	for (struct mailbox_watch *x = hub->watches; x != NULL; x = x->next) {
		if (x == w)
			return true;
	}
	return false;
}

static void watch_dispatch(struct watch_hub *hub, int wd, unsigned events)
{
	struct mailbox_watch **targets;
	size_t n = 0, cap = 0;

	for (struct mailbox_watch *w = hub->watches; w != NULL; w = w->next)
		cap++;
	targets = xcalloc(cap + 1, sizeof(*targets));
	for (struct mailbox_watch *w = hub->watches; w != NULL; w = w->next) {
		/* inotify hands the same wd to every watch of one directory */
		if (w->wd_new == wd || w->wd_cur == wd || wd == -1)
			targets[n++] = w;
	}
	/* a callback may free other watches: call only those still alive */
	for (size_t i = 0; i < n; i++) {
		if (watch_is_live(hub, targets[i]))
			targets[i]->callback(targets[i], events,
					     targets[i]->context);
	}
	free(targets);
}

/* The info part of a name (":2,S"), or "". */
static const char *info_of(const char *name)
{
	const char *colon = strchr(name, ':');

	return colon == NULL ? "" : colon;
}

static size_t base_len(const char *name)
{
	const char *colon = strchr(name, ':');

	return colon == NULL ? strlen(name) : (size_t)(colon - name);
}

/* The directory (new/ or cur/) a wd stands for: 'n', 'c' or 0. */
static char wd_kind(struct watch_hub *hub, int wd)
{
	for (struct mailbox_watch *w = hub->watches; w != NULL; w = w->next) {
		if (w->wd_new == wd)
			return 'n';
		if (w->wd_cur == wd)
			return 'c';
	}
	return 0;
}

/* Classifies one read's worth of events; renames come as MOVED_FROM and
 * MOVED_TO pairs with the same cookie. */
static void hub_handle(struct watch_hub *hub, char *data, size_t len)
{
	const struct inotify_event *evs[512];
	size_t n = 0;

	for (size_t off = 0; off < len && n < 512;) {
		const struct inotify_event *ev = (void *)(data + off);

		evs[n++] = ev;
		off += sizeof(*ev) + ev->len;
	}
	for (size_t i = 0; i < n; i++) {
		const struct inotify_event *ev = evs[i], *pair = NULL;
		char kind = wd_kind(hub, ev->wd);
		unsigned events = 0;

		if (ev->mask & IN_Q_OVERFLOW) {
			watch_dispatch(hub, -1, MAILBOX_WATCH_CHANGED);
			continue;
		}
		if (kind == 0 || ev->len == 0 || ev->name[0] == '.')
			continue;
		if (ev->mask & (IN_MOVED_FROM | IN_MOVED_TO)) {
			for (size_t k = 0; k < n; k++) {
				if (k != i && evs[k]->cookie == ev->cookie &&
				    (evs[k]->mask &
				     (IN_MOVED_FROM | IN_MOVED_TO)))
					pair = evs[k];
			}
		}
		if (ev->mask & IN_CREATE) {
			events = MAILBOX_WATCH_ADDED;
		} else if (ev->mask & IN_DELETE) {
			events = MAILBOX_WATCH_EXPUNGED;
		} else if (ev->mask & IN_MOVED_FROM) {
			/* half of a pair is handled at its MOVED_TO */
			if (pair == NULL)
				events = MAILBOX_WATCH_EXPUNGED;
		} else if (ev->mask & IN_MOVED_TO) {
			char from_kind =
				pair == NULL ? 0 : wd_kind(hub, pair->wd);

			if (from_kind == 0) {
				events = MAILBOX_WATCH_ADDED; /* from tmp/ */
			} else if (base_len(pair->name) != base_len(ev->name) ||
				   strncmp(pair->name, ev->name,
					   base_len(ev->name)) != 0) {
				events = MAILBOX_WATCH_ADDED |
					 MAILBOX_WATCH_EXPUNGED;
			} else if (strcmp(info_of(ev->name),
					  info_of(pair->name)) != 0 &&
				   !(from_kind == 'n' &&
				     strcmp(info_of(ev->name), ":2,") == 0)) {
				events = MAILBOX_WATCH_FLAGS;
			}
		}
		if (events != 0)
			watch_dispatch(hub, ev->wd, events);
	}
}

static void hub_read(struct ev_loop *loop, ev_io *io, int revents)
{
	struct watch_hub *hub = io->data;
	char data[16384] __attribute__((aligned(8)));
	ssize_t n;

	(void)loop;
	(void)revents;
	while ((n = read(hub->fd, data, sizeof(data))) > 0)
		hub_handle(hub, data, (size_t)n);
}

static struct watch_hub *hub_get(struct ev_loop *loop)
{
	struct watch_hub *hub;

	for (hub = hubs; hub != NULL; hub = hub->next) {
		if (hub->loop == loop)
			return hub;
	}
	hub = xcalloc(1, sizeof(*hub));
	hub->loop = loop;
	hub->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (hub->fd < 0) {
		log_warn("event=watch error=\"inotify_init1: %s\" action=poll",
			 strerror(errno));
	} else {
		ev_io_init(&hub->io, hub_read, hub->fd, EV_READ);
		hub->io.data = hub;
		ev_io_start(loop, &hub->io);
	}
	hub->next = hubs;
	hubs = hub;
	return hub;
}

static void hub_release(struct watch_hub *hub)
{
	struct watch_hub **pp;

	if (hub->watches != NULL)
		return;
	for (pp = &hubs; *pp != hub; pp = &(*pp)->next)
		;
	*pp = hub->next;
	if (hub->fd >= 0) {
		ev_io_stop(hub->loop, &hub->io);
		close(hub->fd);
	}
	free(hub);
}

static bool dir_mtime(const char *dir, const char *sub, struct timespec *r)
{
	char path[PATH_MAX + 8];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	if (stat(path, &st) < 0)
		return false;
	*r = st.st_mtim;
	return true;
}

static void watch_poll(struct ev_loop *loop, ev_timer *timer, int revents)
{
	struct mailbox_watch *w = timer->data;
	struct timespec nm = {0, 0}, cm = {0, 0};

	(void)loop;
	(void)revents;
	(void)dir_mtime(w->path, "new", &nm);
	(void)dir_mtime(w->path, "cur", &cm);
	if (nm.tv_sec != w->new_mtime.tv_sec ||
	    nm.tv_nsec != w->new_mtime.tv_nsec ||
	    cm.tv_sec != w->cur_mtime.tv_sec ||
	    cm.tv_nsec != w->cur_mtime.tv_nsec) {
		w->new_mtime = nm;
		w->cur_mtime = cm;
		w->callback(w, MAILBOX_WATCH_CHANGED, w->context);
	}
}

static int add_wd(struct watch_hub *hub, const char *dir, const char *sub)
{
	char path[PATH_MAX + 8];
	int wd;

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	wd = inotify_add_watch(hub->fd, path,
			       IN_CREATE | IN_DELETE | IN_MOVED_FROM |
				       IN_MOVED_TO | IN_ONLYDIR);
	if (wd < 0)
		log_warn(
			"event=watch path=%s error=\"inotify_add_watch: %s\" action=poll",
			log_q(path), strerror(errno));
	return wd;
}

struct mailbox_watch *
mailbox_watch_new(struct ev_loop *loop, const struct mailbox *box,
		  unsigned poll_secs, mailbox_watch_cb *callback, void *context)
{
	struct mailbox_watch *w = xcalloc(1, sizeof(*w));
	struct statfs sfs;

	w->hub = hub_get(loop);
	w->path = xstrdup(mailbox_path(box));
	w->callback = callback;
	w->context = context;
	w->wd_new = w->wd_cur = -1;
	if (w->hub->fd >= 0) {
		w->wd_new = add_wd(w->hub, w->path, "new");
		w->wd_cur = add_wd(w->hub, w->path, "cur");
	}
	/* other NFS clients' changes never reach our inotify */
	w->polling =
		w->wd_new < 0 || w->wd_cur < 0 ||
		(statfs(w->path, &sfs) == 0 && sfs.f_type == NFS_SUPER_MAGIC_);
	w->next = w->hub->watches;
	w->hub->watches = w;
	if (w->polling) {
		double secs = poll_secs == 0 ? WATCH_POLL_DEFAULT : poll_secs;

		(void)dir_mtime(w->path, "new", &w->new_mtime);
		(void)dir_mtime(w->path, "cur", &w->cur_mtime);
		ev_timer_init(&w->timer, watch_poll, secs, secs);
		w->timer.data = w;
		ev_timer_start(loop, &w->timer);
	}
	return w;
}

static bool wd_in_use(struct watch_hub *hub, int wd)
{
	for (struct mailbox_watch *w = hub->watches; w != NULL; w = w->next) {
		if (w->wd_new == wd || w->wd_cur == wd)
			return true;
	}
	return false;
}

void mailbox_watch_free(struct mailbox_watch **wp)
{
	struct mailbox_watch *w = *wp, **pp;
	struct watch_hub *hub;

	if (w == NULL)
		return;
	hub = w->hub;
	for (pp = &hub->watches; *pp != w; pp = &(*pp)->next)
		;
	*pp = w->next;
	/* the wd is shared by every watch of the same directory */
	if (w->wd_new >= 0 && !wd_in_use(hub, w->wd_new))
		inotify_rm_watch(hub->fd, w->wd_new);
	if (w->wd_cur >= 0 && !wd_in_use(hub, w->wd_cur))
		inotify_rm_watch(hub->fd, w->wd_cur);
	if (w->polling)
		ev_timer_stop(hub->loop, &w->timer);
	free(w->path);
	free(w);
	*wp = NULL;
	hub_release(hub);
}

bool mailbox_watch_uses_inotify(const struct mailbox_watch *w)
{
	return !w->polling;
}
