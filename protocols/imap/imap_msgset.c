/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "protocols/imap/imap_msgset.h"

#include "protocols/imap/imap_searchres.h"
#include "protocols/imap/imap_seqset.h"
#include "storage/mailbox.h"

static int msgset_from_uids(struct imap_cmd *cmd, struct imap_seqset *set,
			    struct imap_msgset *out)
{
	struct mailbox *box = cmd->s->sel->box;
	unsigned count = mailbox_count(box);
	struct mailbox_msg msg;
	uint32_t max = 0;

	if (count > 0) {
		mailbox_get(box, count - 1, &msg);
		max = msg.uid;
	}
	imap_seqset_resolve(set, max);
	out->idx = arena_alloc(cmd->arena, (count + 1) * sizeof(*out->idx));
	out->count = 0;
	/* walk whichever is smaller: the set's members or the view */
	if (imap_seqset_count(set) < count) {
		uint32_t uid = 0;

		while (imap_seqset_next(set, &uid)) {
			long i = mailbox_find_uid(box, uid);

			if (i >= 0)
				out->idx[out->count++] = (unsigned)i;
		}
		return 0;
	}
	for (unsigned i = 0; i < count; i++) {
		mailbox_get(box, i, &msg);
		if (imap_seqset_contains(set, msg.uid))
			out->idx[out->count++] = i;
	}
	return 0;
}

int imap_msgset_arg(struct imap_cmd *cmd, size_t argi, bool as_uids,
		    struct imap_msgset *set_r)
{
	struct mailbox *box = cmd->s->sel->box;
	struct imap_seqset *set = NULL;
	const char *error = NULL;
	unsigned count = mailbox_count(box);
	uint32_t n = 0;
	int ret = 0;

	if (imap_arg_get_seqset(imap_cmd_arg(cmd, argi), true, &set, &error) <
	    0) {
		imap_reply(cmd, "BAD", "Invalid sequence set: %s", error);
		return -1;
	}
	if (imap_seqset_is_searchres(set)) {
		/* RFC 5182 2.1: "$" is the saved result, kept as UIDs:
		   messages expunged since are simply not there */
		imap_seqset_free(&set);
		set = imap_searchres_copy(cmd->s->sel);
		as_uids = true;
	}
	if (as_uids || cmd->uid) {
		ret = msgset_from_uids(cmd, set, set_r);
		imap_seqset_free(&set);
		return ret;
	}
	imap_seqset_resolve(set, count);
	/* only "*" in an empty folder leaves the set empty */
	if (imap_seqset_max(set) > count) {
		imap_seqset_free(&set);
		imap_reply(cmd, "BAD", "Invalid sequence set: no such message");
		return -1;
	}
	set_r->idx = arena_alloc(cmd->arena, (imap_seqset_count(set) + 1) *
						     sizeof(*set_r->idx));
	set_r->count = 0;
	while (imap_seqset_next(set, &n))
		set_r->idx[set_r->count++] = n - 1;
	imap_seqset_free(&set);
	return 0;
}

uint32_t *imap_msgset_uids(struct imap_cmd *cmd, const struct imap_msgset *set)
{
	uint32_t *uids =
		arena_alloc(cmd->arena, (set->count + 1) * sizeof(*uids));
	struct mailbox_msg msg;

	for (size_t i = 0; i < set->count; i++) {
		mailbox_get(cmd->s->sel->box, set->idx[i], &msg);
		uids[i] = msg.uid;
	}
	return uids;
}
