/* SPDX-License-Identifier: GPL-2.0-or-later */
// links: mp_storage mp_lib
/*
 * A storage driver for the integration tests (test_storage_*.py), and as a
 * ctest entry a smoke test of itself.
 *
 *   test_storage_tool mutate ROOT FOLDER STOPFILE SEED
 *	until STOPFILE exists: sync, then change flags of a random message
 *	or expunge one (printing "expunged <X-Id header>"), like a client
 *   test_storage_tool append ROOT FOLDER N      append N messages
 *   test_storage_tool flags ROOT FOLDER        toggle \Seen on every message
 *   test_storage_tool expunge ROOT FOLDER N    expunge the first N messages
 *   test_storage_tool bench-open ROOT FOLDER SESSIONS
 *	opens the folder SESSIONS times, keeping each open (like that many
 *	sessions of one process), and prints "open_us=<median>
 *	first_us=<first> session_kib=<RSS growth per session after the
 *	first> modseq=<HIGHESTMODSEQ> messages=<count>"
 *   test_storage_tool setflags ROOT FOLDER UID FLAG...
 *	replace the flags of UID with the IMAP flags and keywords given
 *   test_storage_tool watch ROOT FOLDER SECONDS
 *	like a session with the folder open: prints "ready <uid>..." once,
 *	then for every change event syncs and prints "event <mask>",
 *	"expunged <uid>", "added <uid>", "flags <uid>" (flushed), until
 *	SECONDS have passed
 *
 * fsync is on unless MERPATI_TEST_FSYNC=no.
 */
#include "storage/mailbox.h"
#include "storage/maildir.h"
#include "storage/msg_stream.h"
#include "storage/watch.h"

#include <ev.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

static struct maildir *tool_store(const char *root)
{
	struct maildir_settings set;
	struct maildir *store;
	const char *error, *fs = getenv("MERPATI_TEST_FSYNC");

	maildir_settings_init(&set);
	set.fsync = fs == NULL || strcmp(fs, "no") != 0;
	if (maildir_open(root, &set, true, &store, &error) < 0) {
		fprintf(stderr, "open %s: %s\n", root, error);
		exit(2);
	}
	return store;
}

static struct mailbox *tool_box(struct maildir *store, const char *name)
{
	struct mailbox *box;
	const char *error;

	if (!maildir_folder_exists(store, name))
		(void)maildir_create(store, name, &error);
	if (mailbox_open(store, name, 0, &box, &error) < 0) {
		fprintf(stderr, "open %s: %s\n", name, error);
		exit(2);
	}
	return box;
}

/* The X-Id header of a message (first 4 KiB of its header). */
static int read_id(struct mailbox *box, unsigned idx, char *id, size_t size)
{
	struct msg_stream *s;
	const char *error;
	char head[4096], *p, *end;
	ssize_t n;

	if (msg_stream_open(box, idx, MSG_PART_HEADER, &s, &error) < 0)
		return -1;
	n = msg_stream_read(s, head, sizeof(head) - 1, &error);
	msg_stream_free(&s);
	if (n <= 0)
		return -1;
	head[n] = '\0';
	p = strstr(head, "X-Id: ");
	if (p == NULL)
		return -1;
	p += 6;
	end = strpbrk(p, "\r\n");
	if (end == NULL || (size_t)(end - p) >= size)
		return -1;
	memcpy(id, p, (size_t)(end - p));
	id[end - p] = '\0';
	return 0;
}

static int tool_mutate(const char *root, const char *name, const char *stop,
		       unsigned seed)
{
	struct maildir *store = tool_store(root);
	struct mailbox *box = tool_box(store, name);
	unsigned long changes = 0, expunges = 0;
	const char *error;
	char id[256];

	srand(seed);
	while (access(stop, F_OK) != 0) {
		struct mailbox_msg msg;
		unsigned idx;

		if (mailbox_sync(box, NULL, &error) < 0) {
			fprintf(stderr, "sync: %s\n", error);
			return 1;
		}
		if (mailbox_count(box) == 0) {
			usleep(1000);
			continue;
		}
		usleep(2000);
		idx = (unsigned)rand() % mailbox_count(box);
		mailbox_get(box, idx, &msg);
		/* expunge about 1 op in 20, but never more than a tenth of
		   what was delivered so far: the share must not depend on how
		   fast this build runs (ASan makes deliveries slow) */
		if (rand() % 20 == 0 && expunges * 10 < mailbox_uidnext(box)) {
			if (read_id(box, idx, id, sizeof(id)) < 0)
				continue; /* expunged by someone else */
			if (mailbox_expunge(box, &msg.uid, 1, &error) < 0) {
				fprintf(stderr, "expunge: %s\n", error);
				return 1;
			}
			printf("expunged %s\n", id);
			fflush(stdout);
			expunges++;
		} else {
			unsigned flags =
				(unsigned)rand() &
				(MAILDIR_FLAG_SEEN | MAILDIR_FLAG_FLAGGED |
				 MAILDIR_FLAG_REPLIED);

			if (mailbox_update_flags(
				    box, &msg.uid, 1, MAILBOX_FLAGS_REPLACE,
				    flags, (uint32_t)rand() & 1, &error) < 0) {
				fprintf(stderr, "flags: %s\n", error);
				return 1;
			}
			changes++;
		}
	}
	fprintf(stderr, "mutate: %lu flag changes, %lu expunges\n", changes,
		expunges);
	mailbox_free(&box);
	maildir_free(&store);
	return 0;
}

static int tool_append(const char *root, const char *name, unsigned n)
{
	struct maildir *store = tool_store(root);
	struct mailbox *box = tool_box(store, name);
	char line[256];

	for (unsigned i = 0; i < n; i++) {
		struct mailbox_append *ctx;
		const char *error;
		uint32_t uid;

		snprintf(line, sizeof(line),
			 "X-Id: append-%ld-%u\nSubject: t\n\n", (long)getpid(),
			 i);
		if (mailbox_append_begin(box, &ctx, &error) < 0 ||
		    mailbox_append_write(ctx, line, strlen(line), &error) < 0)
			return 1;
		for (int k = 0; k < 200; k++) {
			snprintf(line, sizeof(line),
				 "body line %d of a test message\n", k);
			if (mailbox_append_write(ctx, line, strlen(line),
						 &error) < 0)
				return 1;
		}
		if (mailbox_append_finish(&ctx, MAILDIR_FLAG_SEEN, 0, 0, &uid,
					  &error) < 0) {
			fprintf(stderr, "append: %s\n", error);
			return 1;
		}
		printf("%u\n", uid);
	}
	mailbox_free(&box);
	maildir_free(&store);
	return 0;
}

static int tool_flags(const char *root, const char *name)
{
	struct maildir *store = tool_store(root);
	struct mailbox *box = tool_box(store, name);
	const char *error;

	for (unsigned i = 0; i < mailbox_count(box); i++) {
		struct mailbox_msg msg;

		mailbox_get(box, i, &msg);
		if (mailbox_update_flags(box, &msg.uid, 1,
					 (msg.flags & MAILDIR_FLAG_SEEN)
						 ? MAILBOX_FLAGS_REMOVE
						 : MAILBOX_FLAGS_ADD,
					 MAILDIR_FLAG_SEEN, 0, &error) < 0) {
			fprintf(stderr, "flags: %s\n", error);
			return 1;
		}
	}
	mailbox_free(&box);
	maildir_free(&store);
	return 0;
}

static long private_kib(void)
{
	long pages = 0, resident = 0, shared = 0;
	FILE *fp = fopen("/proc/self/statm", "r");

	if (fp == NULL)
		return 0;
	if (fscanf(fp, "%ld %ld %ld", &pages, &resident, &shared) != 3)
		resident = shared = 0;
	fclose(fp);
	/* private memory: pages of mapped files are the page cache's */
	return (resident - shared) * (sysconf(_SC_PAGESIZE) / 1024);
}

static int long_cmp(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return x < y ? -1 : x > y;
}

static int tool_bench_open(const char *root, const char *name, unsigned n)
{
	struct maildir *store = tool_store(root);
	struct mailbox **boxes = calloc(n + 1, sizeof(*boxes));
	long *us = calloc(n + 1, sizeof(*us)), rss_first = 0, first_us;
	const char *error;

	for (unsigned i = 0; i < n; i++) {
		struct timespec a, b;

		clock_gettime(CLOCK_MONOTONIC, &a);
		if (mailbox_open(store, name, 0, &boxes[i], &error) < 0) {
			fprintf(stderr, "open %s: %s\n", name, error);
			return 2;
		}
		clock_gettime(CLOCK_MONOTONIC, &b);
		us[i] = (b.tv_sec - a.tv_sec) * 1000000 +
			(b.tv_nsec - a.tv_nsec) / 1000;
		if (i == 0)
			rss_first = private_kib();
	}
	first_us = us[0];
	printf("open_us=%ld first_us=%ld session_kib=%ld modseq=%llu "
	       "messages=%u\n",
	       n > 1 ? (qsort(us + 1, n - 1, sizeof(*us), long_cmp),
			us[1 + (n - 1) / 2])
		     : us[0],
	       first_us,
	       n > 1 ? (private_kib() - rss_first) / (long)(n - 1) : 0,
	       (unsigned long long)mailbox_highest_modseq(boxes[0]),
	       mailbox_count(boxes[0]));
	for (unsigned i = 0; i < n; i++)
		mailbox_free(&boxes[i]);
	free(boxes);
	free(us);
	maildir_free(&store);
	return 0;
}

static int tool_setflags(const char *root, const char *name, uint32_t uid,
			 char **args, int n)
{
	static const struct {
		const char *name;
		unsigned flag;
	} std[] = {
		{"\\Draft", MAILDIR_FLAG_DRAFT},
		{"\\Flagged", MAILDIR_FLAG_FLAGGED},
		{"\\Answered", MAILDIR_FLAG_REPLIED},
		{"\\Seen", MAILDIR_FLAG_SEEN},
		{"\\Deleted", MAILDIR_FLAG_DELETED},
	};
	struct maildir *store = tool_store(root);
	struct mailbox *box = tool_box(store, name);
	const char *error;
	unsigned flags = 0;
	uint32_t keywords = 0;

	for (int i = 0; i < n; i++) {
		bool found = false;

		for (size_t k = 0; k < sizeof(std) / sizeof(std[0]); k++) {
			if (strcmp(args[i], std[k].name) == 0) {
				flags |= std[k].flag;
				found = true;
			}
		}
		if (!found) {
			int idx = mailbox_keyword_index(box, args[i], true,
							&error);

			if (idx < 0) {
				fprintf(stderr, "keyword %s: %s\n", args[i],
					error);
				return 1;
			}
			keywords |= 1u << idx;
		}
	}
	if (mailbox_update_flags(box, &uid, 1, MAILBOX_FLAGS_REPLACE, flags,
				 keywords, &error) < 0) {
		fprintf(stderr, "setflags: %s\n", error);
		return 1;
	}
	mailbox_free(&box);
	maildir_free(&store);
	return 0;
}

static int tool_expunge(const char *root, const char *name, unsigned n)
{
	struct maildir *store = tool_store(root);
	struct mailbox *box = tool_box(store, name);
	uint32_t *uids = calloc(n + 1, sizeof(*uids));
	const char *error;
	unsigned k = 0;

	for (unsigned i = 0; i < mailbox_count(box) && k < n; i++) {
		struct mailbox_msg msg;

		mailbox_get(box, i, &msg);
		uids[k++] = msg.uid;
	}
	if (mailbox_expunge(box, uids, k, &error) < 0) {
		fprintf(stderr, "expunge: %s\n", error);
		return 1;
	}
	free(uids);
	mailbox_free(&box);
	maildir_free(&store);
	return 0;
}

struct tool_watch {
	struct mailbox *box;
};

static void tool_watch_cb(struct mailbox_watch *watch, unsigned events,
			  void *context)
{
	struct tool_watch *tw = context;
	const struct mailbox_changes *ch;
	const char *error;

	(void)watch;
	printf("event %u\n", events);
	if (mailbox_sync(tw->box, &ch, &error) < 0) {
		printf("sync failed %s\n", error);
	} else {
		for (size_t i = 0; i < ch->expunged_count; i++)
			printf("expunged %u\n", ch->expunged_uids[i]);
		for (unsigned i = 0; i < ch->new_count; i++) {
			struct mailbox_msg msg;

			mailbox_get(tw->box, ch->first_new + i, &msg);
			printf("added %u\n", msg.uid);
		}
		for (size_t i = 0; i < ch->flags_changed_count; i++)
			printf("flags %u\n", ch->flags_changed_uids[i]);
	}
	fflush(stdout);
}

static void tool_watch_stop(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

static int tool_watch(const char *root, const char *folder, unsigned seconds)
{
	struct maildir *store = tool_store(root);
	struct ev_loop *loop = ev_default_loop(0);
	struct tool_watch tw = {0};
	struct mailbox_watch *watch;
	const char *error;
	ev_timer stop;

	if (store == NULL ||
	    mailbox_open(store, folder, 0, &tw.box, &error) < 0) {
		fprintf(stderr, "open %s: %s\n", folder,
			store ? error : "no store");
		return 1;
	}
	watch = mailbox_watch_new(loop, tw.box, 1, tool_watch_cb, &tw);
	printf("ready");
	for (unsigned i = 0; i < mailbox_count(tw.box); i++) {
		struct mailbox_msg msg;

		mailbox_get(tw.box, i, &msg);
		printf(" %u", msg.uid);
	}
	printf("\n");
	fflush(stdout);
	ev_timer_init(&stop, tool_watch_stop, seconds, 0.);
	ev_timer_start(loop, &stop);
	ev_run(loop, 0);
	mailbox_watch_free(&watch);
	mailbox_free(&tw.box);
	maildir_free(&store);
	return 0;
}

static void test_tool_smoke(void **state)
{
	char root[] = "/tmp/merpati-tool-XXXXXX", cmd[128];

	(void)state;
	assert_non_null(mkdtemp(root));
	setenv("MERPATI_TEST_FSYNC", "no", 1);
	assert_int_equal(tool_append(root, "INBOX", 3), 0);
	assert_int_equal(tool_flags(root, "INBOX"), 0);
	assert_int_equal(tool_expunge(root, "INBOX", 2), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	assert_int_equal(system(cmd), 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tool_smoke),
	};

	if (argc == 6 && strcmp(argv[1], "mutate") == 0)
		return tool_mutate(argv[2], argv[3], argv[4],
				   (unsigned)atoi(argv[5]));
	if (argc == 5 && strcmp(argv[1], "append") == 0)
		return tool_append(argv[2], argv[3], (unsigned)atoi(argv[4]));
	if (argc == 4 && strcmp(argv[1], "flags") == 0)
		return tool_flags(argv[2], argv[3]);
	if (argc == 5 && strcmp(argv[1], "bench-open") == 0)
		return tool_bench_open(argv[2], argv[3],
				       (unsigned)atoi(argv[4]));
	if (argc >= 5 && strcmp(argv[1], "setflags") == 0)
		return tool_setflags(argv[2], argv[3],
				     (uint32_t)strtoul(argv[4], NULL, 10),
				     argv + 5, argc - 5);
	if (argc == 5 && strcmp(argv[1], "expunge") == 0)
		return tool_expunge(argv[2], argv[3], (unsigned)atoi(argv[4]));
	if (argc == 5 && strcmp(argv[1], "watch") == 0)
		return tool_watch(argv[2], argv[3], (unsigned)atoi(argv[4]));
	if (argc > 1) {
		fprintf(stderr, "usage: see the comment at the top of %s\n",
			__FILE__);
		return 64;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
