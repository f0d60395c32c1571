/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target for auth/auth_passwd_file: the passwd-file format.
 *
 * The input is the file: once through auth_passwd_file_parse() and once
 * written to a memfd and read with auth_passwd_file_refresh().
 * Invariants: both give the same table; every entry is found by its user
 * name, comes from the line it says (the line starts with "user:" after
 * blanks), has no ':' in its first seven fields, numeric uid and gid, an
 * empty or absolute home, and nopassword only with an empty password;
 * writing the table back as a passwd file and parsing it again gives the
 * same entries with no line skipped.
 */
#include "fuzz.h"

#include "auth/auth_passwd_file.h"
#include "lib/buf.h"
#include "lib/log.h"

#include <ctype.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init("fuzz_passwd_file", LOG_TARGET_STDERR, LOG_LEVEL_ERROR);
	return 0;
}

static size_t extra_count(const struct auth_passwd_entry *e)
{
	size_t n = 0;

	while (e->extra[n] != NULL)
		n++;
	return n;
}

/* Line `lineno` (from 1) of data, or NULL. */
static const char *line_at(const char *data, size_t size, unsigned lineno,
			   size_t *len_r)
{
	const char *p = data, *end = data + size;

	for (unsigned l = 1; p < end; l++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);

		if (l == lineno) {
			*len_r = len;
			return p;
		}
		p += len + 1;
	}
	return NULL;
}

static void check_entry(const struct auth_passwd_file *file,
			const struct auth_passwd_entry *e, const char *data,
			size_t size)
{
	const char *fields[] = {e->user,  e->password, e->uid,	e->gid,
				e->gecos, e->home,     e->shell};
	const char *line;
	size_t len, ulen = strlen(e->user);

	FUZZ_CHECK(auth_passwd_file_find(file, e->user) == e);
	for (size_t i = 0; i < 7; i++) {
		FUZZ_CHECK(strchr(fields[i], ':') == NULL);
		FUZZ_CHECK(strchr(fields[i], '\n') == NULL);
	}
	for (const char *c = e->uid; *c != '\0'; c++)
		FUZZ_CHECK(isdigit((unsigned char)*c));
	for (const char *c = e->gid; *c != '\0'; c++)
		FUZZ_CHECK(isdigit((unsigned char)*c));
	FUZZ_CHECK(e->home[0] == '\0' || e->home[0] == '/');
	FUZZ_CHECK(!e->nopassword || e->password[0] == '\0');
	FUZZ_CHECK(ulen > 0);
	for (size_t i = 0; e->extra[i] != NULL; i++) {
		FUZZ_CHECK(strpbrk(e->extra[i], " \t\n") == NULL);
	}
	if (e->mail != NULL)
		FUZZ_CHECK(strpbrk(e->mail, " \t\n") == NULL);

	/* the entry comes from its line */
	line = line_at(data, size, e->line, &len);
	FUZZ_CHECK(line != NULL);
	while (len > 0 && (*line == ' ' || *line == '\t')) {
		line++;
		len--;
	}
	FUZZ_CHECK(len > ulen && memcmp(line, e->user, ulen) == 0 &&
		   line[ulen] == ':');
	FUZZ_CHECK(strncmp(line + ulen + 1, e->password, strlen(e->password)) ==
		   0);
}

/* Writes the table back in the file format. */
static void write_back(const struct auth_passwd_file *file,
		       const char *const *users, size_t n, struct buf *out)
{
	for (size_t i = 0; i < n; i++) {
		const struct auth_passwd_entry *e =
			auth_passwd_file_find(file, users[i]);

		buf_printf(out, "%s:%s:%s:%s:%s:%s:%s:", e->user, e->password,
			   e->uid, e->gid, e->gecos, e->home, e->shell);
		if (e->nopassword)
			buf_append_str(out, " nopassword");
		if (e->mail != NULL)
			buf_printf(out, " userdb_mail=%s", e->mail);
		for (size_t k = 0; e->extra[k] != NULL; k++)
			buf_printf(out, " userdb_%s", e->extra[k]);
		/* a field may end in '\r': keep it off the line end */
		buf_append(out, " \n", 2);
	}
}

static void check_same_entry(const struct auth_passwd_entry *a,
			     const struct auth_passwd_entry *b)
{
	FUZZ_CHECK(strcmp(a->user, b->user) == 0);
	FUZZ_CHECK(strcmp(a->password, b->password) == 0);
	FUZZ_CHECK(strcmp(a->uid, b->uid) == 0);
	FUZZ_CHECK(strcmp(a->gid, b->gid) == 0);
	FUZZ_CHECK(strcmp(a->gecos, b->gecos) == 0);
	FUZZ_CHECK(strcmp(a->home, b->home) == 0);
	FUZZ_CHECK(strcmp(a->shell, b->shell) == 0);
	FUZZ_CHECK((a->mail == NULL) == (b->mail == NULL));
	FUZZ_CHECK(a->mail == NULL || strcmp(a->mail, b->mail) == 0);
	FUZZ_CHECK(a->nopassword == b->nopassword);
	FUZZ_CHECK(extra_count(a) == extra_count(b));
	for (size_t k = 0; a->extra[k] != NULL; k++)
		FUZZ_CHECK(strcmp(a->extra[k], b->extra[k]) == 0);
}

/* User names of the table, found through the lines of data. */
static size_t collect_users(const struct auth_passwd_file *file,
			    const char *data, size_t size, const char **users,
			    size_t max)
{
	size_t n = 0;
	const char *p = data, *end = data + size;

	while (p < end && n < max) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		const char *colon = memchr(p, ':', len);

		if (colon != NULL) {
			const char *u = p;
			char name[300];

			while (u < colon && (*u == ' ' || *u == '\t'))
				u++;
			if ((size_t)(colon - u) < sizeof(name)) {
				memcpy(name, u, (size_t)(colon - u));
				name[colon - u] = '\0';
				const struct auth_passwd_entry *e =
					auth_passwd_file_find(file, name);

				if (e != NULL && strcmp(e->user, name) == 0) {
					bool seen = false;

					for (size_t i = 0; i < n; i++)
						seen |= users[i] == e->user;
					if (!seen)
						users[n++] = e->user;
				}
			}
		}
		p += len + 1;
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct auth_passwd_file *file = auth_passwd_file_new("/fuzz/parse");
	struct auth_passwd_file *file2, *file3;
	const char *text = (const char *)data;
	const char **users;
	const char *error = NULL;
	char path[64];
	size_t n;
	struct buf out;
	int fd;

	auth_passwd_file_parse(file, text, size);
	n = auth_passwd_file_count(file);

	/* every entry, reached by the user names on the lines */
	users = calloc(n + 1, sizeof(*users));
	FUZZ_CHECK(users != NULL);
	FUZZ_CHECK(collect_users(file, text, size, users, n) == n);
	for (size_t i = 0; i < n; i++)
		check_entry(file, auth_passwd_file_find(file, users[i]), text,
			    size);

	/* the same through a real file */
	fd = memfd_create("passwd", 0);
	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(size == 0 || write(fd, data, size) == (ssize_t)size);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	file2 = auth_passwd_file_new(path);
	FUZZ_CHECK(auth_passwd_file_refresh(file2, &error) == 0);
	FUZZ_CHECK(auth_passwd_file_count(file2) == n);
	for (size_t i = 0; i < n; i++)
		check_same_entry(auth_passwd_file_find(file, users[i]),
				 auth_passwd_file_find(file2, users[i]));
	auth_passwd_file_free(&file2);
	close(fd);

	/* written back, the table reads the same, with nothing skipped */
	buf_init(&out, BUF_UNLIMITED);
	write_back(file, users, n, &out);
	file3 = auth_passwd_file_new("/fuzz/again");
	FUZZ_CHECK(auth_passwd_file_parse(file3,
					  out.data != NULL ? out.data : "",
					  out.len) == 0);
	FUZZ_CHECK(auth_passwd_file_count(file3) == n);
	for (size_t i = 0; i < n; i++)
		check_same_entry(auth_passwd_file_find(file, users[i]),
				 auth_passwd_file_find(file3, users[i]));
	auth_passwd_file_free(&file3);
	buf_free(&out);
	free(users);
	auth_passwd_file_free(&file);
	return 0;
}
