/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "server/tls.h"

#include "lib/buf.h"
#include "lib/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tls_creds {
	int refcount;
	gnutls_certificate_credentials_t cert;
	gnutls_priority_t priority;
};

void tls_global_init(void)
{
	static int done;

	if (done)
		return;
	done = 1;
	gnutls_global_init();
}

static char *tls_error(const char *what, const char *file, int ret)
{
	struct buf b;
	char *msg;

	buf_init(&b, 4096);
	buf_printf(&b, "%s%s%s: %s", what, file ? " " : "", file ? file : "",
		   gnutls_strerror(ret));
	msg = xstrdup(b.data);
	buf_free(&b);
	return msg;
}

struct tls_creds *tls_creds_load(const char *cert, const char *key,
				 const char *priorities, char **error_r)
{
	struct tls_creds *c = xcalloc(1, sizeof(*c));
	const char *err_pos = NULL;
	int ret;

	tls_global_init();
	ret = gnutls_certificate_allocate_credentials(&c->cert);
	if (ret < 0) {
		*error_r = tls_error("allocating credentials", NULL, ret);
		free(c);
		return NULL;
	}
	ret = gnutls_certificate_set_x509_key_file(c->cert, cert, key,
						   GNUTLS_X509_FMT_PEM);
	if (ret < 0) {
		char *what = NULL;

		if (asprintf(&what, "tls.cert %s / tls.key", cert) < 0)
			what = NULL;
		*error_r =
			tls_error(what != NULL ? what : "tls.cert", key, ret);
		free(what);
		gnutls_certificate_free_credentials(c->cert);
		free(c);
		return NULL;
	}
	ret = gnutls_priority_init(&c->priority, priorities, &err_pos);
	if (ret < 0) {
		char msg[1024];

		snprintf(msg, sizeof(msg), "tls.priorities: %s near '%s'",
			 gnutls_strerror(ret), err_pos ? err_pos : "");
		*error_r = xstrdup(msg);
		gnutls_certificate_free_credentials(c->cert);
		free(c);
		return NULL;
	}
	c->refcount = 1;
	return c;
}

struct tls_creds *tls_creds_ref(struct tls_creds *creds)
{
	creds->refcount++;
	return creds;
}

void tls_creds_unref(struct tls_creds **creds)
{
	struct tls_creds *c = *creds;

	if (c == NULL)
		return;
	*creds = NULL;
	if (--c->refcount > 0)
		return;
	gnutls_priority_deinit(c->priority);
	gnutls_certificate_free_credentials(c->cert);
	free(c);
}

int tls_session_new(struct tls_creds *creds, int fd, gnutls_session_t *sess_r,
		    const char **error_r)
{
	gnutls_session_t s;
	int ret;

	ret = gnutls_init(&s, GNUTLS_SERVER | GNUTLS_NONBLOCK);
	if (ret < 0) {
		*error_r = gnutls_strerror(ret);
		return -1;
	}
	ret = gnutls_priority_set(s, creds->priority);
	if (ret >= 0)
		ret = gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE,
					     creds->cert);
	if (ret < 0) {
		*error_r = gnutls_strerror(ret);
		gnutls_deinit(s);
		return -1;
	}
	gnutls_certificate_server_set_request(s, GNUTLS_CERT_IGNORE);
	gnutls_transport_set_int(s, fd);
	gnutls_session_set_ptr(s, tls_creds_ref(creds));
	*sess_r = s;
	return 0;
}

void tls_session_free(gnutls_session_t *sess)
{
	struct tls_creds *creds;

	if (*sess == NULL)
		return;
	creds = gnutls_session_get_ptr(*sess);
	gnutls_deinit(*sess);
	*sess = NULL;
	tls_creds_unref(&creds);
}

const char *tls_session_version(gnutls_session_t sess)
{
	switch (gnutls_protocol_get_version(sess)) {
	case GNUTLS_TLS1_3:
		return "1.3";
	case GNUTLS_TLS1_2:
		return "1.2";
	case GNUTLS_TLS1_1:
		return "1.1";
	case GNUTLS_TLS1_0:
		return "1.0";
	default:
		return "unknown";
	}
}
