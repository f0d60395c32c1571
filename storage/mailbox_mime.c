/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A message's MIME part tree, kept in the folder cache. */
#include "storage/mailbox.h"

#include "lib/buf.h"
#include "lib/log.h"
#include "storage/cache.h"
#include "storage/mime.h"

#include <unistd.h>

int mailbox_mime_get(struct mailbox *box, unsigned idx,
		     struct mime_message **msg_r, const char **error_r)
{
	struct mail_cache *cache = mailbox_cache(box);
	struct mailbox_msg msg;
	const void *data;
	struct buf blob;
	size_t len;
	int fd, ret;

	mailbox_get(box, idx, &msg);
	if (mail_cache_get(cache, msg.uid, MAIL_CACHE_FIELD_MIME, &data,
			   &len)) {
		*msg_r = mime_message_deserialize(data, len);
		if (*msg_r != NULL)
			return 0;
		/* damaged: parse the file again (the cache is never
		   trusted over the messages) */
	}
	if (mailbox_msg_open(box, idx, &fd, error_r) < 0)
		return -1;
	ret = mime_parse_fd(fd, msg_r, error_r);
	close(fd);
	if (ret < 0) {
		log_error("event=mime_parse folder=%s uid=%u error=\"%s\"",
			  log_q(mailbox_name(box)), msg.uid, *error_r);
		return -1;
	}
	buf_init(&blob, MAIL_CACHE_BLOB_MAX);
	if (mime_message_serialize(*msg_r, &blob) == 0)
		mail_cache_put(cache, msg.uid, MAIL_CACHE_FIELD_MIME, blob.data,
			       blob.len);
	buf_free(&blob);
	return 0;
}
