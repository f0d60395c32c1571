/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "protocols/imap/imap_quota.h"

#include "protocols/imap/imap_folder.h"
#include "protocols/imap/imap_job.h"
#include "protocols/imap/imap_write.h"
#include "storage/maildir_quota.h"

#include "lib/xalloc.h"

#include <stdlib.h>
#include <string.h>

/* The one quota root: the whole user (RFC 9208 3.2 lets a server choose
   its roots' names; Dovecot's own is "User quota", the RFC's examples
   use ""). */
#define QUOTA_ROOT ""

void imap_quota_capabilities(struct imap_session *s, struct buf *out)
{
	/* RFC 9208 7: QUOTA=RES-* names each resource type; STORAGE and
	   MESSAGE are what maildirsize counts. QUOTASET is not offered. */
	if (s->state != IMAP_STATE_NOT_AUTHENTICATED)
		buf_append_str(out,
			       " QUOTA QUOTA=RES-STORAGE QUOTA=RES-MESSAGE");
}

/* The use and limits, read on a storage thread: maildirsize may be
   recalculated, which scans every folder. */
struct quota_job {
	struct maildir *store;
	char *mailbox; /* GETQUOTAROOT's folder, NULL for GETQUOTA */
	bool exists;
	int ret;
	const char *error;
	uint64_t bytes, count, bytes_limit, count_limit;
};

static void quota_work(void *ctx)
{
	struct quota_job *j = ctx;

	if (j->mailbox != NULL) {
		j->exists = maildir_folder_exists(j->store, j->mailbox);
		if (!j->exists)
			return;
	}
	j->ret = maildir_quota_get(j->store, &j->bytes, &j->count,
				   &j->bytes_limit, &j->count_limit, &j->error);
}

static void quota_free(void *ctx)
{
	struct quota_job *j = ctx;

	free(j->mailbox);
	free(j);
}

static bool has_root(const struct quota_job *j)
{
	return j->bytes_limit > 0 || j->count_limit > 0;
}

/* RFC 9208 5.1: STORAGE in units of 1024 octets (rounded down, as
   Dovecot does); 5.2: MESSAGE in messages. Only limited resources. */
static void write_quota(struct imap_session *s, const struct quota_job *j)
{
	struct buf b;
	const char *sep = "";

	buf_init(&b, 1024);
	buf_append_str(&b, "* QUOTA ");
	imap_write_astring(&b, QUOTA_ROOT, strlen(QUOTA_ROOT), false);
	buf_append_str(&b, " (");
	if (j->bytes_limit > 0) {
		buf_printf(&b, "STORAGE %llu %llu",
			   (unsigned long long)(j->bytes / 1024),
			   (unsigned long long)(j->bytes_limit / 1024));
		sep = " ";
	}
	if (j->count_limit > 0)
		buf_printf(&b, "%sMESSAGE %llu %llu", sep,
			   (unsigned long long)j->count,
			   (unsigned long long)j->count_limit);
	buf_append_str(&b, ")\r\n");
	conn_write(s->conn, b.data, b.len);
	buf_free(&b);
}

static enum imap_cmd_result getquota_done(struct imap_cmd *cmd, void *ctx)
{
	struct quota_job *j = ctx;

	if (j->ret < 0)
		return imap_cmd_no(cmd, "[UNAVAILABLE] %s", j->error);
	if (!has_root(j))
		return imap_cmd_no(cmd, "[NONEXISTENT] No such quota root");
	write_quota(cmd->s, j);
	return imap_cmd_ok(cmd, "GETQUOTA completed");
}

static enum imap_cmd_result getquotaroot_done(struct imap_cmd *cmd, void *ctx)
{
	struct imap_session *s = cmd->s;
	struct quota_job *j = ctx;
	bool utf8 = (s->enabled &
		     (IMAP_ENABLED_UTF8 | IMAP_ENABLED_IMAP4REV2)) != 0;
	struct buf b;

	if (!j->exists)
		return imap_cmd_no(cmd, "[NONEXISTENT] Mailbox does not exist");
	if (j->ret < 0)
		return imap_cmd_no(cmd, "[UNAVAILABLE] %s", j->error);
	/* RFC 9208 4.3: the folder's roots, then each root's QUOTA */
	buf_init(&b, 4096);
	buf_append_str(&b, "* QUOTAROOT ");
	imap_write_mailbox(&b, j->mailbox, utf8);
	if (has_root(j)) {
		buf_append_str(&b, " ");
		imap_write_astring(&b, QUOTA_ROOT, strlen(QUOTA_ROOT), false);
	}
	buf_append_str(&b, "\r\n");
	conn_write(s->conn, b.data, b.len);
	buf_free(&b);
	if (has_root(j))
		write_quota(s, j);
	return imap_cmd_ok(cmd, "GETQUOTAROOT completed");
}

enum imap_cmd_result imap_cmd_getquota(struct imap_cmd *cmd)
{
	struct quota_job *j;
	struct strv root;

	if (imap_cmd_argc(cmd) != 1 ||
	    !imap_arg_get_astring(imap_cmd_arg(cmd, 0), &root)) {
		imap_reply(cmd, "BAD", "GETQUOTA needs a quota root");
		return IMAP_CMD_DONE;
	}
	if (root.len != strlen(QUOTA_ROOT) ||
	    memcmp(root.p, QUOTA_ROOT, root.len) != 0)
		return imap_cmd_no(cmd, "[NONEXISTENT] No such quota root");
	j = xcalloc(1, sizeof(*j));
	j->store = cmd->s->store;
	return imap_job_run(cmd, quota_work, getquota_done, quota_free, j,
			    false);
}

enum imap_cmd_result imap_cmd_getquotaroot(struct imap_cmd *cmd)
{
	struct quota_job *j;
	char *name;

	if (imap_cmd_argc(cmd) != 1) {
		imap_reply(cmd, "BAD", "GETQUOTAROOT needs a mailbox");
		return IMAP_CMD_DONE;
	}
	if (imap_folder_arg(cmd, 0, &name) < 0)
		return IMAP_CMD_DONE;
	j = xcalloc(1, sizeof(*j));
	j->store = cmd->s->store;
	j->mailbox = name;
	return imap_job_run(cmd, quota_work, getquotaroot_done, quota_free, j,
			    false);
}

/* SETQUOTA root (resource limit ...): RFC 9208 4.1. Checked, then
   refused: the limits come from the configuration and the userdb. */
enum imap_cmd_result imap_cmd_setquota(struct imap_cmd *cmd)
{
	const struct imap_arg *list = imap_cmd_arg(cmd, 1);
	size_t n = list == NULL ? 0 : imap_arg_count(list);
	struct strv root, res;
	uint64_t limit;

	if (imap_cmd_argc(cmd) != 2 ||
	    !imap_arg_get_astring(imap_cmd_arg(cmd, 0), &root) ||
	    imap_arg_type(list) != IMAP_ARG_LIST || n % 2 != 0) {
		imap_reply(cmd, "BAD",
			   "SETQUOTA needs a quota root and a list "
			   "of resource limits");
		return IMAP_CMD_DONE;
	}
	for (size_t i = 0; i < n; i += 2) {
		if (!imap_arg_get_atom(imap_arg_at(list, i), &res) ||
		    !imap_arg_get_number64(imap_arg_at(list, i + 1), &limit)) {
			imap_reply(cmd, "BAD",
				   "SETQUOTA needs a quota root "
				   "and a list of resource limits");
			return IMAP_CMD_DONE;
		}
	}
	return imap_cmd_no(cmd, "[NOPERM] Quota limits are set by the "
				"administrator");
}
