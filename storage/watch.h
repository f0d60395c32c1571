/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * watch: telling sessions that a folder changed, on the libev loop.
 *
 * A watch follows one folder's new/ and cur/ with inotify and calls back on
 * the loop with what kind of change it saw: messages added (a file arrived
 * in new/ or cur/), expunged (a file left) or flags changed (a file in cur/
 * renamed to the same base name with other info). The callback is only a
 * hint; the session calls mailbox_sync() at a point of its choosing to get
 * the exact changes. Every session with the folder open has its own watch;
 * one inotify descriptor per loop serves them all.
 *
 * Where inotify is missing or blind (it cannot see other NFS clients) a
 * timer compares the directories' mtimes every poll_secs and reports
 * MAILBOX_WATCH_CHANGED.
 */
#ifndef MERPATI_WATCH_H
#define MERPATI_WATCH_H

#include <stdbool.h>

struct ev_loop;
struct mailbox;
struct mailbox_watch;

enum mailbox_watch_event {
	MAILBOX_WATCH_ADDED = 1u << 0,
	MAILBOX_WATCH_EXPUNGED = 1u << 1,
	MAILBOX_WATCH_FLAGS = 1u << 2,
	MAILBOX_WATCH_CHANGED = 1u << 3, /* something; the kind is unknown */
};

/* events: a mask of enum mailbox_watch_event; called on the loop. */
typedef void mailbox_watch_cb(struct mailbox_watch *watch, unsigned events,
			      void *context);

/*
 * Starts watching box's folder (only its path is used: the watch may
 * outlive box). poll_secs 0 means 30. Never fails: without inotify it
 * polls.
 */
struct mailbox_watch *mailbox_watch_new(struct ev_loop *loop,
					const struct mailbox *box,
					unsigned poll_secs,
					mailbox_watch_cb *callback,
					void *context);

/* Stops and frees; takes NULL, leaves NULL. Safe inside any watch's
 * callback, including its own (the watch is not used after it returns). */
void mailbox_watch_free(struct mailbox_watch **watch);

/* True when inotify serves this watch (false: polling only). */
bool mailbox_watch_uses_inotify(const struct mailbox_watch *watch);

#endif
