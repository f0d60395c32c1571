/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * conn: one client connection, as the protocol front-ends see it.
 *
 * A connection owns the socket, its read and write watchers, an idle timer,
 * the input and output buffers and a stack of transport layers (plain, TLS,
 * deflate: server/conn_layer.h) between them and the socket. A front-end
 * never touches the socket: it reads bytes from conn_input(), appends
 * replies with conn_write()/conn_printf(), and the connection flushes.
 *
 * The front-end is driven through `struct conn_handler`. Its `process`
 * callback is the one place where protocol work happens: it is called when
 * new input arrived, when output drained below the low-water mark after
 * having been above the high-water mark, after conn_kick(), and after a
 * STARTTLS handshake completed. It should consume complete commands from
 * the input buffer and produce output until conn_output_full() says stop;
 * a long reply (RETR, FETCH) keeps its position in the session and resumes
 * on the next call.
 *
 * Backpressure: while the output buffer is above its high-water mark the
 * connection stops reading from the socket, so a client that sends faster
 * than it reads is throttled by TCP, not buffered without bound. While
 * conn_pause_input() is in force (e.g. a login is being checked) input is
 * still read into the buffer up to its limit but `process` is not called
 * for it.
 *
 * Closing: conn_close() may be called from anywhere, also inside
 * `process`; the connection flushes what is already in the output buffer
 * (bounded by a short linger timer) and is freed on the way out of the
 * current callback. The handler's `free` callback runs exactly once.
 */
#ifndef MERPATI_CONN_H
#define MERPATI_CONN_H

#include "lib/buf.h"
#include "lib/log.h"
#include "lib/str.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conn;
struct ev_loop;

/* Why a connection is being ended by the server. */
enum conn_bye {
	CONN_BYE_SHUTDOWN, /* SIGTERM: the server is stopping */
	CONN_BYE_TIMEOUT,  /* the idle timer or the login deadline ran out */
};

struct conn_handler {
	const char *name; /* protocol name for logs: "imap", "pop3" */
	/* A new connection: create the session state and write the greeting
	   (for implicit TLS it is sent once the handshake completed); ctx is
	   the front-end's per-process context given to the listener. Returns
	   the session. */
	void *(*open)(struct conn *conn, void *ctx);
	/* Make progress: parse input, produce output (see above). */
	void (*process)(void *session);
	/* The server ends the connection: write the goodbye line (`* BYE`,
	   `-ERR`). The connection closes after it. */
	void (*bye)(void *session, enum conn_bye why);
	/* Free the session. The connection is still valid during the call
	   but nothing written is sent any more. */
	void (*free)(void *session);
	/* The whole line (CRLF included) the server sends before closing a
	   connection it refuses at accept (too many connections), before
	   any session exists; not sent on implicit-TLS listeners. */
	const char *refuse;
};

/* Limits of one connection, set from the configuration. */
struct conn_limits {
	size_t input_max;   /* input buffer bytes (longest line + slack) */
	size_t output_high; /* stop producing and reading above this */
	size_t output_low;  /* resume producers below this */
	/* seconds from accept to login: an absolute deadline (input does
	   not extend it), and the idle timeout until conn_set_timeout() */
	unsigned login_timeout;
};

/* The session's event loop. */
struct ev_loop *conn_loop(struct conn *conn);

/* --- input --- */

/* The buffer of bytes received (decrypted) and not consumed yet. */
struct buf *conn_input(struct conn *conn);

/*
 * Takes one line ending in LF (the CR before it, if any, is not part of the
 * line) from the front of the input. Returns 1 and sets *line_r (valid until
 * the next conn_consume_line() or the return of `process`), 0 when no
 * complete line is there yet, or -1 when a line longer than max bytes has
 * arrived or is arriving: the caller answers with an error, and should call
 * conn_skip_line() to drop it.
 * The line stays in the buffer until conn_consume_line().
 */
int conn_peek_line(struct conn *conn, size_t max, struct strv *line_r);

/* Removes the line last returned by conn_peek_line(). */
void conn_consume_line(struct conn *conn);

/* Discards input up to and including the next LF, also one still
   arriving (the rest is dropped as it comes). */
void conn_skip_line(struct conn *conn);

/*
 * Raw bytes beside the line framing (IMAP literals, APPEND data): once a
 * front-end knows that the next n bytes belong to the current command, it
 * takes them with conn_peek_bytes() / conn_consume_bytes() in chunks of
 * whatever size has arrived, counting down n itself, and then goes back to
 * conn_peek_line() for the rest of the command.
 *
 * conn_peek_bytes() points *chunk_r at up to max bytes from the front of
 * the input and returns how many (0: none has arrived yet; `process` is
 * called again when some do). The bytes stay in the input buffer until
 * conn_consume_bytes() (n at most the count returned), and *chunk_r is
 * valid until then or the return of `process`.
 *
 * Backpressure: bytes not consumed stay in the bounded input buffer; when
 * it is full the connection stops reading, so a front-end that cannot take
 * more now (a file write pending) just leaves them and calls conn_kick()
 * when it can go on.
 */
size_t conn_peek_bytes(struct conn *conn, size_t max, struct strv *chunk_r);
void conn_consume_bytes(struct conn *conn, size_t n);

/* Stops (true) or resumes (false) calling `process` for input. */
void conn_pause_input(struct conn *conn, bool pause);

/* Makes the loop call `process` soon (from an idle watcher, not now). */
void conn_kick(struct conn *conn);

/* --- output --- */

/* Appends bytes to the output buffer. Output is never refused: the
   high-water mark is advisory for producers (see conn_output_full()). */
void conn_write(struct conn *conn, const void *data, size_t len);
void conn_write_str(struct conn *conn, const char *s);
void conn_printf(struct conn *conn, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* True when the output buffer is above the high-water mark: a producer
   must stop and wait for the next `process` call. */
bool conn_output_full(const struct conn *conn);

/* Bytes waiting in the output buffer. */
size_t conn_output_pending(const struct conn *conn);

/* --- lifetime and state --- */

/* Flushes what is buffered and closes (see above). reason goes to the log. */
void conn_close(struct conn *conn, const char *reason);

/* True once conn_close() was called: stop producing. */
bool conn_is_closing(const struct conn *conn);

/*
 * STARTTLS / STLS: call right after writing the tagged OK / +OK. The reply is
 * flushed in plaintext, then the TLS handshake runs; `process` is called
 * when it completed. Any input bytes already received behind the command
 * are a command-injection attempt (RFC 3207 / CVE-2011-0411 class): the
 * connection is closed instead. Returns -1 when TLS is not configured or
 * already active (the front-end should not have offered it).
 */
int conn_starttls(struct conn *conn);

/*
 * COMPRESS=DEFLATE (RFC 4978): call right after writing the tagged OK.
 * The OK goes out uncompressed, then a deflate layer is stacked on the
 * transport (on TLS when active) for both directions. Bytes the client
 * sent behind the command before seeing the OK cannot be told apart from
 * compressed ones: the connection is closed at once (the OK is not sent
 * either; conn_is_closing() is then true). Returns -1 when compression is
 * already active (NO [COMPRESSIONACTIVE]).
 */
int conn_start_compress(struct conn *conn);
bool conn_is_compressed(const struct conn *conn);

/* True when TLS can be started (configured and not yet active). */
bool conn_can_starttls(const struct conn *conn);
bool conn_is_tls(const struct conn *conn);

/* True when the peer is on a loopback address (127.0.0.0/8, ::1). */
bool conn_is_loopback(const struct conn *conn);

/* The peer address as text ("127.0.0.1", "::1") and port. */
const char *conn_peer_ip(const struct conn *conn);
unsigned conn_peer_port(const struct conn *conn);

/* A unique, increasing id of this connection within the process. */
uint64_t conn_id(const struct conn *conn);

/* Sets the idle timeout in seconds (reset by every byte received). The
   front-end calls it once the user is logged in: it also ends the login
   deadline (conn_limits.login_timeout from accept). */
void conn_set_timeout(struct conn *conn, unsigned seconds);

/* Back to before login (IMAP UNAUTHENTICATE): the idle timeout and a new
   absolute login deadline, both conn_limits.login_timeout from now. */
void conn_restart_login(struct conn *conn);

/* Sets the user name shown in this connection's log lines. */
void conn_set_user(struct conn *conn, const char *user);

/*
 * Counts this connection as one of user's from its peer address (the
 * server's cap, auth.max_connections_per_user_ip, across every worker).
 * Call after the credentials were accepted, before opening the store.
 * Returns 0 (counted until conn_unclaim_user() or the connection's end),
 * or -1 when the user already holds the maximum from this address: the
 * login must be refused (the LIMIT class, login.h). A previous claim is
 * given back first.
 */
int conn_claim_user(struct conn *conn, const char *user);

/* Gives back conn_claim_user()'s count (a login that then failed). */
void conn_unclaim_user(struct conn *conn);

/* "conn=<id> proto=<p> peer=<ip>:<port> [user=<u>]" for log lines (an IPv6
   peer as [<ip>]:<port>, the user quoted by log_quote()). */
const char *conn_log_prefix(const struct conn *conn);

#define conn_log(c, lvl, ...) log_write((lvl), conn_log_prefix(c), __VA_ARGS__)
#define conn_log_debug(c, ...) conn_log((c), LOG_LEVEL_DEBUG, __VA_ARGS__)
#define conn_log_info(c, ...) conn_log((c), LOG_LEVEL_INFO, __VA_ARGS__)
#define conn_log_warn(c, ...) conn_log((c), LOG_LEVEL_WARN, __VA_ARGS__)
#define conn_log_error(c, ...) conn_log((c), LOG_LEVEL_ERROR, __VA_ARGS__)

#endif
