/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "auth/auth_passwd_file.h"

#include "auth/auth.h"
#include "auth/auth_hash.h"
#include "auth/auth_private.h"
#include "lib/arena.h"
#include "lib/base64.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PASSWD_FILE_MAX (64 * 1024 * 1024)
#define PASSWD_EXTRA_MAX 64

struct auth_passwd_file {
	char *path;
	struct arena *arena;		   /* every string of the table */
	struct auth_passwd_entry *entries; /* sorted by user */
	size_t count;
	/* what the table was read from */
	bool loaded;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

struct auth_passwd_file *auth_passwd_file_new(const char *path)
{
	struct auth_passwd_file *file = xcalloc(1, sizeof(*file));

	file->path = xstrdup(path);
	file->arena = arena_new(0);
	return file;
}

static void table_clear(struct auth_passwd_file *file)
{
	/* The table holds password hashes: wipe before reuse. */
	for (size_t i = 0; i < file->count; i++) {
		char *pw = (char *)file->entries[i].password;

		explicit_bzero(pw, strlen(pw));
	}
	free(file->entries);
	file->entries = NULL;
	file->count = 0;
	arena_free(&file->arena);
	file->arena = arena_new(0);
}

void auth_passwd_file_free(struct auth_passwd_file **filep)
{
	struct auth_passwd_file *file = *filep;

	if (file == NULL)
		return;
	*filep = NULL;
	table_clear(file);
	arena_free(&file->arena);
	free(file->path);
	free(file);
}

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct auth_passwd_entry *)a)->user,
		      ((const struct auth_passwd_entry *)b)->user);
}

static void bad_line(const struct auth_passwd_file *file, unsigned line,
		     const char *why)
{
	log_warn(
		"event=passwd_file_error file=%s line=%u error=%s action=skip_line",
		log_q(file->path), line, log_q(why));
}

static bool is_number(const char *s)
{
	for (; *s != '\0'; s++) {
		if (!isdigit((unsigned char)*s))
			return false;
	}
	return true;
}

static void parse_extra(struct auth_passwd_file *file,
			struct auth_passwd_entry *e, char *extra)
{
	const char **list = arena_zalloc(file->arena, (PASSWD_EXTRA_MAX + 1) *
							      sizeof(char *));
	size_t n = 0;
	char *save = NULL;
	bool nopassword = false;

	for (char *f = strtok_r(extra, " \t", &save); f != NULL;
	     f = strtok_r(NULL, " \t", &save)) {
		if (strcmp(f, "nopassword") == 0 ||
		    strncmp(f, "nopassword=", 11) == 0) {
			nopassword = true;
		} else if (strncmp(f, "userdb_mail=", 12) == 0) {
			e->mail = f + 12;
		} else if (strncmp(f, "mail=", 5) == 0) {
			e->mail = f + 5;
		} else if (n < PASSWD_EXTRA_MAX) {
			list[n++] = strncmp(f, "userdb_", 7) == 0 ? f + 7 : f;
		}
	}
	e->extra = list;
	if (nopassword && e->password[0] == '\0')
		e->nopassword = 1;
	else if (nopassword)
		log_warn(
			"event=passwd_file_warning file=%s line=%u user=%s error=\"nopassword ignored: the entry has a password\"",
			log_q(file->path), e->line, log_q(e->user));
}

/* Parses one line in place (the arena owns it). Returns 0, 1 to skip
   silently (comment, blank), or -1 with a reason. */
static int parse_line(struct auth_passwd_file *file, char *line,
		      struct auth_passwd_entry *e, const char **why_r)
{
	char *fields[7] = {NULL};
	char *p = line, *extra = NULL;
	const char *error;
	size_t n = 0;

	while (*line == ' ' || *line == '\t')
		line++;
	if (*line == '\0' || *line == '#')
		return 1;
	p = line;
	while (n < 7) {
		char *colon = strchr(p, ':');

		fields[n++] = p;
		if (colon == NULL)
			break;
		*colon = '\0';
		p = colon + 1;
		if (n == 7)
			extra = p;
	}
	if (n < 2) {
		*why_r = "missing ':' after the user name";
		return -1;
	}
	if (auth_user_name_validate(fields[0], strlen(fields[0]), &error) < 0) {
		*why_r = error;
		return -1;
	}
	for (size_t i = 0; i < 7; i++) {
		if (fields[i] == NULL)
			fields[i] = "";
	}
	if (!is_number(fields[2]) || !is_number(fields[3])) {
		*why_r = "uid and gid must be numbers";
		return -1;
	}
	e->user = fields[0];
	e->password = fields[1];
	e->uid = fields[2];
	e->gid = fields[3];
	e->gecos = fields[4];
	e->home = fields[5];
	e->shell = fields[6];
	if (e->home[0] != '\0' && e->home[0] != '/') {
		*why_r = "home must be an absolute path";
		return -1;
	}
	parse_extra(file, e, extra != NULL ? extra : (char *)"");
	return 0;
}

unsigned auth_passwd_file_parse(struct auth_passwd_file *file, const char *data,
				size_t len)
{
	char *text, *save = NULL;
	size_t cap = 64;
	unsigned bad = 0, lineno = 0;
	const char *p, *end = data + len;

	table_clear(file);
	file->entries = xcalloc(cap, sizeof(*file->entries));
	text = arena_strndup(file->arena, data, len);
	(void)save;
	p = text;
	end = text + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t llen = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		char *line = (char *)p;
		struct auth_passwd_entry e = {0};
		const char *why = NULL;
		int ret;

		lineno++;
		p += llen + (nl != NULL ? 1 : 0);
		if (llen > 0 && line[llen - 1] == '\r')
			llen--;
		line[llen] = '\0';
		if (memchr(line, '\0', llen) != NULL) {
			bad_line(file, lineno, "NUL byte in line");
			bad++;
			continue;
		}
		e.line = lineno;
		ret = parse_line(file, line, &e, &why);
		if (ret == 1)
			continue;
		if (ret < 0) {
			bad_line(file, lineno, why);
			bad++;
			continue;
		}
		if (file->count == cap) {
			cap *= 2;
			file->entries = xrealloc(file->entries,
						 cap * sizeof(*file->entries));
		}
		file->entries[file->count++] = e;
	}
	qsort(file->entries, file->count, sizeof(*file->entries), entry_cmp);
	/* Duplicates: keep the first in file order, like Dovecot. */
	for (size_t i = 1; i < file->count;) {
		struct auth_passwd_entry *a = &file->entries[i - 1];
		struct auth_passwd_entry *b = &file->entries[i];

		if (strcmp(a->user, b->user) != 0) {
			i++;
			continue;
		}
		if (b->line < a->line)
			*a = *b;
		bad_line(file, a->line > b->line ? a->line : b->line,
			 "duplicate user");
		bad++;
		memmove(b, b + 1, (file->count - i - 1) * sizeof(*b));
		file->count--;
	}
	return bad;
}

int auth_passwd_file_refresh(struct auth_passwd_file *file,
			     const char **error_r)
{
	struct stat st;
	struct buf b;
	int fd;

	if (stat(file->path, &st) < 0) {
		table_clear(file);
		file->loaded = false;
		*error_r = strerror(errno);
		return -1;
	}
	if (file->loaded && st.st_dev == file->dev && st.st_ino == file->ino &&
	    st.st_size == file->size &&
	    st.st_mtim.tv_sec == file->mtime.tv_sec &&
	    st.st_mtim.tv_nsec == file->mtime.tv_nsec)
		return 0;
	fd = open(file->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		*error_r = strerror(errno);
		if (fd >= 0)
			close(fd);
		table_clear(file);
		file->loaded = false;
		return -1;
	}
	buf_init(&b, PASSWD_FILE_MAX);
	for (;;) {
		size_t avail;
		char *dst = buf_reserve(&b, 65536, &avail);
		ssize_t n;

		if (dst == NULL) {
			*error_r = "file too large";
			goto fail;
		}
		n = read(fd, dst, avail);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*error_r = strerror(errno);
			goto fail;
		}
		if (n == 0)
			break;
		buf_commit(&b, (size_t)n);
	}
	close(fd);
	auth_passwd_file_parse(file, b.data != NULL ? b.data : "", b.len);
	buf_free_secret(&b);
	file->loaded = true;
	file->dev = st.st_dev;
	file->ino = st.st_ino;
	file->size = st.st_size;
	file->mtime = st.st_mtim;
	log_info("event=passwd_file_loaded file=%s users=%zu",
		 log_q(file->path), file->count);
	return 0;
fail:
	close(fd);
	buf_free_secret(&b);
	table_clear(file);
	file->loaded = false;
	return -1;
}

static const struct auth_passwd_entry *
find_exact(const struct auth_passwd_file *file, const char *user)
{
	struct auth_passwd_entry key = {.user = user};

	if (file->count == 0)
		return NULL;
	return bsearch(&key, file->entries, file->count, sizeof(*file->entries),
		       entry_cmp);
}

const struct auth_passwd_entry *
auth_passwd_file_find(const struct auth_passwd_file *file, const char *user)
{
	const struct auth_passwd_entry *e = find_exact(file, user);
	char *lower;
	const char *at;

	if (e != NULL)
		return e;
	/* Domains are case-insensitive (RFC 5321 2.4). */
	at = strchr(user, '@');
	if (at == NULL)
		return NULL;
	lower = xstrdup(user);
	for (char *c = lower + (at - user); *c != '\0'; c++)
		*c = (char)tolower((unsigned char)*c);
	e = find_exact(file, lower);
	free(lower);
	return e;
}

size_t auth_passwd_file_count(const struct auth_passwd_file *file)
{
	return file->count;
}

/* --- the backend --- */

/* The backend's state. */
struct pf_state {
	struct auth_passwd_file *file;
	/* A hash of a random password in the default scheme: unknown users
	   are checked against it, so that they take as long as known ones
	   and timing does not tell who exists. */
	char *dummy_hash;
};

struct passwd_job {
	struct auth_backend *backend;
	struct auth_request *req;
	char *stored;	/* copy of the hash (the table may reload) */
	char *password; /* copy for the worker */
	struct auth_user *user;
	const char *dummy_reason; /* a dummy check: always FAIL with this */
	int match;
	const char *error;
};

static int pf_init(struct auth_backend *backend, const char *args,
		   const char **error_r)
{
	const char *error;
	struct pf_state *pf;
	unsigned char rnd[24];
	struct buf pw;

	if (args[0] != '/') {
		*error_r =
			"passwd-file: needs an absolute path (passwd-file /etc/merpati/users)";
		return -1;
	}
	pf = xcalloc(1, sizeof(*pf));
	pf->file = auth_passwd_file_new(args);
	if (auth_passwd_file_refresh(pf->file, &error) < 0)
		log_error("event=passwd_file_error file=%s error=%s",
			  log_q(args), log_q(error));
	buf_init(&pw, 64);
	if (gnutls_rnd(GNUTLS_RND_NONCE, rnd, sizeof(rnd)) == 0) {
		base64_encode(&pw, rnd, sizeof(rnd));
		pf->dummy_hash = auth_hash_make(AUTH_HASH_DEFAULT_SCHEME,
						pw.data, 0, &error);
	}
	buf_free_secret(&pw);
	explicit_bzero(rnd, sizeof(rnd));
	if (pf->dummy_hash == NULL)
		log_warn(
			"event=passwd_file_warning file=%s error=\"no dummy hash: unknown users answer faster than known ones\"",
			log_q(args));
	backend->state = pf;
	return 0;
}

static void pf_deinit(struct auth_backend *backend)
{
	struct pf_state *pf = backend->state;

	auth_passwd_file_free(&pf->file);
	if (pf->dummy_hash != NULL)
		xfree_secret(pf->dummy_hash, strlen(pf->dummy_hash));
	free(pf);
}

/* Finds the entry and makes the user record. Returns the result. */
static enum auth_result pf_resolve(struct auth_backend *backend,
				   struct auth_request *req,
				   const struct auth_passwd_entry **entry_r,
				   struct auth_user **user_r,
				   const char **reason_r)
{
	struct pf_state *pf = backend->state;
	struct auth_passwd_file *file = pf->file;
	const struct auth_passwd_entry *e;
	struct auth_user *user;
	const char *error;
	size_t n = 0;

	if (auth_passwd_file_refresh(file, &error) < 0) {
		log_error("event=passwd_file_error file=%s error=%s",
			  log_q(file->path), log_q(error));
		*reason_r = "passwd-file unreadable";
		return AUTH_RESULT_TEMPFAIL;
	}
	e = auth_passwd_file_find(file, req->user);
	if (e == NULL) {
		*reason_r = "unknown user";
		return AUTH_RESULT_FAIL;
	}
	user = auth_user_new(backend->auth, e->user, e->home, e->mail, &error);
	if (user == NULL) {
		log_error(
			"event=passwd_file_error file=%s line=%u user=%s error=%s",
			log_q(file->path), e->line, log_q(e->user),
			log_q(error));
		*reason_r = "cannot resolve the mail root";
		return AUTH_RESULT_TEMPFAIL;
	}
	while (e->extra[n] != NULL)
		n++;
	user->overrides = xrealloc(user->overrides, (n + 1) * sizeof(char *));
	for (size_t i = 0; i < n; i++)
		user->overrides[i] = xstrdup(e->extra[i]);
	user->overrides[n] = NULL;
	user->nopassword = e->nopassword != 0;
	user->backend = "passwd-file";
	*entry_r = e;
	*user_r = user;
	return AUTH_RESULT_OK;
}

static void pf_verify_work(void *context)
{
	struct passwd_job *job = context;

	job->match = auth_hash_verify(
		job->stored, job->password,
		job->backend->auth->set.allow_plain_scheme, &job->error);
	if (job->dummy_reason != NULL)
		job->match = 0;
}

/* The pool's discard callback: the module went away with the job
   unfinished. */
static void pf_job_free(void *context)
{
	struct passwd_job *job = context;

	xfree_secret(job->stored, strlen(job->stored));
	xfree_secret(job->password, strlen(job->password));
	auth_user_free(&job->user);
	free(job);
}

static void pf_verify_done(void *context)
{
	struct passwd_job *job = context;
	struct auth_request *req = job->req;

	xfree_secret(job->stored, strlen(job->stored));
	xfree_secret(job->password, strlen(job->password));
	if (job->match == 1) {
		auth_request_backend_done(req, AUTH_RESULT_OK, job->user, "");
	} else if (job->match == 0) {
		auth_user_free(&job->user);
		auth_request_backend_done(req, AUTH_RESULT_FAIL, NULL,
					  job->dummy_reason != NULL
						  ? job->dummy_reason
						  : "wrong password");
	} else {
		log_error("event=passwd_file_error user=%s error=%s",
			  log_q(job->user->name), log_q(job->error));
		auth_user_free(&job->user);
		/* A hash we cannot check is the admin's problem, not the
		   user's: not a "wrong password". */
		auth_request_backend_done(req, AUTH_RESULT_TEMPFAIL, NULL,
					  job->error);
	}
	free(job);
}

static void pf_submit(struct auth_backend *backend, struct auth_request *req,
		      const char *stored, struct auth_user *user,
		      const char *dummy_reason)
{
	struct passwd_job *job = xcalloc(1, sizeof(*job));

	job->backend = backend;
	job->req = req;
	job->stored = xstrdup(stored);
	job->password = xstrdup(req->password);
	job->user = user;
	job->dummy_reason = dummy_reason;
	thread_pool_run(backend->auth->pool, pf_verify_work, pf_verify_done,
			pf_job_free, job);
}

/* A user we cannot check a password for: spend the time a check takes
   anyway, then FAIL with reason. */
static void pf_fail_slowly(struct auth_backend *backend,
			   struct auth_request *req, const char *reason)
{
	struct pf_state *pf = backend->state;

	if (pf->dummy_hash == NULL) {
		auth_request_backend_done(req, AUTH_RESULT_FAIL, NULL, reason);
		return;
	}
	pf_submit(backend, req, pf->dummy_hash, NULL, reason);
}

static void pf_verify(struct auth_backend *backend, struct auth_request *req)
{
	const struct auth_passwd_entry *e = NULL;
	struct auth_user *user = NULL;
	const char *reason = "";
	enum auth_result r = pf_resolve(backend, req, &e, &user, &reason);

	if (r == AUTH_RESULT_FAIL) {
		pf_fail_slowly(backend, req, reason);
		return;
	}
	if (r != AUTH_RESULT_OK) {
		auth_request_backend_done(req, r, NULL, reason);
		return;
	}
	if (e->nopassword) {
		auth_request_backend_done(req, AUTH_RESULT_OK, user, "");
		return;
	}
	if (e->password[0] == '\0') {
		auth_user_free(&user);
		pf_fail_slowly(backend, req, "no password set");
		return;
	}
	pf_submit(backend, req, e->password, user, NULL);
}

static void pf_lookup(struct auth_backend *backend, struct auth_request *req)
{
	const struct auth_passwd_entry *e = NULL;
	struct auth_user *user = NULL;
	const char *reason = "";
	enum auth_result r = pf_resolve(backend, req, &e, &user, &reason);

	if (r == AUTH_RESULT_OK)
		user->credential = xstrdup(e->password);
	auth_request_backend_done(req, r, user, reason);
}

const struct auth_backend_ops auth_backend_passwd_file = {
	.name = "passwd-file",
	.init = pf_init,
	.deinit = pf_deinit,
	.verify = pf_verify,
	.lookup = pf_lookup,
};
