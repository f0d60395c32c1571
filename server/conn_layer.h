/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * conn_layer: the byte transforms between a connection's buffers and its
 * socket, stacked (doc/design.md "Transport layers").
 *
 * A layer reads and writes bytes like a non-blocking socket; it may hold
 * bytes inside (decrypted records GnuTLS has not handed out yet, output
 * zlib has not flushed). The bottom layer is the socket (plain); TLS
 * stacks on it, deflate (COMPRESS, RFC 4978) on either. The connection
 * talks to the top layer only and never to GnuTLS or the socket.
 *
 * Ownership: a layer owns the one below it; conn_layer_free() frees the
 * whole stack (but never closes the socket: the connection owns the fd).
 *
 * Return values of read and write: > 0 bytes moved, CONN_LAYER_AGAIN when
 * the socket would block (wait for it and call again), CONN_LAYER_ERROR
 * with the reason in conn_layer_error(); read returns 0 at the end of the
 * stream.
 */
#ifndef MERPATI_CONN_LAYER_H
#define MERPATI_CONN_LAYER_H

#include "server/tls.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define CONN_LAYER_ERROR (-1)
#define CONN_LAYER_AGAIN (-2)

struct conn_layer;

/* The socket itself (fd stays owned by the caller). */
struct conn_layer *conn_layer_plain_new(int fd);

/*
 * A TLS server session on top of below (which it then owns), with creds
 * (the session keeps its own reference, so a SIGHUP reload may swap the
 * creds while it lives). Returns NULL with a reason in *error_r; below is
 * then still the caller's. The handshake is run with
 * conn_layer_tls_handshake() before the first read or write.
 */
struct conn_layer *conn_layer_tls_new(struct conn_layer *below,
				      struct tls_creds *creds,
				      const char **error_r);

/*
 * One handshake step: 1 done, 0 wait (*want_write_r tells for which
 * direction of the socket), -1 failed (reason in conn_layer_error()).
 */
int conn_layer_tls_handshake(struct conn_layer *layer, bool *want_write_r);

/* After the handshake: "1.3"/"1.2" and the cipher name, for the log. */
const char *conn_layer_tls_version(struct conn_layer *layer);
const char *conn_layer_tls_cipher(struct conn_layer *layer);

/*
 * COMPRESS=DEFLATE (RFC 4978) on top of below (which it then owns): raw
 * deflate both ways (windowBits -15 to inflate what the client sends; a
 * smaller window for what we send, which any inflater reads). Output is
 * sync-flushed by conn_layer_flush() so the peer can decode all of it.
 * Its memory: doc/imap.md "COMPRESS".
 */
struct conn_layer *conn_layer_deflate_new(struct conn_layer *below);

/*
 * Reads up to len bytes (len > 0). A layer that returned fewer than len
 * may still hold more: see conn_layer_read_pending().
 */
ssize_t conn_layer_read(struct conn_layer *layer, void *buf, size_t len);

/* True when bytes wait inside this layer or one below it that a read
   returns without the socket becoming readable again. */
bool conn_layer_read_pending(struct conn_layer *layer);

/*
 * Takes up to len bytes (len > 0). After CONN_LAYER_AGAIN the caller
 * must offer at least the same bytes again (GnuTLS's rule): keep them
 * at the front of its buffer until they were taken.
 */
ssize_t conn_layer_write(struct conn_layer *layer, const void *buf, size_t len);

/*
 * Pushes what layers hold of the bytes written so far onto the socket,
 * each layer flushing itself so the peer can decode all of it (deflate:
 * Z_SYNC_FLUSH). Returns 1 when all is on the socket, 0 when the socket
 * would block (wait for writable and call again), -1 on an error.
 */
int conn_layer_flush(struct conn_layer *layer);

/* Ends the stream politely (TLS close_notify), best effort, no blocking. */
void conn_layer_shutdown(struct conn_layer *layer);

/* The reason of the last CONN_LAYER_ERROR ("Error in the pull function"). */
const char *conn_layer_error(const struct conn_layer *layer);

/* "plain", "tls", "deflate": the top layer's kind. */
const char *conn_layer_name(const struct conn_layer *layer);

/* Frees the stack from layer down; takes NULL, leaves *layer NULL. */
void conn_layer_free(struct conn_layer **layer);

#endif
