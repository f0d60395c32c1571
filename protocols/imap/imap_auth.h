/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * imap_auth: LOGIN and AUTHENTICATE (RFC 3501 6.2.2, 6.2.3; SASL-IR RFC
 * 4959), the auth part of CAPABILITY, through the worker's auth client
 * (auth/auth_client.h). The password check runs in the auth helper; the
 * session waits (input paused) and resumes on the callback.
 *
 * Hooks the rest of the IMAP front-end calls:
 *   - the command table lists imap_cmd_login / imap_cmd_authenticate;
 *   - imap_capabilities() appends imap_auth_capabilities();
 *   - the session's free calls imap_auth_session_free().
 */
#ifndef MERPATI_IMAP_AUTH_H
#define MERPATI_IMAP_AUTH_H

#include "lib/buf.h"
#include "protocols/imap/imap_private.h"

enum imap_cmd_result imap_cmd_login(struct imap_cmd *cmd);
enum imap_cmd_result imap_cmd_authenticate(struct imap_cmd *cmd);
/* RFC 8437: back to not authenticated (imap_session_unauthenticate()) */
enum imap_cmd_result imap_cmd_unauthenticate(struct imap_cmd *cmd);

/* " SASL-IR AUTH=..." or " LOGINDISABLED ..." before login, nothing after. */
void imap_auth_capabilities(struct imap_session *s, struct buf *out);

/* Cancels a check in flight (its callback never fires) and frees the
   session's auth state. */
void imap_auth_session_free(struct imap_session *s);

#endif
