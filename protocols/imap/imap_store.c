/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "protocols/imap/imap_store.h"

#include "lib/xalloc.h"
#include "protocols/imap/imap_condstore.h"
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

/*
 * The untagged FETCH responses of a STORE: "* seq FETCH (FLAGS (...)
 * [UID n])" for every message of set (RFC 3501 6.4.6), with UID and
 * MODSEQ once CONDSTORE is on. FLAGS.SILENT writes nothing, except that
 * with CONDSTORE the messages whose MODSEQ rose get "(UID n MODSEQ (m))"
 * (RFC 7162 3.1.3 example 3); before[i] is set entry i's MODSEQ before
 * the change.
 */
static void write_flags(struct imap_cmd *cmd, const struct imap_msgset *set,
			bool silent, const uint64_t *before)
{
	struct buf b;

	if (silent && !imap_condstore_on(cmd->s))
		return;
	buf_init(&b, 65536);
	for (size_t i = 0; i < set->count; i++) {
		struct mailbox_msg msg;

		mailbox_get(cmd->s->sel->box, set->idx[i], &msg);
		if (silent && msg.modseq == before[i])
			continue;
		buf_reset(&b);
		/* RFC 3501 6.4.8: UID commands report the UID */
		imap_condstore_write_flag_fetch(cmd->s, set->idx[i], !silent,
						cmd->uid, &b);
		conn_write(cmd->s->conn, b.data, b.len);
	}
	buf_free(&b);
}

/*
 * RFC 7162 3.1.3: UNCHANGEDSINCE leaves out the messages whose MODSEQ is
 * above it; they go to modified (sequence numbers, or UIDs for UID
 * STORE). before[i] gets each kept message's MODSEQ.
 */
static void filter_unchanged(struct imap_cmd *cmd, struct imap_msgset *set,
			     uint64_t unchangedsince, uint32_t *modified,
			     size_t *modified_count, uint64_t *before)
{
	size_t out = 0;

	for (size_t i = 0; i < set->count; i++) {
		struct mailbox_msg msg;

		mailbox_get(cmd->s->sel->box, set->idx[i], &msg);
		if (msg.modseq > unchangedsince) {
			modified[(*modified_count)++] =
				cmd->uid ? msg.uid : set->idx[i] + 1;
			continue;
		}
		before[out] = msg.modseq;
		set->idx[out++] = set->idx[i];
	}
	set->count = out;
}

/* "(UNCHANGEDSINCE n)" before the item; -1 after replying BAD */
static int parse_store_mods(struct imap_cmd *cmd, const struct imap_arg *list,
			    uint64_t *unchangedsince_r)
{
	struct strv name;

	if (imap_arg_type(list) != IMAP_ARG_LIST || imap_arg_count(list) != 2 ||
	    !imap_arg_get_atom(imap_arg_at(list, 0), &name) ||
	    !strv_eq_cstr_ci(name, "UNCHANGEDSINCE")) {
		imap_reply(cmd, "BAD", "Unknown STORE modifier");
		return -1;
	}
	if (!imap_condstore_arg_modseq(imap_arg_at(list, 1), true,
				       unchangedsince_r)) {
		imap_reply(cmd, "BAD", "UNCHANGEDSINCE needs a mod-sequence");
		return -1;
	}
	return 0;
}

/* MODSEQs of the set before the change, for FLAGS.SILENT */
static uint64_t *modseqs_before(struct imap_cmd *cmd,
				const struct imap_msgset *set)
{
	uint64_t *m = arena_alloc(cmd->arena, (set->count + 1) * sizeof(*m));

	for (size_t i = 0; i < set->count; i++) {
		struct mailbox_msg msg;

		mailbox_get(cmd->s->sel->box, set->idx[i], &msg);
		m[i] = msg.modseq;
	}
	return m;
}

/* the tagged OK, with [MODIFIED set] when messages were left out */
static enum imap_cmd_result store_ok(struct imap_cmd *cmd,
				     const uint32_t *modified, size_t n)
{
	struct imap_condstore_range *r;
	enum imap_cmd_result ret;
	size_t count = 0;
	struct buf code;

	if (n == 0)
		return imap_cmd_ok(cmd, "STORE completed");
	r = imap_condstore_uid_ranges(modified, n, &count);
	buf_init(&code, 32 * 1024 * 1024);
	imap_condstore_write_ranges(&code, r, count);
	free(r);
	ret = imap_cmd_ok(cmd, "[MODIFIED %.*s] Conditional STORE failed",
			  (int)code.len, code.data);
	buf_free(&code);
	return ret;
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
	/* in the command's arena (done only runs while the command lives) */
	const struct imap_msgset *set;
	const uint64_t *before;	  /* MODSEQs before, per set entry */
	const uint32_t *modified; /* UNCHANGEDSINCE failures */
	size_t modified_count;
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
	write_flags(cmd, j->set, j->silent, j->before);
	return store_ok(cmd, j->modified, j->modified_count);
}

/* STORE set [(UNCHANGEDSINCE n)] [+|-]FLAGS[.SILENT] flags */
enum imap_cmd_result imap_cmd_store(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->s;
	struct mailbox *box = s->sel->box;
	enum mailbox_flags_op op = MAILBOX_FLAGS_REPLACE;
	struct imap_msgset set, *copy;
	struct store_job *j;
	uint32_t *modified = NULL;
	size_t modified_count = 0;
	uint64_t unchangedsince = 0, *before;
	size_t argc = imap_cmd_argc(cmd), a = argc == 4 ? 1 : 0;
	struct strv item;
	unsigned flags;
	uint32_t keywords;
	bool silent = false;

	if ((argc != 3 && argc != 4) ||
	    !imap_arg_get_atom(imap_cmd_arg(cmd, 1 + a), &item)) {
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
	if (imap_msgset_arg(cmd, 0, false, &set) < 0 ||
	    (a == 1 &&
	     parse_store_mods(cmd, imap_cmd_arg(cmd, 1), &unchangedsince) < 0))
		return IMAP_CMD_DONE;
	if (s->sel->readonly)
		return imap_cmd_no(cmd, "[READ-ONLY] Mailbox is read-only");
	if (imap_store_parse_flags(cmd, imap_cmd_arg(cmd, 2 + a), box,
				   op != MAILBOX_FLAGS_REMOVE, &flags,
				   &keywords) < 0)
		return IMAP_CMD_DONE;
	before = modseqs_before(cmd, &set);
	if (a == 1) {
		/* RFC 7162 3.1: UNCHANGEDSINCE enables CONDSTORE */
		imap_condstore_enable(s);
		modified = arena_alloc(cmd->arena,
				       (set.count + 1) * sizeof(*modified));
		filter_unchanged(cmd, &set, unchangedsince, modified,
				 &modified_count, before);
	}
	if (set.count == 0)
		return store_ok(cmd, modified, modified_count);
	j = xcalloc(1, sizeof(*j));
	j->box = box;
	j->op = op;
	j->flags = flags;
	j->keywords = keywords;
	j->silent = silent;
	copy = arena_alloc(cmd->arena, sizeof(*copy));
	*copy = set;
	j->set = copy;
	j->before = before;
	j->modified = modified;
	j->modified_count = modified_count;
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
