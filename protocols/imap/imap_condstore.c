/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "protocols/imap/imap_condstore.h"

#include "lib/xalloc.h"
#include "protocols/imap/imap_seqset.h"
#include "protocols/imap/imap_sync.h"
#include "storage/mailbox.h"

#include <stdlib.h>
#include <string.h>

/* A VANISHED line is split once its UID set passes this many bytes
   (RFC 7162 4: lines stay well below 8 KB for old clients). */
#define VANISHED_LINE_MAX 4000

bool imap_condstore_on(const struct imap_session *s)
{
	return (s->enabled & IMAP_ENABLED_CONDSTORE) != 0;
}

bool imap_condstore_qresync_on(const struct imap_session *s)
{
	return (s->enabled & IMAP_ENABLED_QRESYNC) != 0;
}

void imap_condstore_enable(struct imap_session *s)
{
	if (imap_condstore_on(s))
		return;
	s->enabled |= IMAP_ENABLED_CONDSTORE;
	/* as Dovecot does: a client that enables CONDSTORE in the selected
	   state learns the HIGHESTMODSEQ it missed at SELECT */
	if (s->sel != NULL && mailbox_highest_modseq(s->sel->box) > 0)
		conn_printf(s->conn, "* OK [HIGHESTMODSEQ %llu] Highest\r\n",
			    (unsigned long long)mailbox_highest_modseq(
				    s->sel->box));
}

bool imap_condstore_arg_modseq(const struct imap_arg *a, bool zero_ok,
			       uint64_t *modseq_r)
{
	/* number64 is 0..2^63-1, RFC 7162 7's range */
	if (!imap_arg_get_number64(a, modseq_r))
		return false;
	return zero_ok || *modseq_r > 0;
}

void imap_condstore_write_flag_fetch(struct imap_session *s, unsigned idx,
				     bool with_flags, bool with_uid,
				     struct buf *out)
{
	struct mailbox_msg msg;
	bool condstore = imap_condstore_on(s);

	mailbox_get(s->sel->box, idx, &msg);
	buf_printf(out, "* %u FETCH (", idx + 1);
	if (condstore) {
		/* RFC 7162 3.2.4: UID and MODSEQ in every flag update, in
		   the order of the RFC's examples */
		buf_printf(out, "UID %u", msg.uid);
		if (with_flags) {
			buf_append_str(out, " ");
			imap_sync_write_flags(s, idx, out);
		}
		buf_printf(out, " MODSEQ (%llu))\r\n",
			   (unsigned long long)msg.modseq);
		return;
	}
	imap_sync_write_flags(s, idx, out);
	if (with_uid)
		buf_printf(out, " UID %u", msg.uid);
	buf_append_str(out, ")\r\n");
}

static void ranges_push(struct imap_condstore_range **r, size_t *n, size_t *cap,
			uint32_t lo, uint32_t hi)
{
	if (*n > 0 && (*r)[*n - 1].hi != UINT32_MAX &&
	    (*r)[*n - 1].hi + 1 >= lo) {
		if (hi > (*r)[*n - 1].hi)
			(*r)[*n - 1].hi = hi;
		return;
	}
	if (*n == *cap) {
		*cap = *cap == 0 ? 16 : *cap * 2;
		*r = xrealloc(*r, *cap * sizeof(**r));
	}
	(*r)[*n].lo = lo;
	(*r)[*n].hi = hi;
	(*n)++;
}

struct imap_condstore_range *
imap_condstore_uid_ranges(const uint32_t *uids, size_t n, size_t *count_r)
{
	struct imap_condstore_range *r = NULL;
	size_t count = 0, cap = 0;

	for (size_t i = 0; i < n; i++)
		ranges_push(&r, &count, &cap, uids[i], uids[i]);
	*count_r = count;
	return r;
}

void imap_condstore_write_ranges(struct buf *out,
				 const struct imap_condstore_range *r,
				 size_t count)
{
	for (size_t i = 0; i < count; i++) {
		const char *sep = i > 0 ? "," : "";

		if (r[i].lo == r[i].hi)
			buf_printf(out, "%s%u", sep, r[i].lo);
		else
			buf_printf(out, "%s%u:%u", sep, r[i].lo, r[i].hi);
	}
}

void imap_condstore_write_vanished(struct imap_session *s, bool earlier,
				   const struct imap_condstore_range *r,
				   size_t count)
{
	const char *head = earlier ? "* VANISHED (EARLIER) " : "* VANISHED ";
	struct buf b;

	if (count == 0)
		return;
	buf_init(&b, VANISHED_LINE_MAX + 64);
	for (size_t i = 0; i < count; i++) {
		if (b.len == 0)
			buf_append_str(&b, head);
		else
			buf_append_str(&b, ",");
		if (r[i].lo == r[i].hi)
			buf_printf(&b, "%u", r[i].lo);
		else
			buf_printf(&b, "%u:%u", r[i].lo, r[i].hi);
		if (b.len >= VANISHED_LINE_MAX || i + 1 == count) {
			buf_append_str(&b, "\r\n");
			conn_write(s->conn, b.data, b.len);
			buf_reset(&b);
		}
	}
	buf_free(&b);
}

/* The expunge log reaches back to modseq: its UIDs within the set. */
static struct imap_condstore_range *
vanished_from_log(struct mailbox *box, const uint32_t *uids, size_t n,
		  const struct imap_seqset *within, size_t *count_r)
{
	struct imap_condstore_range *r = NULL;
	size_t count = 0, cap = 0;

	for (size_t i = 0; i < n; i++) {
		if (within != NULL && !imap_seqset_contains(within, uids[i]))
			continue;
		/* still in the view: its expunge is not reported yet */
		if (mailbox_find_uid(box, uids[i]) >= 0)
			continue;
		ranges_push(&r, &count, &cap, uids[i], uids[i]);
	}
	*count_r = count;
	return r;
}

/* The log is incomplete: every UID of lo..hi the view lacks. k is the
   view position to resume from (UIDs ascending). */
static void gaps(struct mailbox *box, uint32_t lo, uint32_t hi, unsigned *k,
		 struct imap_condstore_range **r, size_t *count, size_t *cap)
{
	unsigned n = mailbox_count(box);
	uint64_t cur = lo;
	struct mailbox_msg msg;

	for (; *k < n; (*k)++) {
		mailbox_get(box, *k, &msg);
		if (msg.uid < lo)
			continue;
		if (msg.uid > hi)
			break;
		if (msg.uid > cur)
			ranges_push(r, count, cap, (uint32_t)cur, msg.uid - 1);
		cur = (uint64_t)msg.uid + 1;
	}
	if (cur <= hi)
		ranges_push(r, count, cap, (uint32_t)cur, hi);
}

struct imap_condstore_range *
imap_condstore_vanished(struct mailbox *box, uint64_t modseq,
			const struct imap_seqset *within, uint32_t known_floor,
			size_t *count_r)
{
	struct imap_condstore_range *r = NULL;
	uint32_t *uids = NULL, top = mailbox_uidnext(box) - 1;
	size_t n = 0, count = 0, cap = 0, ranges;
	unsigned k = 0;
	bool complete = false;

	mailbox_expunged_since(box, modseq, &uids, &n, &complete);
	if (complete) {
		r = vanished_from_log(box, uids, n, within, count_r);
		free(uids);
		return r;
	}
	free(uids);
	/* RFC 7162 3.2.5.2: more than what vanished is allowed, less
	   never: every UID the client may know and the view lacks */
	ranges = within != NULL ? imap_seqset_range_count(within) : 1;
	for (size_t i = 0; i < ranges && mailbox_uidnext(box) > 1; i++) {
		uint32_t lo = 1, hi = top;

		if (within != NULL)
			imap_seqset_range(within, i, &lo, &hi);
		if (lo <= known_floor)
			lo = known_floor + 1;
		if (hi > top)
			hi = top;
		if (lo == 0 || lo > hi)
			continue;
		gaps(box, lo, hi, &k, &r, &count, &cap);
	}
	*count_r = count;
	return r;
}

/* --- SELECT/EXAMINE (QRESYNC ...) --- */

static int qresync_set(const struct imap_arg *a, struct imap_seqset **set_r)
{
	const char *error = NULL;

	if (imap_arg_get_seqset(a, false, set_r, &error) < 0)
		return -1;
	/* "*" has no meaning in a known set: the client's own UIDs */
	if (imap_seqset_has_star(*set_r)) {
		imap_seqset_free(set_r);
		return -1;
	}
	imap_seqset_normalise(*set_r);
	return 0;
}

int imap_condstore_qresync_parse(const struct imap_arg *list,
				 struct imap_condstore_qresync *q,
				 const char **error_r)
{
	size_t n = imap_arg_count(list);
	const struct imap_arg *match = imap_arg_at(list, 3);

	memset(q, 0, sizeof(*q));
	if (imap_arg_type(list) != IMAP_ARG_LIST || n < 2 || n > 4 ||
	    !imap_arg_get_nz_number(imap_arg_at(list, 0), &q->uidvalidity) ||
	    !imap_condstore_arg_modseq(imap_arg_at(list, 1), false,
				       &q->modseq)) {
		*error_r = "QRESYNC needs (uidvalidity modseq [known-uids "
			   "[seq-match-data]])";
		return -1;
	}
	if (n >= 3 && qresync_set(imap_arg_at(list, 2), &q->known_uids) < 0) {
		*error_r = "Invalid known UID set";
		return -1;
	}
	if (n == 4 && (imap_arg_type(match) != IMAP_ARG_LIST ||
		       imap_arg_count(match) != 2 ||
		       qresync_set(imap_arg_at(match, 0), &q->match_seqs) < 0 ||
		       qresync_set(imap_arg_at(match, 1), &q->match_uids) < 0 ||
		       imap_seqset_count(q->match_seqs) !=
			       imap_seqset_count(q->match_uids))) {
		imap_condstore_qresync_free(q);
		*error_r = "Invalid sequence match data";
		return -1;
	}
	return 0;
}

void imap_condstore_qresync_free(struct imap_condstore_qresync *q)
{
	imap_seqset_free(&q->known_uids);
	imap_seqset_free(&q->match_seqs);
	imap_seqset_free(&q->match_uids);
}

/*
 * RFC 7162 3.2.5.2: the largest UID of the client's sequence match data
 * before the first pair that differs from the view. Up to it the client's
 * view holds exactly the messages of ours (same count below the same
 * UID), so nothing up to it vanished.
 */
static uint32_t known_floor(struct mailbox *box,
			    const struct imap_condstore_qresync *q)
{
	uint32_t seq = 0, uid = 0, floor = 0;
	struct mailbox_msg msg;

	if (q->match_seqs == NULL)
		return 0;
	while (imap_seqset_next(q->match_seqs, &seq) &&
	       imap_seqset_next(q->match_uids, &uid)) {
		if (seq > mailbox_count(box))
			break;
		mailbox_get(box, seq - 1, &msg);
		if (msg.uid != uid)
			break;
		floor = uid;
	}
	return floor;
}

void imap_condstore_qresync_select(struct imap_session *s,
				   const struct imap_condstore_qresync *q)
{
	struct mailbox *box = s->sel->box;
	struct imap_condstore_range *r;
	unsigned n = mailbox_count(box);
	size_t count = 0;
	struct buf b;

	/* RFC 7162 3.2.5.1: another UIDVALIDITY means a full resync; the
	   client learns it from the UIDVALIDITY response */
	if (q->uidvalidity != mailbox_uidvalidity(box))
		return;
	r = imap_condstore_vanished(box, q->modseq, q->known_uids,
				    known_floor(box, q), &count);
	imap_condstore_write_vanished(s, true, r, count);
	free(r);
	buf_init(&b, 65536);
	for (unsigned i = 0; i < n; i++) {
		struct mailbox_msg msg;

		mailbox_get(box, i, &msg);
		if (msg.modseq <= q->modseq ||
		    (q->known_uids != NULL &&
		     !imap_seqset_contains(q->known_uids, msg.uid)))
			continue;
		buf_reset(&b);
		imap_condstore_write_flag_fetch(s, i, true, true, &b);
		conn_write(s->conn, b.data, b.len);
	}
	buf_free(&b);
}
