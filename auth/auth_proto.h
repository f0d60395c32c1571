/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * auth_proto: the framing between the serving processes and the auth
 * helper, over a unix stream socket.
 *
 * A frame is a 4-byte big-endian length, then that many bytes: fields, each
 * terminated by a NUL byte. The first field names the message, the second
 * is the request id (decimal). Field values never contain NUL (SASL data
 * travels as base64 text).
 *
 * client -> helper:
 *   VERIFY id service ip secured user password
 *   SASL id service ip secured mech has_ir ir_base64
 *   USERDB id service user            (a lookup without password: LMTP)
 *   CONT id response_base64
 *   CANCEL id
 * helper -> client:
 *   HELLO 0 mechanisms                (once, after accept)
 *   OK id user mail_root override...
 *   FAIL id reason class              (class: "refused" or "malformed",
 *                                      the client broke the SASL exchange)
 *   TEMPFAIL id reason class          (class: "temp")
 *   CONT id challenge_base64
 */
#ifndef MERPATI_AUTH_PROTO_H
#define MERPATI_AUTH_PROTO_H

#include "lib/buf.h"

#include <stddef.h>

#define AUTH_PROTO_FRAME_MAX 65536
#define AUTH_PROTO_FIELDS_MAX 72
/* Bytes buffered per direction before a peer is considered broken. */
#define AUTH_PROTO_BUF_MAX (4 * 1024 * 1024)

struct auth_proto_msg {
	size_t n;			      /* fields */
	const char *f[AUTH_PROTO_FIELDS_MAX]; /* into the input buffer */
	size_t frame_len;		      /* bytes to consume after use */
};

/* Appends a frame of n fields. Returns 0, or -1 when it does not fit. */
int auth_proto_append(struct buf *out, const char *const *fields, size_t n);

/*
 * Reads everything the non-blocking socket fd has into in. Returns 0 (the
 * peer is still there; complete frames may now wait in in), or -1 when
 * the peer closed the connection, on a read error, or when in is full,
 * with the reason for the log in *error_r.
 */
int auth_proto_read(int fd, struct buf *in, const char **error_r);

/*
 * Parses the frame at the front of in. Returns 1 with *msg_r filled (the
 * fields point into in: buf_consume(in, msg->frame_len) after use), 0 when
 * the frame is incomplete, -1 when it is malformed (the peer is broken).
 */
int auth_proto_parse(struct buf *in, struct auth_proto_msg *msg_r);

#endif
