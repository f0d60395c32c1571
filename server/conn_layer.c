/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "server/conn_layer.h"

#include "lib/xalloc.h"
#include "server/conn_layer_private.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* --- the generic part --- */

ssize_t conn_layer_read(struct conn_layer *l, void *buf, size_t len)
{
	return l->ops->read(l, buf, len);
}

bool conn_layer_read_pending(struct conn_layer *l)
{
	for (; l != NULL; l = l->below) {
		if (l->ops->read_pending != NULL && l->ops->read_pending(l))
			return true;
	}
	return false;
}

ssize_t conn_layer_write(struct conn_layer *l, const void *buf, size_t len)
{
	return l->ops->write(l, buf, len);
}

int conn_layer_flush(struct conn_layer *l)
{
	/* top down: what a layer flushes lands in the one below it */
	for (; l != NULL; l = l->below) {
		if (l->ops->flush != NULL) {
			int ret = l->ops->flush(l);

			if (ret <= 0)
				return ret;
		}
	}
	return 1;
}

void conn_layer_shutdown(struct conn_layer *l)
{
	for (; l != NULL; l = l->below) {
		if (l->ops->shutdown != NULL)
			l->ops->shutdown(l);
	}
}

const char *conn_layer_error(const struct conn_layer *l)
{
	return l->error != NULL ? l->error : "unknown error";
}

const char *conn_layer_name(const struct conn_layer *l)
{
	return l->ops->name;
}

void conn_layer_free(struct conn_layer **lp)
{
	struct conn_layer *l = *lp;

	*lp = NULL;
	while (l != NULL) {
		struct conn_layer *below = l->below;

		l->ops->free(l);
		l = below;
	}
}

/* --- plain: the socket --- */

struct conn_layer_plain {
	struct conn_layer layer;
	int fd;
};

static ssize_t plain_read(struct conn_layer *l, void *buf, size_t len)
{
	struct conn_layer_plain *p = (struct conn_layer_plain *)l;
	ssize_t n = recv(p->fd, buf, len, 0);

	if (n >= 0)
		return n;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return CONN_LAYER_AGAIN;
	l->error = strerror(errno);
	return CONN_LAYER_ERROR;
}

static ssize_t plain_write(struct conn_layer *l, const void *buf, size_t len)
{
	struct conn_layer_plain *p = (struct conn_layer_plain *)l;
	ssize_t n = send(p->fd, buf, len, MSG_NOSIGNAL);

	if (n >= 0)
		return n;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return CONN_LAYER_AGAIN;
	l->error = strerror(errno);
	return CONN_LAYER_ERROR;
}

static void plain_free(struct conn_layer *l)
{
	free(l);
}

static const struct conn_layer_ops plain_ops = {
	.name = "plain",
	.read = plain_read,
	.write = plain_write,
	.free = plain_free,
};

struct conn_layer *conn_layer_plain_new(int fd)
{
	struct conn_layer_plain *p = xcalloc(1, sizeof(*p));

	p->layer.ops = &plain_ops;
	p->fd = fd;
	return &p->layer;
}

/* --- TLS: GnuTLS reading and writing through the layer below --- */

struct conn_layer_tls {
	struct conn_layer layer;
	gnutls_session_t sess;
	bool handshaken;
	bool send_again; /* the last gnutls_record_send() gave EAGAIN */
};

static ssize_t tls_pull(gnutls_transport_ptr_t ptr, void *buf, size_t len)
{
	struct conn_layer_tls *t = ptr;
	ssize_t n = conn_layer_read(t->layer.below, buf, len);

	if (n >= 0)
		return n;
	gnutls_transport_set_errno(t->sess,
				   n == CONN_LAYER_AGAIN ? EAGAIN : EIO);
	return -1;
}

static ssize_t tls_push(gnutls_transport_ptr_t ptr, const void *buf, size_t len)
{
	struct conn_layer_tls *t = ptr;
	ssize_t n = conn_layer_write(t->layer.below, buf, len);

	if (n >= 0)
		return n;
	gnutls_transport_set_errno(t->sess,
				   n == CONN_LAYER_AGAIN ? EAGAIN : EIO);
	return -1;
}

static ssize_t tls_read(struct conn_layer *l, void *buf, size_t len)
{
	struct conn_layer_tls *t = (struct conn_layer_tls *)l;

	for (;;) {
		ssize_t n = gnutls_record_recv(t->sess, buf, len);

		if (n >= 0)
			return n;
		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
			return CONN_LAYER_AGAIN;
		if (n == GNUTLS_E_REHANDSHAKE)
			continue;
		l->error = gnutls_strerror((int)n);
		return CONN_LAYER_ERROR;
	}
}

static bool tls_read_pending(struct conn_layer *l)
{
	struct conn_layer_tls *t = (struct conn_layer_tls *)l;

	/* decrypted bytes the socket will not announce again */
	return t->handshaken && gnutls_record_check_pending(t->sess) > 0;
}

static ssize_t tls_write(struct conn_layer *l, const void *buf, size_t len)
{
	struct conn_layer_tls *t = (struct conn_layer_tls *)l;
	ssize_t n = t->send_again ? gnutls_record_send(t->sess, NULL, 0)
				  : gnutls_record_send(t->sess, buf, len);

	if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
		t->send_again = true;
		return CONN_LAYER_AGAIN;
	}
	t->send_again = false;
	if (n < 0) {
		l->error = gnutls_strerror((int)n);
		return CONN_LAYER_ERROR;
	}
	return n;
}

static void tls_shutdown(struct conn_layer *l)
{
	struct conn_layer_tls *t = (struct conn_layer_tls *)l;

	if (t->handshaken)
		(void)gnutls_bye(t->sess, GNUTLS_SHUT_WR);
}

static void tls_free(struct conn_layer *l)
{
	struct conn_layer_tls *t = (struct conn_layer_tls *)l;

	tls_session_free(&t->sess);
	free(t);
}

static const struct conn_layer_ops tls_ops = {
	.name = "tls",
	.read = tls_read,
	.read_pending = tls_read_pending,
	.write = tls_write,
	.shutdown = tls_shutdown,
	.free = tls_free,
};

struct conn_layer *conn_layer_tls_new(struct conn_layer *below,
				      struct tls_creds *creds,
				      const char **error_r)
{
	struct conn_layer_tls *t = xcalloc(1, sizeof(*t));

	if (tls_session_new(creds, -1, &t->sess, error_r) < 0) {
		free(t);
		return NULL;
	}
	t->layer.ops = &tls_ops;
	t->layer.below = below;
	gnutls_transport_set_ptr(t->sess, t);
	gnutls_transport_set_pull_function(t->sess, tls_pull);
	gnutls_transport_set_push_function(t->sess, tls_push);
	return &t->layer;
}

int conn_layer_tls_handshake(struct conn_layer *l, bool *want_write_r)
{
	struct conn_layer_tls *t = (struct conn_layer_tls *)l;
	int ret = gnutls_handshake(t->sess);

	*want_write_r = false;
	if (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED) {
		*want_write_r = gnutls_record_get_direction(t->sess) == 1;
		return 0;
	}
	if (ret < 0) {
		l->error = gnutls_strerror(ret);
		return -1;
	}
	t->handshaken = true;
	return 1;
}

const char *conn_layer_tls_version(struct conn_layer *l)
{
	return tls_session_version(((struct conn_layer_tls *)l)->sess);
}

const char *conn_layer_tls_cipher(struct conn_layer *l)
{
	struct conn_layer_tls *t = (struct conn_layer_tls *)l;

	return gnutls_cipher_get_name(gnutls_cipher_get(t->sess));
}
