/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mailbox_name: folder names as clients see them and as Maildir++ stores them.
 *
 * The storage API takes folder names in UTF-8 with the configured hierarchy
 * separator ('/' by default, '.' selectable). On disk a folder "A/B" is the
 * directory ".A.B" under the mail root, each component in modified UTF-7
 * (RFC 3501 5.1.3) as Dovecot and Courier write it; INBOX (any case) is the
 * mail root itself. The IMAP layer converts mUTF-7 names from IMAP4rev1
 * clients with mailbox_name_mutf7_to_utf8() before calling storage.
 *
 * Every name is validated before it reaches the file system: a name that is
 * empty, over-long, not UTF-8, contains NUL or control characters, '.' (the
 * on-disk separator), an empty component ("A//B", "/A", "A/") or otherwise
 * could escape the mail root is refused with a reason for the client.
 */
#ifndef MERPATI_MAILBOX_NAME_H
#define MERPATI_MAILBOX_NAME_H

#include "lib/buf.h"

#include <stdbool.h>
#include <stddef.h>

/* Longest accepted name, in bytes of UTF-8 (the directory name, mUTF-7
 * encoded, must also fit NAME_MAX). */
#define MAILBOX_NAME_MAX 200

/* True when name is "INBOX" in any case. */
bool mailbox_name_is_inbox(const char *name);

/*
 * Checks a UTF-8 folder name that uses sep as hierarchy separator. Returns 0,
 * or -1 with a short reason for the client in *error_r (static string).
 */
int mailbox_name_validate(const char *name, char sep, const char **error_r);

/*
 * Appends the modified UTF-7 form of the UTF-8 string in (len bytes).
 * Returns 0, or -1 when in is not valid UTF-8 (out is then unchanged).
 */
int mailbox_name_utf8_to_mutf7(const char *in, size_t len, struct buf *out,
			       const char **error_r);

/*
 * Appends the UTF-8 form of the modified UTF-7 string in (len bytes).
 * Strict: refuses bad base64, non-zero padding bits, broken surrogates,
 * an encoded NUL, needless encoding of printable ASCII and "&" not written
 * as "&-".
 * Returns 0, or -1 with a reason (out is then unchanged).
 */
int mailbox_name_mutf7_to_utf8(const char *in, size_t len, struct buf *out,
			       const char **error_r);

/*
 * Appends the Maildir++ directory name for a validated name: "" for INBOX,
 * ".A.B" for "A/B" (components in mUTF-7). Validates first; returns 0 or -1.
 */
int mailbox_name_to_dir(const char *name, char sep, struct buf *out,
			const char **error_r);

/*
 * Appends the UTF-8 folder name (with sep) for a Maildir++ directory name
 * such as ".A.B". Returns 0, or -1 when dir is not a folder directory (no
 * leading '.', "..", empty component, bad mUTF-7) or the name is invalid.
 */
int mailbox_name_from_dir(const char *dir, char sep, struct buf *out,
			  const char **error_r);

#endif
