/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "protocols/imap/imap_store.h"

#include "lib/xalloc.h"
#include "protocols/imap/imap_folder.h"
#include "protocols/imap/imap_job.h"
#include "protocols/imap/imap_msgset.h"
#include "protocols/imap/imap_select.h"
#include "protocols/imap/imap_seqset.h"
#include "protocols/imap/imap_sync.h"
#include "protocols/imap/imap_write.h"
#include "storage/mailbox.h"

#include <stdlib.h>
#include <string.h>

static const struct {
	const char *name;
	unsigned bit;
} system_flags[] = {
	{"\\Answered", MAILDIR_FLAG_REPLIED},
	{"\\Flagged", MAILDIR_FLAG_FLAGGED},
	{"\\Deleted", MAILDIR_FLAG_DELETED},
	{"\\Seen", MAILDIR_FLAG_SEEN},
	{"\\Draft", MAILDIR_FLAG_DRAFT},
};

int imap_store_parse_flags(struct imap_cmd *cmd, const struct imap_arg *arg,
			   struct mailbox *box, bool create, unsigned *flags_r,
			   uint32_t *keywords_r)
{
	struct strv *flags = NULL;
	size_t n = 0;

	*flags_r = 0;
	*keywords_r = 0;
	if (!imap_arg_get_flags(arg, cmd->arena, &flags, &n)) {
		imap_reply(cmd, "BAD", "Invalid flag list");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		struct strv f = flags[i];
		const char *error = NULL;
		size_t k = 0;
		int kw;

		if (f.len > 0 && f.p[0] == '\\') {
			while (k < 5 &&
			       !strv_eq_cstr_ci(f, system_flags[k].name))
				k++;
			if (k == 5) {
				/* \Recent is the server's; others do not exist */
				imap_reply(cmd, "BAD", "Invalid system flag");
				return -1;
			}
			*flags_r |= system_flags[k].bit;
			continue;
		}
		kw = mailbox_keyword_index(
			box, arena_strndup(cmd->arena, f.p, f.len), create,
			&error);
		if (kw >= 0) {
			*keywords_r |= 1u << kw;
		} else if (create) {
			/* RFC 3501 7.1: [LIMIT] once Maildir's 26 letters are
			   taken */
			imap_reply(cmd, "NO", "[LIMIT] %s",
				   error != NULL ? error : "Too many keywords");
			return -1;
		}
	}
	return 0;
}

/* "* seq FETCH (FLAGS (...) [UID n])" for every message of set */
static void write_flags(struct imap_cmd *cmd, const struct imap_msgset *set)
{
	struct buf b;

	buf_init(&b, 65536);
	for (size_t i = 0; i < set->count; i++) {
		struct mailbox_msg msg;

		mailbox_get(cmd->s->sel->box, set->idx[i], &msg);
		buf_reset(&b);
		buf_printf(&b, "* %u FETCH (", set->idx[i] + 1);
		imap_sync_write_flags(cmd->s, set->idx[i], &b);
		/* RFC 3501 6.4.8: UID commands report the UID */
		if (cmd->uid)
			buf_printf(&b, " UID %u", msg.uid);
		buf_append_str(&b, ")\r\n");
		conn_write(cmd->s->conn, b.data, b.len);
	}
	buf_free(&b);
}

/* STORE's renames (and the index it rewrites) on a storage thread
   (imap_job.h): a flag change in a big folder writes the whole index. */
struct store_job {
	struct mailbox *box;
	uint32_t *uids;
	size_t count;
	enum mailbox_flags_op op;
	unsigned flags;
	uint32_t keywords;
	bool silent;
	const struct imap_msgset *set; /* in the command's arena */
	int ret;
	const char *error;
};

static void store_work(void *ctx)
{
	struct store_job *j = ctx;

	j->ret = mailbox_update_flags(j->box, j->uids, j->count, j->op,
				      j->flags, j->keywords, &j->error);
}

static void store_free(void *ctx)
{
	struct store_job *j = ctx;

	free(j->uids);
	free(j);
}

static enum imap_cmd_result store_done(struct imap_cmd *cmd, void *ctx)
{
	struct store_job *j = ctx;

	if (j->ret < 0)
		return imap_cmd_no(cmd, "%s%s", imap_storage_code(cmd->s),
				   j->error);
	if (!j->silent)
		write_flags(cmd, j->set);
	return imap_cmd_ok(cmd, "STORE completed");
}

/* STORE set [+|-]FLAGS[.SILENT] flags */
enum imap_cmd_result imap_cmd_store(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->s;
	struct mailbox *box = s->sel->box;
	enum mailbox_flags_op op = MAILBOX_FLAGS_REPLACE;
	struct imap_msgset set, *copy;
	struct store_job *j;
	struct strv item;
	unsigned flags;
	uint32_t keywords;
	bool silent = false;

	if (imap_cmd_argc(cmd) != 3 ||
	    !imap_arg_get_atom(imap_cmd_arg(cmd, 1), &item)) {
		imap_reply(cmd, "BAD", "STORE needs a set, an item and flags");
		return IMAP_CMD_DONE;
	}
	if (item.len > 0 && (item.p[0] == '+' || item.p[0] == '-')) {
		op = item.p[0] == '+' ? MAILBOX_FLAGS_ADD
				      : MAILBOX_FLAGS_REMOVE;
		item.p++;
		item.len--;
	}
	if (strv_eq_cstr_ci(item, "FLAGS.SILENT"))
		silent = true;
	else if (!strv_eq_cstr_ci(item, "FLAGS")) {
		imap_reply(cmd, "BAD", "Unknown STORE item");
		return IMAP_CMD_DONE;
	}
	if (imap_msgset_arg(cmd, 0, false, &set) < 0)
		return IMAP_CMD_DONE;
	if (s->sel->readonly)
		return imap_cmd_no(cmd, "[READ-ONLY] Mailbox is read-only");
	if (imap_store_parse_flags(cmd, imap_cmd_arg(cmd, 2), box,
				   op != MAILBOX_FLAGS_REMOVE, &flags,
				   &keywords) < 0)
		return IMAP_CMD_DONE;
	if (set.count == 0)
		return imap_cmd_ok(cmd, "STORE completed");
	j = xcalloc(1, sizeof(*j));
	j->box = box;
	j->op = op;
	j->flags = flags;
	j->keywords = keywords;
	j->silent = silent;
	copy = arena_alloc(cmd->arena, sizeof(*copy));
	*copy = set;
	j->set = copy;
	/* the job may outlive the command's arena (client gone) */
	j->count = set.count;
	j->uids = xcalloc(set.count + 1, sizeof(*j->uids));
	memcpy(j->uids, imap_msgset_uids(cmd, &set),
	       set.count * sizeof(*j->uids));
	/* the FETCH responses come before the end's sync: no sync_after */
	return imap_job_run(cmd, store_work, store_done, store_free, j, false);
}

/* "[COPYUID v src dst] " (RFC 4315 3) into b; skips expunged ones */
static void write_copyuid(struct buf *b, uint32_t uidvalidity,
			  const uint32_t *src, const uint32_t *dst, size_t n)
{
	bool any = false;

	for (size_t i = 0; i < n && !any; i++)
		any = dst[i] != 0;
	if (!any)
		return;
	buf_printf(b, "[COPYUID %u ", uidvalidity);
	/* the two lists in the same order, each number once */
	for (int pass = 0; pass < 2; pass++) {
		const uint32_t *v = pass == 0 ? src : dst;
		const char *sep = "";

		for (size_t i = 0; i < n; i++) {
			size_t j = i;

			if (dst[i] == 0)
				continue;
			while (j + 1 < n && dst[j + 1] != 0 &&
			       v[j + 1] == v[j] + 1)
				j++;
			if (j > i)
				buf_printf(b, "%s%u:%u", sep, v[i], v[j]);
			else
				buf_printf(b, "%s%u", sep, v[i]);
			sep = ",";
			i = j;
		}
		buf_append_str(b, pass == 0 ? " " : "] ");
	}
}

/* COPY/MOVE on a storage thread (imap_job.h): opening the target and
   linking (and for MOVE unlinking) many files. */
struct copy_job {
	struct maildir *store;
	struct mailbox *src;
	char *name;
	bool move;
	uint32_t *uids, *new_uids;
	size_t count;
	int ret;
	bool missing; /* the target does not exist (TRYCREATE) */
	uint32_t dst_uidvalidity;
	const char *error;
};

static void copy_work(void *ctx)
{
	struct copy_job *j = ctx;
	struct mailbox *dst = NULL;

	/* synced: the target's UIDVALIDITY and UIDs are known for COPYUID */
	if (mailbox_open(j->store, j->name, 0, &dst, &j->error) < 0) {
		j->missing =
			maildir_last_error(j->store) == MAILDIR_ERROR_NOT_FOUND;
		j->ret = -1;
		return;
	}
	j->ret = j->count == 0 ? 0
		 : j->move     ? mailbox_move(j->src, j->uids, j->count, dst,
					      j->new_uids, &j->error)
			       : mailbox_copy(j->src, j->uids, j->count, dst,
					      j->new_uids, &j->error);
	j->dst_uidvalidity = mailbox_uidvalidity(dst);
	mailbox_free(&dst);
}

static void copy_free(void *ctx)
{
	struct copy_job *j = ctx;

	free(j->name);
	free(j->uids);
	free(j->new_uids);
	free(j);
}

static enum imap_cmd_result copy_done(struct imap_cmd *cmd, void *ctx)
{
	struct imap_session *s = cmd->s;
	struct copy_job *j = ctx;
	enum imap_cmd_result r;
	struct buf code;

	if (j->ret < 0) {
		/* RFC 3501 6.4.7: TRYCREATE when the target is missing */
		return imap_cmd_no(cmd, "%s%s",
				   j->missing ? "[TRYCREATE] "
					      : imap_storage_code(s),
				   j->error);
	}
	buf_init(&code, 1024 * 1024);
	write_copyuid(&code, j->dst_uidvalidity, j->uids, j->new_uids,
		      j->count);
	conn_log_info(s->conn, "event=%s folder=%s to=%s count=%zu",
		      j->move ? "move" : "copy", log_q(s->sel->name),
		      log_q(j->name), j->count);
	if (j->move) {
		/* RFC 6851 4.3: COPYUID in an untagged OK, then the
		   EXPUNGEs, then the tagged OK */
		if (code.len > 0) {
			buf_truncate(&code, code.len - 1);
			conn_printf(s->conn, "* OK %.*s Moved\r\n",
				    (int)code.len, code.data);
		}
		imap_sync(s, true);
		buf_free(&code);
		imap_reply(cmd, "OK", "MOVE completed");
		return IMAP_CMD_DONE;
	}
	r = imap_cmd_ok(cmd, "%.*sCOPY completed", (int)code.len,
			code.data != NULL ? code.data : "");
	buf_free(&code);
	return r;
}

static enum imap_cmd_result copy_or_move(struct imap_cmd *cmd, bool move)
{
	struct imap_session *s = cmd->s;
	struct imap_msgset set;
	struct copy_job *j;
	uint32_t *uids;
	char *name;

	if (imap_cmd_argc(cmd) != 2) {
		imap_reply(cmd, "BAD", "%s needs a set and a mailbox",
			   cmd->def->name);
		return IMAP_CMD_DONE;
	}
	if (imap_msgset_arg(cmd, 0, false, &set) < 0 ||
	    imap_folder_arg(cmd, 1, &name) < 0)
		return IMAP_CMD_DONE;
	if (move && s->sel->readonly) {
		free(name);
		return imap_cmd_no(cmd, "[READ-ONLY] Mailbox is read-only");
	}
	uids = imap_msgset_uids(cmd, &set);
	j = xcalloc(1, sizeof(*j));
	j->store = s->store;
	j->src = s->sel->box;
	j->name = name;
	j->move = move;
	j->count = set.count;
	/* the job may outlive the command's arena (client gone) */
	j->uids = xcalloc(set.count + 1, sizeof(*j->uids));
	memcpy(j->uids, uids, set.count * sizeof(*uids));
	j->new_uids = xcalloc(set.count + 1, sizeof(*j->new_uids));
	return imap_job_run(cmd, copy_work, copy_done, copy_free, j, true);
}

enum imap_cmd_result imap_cmd_copy(struct imap_cmd *cmd)
{
	return copy_or_move(cmd, false);
}

enum imap_cmd_result imap_cmd_move(struct imap_cmd *cmd)
{
	return copy_or_move(cmd, true);
}

/* UID EXPUNGE set: only the \Deleted messages among the UIDs */
enum imap_cmd_result imap_cmd_uid_expunge(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->s;
	struct imap_msgset set;
	uint32_t *uids;
	size_t n = 0;

	if (imap_cmd_argc(cmd) != 1) {
		imap_reply(cmd, "BAD", "UID EXPUNGE needs a UID set");
		return IMAP_CMD_DONE;
	}
	if (imap_msgset_arg(cmd, 0, true, &set) < 0)
		return IMAP_CMD_DONE;
	if (s->sel->readonly)
		return imap_cmd_no(cmd, "[READ-ONLY] Mailbox is read-only");
	uids = xcalloc(set.count + 1, sizeof(*uids));
	for (size_t i = 0; i < set.count; i++) {
		struct mailbox_msg msg;

		mailbox_get(s->sel->box, set.idx[i], &msg);
		if ((msg.flags & MAILDIR_FLAG_DELETED) != 0)
			uids[n++] = msg.uid;
	}
	return imap_expunge_run(cmd, uids, n, IMAP_EXPUNGE);
}
