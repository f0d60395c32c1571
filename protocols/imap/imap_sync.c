/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "protocols/imap/imap_sync.h"

#include "protocols/imap/imap_condstore.h"
#include "protocols/imap/imap_recent.h"
#include "protocols/imap/imap_write.h"
#include "storage/mailbox.h"

#include <stdlib.h>

void imap_sync_write_flags(struct imap_session *s, unsigned idx,
			   struct buf *out)
{
	struct mailbox *box = s->sel->box;
	struct mailbox_msg msg;

	mailbox_get(box, idx, &msg);
	buf_append_str(out, "FLAGS ");
	imap_write_flags(out, msg.flags, msg.keywords,
			 mailbox_keyword_names(box),
			 imap_recent_has(s->sel->recent, msg.uid));
}

static void sync_write_expunges(struct imap_session *s,
				const struct mailbox_changes *ch)
{
	if (imap_condstore_qresync_on(s)) {
		/* RFC 7162 3.2.10: VANISHED replaces EXPUNGE */
		size_t n = 0;
		struct imap_condstore_range *r = imap_condstore_uid_ranges(
			ch->expunged_uids, ch->expunged_count, &n);

		imap_condstore_write_vanished(s, false, r, n);
		free(r);
		return;
	}
	/* highest first: each number is still right when the client reads
	   it (RFC 3501 7.4.1's example decrements instead) */
	for (size_t i = ch->expunged_count; i-- > 0;)
		conn_printf(s->conn, "* %u EXPUNGE\r\n",
			    ch->expunged_idx[i] + 1);
}

int imap_sync(struct imap_session *s, bool expunges_ok)
{
	struct imap_selected *sel = s->sel;
	const struct mailbox_changes *ch = NULL;
	const char *error = NULL;
	struct buf b;

	if (sel == NULL)
		return 0;
	if (!expunges_ok) {
		sel->sync_pending = true;
		return 0;
	}
	sel->sync_pending = false;
	if (sel->presynced) {
		ch = sel->presync_changes;
		sel->presynced = false;
	} else if (mailbox_sync(sel->box, &ch, &error) < 0) {
		conn_log_warn(s->conn,
			      "event=sync_failed folder=%s "
			      "error=\"%s\"",
			      log_q(sel->name), error);
		return -1;
	}
	if (ch == NULL || !ch->uidvalidity_changed)
		(void)imap_recent_update(sel->recent, sel->box);
	if (ch == NULL)
		return 0;
	if (ch->uidvalidity_changed) {
		/* the UID list was lost: the client must start over */
		conn_write_str(s->conn, "* BYE [UIDVALIDITY] UIDs of the "
					"selected mailbox changed\r\n");
		s->stop_reading = true;
		conn_close(s->conn, "uidvalidity changed");
		return 0;
	}
	sync_write_expunges(s, ch);
	if (ch->new_count > 0)
		conn_printf(s->conn, "* %u EXISTS\r\n* %u RECENT\r\n",
			    mailbox_count(sel->box),
			    imap_recent_count(sel->recent, sel->box));
	buf_init(&b, 65536);
	for (size_t i = 0; i < ch->flags_changed_count; i++) {
		long idx =
			mailbox_find_uid(sel->box, ch->flags_changed_uids[i]);

		if (idx < 0)
			continue;
		buf_reset(&b);
		/* with CONDSTORE: UID and MODSEQ too (RFC 7162 3.2.4) */
		imap_condstore_write_flag_fetch(s, (unsigned)idx, true, false,
						&b);
		conn_write(s->conn, b.data, b.len);
	}
	buf_free(&b);
	return 0;
}
