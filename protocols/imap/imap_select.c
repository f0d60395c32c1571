/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "protocols/imap/imap_select.h"

#include "lib/xalloc.h"
#include "protocols/imap/imap_condstore.h"
#include "protocols/imap/imap_folder.h"
#include "protocols/imap/imap_job.h"
#include "protocols/imap/imap_recent.h"
#include "protocols/imap/imap_searchres.h"
#include "protocols/imap/imap_write.h"
#include "storage/mailbox.h"
#include "storage/maildir_attr.h"

#include <stdlib.h>
#include <string.h>

/* The system flags a client may set (RFC 3501 2.3.2; \Recent is the
   server's). */
#define IMAP_SYSTEM_FLAGS "\\Answered \\Flagged \\Deleted \\Seen \\Draft"

static void write_flag_lists(struct imap_session *s, struct mailbox *box,
			     bool readonly)
{
	const char *const *names = mailbox_keyword_names(box);
	unsigned used = 0;
	struct buf b;

	buf_init(&b, 65536);
	buf_append_str(&b, "* FLAGS (" IMAP_SYSTEM_FLAGS);
	for (unsigned i = 0; i < 26; i++) {
		if (names[i] == NULL)
			continue;
		buf_printf(&b, " %s", names[i]);
		used++;
	}
	buf_append_str(&b, ")\r\n");
	if (readonly) {
		buf_append_str(&b, "* OK [PERMANENTFLAGS ()] Read-only "
				   "mailbox.\r\n");
	} else {
		buf_append_str(&b, "* OK [PERMANENTFLAGS (" IMAP_SYSTEM_FLAGS);
		for (unsigned i = 0; i < 26; i++) {
			if (names[i] != NULL)
				buf_printf(&b, " %s", names[i]);
		}
		/* new keywords while Maildir has letters for them */
		buf_append_str(&b, used < 26 ? " \\*)] Flags permitted.\r\n"
					     : ")] Flags permitted.\r\n");
	}
	conn_write(s->conn, b.data, b.len);
	buf_free(&b);
}

/* Sequence number of the first message without \Seen, or 0. */
static unsigned first_unseen(struct mailbox *box)
{
	unsigned n = mailbox_count(box);
	struct mailbox_msg msg;

	for (unsigned i = 0; i < n; i++) {
		mailbox_get(box, i, &msg);
		if ((msg.flags & MAILDIR_FLAG_SEEN) == 0)
			return i + 1;
	}
	return 0;
}

/* SELECT/EXAMINE's open, run on a storage thread (imap_job.h): a cold
   open of a big folder scans it. */
struct select_job {
	struct maildir *store;
	char *name;
	bool readonly;
	struct imap_selected *old; /* the folder this SELECT closed */
	struct mailbox *box;
	const char *error;
	int ret;
	unsigned unseen;
	bool qresync; /* (QRESYNC ...) was given: q holds it */
	struct imap_condstore_qresync q;
	struct imap_recent *recent;
};

static void select_work(void *ctx)
{
	struct select_job *j = ctx;

	j->ret = mailbox_open(j->store, j->name, 0, &j->box, &j->error);
	if (j->ret == 0) {
		j->unseen = first_unseen(j->box);
		/* \Marked in LIST: mail arrived since this selection */
		maildir_attr_note_select(j->store, j->name,
					 mailbox_uidvalidity(j->box),
					 mailbox_uidnext(j->box));
		/* SELECT claims the messages no session has seen */
		j->recent = imap_recent_new(j->readonly);
		(void)imap_recent_update(j->recent, j->box);
	}
}

static void select_free(void *ctx)
{
	struct select_job *j = ctx;

	if (j->old != NULL) {
		mailbox_free(&j->old->box);
		imap_recent_free(&j->old->recent);
		imap_searchres_free(j->old);
		free(j->old->name);
		free(j->old);
	}
	mailbox_free(&j->box);
	imap_condstore_qresync_free(&j->q);
	imap_recent_free(&j->recent);
	free(j->name);
	free(j);
}

static enum imap_cmd_result select_done(struct imap_cmd *cmd, void *ctx)
{
	struct imap_session *s = cmd->s;
	struct select_job *j = ctx;
	struct mailbox *box = j->box;
	unsigned unseen = j->unseen;

	if (j->ret < 0) {
		imap_reply(cmd, "NO", "%s%s", imap_storage_code(s), j->error);
		return IMAP_CMD_DONE;
	}
	j->box = NULL;
	s->sel = xcalloc(1, sizeof(*s->sel));
	s->sel->box = box;
	s->sel->name = j->name;
	j->name = NULL;
	s->sel->readonly = j->readonly;
	s->sel->recent = j->recent;
	j->recent = NULL;
	s->state = IMAP_STATE_SELECTED;
	write_flag_lists(s, box, j->readonly);
	conn_printf(s->conn, "* %u EXISTS\r\n* %u RECENT\r\n",
		    mailbox_count(box), imap_recent_count(s->sel->recent, box));
	if (unseen > 0)
		conn_printf(s->conn, "* OK [UNSEEN %u] First unseen.\r\n",
			    unseen);
	conn_printf(s->conn,
		    "* OK [UIDVALIDITY %u] UIDs valid\r\n"
		    "* OK [UIDNEXT %u] Predicted next UID\r\n",
		    mailbox_uidvalidity(box), mailbox_uidnext(box));
	/* RFC 7162 3.1.2.1: on every SELECT, whether CONDSTORE is on or
	   not (a response code RFC 3501 clients ignore) */
	if (mailbox_highest_modseq(box) > 0)
		conn_printf(s->conn, "* OK [HIGHESTMODSEQ %llu] Highest\r\n",
			    (unsigned long long)mailbox_highest_modseq(box));
	else
		conn_write_str(s->conn, "* OK [NOMODSEQ] No permanent "
					"modsequences\r\n");
	if (j->qresync)
		imap_condstore_qresync_select(s, &j->q);
	imap_reply(cmd, "OK", "[%s] %s completed",
		   j->readonly ? "READ-ONLY" : "READ-WRITE", cmd->def->name);
	return IMAP_CMD_DONE;
}

/*
 * The select-params (RFC 4466 2.1): CONDSTORE (RFC 7162 3.1.8) and QRESYNC
 * (3.2.5). Returns 0 (*condstore_r set, j->q filled for QRESYNC), or -1
 * with a reason for BAD.
 */
static int select_params(struct imap_cmd *cmd, const struct imap_arg *list,
			 struct select_job *j, bool *condstore_r,
			 const char **error_r)
{
	size_t n = imap_arg_count(list);

	*condstore_r = false;
	if (imap_arg_type(list) != IMAP_ARG_LIST || n == 0) {
		*error_r = "Invalid SELECT parameters";
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		struct strv name;

		if (!imap_arg_get_atom(imap_arg_at(list, i), &name)) {
			*error_r = "Invalid SELECT parameters";
			return -1;
		}
		if (strv_eq_cstr_ci(name, "CONDSTORE")) {
			*condstore_r = true;
			continue;
		}
		if (!strv_eq_cstr_ci(name, "QRESYNC") || j->qresync) {
			*error_r = "Unknown SELECT parameter";
			return -1;
		}
		/* RFC 7162 3.2.5: BAD unless QRESYNC was enabled */
		if (!imap_condstore_qresync_on(cmd->s)) {
			*error_r = "QRESYNC is not enabled";
			return -1;
		}
		if (imap_condstore_qresync_parse(imap_arg_at(list, ++i), &j->q,
						 error_r) < 0)
			return -1;
		j->qresync = true;
	}
	return 0;
}

static enum imap_cmd_result select_common(struct imap_cmd *cmd, bool readonly)
{
	struct imap_session *s = cmd->s;
	struct select_job *j;
	bool had = s->sel != NULL, condstore = false;
	const char *error = NULL;
	size_t argc = imap_cmd_argc(cmd);
	char *name;

	if (argc != 1 && argc != 2) {
		imap_reply(cmd, "BAD", "%s needs one mailbox name",
			   cmd->def->name);
		return IMAP_CMD_DONE;
	}
	j = xcalloc(1, sizeof(*j));
	if (argc == 2 && select_params(cmd, imap_cmd_arg(cmd, 1), j, &condstore,
				       &error) < 0) {
		select_free(j);
		imap_reply(cmd, "BAD", "%s", error);
		return IMAP_CMD_DONE;
	}
	if (imap_folder_arg(cmd, 0, &name) < 0) {
		select_free(j);
		return IMAP_CMD_DONE;
	}
	/* RFC 3501 6.3.1: a SELECT, even a failing one, closes the current
	   mailbox without expunging; RFC 7162 3.2.11 / RFC 9051: [CLOSED].
	   Its memory goes after the new open (select_free): SELECT of the
	   same folder again then finds the index mapped and checked (shared
	   in the process, mindex.h) instead of checking every record. */
	if (had) {
		mailbox_cache_save(s->sel->box);
		j->old = s->sel;
		s->sel = NULL;
		if (s->state == IMAP_STATE_SELECTED)
			s->state = IMAP_STATE_AUTHENTICATED;
		conn_write_str(s->conn,
			       "* OK [CLOSED] Previous mailbox closed.\r\n");
	}
	/* RFC 7162 3.1.8: SELECT (CONDSTORE) enables CONDSTORE; QRESYNC
	   implies it (enabled already) */
	if (condstore)
		imap_condstore_enable(s);
	j->store = s->store;
	j->name = name;
	j->readonly = readonly;
	return imap_job_run(cmd, select_work, select_done, select_free, j,
			    false);
}

enum imap_cmd_result imap_cmd_select(struct imap_cmd *cmd)
{
	return select_common(cmd, false);
}

enum imap_cmd_result imap_cmd_examine(struct imap_cmd *cmd)
{
	return select_common(cmd, true);
}

/* UIDs of the messages the session sees with \Deleted. */
static uint32_t *deleted_uids(struct mailbox *box, size_t *n_r)
{
	unsigned count = mailbox_count(box);
	uint32_t *uids = xcalloc(count + 1, sizeof(*uids));
	struct mailbox_msg msg;
	size_t n = 0;

	for (unsigned i = 0; i < count; i++) {
		mailbox_get(box, i, &msg);
		if ((msg.flags & MAILDIR_FLAG_DELETED) != 0)
			uids[n++] = msg.uid;
	}
	*n_r = n;
	return uids;
}

/* An expunge on a storage thread (imap_job.h): unlinking many files and
   rewriting the UID list. */
struct expunge_job {
	struct mailbox *box;
	uint32_t *uids;
	size_t n;
	enum imap_expunge_kind kind;
	int ret;
	const char *error;
};

static void expunge_work(void *ctx)
{
	struct expunge_job *j = ctx;

	j->ret = j->n > 0 ? mailbox_expunge_deleted(j->box, j->uids, j->n,
						    &j->error)
			  : 0;
}

static void expunge_free(void *ctx)
{
	struct expunge_job *j = ctx;

	free(j->uids);
	free(j);
}

static enum imap_cmd_result expunge_done(struct imap_cmd *cmd, void *ctx)
{
	struct imap_session *s = cmd->s;
	struct expunge_job *j = ctx;

	if (j->ret == 0 && j->n > 0)
		conn_log_info(s->conn, "event=expunge folder=%s count=%zu",
			      log_q(s->sel->name), j->n);
	if (j->kind == IMAP_EXPUNGE_CLOSE) {
		if (j->ret < 0)
			conn_log_warn(s->conn,
				      "event=close_expunge_failed error=\"%s\"",
				      j->error);
		imap_session_unselect(s);
		imap_reply(cmd, "OK", "CLOSE completed");
		return IMAP_CMD_DONE;
	}
	if (j->ret < 0)
		return imap_cmd_no(cmd, "%s%s", imap_storage_code(s), j->error);
	/* the sync at the end reports the EXPUNGE responses; RFC 7162
	   3.2.9: with QRESYNC the tagged OK says the new HIGHESTMODSEQ */
	if (imap_condstore_qresync_on(s))
		return imap_cmd_ok(cmd,
				   "[HIGHESTMODSEQ %llu] EXPUNGE completed",
				   (unsigned long long)mailbox_highest_modseq(
					   s->sel->box));
	return imap_cmd_ok(cmd, "EXPUNGE completed");
}

enum imap_cmd_result imap_expunge_run(struct imap_cmd *cmd, uint32_t *uids,
				      size_t n, enum imap_expunge_kind kind)
{
	struct expunge_job *j = xcalloc(1, sizeof(*j));

	j->box = cmd->s->sel->box;
	j->uids = uids;
	j->n = n;
	j->kind = kind;
	return imap_job_run(cmd, expunge_work, expunge_done, expunge_free, j,
			    kind != IMAP_EXPUNGE_CLOSE);
}

/* RFC 3501 6.4.2: expunge silently (no EXPUNGE responses), then leave */
enum imap_cmd_result imap_cmd_close(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->s;
	size_t n = 0;
	uint32_t *uids;

	if (imap_cmd_argc(cmd) != 0) {
		imap_reply(cmd, "BAD", "Unexpected arguments");
		return IMAP_CMD_DONE;
	}
	if (s->sel->readonly) {
		imap_session_unselect(s);
		imap_reply(cmd, "OK", "CLOSE completed");
		return IMAP_CMD_DONE;
	}
	uids = deleted_uids(s->sel->box, &n);
	return imap_expunge_run(cmd, uids, n, IMAP_EXPUNGE_CLOSE);
}

enum imap_cmd_result imap_cmd_unselect(struct imap_cmd *cmd)
{
	if (imap_cmd_argc(cmd) != 0) {
		imap_reply(cmd, "BAD", "Unexpected arguments");
		return IMAP_CMD_DONE;
	}
	imap_session_unselect(cmd->s);
	imap_reply(cmd, "OK", "UNSELECT completed");
	return IMAP_CMD_DONE;
}

enum imap_cmd_result imap_cmd_expunge(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->s;
	size_t n = 0;
	uint32_t *uids;

	if (imap_cmd_argc(cmd) != 0) {
		imap_reply(cmd, "BAD", "Unexpected arguments");
		return IMAP_CMD_DONE;
	}
	if (s->sel->readonly)
		return imap_cmd_no(cmd, "[READ-ONLY] Mailbox is read-only");
	uids = deleted_uids(s->sel->box, &n);
	return imap_expunge_run(cmd, uids, n, IMAP_EXPUNGE);
}
