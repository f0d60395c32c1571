/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "protocols/imap/imap_folder.h"

#include "lib/xalloc.h"
#include "protocols/imap/imap_condstore.h"
#include "protocols/imap/imap_job.h"
#include "protocols/imap/imap_recent.h"
#include "protocols/imap/imap_special_use.h"
#include "protocols/imap/imap_write.h"
#include "storage/mailbox.h"
#include "storage/mailbox_name.h"
#include "storage/maildir.h"
#include "storage/maildir_attr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool imap_folder_utf8(const struct imap_session *s)
{
	return (s->enabled & (IMAP_ENABLED_UTF8 | IMAP_ENABLED_IMAP4REV2)) != 0;
}

char *imap_folder_decode(struct imap_session *s, struct strv raw,
			 const char **error_r)
{
	struct buf b;
	char *out;

	if (memchr(raw.p, '\0', raw.len) != NULL) {
		*error_r = "Invalid mailbox name";
		return NULL;
	}
	if (imap_folder_utf8(s))
		return xstrndup(raw.p, raw.len);
	buf_init(&b, 8 * raw.len + 16);
	if (mailbox_name_mutf7_to_utf8(raw.p, raw.len, &b, error_r) < 0) {
		buf_free(&b);
		return NULL;
	}
	out = xstrndup(b.data != NULL ? b.data : "", b.len);
	buf_free(&b);
	return out;
}

int imap_folder_name(struct imap_session *s, struct strv raw, char **name_r,
		     const char **error_r)
{
	char *name = imap_folder_decode(s, raw, error_r);

	if (name == NULL)
		return -1;
	if (mailbox_name_is_inbox(name)) {
		free(name);
		name = xstrdup("INBOX");
	} else if (mailbox_name_validate(name, IMAP_SEPARATOR, error_r) < 0) {
		free(name);
		return -1;
	}
	*name_r = name;
	return 0;
}

int imap_folder_arg(struct imap_cmd *cmd, size_t i, char **name_r)
{
	struct strv raw;
	const char *error = NULL;

	if (!imap_arg_get_mailbox(imap_cmd_arg(cmd, i), &raw)) {
		imap_reply(cmd, "BAD", "Missing or invalid mailbox name");
		return -1;
	}
	if (imap_folder_name(cmd->s, raw, name_r, &error) < 0) {
		imap_reply(cmd, "NO", "[CANNOT] %s", error);
		return -1;
	}
	return 0;
}

static bool match_at(const char *p, const char *n)
{
	for (; *p != '\0'; p++) {
		if (*p == '*' || *p == '%') {
			bool any = *p == '*';

			for (const char *t = n;; t++) {
				if (match_at(p + 1, t))
					return true;
				if (*t == '\0' ||
				    (!any && *t == IMAP_SEPARATOR))
					return false;
			}
		}
		if (*p != *n)
			return false;
		n++;
	}
	return *n == '\0';
}

bool imap_folder_match(const char *pattern, const char *name)
{
	if (match_at(pattern, name))
		return true;
	/* "inbox", "Inbox/%"...: INBOX is case-insensitive (RFC 3501
	   5.1) */
	if (strncasecmp(pattern, "INBOX", 5) == 0 &&
	    strncmp(name, "INBOX", 5) == 0) {
		char *p = xstrdup(pattern);
		bool ok;

		memcpy(p, "INBOX", 5);
		ok = match_at(p, name);
		free(p);
		return ok;
	}
	return false;
}

/* Simple commands on one name. */
enum folder_op {
	FOLDER_CREATE,
	FOLDER_DELETE,
	FOLDER_SUB,
	FOLDER_UNSUB
};

static enum imap_cmd_result folder_op(struct imap_cmd *cmd, enum folder_op op)
{
	struct imap_session *s = cmd->s;
	const char *error = NULL;
	unsigned uses = 0;
	char *name;
	int ret;

	if (op == FOLDER_CREATE && imap_cmd_argc(cmd) == 2) {
		/* RFC 6154 3: CREATE name (USE (\Drafts)) */
		if (imap_special_use_create_arg(cmd, &uses) < 0)
			return IMAP_CMD_DONE;
	} else if (imap_cmd_argc(cmd) != 1) {
		imap_reply(cmd, "BAD", "%s needs one mailbox name",
			   cmd->def->name);
		return IMAP_CMD_DONE;
	}
	if (op == FOLDER_CREATE) {
		/* RFC 3501 6.3.3: a trailing separator only says the client
		   intends to create names below it */
		struct strv raw;

		if (imap_arg_get_mailbox(imap_cmd_arg(cmd, 0), &raw) &&
		    raw.len > 1 && raw.p[raw.len - 1] == IMAP_SEPARATOR)
			((char *)raw.p)[raw.len - 1] = '\0';
	}
	if (imap_folder_arg(cmd, 0, &name) < 0)
		return IMAP_CMD_DONE;
	switch (op) {
	case FOLDER_CREATE:
		if (strcmp(name, "INBOX") == 0) {
			free(name);
			return imap_cmd_no(
				cmd, "[ALREADYEXISTS] INBOX always exists");
		}
		ret = maildir_create(s->store, name, &error);
		if (ret == 0 && uses != 0 &&
		    maildir_attr_set_uses(s->store, name, uses, &error) < 0) {
			/* no folder rather than one without its use */
			const char *ignored;

			(void)maildir_delete(s->store, name, &ignored);
			free(name);
			return imap_cmd_no(cmd, "[USEATTR] %s", error);
		}
		break;
	case FOLDER_DELETE:
		if (strcmp(name, "INBOX") == 0) {
			free(name);
			return imap_cmd_no(cmd, "[CANNOT] INBOX cannot be "
						"deleted");
		}
		if (s->sel != NULL && strcmp(s->sel->name, name) == 0)
			imap_session_unselect(s);
		ret = maildir_delete(s->store, name, &error);
		break;
	case FOLDER_SUB:
	case FOLDER_UNSUB:
		ret = maildir_subscribe(s->store, name, op == FOLDER_SUB,
					&error);
		break;
	}
	if (ret < 0) {
		enum imap_cmd_result r =
			imap_cmd_no(cmd, "%s%s", imap_storage_code(s), error);

		free(name);
		return r;
	}
	if (op == FOLDER_CREATE || op == FOLDER_DELETE)
		conn_log_info(s->conn, "event=%s folder=%s",
			      op == FOLDER_CREATE ? "create" : "delete",
			      log_q(name));
	free(name);
	return imap_cmd_ok(cmd, "%s completed", cmd->def->name);
}

enum imap_cmd_result imap_cmd_create(struct imap_cmd *cmd)
{
	return folder_op(cmd, FOLDER_CREATE);
}

enum imap_cmd_result imap_cmd_delete(struct imap_cmd *cmd)
{
	return folder_op(cmd, FOLDER_DELETE);
}

enum imap_cmd_result imap_cmd_subscribe(struct imap_cmd *cmd)
{
	return folder_op(cmd, FOLDER_SUB);
}

enum imap_cmd_result imap_cmd_unsubscribe(struct imap_cmd *cmd)
{
	return folder_op(cmd, FOLDER_UNSUB);
}

enum imap_cmd_result imap_cmd_rename(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->s;
	const char *error = NULL;
	char *from, *to;
	int ret;

	if (imap_cmd_argc(cmd) != 2) {
		imap_reply(cmd, "BAD", "RENAME needs two mailbox names");
		return IMAP_CMD_DONE;
	}
	if (imap_folder_arg(cmd, 0, &from) < 0)
		return IMAP_CMD_DONE;
	if (imap_folder_arg(cmd, 1, &to) < 0) {
		free(from);
		return IMAP_CMD_DONE;
	}
	if (strcmp(to, "INBOX") == 0) {
		ret = -1;
		free(from);
		free(to);
		return imap_cmd_no(cmd, "[ALREADYEXISTS] INBOX always exists");
	}
	ret = maildir_rename(s->store, from, to, &error);
	if (ret == 0)
		conn_log_info(s->conn, "event=rename folder=%s to=%s",
			      log_q(from), log_q(to));
	free(from);
	free(to);
	if (ret < 0)
		return imap_cmd_no(cmd, "%s%s", imap_storage_code(s), error);
	return imap_cmd_ok(cmd, "RENAME completed");
}

/* The STATUS items: to add one, a value in enum imap_status_item
   (imap_folder.h), a line here and its computation in status_compute(). */
static const struct {
	const char *name;
	enum imap_status_item item;
	bool per_message; /* needs a pass over the messages */
} status_items[] = {
	{"MESSAGES", IMAP_STATUS_MESSAGES, false},
	{"RECENT", IMAP_STATUS_RECENT, false},
	{"UIDNEXT", IMAP_STATUS_UIDNEXT, false},
	{"UIDVALIDITY", IMAP_STATUS_UIDVALIDITY, false},
	{"UNSEEN", IMAP_STATUS_UNSEEN, true},
	{"DELETED", IMAP_STATUS_DELETED, true}, /* RFC 9051 6.3.11 */
	{"SIZE", IMAP_STATUS_SIZE, true},	/* RFC 8438 */
	{"HIGHESTMODSEQ", IMAP_STATUS_HIGHESTMODSEQ, false},	/* RFC 7162 */
	{"DELETED-STORAGE", IMAP_STATUS_DELETED_STORAGE, true}, /* RFC 9208 */
};

#define N_STATUS_ITEMS (sizeof(status_items) / sizeof(status_items[0]))

int imap_status_parse(const struct imap_arg *list,
		      struct imap_status_request *req, const char **error_r)
{
	size_t n = imap_arg_count(list);

	memset(req, 0, sizeof(*req));
	if (imap_arg_type(list) != IMAP_ARG_LIST || n == 0 ||
	    n > IMAP_STATUS_MAX_ITEMS) {
		*error_r = "STATUS needs a list of items";
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		struct strv item;
		size_t k = 0;

		if (imap_arg_get_atom(imap_arg_at(list, i), &item)) {
			while (k < N_STATUS_ITEMS &&
			       !strv_eq_cstr_ci(item, status_items[k].name))
				k++;
		} else {
			k = N_STATUS_ITEMS;
		}
		if (k == N_STATUS_ITEMS) {
			*error_r = "Unknown STATUS item";
			return -1;
		}
		req->order[i] = (unsigned)k;
		if (status_items[k].per_message)
			req->per_message = true;
		if (status_items[k].item == IMAP_STATUS_SIZE)
			req->sizes = true;
		if (status_items[k].item == IMAP_STATUS_HIGHESTMODSEQ)
			req->modseq = true;
		if (status_items[k].item == IMAP_STATUS_DELETED_STORAGE)
			req->deleted_storage = true;
	}
	req->n = n;
	return 0;
}

int imap_status_compute(struct maildir *store, const char *name,
			const struct imap_status_request *req,
			uint64_t values[IMAP_STATUS_COUNT],
			const char **error_r)
{
	struct mailbox *box = NULL;
	unsigned count;

	memset(values, 0, IMAP_STATUS_COUNT * sizeof(*values));
	if (mailbox_open(store, name, 0, &box, error_r) < 0)
		return -1;
	count = mailbox_count(box);
	values[IMAP_STATUS_MESSAGES] = count;
	/* what no session has claimed as \Recent (imap_recent.h) */
	values[IMAP_STATUS_RECENT] = imap_recent_unclaimed(box);
	values[IMAP_STATUS_UIDNEXT] = mailbox_uidnext(box);
	values[IMAP_STATUS_UIDVALIDITY] = mailbox_uidvalidity(box);
	values[IMAP_STATUS_HIGHESTMODSEQ] = mailbox_highest_modseq(box);
	for (unsigned i = 0; req->per_message && i < count; i++) {
		struct mailbox_msg msg;
		uint64_t size, vsize;
		const char *error;

		mailbox_get(box, i, &msg);
		if ((msg.flags & MAILDIR_FLAG_SEEN) == 0)
			values[IMAP_STATUS_UNSEEN]++;
		if ((msg.flags & MAILDIR_FLAG_DELETED) != 0)
			values[IMAP_STATUS_DELETED]++;
		/* RFC 9208 4.4: what EXPUNGE would free, counted as the
		   quota counts it (the file's size) */
		if (req->deleted_storage &&
		    (msg.flags & MAILDIR_FLAG_DELETED) != 0 &&
		    mailbox_msg_sizes(box, i, &size, &vsize, &error) == 0)
			values[IMAP_STATUS_DELETED_STORAGE] += size;
		/* RFC 8438: the sum of RFC822.SIZE; a message expunged
		   meanwhile counts nothing */
		if (req->sizes &&
		    mailbox_msg_sizes(box, i, &size, &vsize, &error) == 0)
			values[IMAP_STATUS_SIZE] += vsize;
	}
	/* in units of 1024 octets, like the STORAGE resource */
	values[IMAP_STATUS_DELETED_STORAGE] /= 1024;
	if (req->sizes || req->deleted_storage)
		(void)mailbox_cache_save(box);
	mailbox_free(&box);
	return 0;
}

void imap_status_write(struct imap_session *s, struct buf *out,
		       const char *name, const struct imap_status_request *req,
		       const uint64_t values[IMAP_STATUS_COUNT])
{
	buf_append_str(out, "* STATUS ");
	imap_write_mailbox(out, name, imap_folder_utf8(s));
	buf_append_str(out, " (");
	for (size_t i = 0; i < req->n; i++) {
		unsigned k = req->order[i];

		buf_printf(out, "%s%s %llu", i > 0 ? " " : "",
			   status_items[k].name,
			   (unsigned long long)values[status_items[k].item]);
	}
	buf_append_str(out, ")\r\n");
}

/* STATUS opens the folder on a storage thread (imap_job.h): a cold open
   scans it. */
struct status_job {
	struct maildir *store;
	char *name;
	struct imap_status_request req;
	int ret;
	const char *error;
	uint64_t values[IMAP_STATUS_COUNT];
};

static void status_work(void *ctx)
{
	struct status_job *j = ctx;

	j->ret = imap_status_compute(j->store, j->name, &j->req, j->values,
				     &j->error);
}

static void status_free(void *ctx)
{
	struct status_job *j = ctx;

	free(j->name);
	free(j);
}

static enum imap_cmd_result status_done(struct imap_cmd *cmd, void *ctx)
{
	struct imap_session *s = cmd->s;
	struct status_job *j = ctx;
	struct buf b;

	if (j->ret < 0)
		return imap_cmd_no(cmd, "%s%s", imap_storage_code(s), j->error);
	buf_init(&b, 65536);
	imap_status_write(s, &b, j->name, &j->req, j->values);
	conn_write(s->conn, b.data, b.len);
	buf_free(&b);
	return imap_cmd_ok(cmd, "STATUS completed");
}

enum imap_cmd_result imap_cmd_status(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->s;
	struct imap_status_request req;
	const char *error = NULL;
	struct status_job *j;
	char *name;

	if (imap_cmd_argc(cmd) != 2 ||
	    imap_status_parse(imap_cmd_arg(cmd, 1), &req, &error) < 0) {
		imap_reply(cmd, "BAD", "%s",
			   error != NULL ? error
					 : "STATUS needs a mailbox and a list "
					   "of items");
		return IMAP_CMD_DONE;
	}
	if (imap_folder_arg(cmd, 0, &name) < 0)
		return IMAP_CMD_DONE;
	/* RFC 7162 3.1: STATUS HIGHESTMODSEQ enables CONDSTORE */
	if (req.modseq)
		imap_condstore_enable(s);
	j = xcalloc(1, sizeof(*j));
	j->store = s->store;
	j->name = name;
	j->req = req;
	return imap_job_run(cmd, status_work, status_done, status_free, j,
			    true);
}
