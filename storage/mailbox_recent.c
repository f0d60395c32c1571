/* SPDX-License-Identifier: GPL-2.0-or-later */
/* \Recent (RFC 3501 2.3.2): the first UID no session has claimed yet,
 * kept in merpati.recent beside the UID list. */
#include "storage/mailbox.h"

#include "lib/log.h"
#include "storage/mailbox_private.h"
#include "storage/maildir_file.h"
#include "storage/maildir_private.h"
#include "storage/uidlist.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define RECENT_FILE "merpati.recent"

/* "<uidvalidity> <first>\n"; 1 (every message recent) when the file is
 * missing, unreadable or belongs to another UIDVALIDITY. */
static uint32_t read_first(const struct mailbox *box)
{
	char path[PATH_MAX], text[64];
	const char *reason;
	unsigned long v, first;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/" RECENT_FILE, box->path);
	fd = maildir_file_open(path, NULL, &reason);
	if (fd < 0) {
		if (errno != ENOENT)
			log_warn("event=recent_read path=%s error=\"%s\"",
				 log_q(path), reason);
		return 1;
	}
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return 1;
	text[n] = '\0';
	if (sscanf(text, "%lu %lu", &v, &first) != 2 || v != box->uidvalidity ||
	    first == 0 || first > UINT32_MAX)
		return 1;
	return (uint32_t)first;
}

/* One past the snapshot's highest UID (1 when it is empty). */
static uint32_t snapshot_end(const struct mailbox *box)
{
	unsigned count = mailbox_count(box);
	struct mailbox_msg msg;

	if (count == 0)
		return 1;
	mailbox_get(box, count - 1, &msg);
	return msg.uid + 1;
}

uint32_t mailbox_recent_first(const struct mailbox *box)
{
	return read_first(box);
}

int mailbox_recent_claim(struct mailbox *box, uint32_t *first_r,
			 uint32_t *end_r, const char **error_r)
{
	struct uidlist_lock *lock;
	uint32_t first, end = snapshot_end(box);
	char path[PATH_MAX], text[64];
	int len;

	if (mailbox_lock(box, &lock, error_r) < 0)
		return -1;
	first = read_first(box);
	*first_r = *end_r = first;
	if (first < end) {
		snprintf(path, sizeof(path), "%s/" RECENT_FILE, box->path);
		len = snprintf(text, sizeof(text), "%" PRIu32 " %" PRIu32 "\n",
			       box->uidvalidity, end);
		if (maildir_file_replace(path, text, (size_t)len,
					 maildir_settings(box->store)->fsync) <
		    0) {
			log_error("event=recent_write path=%s error=\"%s\"",
				  log_q(path), strerror(errno));
			uidlist_lock_release(&lock);
			return maildir_fail(box->store, MAILDIR_ERROR_TEMP,
					    "cannot write the recent file",
					    error_r);
		}
		*end_r = end;
	}
	uidlist_lock_release(&lock);
	return 0;
}
