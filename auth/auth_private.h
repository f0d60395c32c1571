/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * auth_private: what the auth module's own files share — the backend
 * interface and the request that travels down the chain.
 */
#ifndef MERPATI_AUTH_PRIVATE_H
#define MERPATI_AUTH_PRIVATE_H

#include "auth/auth.h"
#include "lib/thread_pool.h"

#include <ev.h>

struct auth_backend;

/*
 * A backend. verify() and lookup() start work for a request and report
 * exactly once with auth_request_backend_done(), possibly before they
 * return. lookup is NULL for verify-only backends.
 */
struct auth_backend_ops {
	const char *name;
	int (*init)(struct auth_backend *backend, const char *args,
		    const char **error_r);
	void (*deinit)(struct auth_backend *backend);
	void (*verify)(struct auth_backend *backend,
		       struct auth_request *request);
	void (*lookup)(struct auth_backend *backend,
		       struct auth_request *request);
};

struct auth_backend {
	const struct auth_backend_ops *ops;
	struct auth *auth;
	void *state; /* the backend's own */
};

enum auth_request_kind {
	AUTH_REQUEST_VERIFY,
	AUTH_REQUEST_LOOKUP,
};

struct auth_request {
	struct auth *auth;
	enum auth_request_kind kind;
	char *service;
	char *ip; /* "" when unknown */
	char *user;
	char *password; /* verify only; wiped on free */
	auth_callback *callback;
	void *context;

	size_t backend_idx; /* position in the chain */
	bool any_tempfail;
	bool cancelled;
	bool busy; /* a backend operation is running */
	enum auth_result result;
	struct auth_user *result_user;
	char *reason;
	ev_timer finish; /* dispatches the callback on the loop */
	struct auth_request *prev, *next;
};

struct auth {
	struct ev_loop *loop;
	struct auth_settings set;
	struct thread_pool *pool;
	struct auth_backend *backends;
	size_t n_backends;
	struct auth_request *requests;
};

/* A backend reports: user (handed over) only with OK; reason for logs. */
void auth_request_backend_done(struct auth_request *request,
			       enum auth_result result, struct auth_user *user,
			       const char *reason);

/* A new auth_user for name with mail root from the template (or from a
   mail override); NULL with reason when the root cannot be expanded. */
struct auth_user *auth_user_new(const struct auth *auth, const char *name,
				const char *home, const char *mail_override,
				const char **error_r);

extern const struct auth_backend_ops auth_backend_passwd_file;
extern const struct auth_backend_ops auth_backend_checkpassword;
extern const struct auth_backend_ops auth_backend_pam;

#endif
