/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "auth/auth.h"

#include "auth/auth_private.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/xalloc.h"

#include <stdlib.h>
#include <string.h>

#define AUTH_BACKENDS_MAX 8

static const struct auth_backend_ops *const builtin_backends[] = {
	&auth_backend_passwd_file,
	&auth_backend_checkpassword,
	&auth_backend_pam,
};

const char *auth_result_name(enum auth_result result)
{
	switch (result) {
	case AUTH_RESULT_OK:
		return "ok";
	case AUTH_RESULT_FAIL:
		return "fail";
	case AUTH_RESULT_TEMPFAIL:
		return "tempfail";
	}
	return "?";
}

bool auth_plaintext_allowed(enum auth_plaintext policy, bool tls, bool loopback)
{
	switch (policy) {
	case AUTH_PLAINTEXT_ALWAYS:
		return true;
	case AUTH_PLAINTEXT_TLS_OR_LOOPBACK:
		return tls || loopback;
	case AUTH_PLAINTEXT_TLS:
		return tls;
	}
	return tls;
}

int auth_user_name_validate(const char *name, size_t len, const char **error_r)
{
	if (len == 0) {
		*error_r = "Empty user name";
		return -1;
	}
	if (len > AUTH_USER_NAME_MAX) {
		*error_r = "User name too long";
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c < 0x20 || c == 0x7f) {
			*error_r = "Invalid character in user name";
			return -1;
		}
		if (c == '/' || c == '\\' || c == ':') {
			/* '/' reaches paths; ':' is the passwd-file separator */
			*error_r = "Invalid character in user name";
			return -1;
		}
		if (c == '.' && i + 1 < len && name[i + 1] == '.') {
			*error_r = "Invalid user name";
			return -1;
		}
	}
	if (name[0] == '.' || name[0] == '-' || name[0] == '@') {
		*error_r = "Invalid user name";
		return -1;
	}
	return 0;
}

void auth_user_free(struct auth_user **userp)
{
	struct auth_user *user = *userp;

	if (user == NULL)
		return;
	*userp = NULL;
	free(user->name);
	free(user->home);
	free(user->mail_root);
	if (user->credential != NULL)
		xfree_secret(user->credential, strlen(user->credential));
	for (char **o = user->overrides; *o != NULL; o++)
		free(*o);
	free(user->overrides);
	free(user);
}

/* --- mail root --- */

static int expand_var(struct buf *b, char var, const char *user,
		      const char *home, const char **error_r)
{
	const char *at = strrchr(user, '@');

	switch (var) {
	case '%':
		return buf_append(b, "%", 1);
	case 'u':
		return buf_append_str(b, user);
	case 'n':
		return buf_append(b, user,
				  at != NULL ? (size_t)(at - user)
					     : strlen(user));
	case 'd':
		return at != NULL ? buf_append_str(b, at + 1) : 0;
	case 'h':
		if (home == NULL || home[0] == '\0') {
			*error_r =
				"mail root needs %h but the user has no home";
			return -1;
		}
		return buf_append_str(b, home);
	default:
		*error_r = "unknown %-variable in mail root";
		return -1;
	}
}

/*
 * Why a path element of an expanded mail root is refused, or NULL. Only
 * elements that %u, %n or %d helped to make are checked (the admin's text
 * and the userdb's home are trusted): "." and ".." climb, and Maildir's
 * own names (cur, new, tmp, a leading dot for folders and metadata) would
 * put the root inside another user's Maildir. An empty element (%d of a
 * name without '@') is allowed here, as logins always had it; `merpati
 * deliver` refuses it (server/cli_mail.c).
 */
static const char *root_element_refused(const char *elem, size_t len)
{
	static const char *const reserved[] = {"cur", "new", "tmp"};

	if (len == 0)
		return NULL;
	if (elem[0] == '.')
		return "mail root gives a path element starting with '.' for this user";
	for (size_t i = 0; i < sizeof(reserved) / sizeof(*reserved); i++) {
		if (len == strlen(reserved[i]) &&
		    memcmp(elem, reserved[i], len) == 0)
			return "mail root gives a Maildir name (cur, new, tmp) as a path element for this user";
	}
	return NULL;
}

char *auth_mail_root_expand(const char *template, const char *user,
			    const char *home, const char **error_r)
{
	struct buf b;
	const char *p = template;
	size_t elem_start = 0;
	bool elem_var = false;

	buf_init(&b, 4096);
	if (p[0] == '~' && (p[1] == '/' || p[1] == '\0')) {
		if (home == NULL || home[0] == '\0') {
			*error_r = "mail root needs ~ but the user has no home";
			return NULL;
		}
		buf_append_str(&b, home);
		p++;
	}
	for (;; p++) {
		int ret;

		if (*p == '/' || *p == '\0') {
			const char *why = elem_var
						  ? root_element_refused(
							    b.data + elem_start,
							    b.len - elem_start)
						  : NULL;

			if (why != NULL) {
				*error_r = why;
				buf_free(&b);
				return NULL;
			}
			if (*p == '\0')
				break;
			elem_var = false;
			elem_start = b.len + 1;
		}
		if (*p != '%') {
			ret = buf_append(&b, p, 1);
		} else if (p[1] == '\0') {
			*error_r = "mail root ends in %";
			ret = -1;
		} else {
			elem_var = elem_var || strchr("und", p[1]) != NULL;
			ret = expand_var(&b, *++p, user, home, error_r);
		}
		if (ret < 0) {
			if (b.len >= 4096)
				*error_r = "mail root too long";
			buf_free(&b);
			return NULL;
		}
	}
	if (b.len == 0 || b.data[0] != '/') {
		buf_free(&b);
		*error_r = "mail root is not an absolute path";
		return NULL;
	}
	return b.data;
}

struct auth_user *auth_user_new(const struct auth *auth, const char *name,
				const char *home, const char *mail_override,
				const char **error_r)
{
	struct auth_user *user;
	const char *template = auth->set.mail_root;
	char *tmp = NULL, *colon, *root;

	if (mail_override != NULL && mail_override[0] != '\0') {
		/* Dovecot's "maildir:~/Maildir[:OPTIONS]": drop the format
		   (we only serve Maildir) and any options. */
		if (strncmp(mail_override, "maildir:", 8) == 0)
			mail_override += 8;
		tmp = xstrdup(mail_override);
		colon = strchr(tmp, ':');
		if (colon != NULL)
			*colon = '\0';
		template = tmp;
	}
	if (template == NULL || template[0] == '\0')
		template = "/var/vmail/%d/%n";
	root = auth_mail_root_expand(template, name, home, error_r);
	free(tmp);
	if (root == NULL)
		return NULL;
	user = xcalloc(1, sizeof(*user));
	user->name = xstrdup(name);
	user->home = home != NULL && home[0] != '\0' ? xstrdup(home) : NULL;
	user->mail_root = root;
	user->overrides = xcalloc(1, sizeof(char *));
	return user;
}

/* --- the chain --- */

static const struct auth_backend_ops *backend_find(const char *name, size_t len)
{
	for (size_t i = 0;
	     i < sizeof(builtin_backends) / sizeof(builtin_backends[0]); i++) {
		if (strlen(builtin_backends[i]->name) == len &&
		    strncmp(builtin_backends[i]->name, name, len) == 0)
			return builtin_backends[i];
	}
	return NULL;
}

static int chain_parse(struct auth *auth, const char *chain,
		       const char **error_r)
{
	char *copy = xstrdup(chain), *save = NULL, *item;
	int ret = 0;

	auth->backends = xcalloc(AUTH_BACKENDS_MAX, sizeof(*auth->backends));
	for (item = strtok_r(copy, ",", &save); item != NULL;
	     item = strtok_r(NULL, ",", &save)) {
		struct auth_backend *b;
		char *name = str_trim(item), *args;
		size_t nlen = strcspn(name, " \t");

		if (name[0] == '\0')
			continue;
		args = str_trim(name + nlen);
		b = &auth->backends[auth->n_backends];
		if (auth->n_backends == AUTH_BACKENDS_MAX) {
			*error_r = "auth.backend: too many backends";
			ret = -1;
			break;
		}
		b->ops = backend_find(name, nlen);
		if (b->ops == NULL) {
			*error_r =
				"auth.backend: unknown backend (passwd-file, checkpassword, pam)";
			ret = -1;
			break;
		}
		b->auth = auth;
		if (b->ops->init(b, args, error_r) < 0) {
			ret = -1;
			break;
		}
		auth->n_backends++;
	}
	free(copy);
	if (ret == 0 && auth->n_backends == 0) {
		*error_r = "auth.backend: no backend configured";
		ret = -1;
	}
	return ret;
}

int auth_settings_check(const struct auth_settings *set, const char **error_r)
{
	char *copy = xstrdup(set->backend != NULL ? set->backend : "");
	char *save = NULL, *item;
	size_t n = 0;
	int ret = 0;

	for (item = strtok_r(copy, ",", &save); item != NULL && ret == 0;
	     item = strtok_r(NULL, ",", &save)) {
		char *name = str_trim(item), *args;
		size_t nlen = strcspn(name, " \t");
		const struct auth_backend_ops *ops;

		if (name[0] == '\0')
			continue;
		args = str_trim(name + nlen);
		ops = backend_find(name, nlen);
		if (ops == NULL) {
			*error_r =
				"auth.backend: unknown backend (passwd-file, checkpassword, pam)";
			ret = -1;
		} else if (ops != &auth_backend_pam && args[0] != '/') {
			*error_r =
				"auth.backend: passwd-file and checkpassword need an absolute path";
			ret = -1;
		} else if (++n > AUTH_BACKENDS_MAX) {
			*error_r = "auth.backend: too many backends";
			ret = -1;
		}
	}
	free(copy);
	if (ret == 0 && n == 0) {
		*error_r = "auth.backend: no backend configured";
		ret = -1;
	}
	return ret;
}

struct auth *auth_new(struct ev_loop *loop, const struct auth_settings *set,
		      const char **error_r)
{
	struct auth *auth = xcalloc(1, sizeof(*auth));

	auth->loop = loop;
	auth->set = *set;
	if (chain_parse(auth, set->backend != NULL ? set->backend : "",
			error_r) < 0) {
		auth_free(&auth);
		return NULL;
	}
	auth->pool = thread_pool_new(loop, set->workers, "auth");
	return auth;
}

static void request_free(struct auth_request *req)
{
	struct auth *auth = req->auth;

	if (req->prev != NULL)
		req->prev->next = req->next;
	else
		auth->requests = req->next;
	if (req->next != NULL)
		req->next->prev = req->prev;
	ev_timer_stop(auth->loop, &req->finish);
	free(req->service);
	free(req->ip);
	free(req->user);
	if (req->password != NULL)
		xfree_secret(req->password, strlen(req->password));
	auth_user_free(&req->result_user);
	free(req->reason);
	free(req);
}

void auth_free(struct auth **authp)
{
	struct auth *auth = *authp;

	if (auth == NULL)
		return;
	*authp = NULL;
	/* Stop the workers first: their done() callbacks touch requests. */
	thread_pool_free(&auth->pool);
	while (auth->requests != NULL)
		request_free(auth->requests);
	for (size_t i = 0; i < auth->n_backends; i++) {
		if (auth->backends[i].ops->deinit != NULL)
			auth->backends[i].ops->deinit(&auth->backends[i]);
	}
	free(auth->backends);
	free(auth);
}

const char *auth_mechanisms(const struct auth *auth)
{
	for (size_t i = 0; i < auth->n_backends; i++) {
		if (auth->backends[i].ops->lookup != NULL)
			return "PLAIN LOGIN SCRAM-SHA-256";
	}
	return "PLAIN LOGIN";
}

static void request_finish_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct auth_request *req = w->data;
	struct auth_user *user = req->result_user;

	(void)loop;
	(void)revents;
	req->result_user = NULL;
	req->callback(req->result, user, req->reason != NULL ? req->reason : "",
		      req->context);
	request_free(req);
}

static void request_finish(struct auth_request *req, enum auth_result result,
			   const char *reason)
{
	char *copy = xstrdup(reason != NULL ? reason : "");

	req->result = result;
	free(req->reason); /* reason may point into it */
	req->reason = copy;
	ev_timer_set(&req->finish, 0, 0);
	ev_timer_start(req->auth->loop, &req->finish);
}

/* Runs the chain from req->backend_idx until a backend is busy. */
static void request_next(struct auth_request *req)
{
	struct auth *auth = req->auth;

	while (req->backend_idx < auth->n_backends) {
		struct auth_backend *b = &auth->backends[req->backend_idx];

		if (req->kind == AUTH_REQUEST_LOOKUP &&
		    b->ops->lookup == NULL) {
			req->backend_idx++;
			continue;
		}
		req->busy = true;
		if (req->kind == AUTH_REQUEST_VERIFY)
			b->ops->verify(b, req);
		else
			b->ops->lookup(b, req);
		return; /* auth_request_backend_done() continues */
	}
	if (req->any_tempfail)
		request_finish(req, AUTH_RESULT_TEMPFAIL,
			       req->reason != NULL ? req->reason
						   : "backend unavailable");
	else if (req->kind == AUTH_REQUEST_LOOKUP && req->reason == NULL)
		request_finish(
			req, AUTH_RESULT_FAIL,
			"lookup not supported by the configured backends");
	else
		request_finish(req, AUTH_RESULT_FAIL,
			       req->reason != NULL ? req->reason
						   : "unknown user");
}

void auth_request_backend_done(struct auth_request *req,
			       enum auth_result result, struct auth_user *user,
			       const char *reason)
{
	req->busy = false;
	if (req->cancelled) {
		auth_user_free(&user);
		request_free(req);
		return;
	}
	if (result == AUTH_RESULT_OK) {
		req->result_user = user;
		request_finish(req, AUTH_RESULT_OK, reason);
		return;
	}
	auth_user_free(&user);
	/* FAIL and TEMPFAIL both try the next backend; a TEMPFAIL anywhere
	   means "cannot say no for sure". Keep the most telling reason. */
	if (result == AUTH_RESULT_TEMPFAIL)
		req->any_tempfail = true;
	if (reason != NULL && reason[0] != '\0' &&
	    (req->reason == NULL || result == AUTH_RESULT_TEMPFAIL ||
	     !req->any_tempfail)) {
		free(req->reason);
		req->reason = xstrdup(reason);
	}
	req->backend_idx++;
	request_next(req);
}

static struct auth_request *request_new(struct auth *auth,
					enum auth_request_kind kind,
					const char *service, const char *ip,
					const char *user,
					auth_callback *callback, void *context)
{
	struct auth_request *req = xcalloc(1, sizeof(*req));

	req->auth = auth;
	req->kind = kind;
	req->service = xstrdup(service != NULL ? service : "");
	req->ip = xstrdup(ip != NULL ? ip : "");
	req->user = xstrdup(user);
	req->callback = callback;
	req->context = context;
	ev_timer_init(&req->finish, request_finish_cb, 0, 0);
	req->finish.data = req;
	req->next = auth->requests;
	if (auth->requests != NULL)
		auth->requests->prev = req;
	auth->requests = req;
	return req;
}

static void request_start(struct auth_request *req)
{
	const char *error;

	if (auth_user_name_validate(req->user, strlen(req->user), &error) < 0) {
		request_finish(req, AUTH_RESULT_FAIL, error);
		return;
	}
	request_next(req);
}

struct auth_request *auth_verify(struct auth *auth, const char *service,
				 const char *ip, const char *user,
				 const char *password, auth_callback *callback,
				 void *context)
{
	struct auth_request *req =
		request_new(auth, AUTH_REQUEST_VERIFY, service, ip, user,
			    callback, context);

	req->password = xstrdup(password);
	if (strlen(password) > AUTH_PASSWORD_MAX) {
		request_finish(req, AUTH_RESULT_FAIL, "password too long");
		return req;
	}
	request_start(req);
	return req;
}

struct auth_request *auth_lookup(struct auth *auth, const char *user,
				 auth_callback *callback, void *context)
{
	struct auth_request *req = request_new(auth, AUTH_REQUEST_LOOKUP, NULL,
					       NULL, user, callback, context);

	request_start(req);
	return req;
}

void auth_request_cancel(struct auth_request **reqp)
{
	struct auth_request *req = *reqp;

	if (req == NULL)
		return;
	*reqp = NULL;
	if (req->busy) {
		/* A worker or child still holds it: freed when it reports. */
		req->cancelled = true;
		return;
	}
	request_free(req);
}
