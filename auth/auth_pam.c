/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The PAM backend: pam_authenticate() + pam_acct_mgmt() for the configured
 * service (default "merpati", etc/merpati.pam), run on the helper's worker
 * pool as root, so pam_unix can read /etc/shadow and a slow module never
 * holds up the loop.
 *
 * PAM modules are not all thread-safe (pam_unix uses getspnam()), so calls
 * are serialised with one mutex: PAM logins wait for each other, never for
 * hashing or for the serving processes. Modules' own failure delays are
 * replaced by a no-op (PAM_FAIL_DELAY): the helper's per-IP penalty
 * applies instead, without tying up a worker.
 */
#include "auth/auth_private.h"
#include "lib/log.h"
#include "lib/xalloc.h"

#include <pthread.h>
#include <pwd.h>
#include <security/pam_appl.h>
#include <stdlib.h>
#include <string.h>

struct pam_backend {
	char *service;
};

struct pam_job {
	struct auth_backend *backend;
	struct auth_request *req;
	char *user, *password, *service, *ip;
	int ret;
	char *canonical; /* PAM_USER after authentication */
	char *home;
	const char *error;
};

static pthread_mutex_t pam_lock = PTHREAD_MUTEX_INITIALIZER;

static int pam_init_backend(struct auth_backend *backend, const char *args,
			    const char **error_r)
{
	struct pam_backend *pb = xcalloc(1, sizeof(*pb));

	(void)error_r;
	pb->service = xstrdup(args[0] != '\0' ? args : "merpati");
	backend->state = pb;
	return 0;
}

static void pam_deinit_backend(struct auth_backend *backend)
{
	struct pam_backend *pb = backend->state;

	free(pb->service);
	free(pb);
}

static int conv_cb(int n, const struct pam_message **msg,
		   struct pam_response **resp_r, void *appdata)
{
	struct pam_job *job = appdata;
	struct pam_response *resp;

	if (n <= 0 || n > PAM_MAX_NUM_MSG)
		return PAM_CONV_ERR;
	resp = calloc((size_t)n, sizeof(*resp));
	if (resp == NULL)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		switch (msg[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF:
			resp[i].resp = strdup(job->password);
			break;
		case PAM_PROMPT_ECHO_ON:
			resp[i].resp = strdup(job->user);
			break;
		default:
			break;
		}
		if ((msg[i]->msg_style == PAM_PROMPT_ECHO_OFF ||
		     msg[i]->msg_style == PAM_PROMPT_ECHO_ON) &&
		    resp[i].resp == NULL) {
			for (int j = 0; j < i; j++)
				free(resp[j].resp);
			free(resp);
			return PAM_BUF_ERR;
		}
	}
	*resp_r = resp;
	return PAM_SUCCESS;
}

static void no_delay(int retval, unsigned usec_delay, void *appdata)
{
	(void)retval;
	(void)usec_delay;
	(void)appdata;
}

static void pam_work(void *context)
{
	struct pam_job *job = context;
	struct pam_conv conv = {conv_cb, job};
	pam_handle_t *h = NULL;
	const void *item = NULL;
	struct passwd pw, *pwp = NULL;
	char pwbuf[4096];
	int ret;

	pthread_mutex_lock(&pam_lock);
	ret = pam_start(job->service, job->user, &conv, &h);
	if (ret == PAM_SUCCESS) {
		if (job->ip[0] != '\0')
			pam_set_item(h, PAM_RHOST, job->ip);
		pam_set_item(h, PAM_FAIL_DELAY, (const void *)no_delay);
		ret = pam_authenticate(h,
				       PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
		if (ret == PAM_SUCCESS)
			ret = pam_acct_mgmt(h, PAM_SILENT);
		if (ret == PAM_SUCCESS &&
		    pam_get_item(h, PAM_USER, &item) == PAM_SUCCESS &&
		    item != NULL)
			job->canonical = xstrdup(item);
		if (ret != PAM_SUCCESS)
			job->error = pam_strerror(h, ret);
		pam_end(h, ret);
	} else {
		job->error = "pam_start failed";
	}
	pthread_mutex_unlock(&pam_lock);
	job->ret = ret;
	if (ret == PAM_SUCCESS && job->canonical != NULL &&
	    getpwnam_r(job->canonical, &pw, pwbuf, sizeof(pwbuf), &pwp) == 0 &&
	    pwp != NULL)
		job->home = xstrdup(pw.pw_dir);
}

static enum auth_result map_pam(int ret)
{
	switch (ret) {
	case PAM_SUCCESS:
		return AUTH_RESULT_OK;
	case PAM_AUTH_ERR:
	case PAM_USER_UNKNOWN:
	case PAM_MAXTRIES:
	case PAM_PERM_DENIED:
	case PAM_ACCT_EXPIRED:
	case PAM_AUTHTOK_EXPIRED:
	case PAM_NEW_AUTHTOK_REQD:
	case PAM_CRED_ERR:
		return AUTH_RESULT_FAIL;
	default:
		/* PAM_AUTHINFO_UNAVAIL, PAM_SERVICE_ERR, PAM_SYSTEM_ERR... */
		return AUTH_RESULT_TEMPFAIL;
	}
}

/* Also the pool's discard callback: the module went away first. */
static void pam_job_free(void *context)
{
	struct pam_job *job = context;

	xfree_secret(job->password, strlen(job->password));
	free(job->user);
	free(job->service);
	free(job->ip);
	free(job->canonical);
	free(job->home);
	free(job);
}

static void pam_done(void *context)
{
	struct pam_job *job = context;
	struct auth_request *req = job->req;
	enum auth_result r = map_pam(job->ret);
	struct auth_user *user = NULL;
	const char *error = NULL;

	if (r == AUTH_RESULT_OK) {
		const char *name =
			job->canonical != NULL ? job->canonical : job->user;

		/* A module may rewrite PAM_USER: check it like input. */
		if (auth_user_name_validate(name, strlen(name), &error) == 0)
			user = auth_user_new(req->auth, name, job->home, NULL,
					     &error);
		if (user == NULL) {
			log_error("event=pam_error user=%s error=%s",
				  log_q(job->user), log_q(error));
			r = AUTH_RESULT_TEMPFAIL;
		} else {
			user->backend = "pam";
		}
	} else if (r == AUTH_RESULT_TEMPFAIL) {
		log_error("event=pam_error service=%s user=%s error=%s",
			  log_q(job->service), log_q(job->user),
			  log_q(job->error != NULL ? job->error : "?"));
	}
	auth_request_backend_done(req, r, user,
				  r == AUTH_RESULT_OK  ? ""
				  : job->error != NULL ? job->error
						       : "pam failure");
	pam_job_free(job);
}

static void pam_verify(struct auth_backend *backend, struct auth_request *req)
{
	struct pam_backend *pb = backend->state;
	struct pam_job *job = xcalloc(1, sizeof(*job));

	job->backend = backend;
	job->req = req;
	job->user = xstrdup(req->user);
	job->password = xstrdup(req->password);
	job->service = xstrdup(pb->service);
	job->ip = xstrdup(req->ip);
	thread_pool_run(backend->auth->pool, pam_work, pam_done, pam_job_free,
			job);
}

const struct auth_backend_ops auth_backend_pam = {
	.name = "pam",
	.init = pam_init_backend,
	.deinit = pam_deinit_backend,
	.verify = pam_verify,
	.lookup = NULL,
};
