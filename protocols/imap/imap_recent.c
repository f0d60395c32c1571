/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "protocols/imap/imap_recent.h"

#include "lib/xalloc.h"
#include "storage/mailbox.h"

#include <stdlib.h>

struct imap_recent_range {
	uint32_t first, end; /* [first, end) */
};

struct imap_recent {
	bool readonly;
	uint32_t seen_end; /* UIDs below it were looked at */
	struct imap_recent_range *ranges;
	size_t n, cap;
};

struct imap_recent *imap_recent_new(bool readonly)
{
	struct imap_recent *r = xcalloc(1, sizeof(*r));

	r->readonly = readonly;
	r->seen_end = 1;
	return r;
}

void imap_recent_free(struct imap_recent **r)
{
	if (*r == NULL)
		return;
	free((*r)->ranges);
	free(*r);
	*r = NULL;
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

static void add_range(struct imap_recent *r, uint32_t first, uint32_t end)
{
	if (first >= end)
		return;
	if (r->n > 0 && r->ranges[r->n - 1].end == first) {
		r->ranges[r->n - 1].end = end;
		return;
	}
	if (r->n == r->cap) {
		r->cap = r->cap == 0 ? 4 : r->cap * 2;
		r->ranges = xrealloc(r->ranges, r->cap * sizeof(*r->ranges));
	}
	r->ranges[r->n].first = first;
	r->ranges[r->n].end = end;
	r->n++;
}

int imap_recent_update(struct imap_recent *r, struct mailbox *box)
{
	uint32_t end, first, claimed_end;
	const char *error;

	if (r == NULL)
		return 0;
	end = snapshot_end(box);
	if (end <= r->seen_end)
		return 0;
	if (r->readonly) {
		first = mailbox_recent_first(box);
		add_range(r, first > r->seen_end ? first : r->seen_end, end);
		r->seen_end = end;
		return 0;
	}
	if (mailbox_recent_claim(box, &first, &claimed_end, &error) < 0)
		return -1;
	/* ours: what we claimed now, never what we looked at before */
	add_range(r, first > r->seen_end ? first : r->seen_end, claimed_end);
	r->seen_end = end;
	return 0;
}

bool imap_recent_has(const struct imap_recent *r, uint32_t uid)
{
	size_t lo = 0, hi;

	if (r == NULL)
		return false;
	hi = r->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (uid < r->ranges[mid].first)
			hi = mid;
		else if (uid >= r->ranges[mid].end)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

/* Index of the first message of the snapshot with UID >= uid. */
static unsigned lower_bound(const struct mailbox *box, uint32_t uid)
{
	unsigned lo = 0, hi = mailbox_count(box);

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		struct mailbox_msg msg;

		mailbox_get(box, mid, &msg);
		if (msg.uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

unsigned imap_recent_count(const struct imap_recent *r,
			   const struct mailbox *box)
{
	unsigned count = 0;

	if (r == NULL)
		return 0;
	for (size_t i = 0; i < r->n; i++)
		count += lower_bound(box, r->ranges[i].end) -
			 lower_bound(box, r->ranges[i].first);
	return count;
}

unsigned imap_recent_unclaimed(const struct mailbox *box)
{
	return mailbox_count(box) - lower_bound(box, mailbox_recent_first(box));
}
