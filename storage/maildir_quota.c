/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Maildir++ quota: the maildirsize file (see maildir_quota.h). */
#include "storage/maildir_quota.h"

#include "storage/maildir_flags.h"
#include "storage/maildir_private.h"

#include "lib/buf.h"
#include "lib/log.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Maildir++: recalculate past this size, or when over quota and older */
#define QUOTA_FILE_MAX 5120
#define QUOTA_STALE_SECS (15 * 60)
#define QUOTA_LOCK_STALE_SECS 60
/* what we read of the file at most (a larger one is recalculated) */
#define QUOTA_READ_MAX (QUOTA_FILE_MAX * 4)

struct quota_state {
	bool valid; /* the file was read and parsed */
	uint64_t limit_bytes, limit_count;
	int64_t used_bytes, used_count;
	off_t file_size;
	time_t mtime;
};

int maildir_quota_parse_size(const char *text, uint64_t *bytes_r)
{
	uint64_t value = 0, mult = 1;
	const char *p = text;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0') {
		*bytes_r = 0;
		return 0;
	}
	if (!isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		if (value > (UINT64_MAX - 9) / 10)
			return -1;
		value = value * 10 + (uint64_t)(*p - '0');
	}
	switch (tolower((unsigned char)*p)) {
	case '\0':
		break;
	case 'b':
		p++;
		break;
	case 'k':
		mult = 1024ull, p++;
		break;
	case 'm':
		mult = 1024ull * 1024, p++;
		break;
	case 'g':
		mult = 1024ull * 1024 * 1024, p++;
		break;
	case 't':
		mult = 1024ull * 1024 * 1024 * 1024, p++;
		break;
	default:
		return -1;
	}
	if (*p == 'b' || *p == 'B') /* "1GB" */
		p++;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != '\0' || (value != 0 && mult > UINT64_MAX / value))
		return -1;
	*bytes_r = value * mult;
	return 0;
}

int maildir_quota_rule_parse(const char *rule, uint64_t *bytes_r,
			     uint64_t *count_r, const char **error_r)
{
	char copy[256], *save = NULL, *item;

	if (strcmp(rule, "none") == 0 || strcmp(rule, "*:ignore") == 0) {
		*bytes_r = 0;
		*count_r = 0;
		return 0;
	}
	if (strlen(rule) >= sizeof(copy) || strncmp(rule, "*:", 2) != 0) {
		*error_r = "quota_rule: only \"*:storage=SIZE[:messages=N]\" "
			   "is understood";
		return -1;
	}
	memcpy(copy, rule + 2, strlen(rule + 2) + 1);
	for (item = strtok_r(copy, ":", &save); item != NULL;
	     item = strtok_r(NULL, ":", &save)) {
		char *eq = strchr(item, '=');
		bool storage;
		uint64_t v;

		if (eq == NULL) {
			*error_r = "quota_rule: KEY=VALUE expected";
			return -1;
		}
		*eq = '\0';
		storage = strcmp(item, "storage") == 0;
		if (storage || strcmp(item, "bytes") == 0) {
			size_t len = strlen(eq + 1);

			if (maildir_quota_parse_size(eq + 1, &v) < 0) {
				*error_r = "quota_rule: bad size";
				return -1;
			}
			/* Dovecot: storage= without a suffix is kilobytes */
			if (storage && len > 0 &&
			    isdigit((unsigned char)eq[len])) {
				if (v > UINT64_MAX / 1024) {
					*error_r = "quota_rule: bad size";
					return -1;
				}
				v *= 1024;
			}
			*bytes_r = v;
		} else if (strcmp(item, "messages") == 0) {
			char *end;

			errno = 0;
			v = strtoull(eq + 1, &end, 10);
			if (eq[1] == '\0' || *end != '\0' || errno != 0 ||
			    eq[1] == '-') {
				*error_r = "quota_rule: bad message count";
				return -1;
			}
			*count_r = v;
		} else {
			*error_r = "quota_rule: unknown key (storage, bytes, "
				   "messages)";
			return -1;
		}
	}
	return 0;
}

int maildir_quota_settings(struct maildir_settings *set, uint64_t default_bytes,
			   const char *const *userdb_fields,
			   const char **error_r)
{
	uint64_t bytes = 0, count = 0;

	set->quota_bytes = default_bytes;
	set->quota_count = 0;
	for (const char *const *f = userdb_fields; f != NULL && *f != NULL;
	     f++) {
		if (strncmp(*f, "quota_rule=", 11) != 0)
			continue;
		if (maildir_quota_rule_parse(*f + 11, &bytes, &count, error_r) <
		    0)
			return -1;
		set->quota_bytes = bytes;
		set->quota_count = count;
	}
	return 0;
}

static bool quota_enabled(const struct maildir *store)
{
	return store->set.quota_bytes != 0 || store->set.quota_count != 0;
}

static void quota_path(const struct maildir *store, const char *name, char *out,
		       size_t size)
{
	snprintf(out, size, "%s/%s", store->root, name);
}

/* Parses a signed decimal; advances *p. */
static bool parse_i64(const char **p, int64_t *v_r)
{
	char *end;

	errno = 0;
	*v_r = strtoll(*p, &end, 10);
	if (end == *p || errno != 0)
		return false;
	*p = end;
	return true;
}

/* "<bytes>S,<count>C" in either order, either part optional. */
static bool parse_limits(const char *line, size_t len, uint64_t *bytes_r,
			 uint64_t *count_r)
{
	const char *p = line, *end = line + len;

	*bytes_r = 0;
	*count_r = 0;
	while (p < end) {
		int64_t v;

		if (!parse_i64(&p, &v) || v < 0 || p >= end)
			return false;
		if (*p == 'S')
			*bytes_r = (uint64_t)v;
		else if (*p == 'C')
			*count_r = (uint64_t)v;
		else
			return false;
		p++;
		if (p < end && *p != ',')
			return false;
		if (p < end)
			p++;
	}
	return true;
}

/* Reads the file into *st; st->valid false when missing or damaged. */
static void quota_read(struct maildir *store, struct quota_state *st)
{
	char path[PATH_MAX], *data;
	const char *p, *end, *nl;
	struct stat sb;
	ssize_t n;
	int fd;

	memset(st, 0, sizeof(*st));
	quota_path(store, MAILDIR_QUOTA_FILE, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno != ENOENT)
			log_warn("event=quota path=%s error=\"open: %s\"",
				 log_q(path), strerror(errno));
		return;
	}
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) ||
	    sb.st_size > QUOTA_READ_MAX) {
		close(fd);
		return;
	}
	data = malloc((size_t)sb.st_size + 1);
	if (data == NULL) {
		close(fd);
		return;
	}
	n = read(fd, data, (size_t)sb.st_size);
	close(fd);
	if (n < 0 || n != sb.st_size) {
		free(data);
		return;
	}
	data[n] = '\0';
	end = data + n;
	nl = memchr(data, '\n', (size_t)n);
	if (nl == NULL || memchr(data, '\0', (size_t)n) != NULL ||
	    !parse_limits(data, (size_t)(nl - data), &st->limit_bytes,
			  &st->limit_count)) {
		free(data);
		return;
	}
	for (p = nl + 1; p < end; p = nl + 1) {
		int64_t b, c;

		nl = memchr(p, '\n', (size_t)(end - p));
		/* a line without its end is a writer caught mid-way or a
		 * damaged file: recalculate */
		if (nl == NULL) {
			free(data);
			return;
		}
		while (*p == ' ')
			p++;
		if (!parse_i64(&p, &b) || *p != ' ') {
			free(data);
			return;
		}
		while (*p == ' ')
			p++;
		if (!parse_i64(&p, &c)) {
			free(data);
			return;
		}
		while (*p == ' ')
			p++;
		if (p != nl || b > INT64_MAX / 2 || b < INT64_MIN / 2) {
			free(data);
			return;
		}
		st->used_bytes += b;
		st->used_count += c;
	}
	free(data);
	st->file_size = sb.st_size;
	st->mtime = sb.st_mtime;
	st->valid = st->used_bytes >= 0 && st->used_count >= 0;
}

/* Adds the messages of one directory (cur/ or new/). */
static void scan_dir(const char *dir, int64_t *bytes, int64_t *count)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		struct maildir_filename fn;
		struct stat sb;

		if (de->d_name[0] == '.' ||
		    maildir_filename_parse(de->d_name, &fn) < 0)
			continue;
		if (fn.has_size) {
			*bytes += (int64_t)fn.size;
		} else if (fstatat(dirfd(d), de->d_name, &sb,
				   AT_SYMLINK_NOFOLLOW) == 0 &&
			   S_ISREG(sb.st_mode)) {
			*bytes += (int64_t)sb.st_size;
		} else {
			continue;
		}
		(*count)++;
	}
	closedir(d);
}

/* Sums every folder's messages: INBOX (the root) and each ".Folder". */
static void quota_scan(struct maildir *store, int64_t *bytes, int64_t *count)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	*bytes = 0;
	*count = 0;
	snprintf(path, sizeof(path), "%s/cur", store->root);
	scan_dir(path, bytes, count);
	snprintf(path, sizeof(path), "%s/new", store->root);
	scan_dir(path, bytes, count);
	d = opendir(store->root);
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		const char *n = de->d_name;

		if (n[0] != '.' || strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s/cur", store->root, n) <
		    (int)sizeof(path))
			scan_dir(path, bytes, count);
		if (snprintf(path, sizeof(path), "%s/%s/new", store->root, n) <
		    (int)sizeof(path))
			scan_dir(path, bytes, count);
	}
	closedir(d);
}

static void format_limits(const struct maildir *store, struct buf *out)
{
	if (store->set.quota_bytes != 0)
		buf_printf(out, "%" PRIu64 "S", store->set.quota_bytes);
	if (store->set.quota_count != 0)
		buf_printf(out, "%s%" PRIu64 "C",
			   store->set.quota_bytes != 0 ? "," : "",
			   store->set.quota_count);
	buf_append(out, "\n", 1);
}

/* Takes maildirsize.lock (a stale one is broken). Returns true when ours. */
static bool quota_lock(struct maildir *store, char *lock, size_t size)
{
	struct stat sb;

	quota_path(store, MAILDIR_QUOTA_FILE ".lock", lock, size);
	for (int attempt = 0; attempt < 2; attempt++) {
		int fd = open(lock, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
			      0600);

		if (fd >= 0) {
			char pid[32];
			int len = snprintf(pid, sizeof(pid), "%ld\n",
					   (long)getpid());

			if (write(fd, pid, (size_t)len) < 0) {
				/* the pid is for people; the file is the lock */
			}
			close(fd);
			return true;
		}
		if (errno != EEXIST || lstat(lock, &sb) < 0 ||
		    time(NULL) - sb.st_mtime < QUOTA_LOCK_STALE_SECS)
			return false;
		(void)unlink(lock);
	}
	return false;
}

/* Recomputes the use; writes the file when we get the lock. */
static int quota_recalc(struct maildir *store, struct quota_state *st,
			const char **error_r)
{
	char path[PATH_MAX], lock[PATH_MAX];
	struct buf tmp, content;
	bool locked = quota_lock(store, lock, sizeof(lock));
	int fd, ret = 0;

	quota_scan(store, &st->used_bytes, &st->used_count);
	st->limit_bytes = store->set.quota_bytes;
	st->limit_count = store->set.quota_count;
	st->valid = true;
	st->file_size = 0;
	st->mtime = time(NULL);
	if (!locked)
		return 0; /* someone else is writing it: use our sums */
	buf_init(&tmp, PATH_MAX);
	buf_init(&content, 256);
	format_limits(store, &content);
	buf_printf(&content, "%" PRId64 " %" PRId64 "\n", st->used_bytes,
		   st->used_count);
	buf_printf(&tmp, "%s/tmp/", store->root);
	maildir_unique_base(&tmp);
	buf_append_str(&tmp, ".maildirsize");
	quota_path(store, MAILDIR_QUOTA_FILE, path, sizeof(path));
	fd = open(tmp.data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 ||
	    write(fd, content.data, content.len) != (ssize_t)content.len ||
	    (store->set.fsync && fsync(fd) < 0) || close(fd) < 0 ||
	    rename(tmp.data, path) < 0) {
		log_warn("event=quota path=%s error=\"write: %s\"", log_q(path),
			 strerror(errno));
		if (fd >= 0)
			(void)unlink(tmp.data);
		*error_r = "cannot write maildirsize";
		ret = -1;
	} else {
		log_debug("event=quota_recalc path=%s bytes=%" PRId64
			  " messages=%" PRId64,
			  log_q(path), st->used_bytes, st->used_count);
	}
	(void)unlink(lock);
	buf_free(&tmp);
	buf_free(&content);
	return ret;
}

static bool over_limit(const struct maildir *store,
		       const struct quota_state *st, uint64_t bytes,
		       uint64_t count)
{
	uint64_t ub = (uint64_t)st->used_bytes, uc = (uint64_t)st->used_count;

	if (store->set.quota_bytes != 0 &&
	    (bytes > store->set.quota_bytes ||
	     ub > store->set.quota_bytes - bytes))
		return true;
	return store->set.quota_count != 0 &&
	       (count > store->set.quota_count ||
		uc > store->set.quota_count - count);
}

/* The current state, recalculated where the Maildir++ rules say so. */
static int quota_refresh(struct maildir *store, struct quota_state *st,
			 uint64_t bytes, uint64_t count, const char **error_r)
{
	quota_read(store, st);
	if (!st->valid || st->limit_bytes != store->set.quota_bytes ||
	    st->limit_count != store->set.quota_count ||
	    st->file_size > QUOTA_FILE_MAX)
		return quota_recalc(store, st, error_r);
	if (over_limit(store, st, bytes, count) &&
	    time(NULL) - st->mtime > QUOTA_STALE_SECS)
		return quota_recalc(store, st, error_r);
	return 0;
}

int maildir_quota_get(struct maildir *store, uint64_t *used_bytes_r,
		      uint64_t *used_count_r, uint64_t *limit_bytes_r,
		      uint64_t *limit_count_r, const char **error_r)
{
	struct quota_state st;

	*used_bytes_r = 0;
	*used_count_r = 0;
	*limit_bytes_r = store->set.quota_bytes;
	*limit_count_r = store->set.quota_count;
	if (!quota_enabled(store))
		return 0;
	(void)quota_refresh(store, &st, 0, 0, error_r);
	if (!st.valid) {
		*error_r = "cannot read maildirsize";
		return -1;
	}
	*used_bytes_r = (uint64_t)st.used_bytes;
	*used_count_r = (uint64_t)st.used_count;
	return 0;
}

int maildir_quota_check(struct maildir *store, uint64_t bytes, uint64_t count,
			const char **error_r)
{
	struct quota_state st;
	const char *error;

	if (!quota_enabled(store))
		return 0;
	(void)quota_refresh(store, &st, bytes, count, &error);
	if (!st.valid || !over_limit(store, &st, bytes, count))
		return 0;
	log_info("event=quota_exceeded root=%s used_bytes=%" PRId64
		 " used_messages=%" PRId64 " adding_bytes=%" PRIu64
		 " limit_bytes=%" PRIu64 " limit_messages=%" PRIu64,
		 log_q(store->root), st.used_bytes, st.used_count, bytes,
		 store->set.quota_bytes, store->set.quota_count);
	return maildir_fail(store, MAILDIR_ERROR_NO_SPACE,
			    MAILDIR_QUOTA_EXCEEDED, error_r);
}

void maildir_quota_update(struct maildir *store, int64_t bytes, int64_t count)
{
	char path[PATH_MAX], line[64];
	int fd, len;

	if (!quota_enabled(store) || (bytes == 0 && count == 0))
		return;
	quota_path(store, MAILDIR_QUOTA_FILE, path, sizeof(path));
	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return; /* recalculated at the next check */
	len = snprintf(line, sizeof(line), "%" PRId64 " %" PRId64 "\n", bytes,
		       count);
	if (write(fd, line, (size_t)len) != len)
		log_warn("event=quota path=%s error=\"append: %s\"",
			 log_q(path), strerror(errno));
	close(fd);
}

int maildir_quota_recalc(struct maildir *store, const char **error_r)
{
	struct quota_state st;

	if (!quota_enabled(store))
		return 0;
	return quota_recalc(store, &st, error_r);
}
