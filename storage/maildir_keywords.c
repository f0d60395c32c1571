/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "storage/maildir_keywords.h"

#include "storage/maildir_file.h"

#include "lib/buf.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct maildir_keywords {
	char *names[MAILDIR_KEYWORDS_MAX];
};

struct maildir_keywords *maildir_keywords_new(void)
{
	return xcalloc(1, sizeof(struct maildir_keywords));
}

static void keywords_clear(struct maildir_keywords *kw)
{
	for (unsigned i = 0; i < MAILDIR_KEYWORDS_MAX; i++) {
		free(kw->names[i]);
		kw->names[i] = NULL;
	}
}

void maildir_keywords_free(struct maildir_keywords **kwp)
{
	if (*kwp == NULL)
		return;
	keywords_clear(*kwp);
	free(*kwp);
	*kwp = NULL;
}

static bool keyword_is_atom(const char *name, size_t len)
{
	if (len == 0 || len > 100 || name[0] == '\\')
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c <= 0x20 || c >= 0x7f || strchr("(){%*\"\\]", c) != NULL)
			return false;
	}
	return true;
}

void maildir_keywords_parse(struct maildir_keywords *kw, const char *data,
			    size_t len)
{
	const char *p = data, *end = data + len;

	keywords_clear(kw);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl == NULL ? end : nl;
		const char *sp = memchr(p, ' ', (size_t)(eol - p));
		uint64_t idx;

		if (sp != NULL &&
		    strv_to_u64((struct strv){p, (size_t)(sp - p)},
				MAILDIR_KEYWORDS_MAX - 1, &idx) == 0 &&
		    keyword_is_atom(sp + 1, (size_t)(eol - sp - 1)) &&
		    kw->names[idx] == NULL) {
			char *name = xstrndup(sp + 1, (size_t)(eol - sp - 1));

			/* a name listed again keeps its first letter, the one
			   lookups find (the later letter stays nameless) */
			if (maildir_keywords_lookup(kw, name) < 0)
				kw->names[idx] = name;
			else
				free(name);
		}
		p = eol + 1;
	}
}

int maildir_keywords_read(struct maildir_keywords *kw, const char *path)
{
	char data[8192];
	const char *reason;
	size_t got = 0;
	ssize_t n;
	int fd;

	fd = maildir_file_open(path, NULL, &reason);
	if (fd < 0) {
		if (errno == ENOENT) {
			keywords_clear(kw);
			return 0;
		}
		log_error("event=keywords_read path=%s error=\"%s\"",
			  log_q(path), reason);
		return -1;
	}
	while (got < sizeof(data) &&
	       (n = read(fd, data + got, sizeof(data) - got)) > 0)
		got += (size_t)n;
	close(fd);
	maildir_keywords_parse(kw, data, got);
	return 0;
}

int maildir_keywords_write(const struct maildir_keywords *kw, const char *path,
			   bool do_fsync)
{
	struct buf text;
	int ret = 0;

	buf_init(&text, BUF_UNLIMITED);
	for (unsigned i = 0; i < MAILDIR_KEYWORDS_MAX; i++) {
		if (kw->names[i] != NULL)
			buf_printf(&text, "%u %s\n", i, kw->names[i]);
	}
	if (maildir_file_replace(path, text.data == NULL ? "" : text.data,
				 text.len, do_fsync) < 0) {
		log_error("event=keywords_write path=%s error=\"%s\"",
			  log_q(path), strerror(errno));
		ret = -1;
	}
	buf_free(&text);
	return ret;
}

int maildir_keywords_lookup(const struct maildir_keywords *kw, const char *name)
{
	for (unsigned i = 0; i < MAILDIR_KEYWORDS_MAX; i++) {
		if (kw->names[i] != NULL && str_cmp_ci(kw->names[i], name) == 0)
			return (int)i;
	}
	return -1;
}

int maildir_keywords_add(struct maildir_keywords *kw, const char *name)
{
	int idx = maildir_keywords_lookup(kw, name);

	if (idx >= 0)
		return idx;
	if (!keyword_is_atom(name, strlen(name)))
		return -1;
	for (unsigned i = 0; i < MAILDIR_KEYWORDS_MAX; i++) {
		if (kw->names[i] == NULL) {
			kw->names[i] = xstrdup(name);
			return (int)i;
		}
	}
	return -1;
}

const char *maildir_keywords_name(const struct maildir_keywords *kw,
				  unsigned idx)
{
	return idx < MAILDIR_KEYWORDS_MAX ? kw->names[idx] : NULL;
}

const char *const *maildir_keywords_names(const struct maildir_keywords *kw)
{
	return (const char *const *)kw->names;
}
