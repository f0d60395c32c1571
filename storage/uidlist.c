/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "storage/uidlist.h"

#include "storage/maildir_file.h"

#include "lib/log.h"
#include "lib/str.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct uidlist {
	unsigned version;
	uint32_t uidvalidity;
	uint32_t next_uid;
	char *hdr_extra; /* header fields other than V and N, or NULL */
	struct uidlist_rec *recs;
	size_t count, cap;
	uint32_t *hash; /* open addressing: record index + 1, 0 = empty */
	size_t hash_size;
};

static uint64_t name_hash(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
	return h;
}

static void hash_insert(struct uidlist *list, size_t idx)
{
	const char *base = list->recs[idx].base;
	size_t mask = list->hash_size - 1;
	size_t pos = name_hash(base, strlen(base)) & mask;

	while (list->hash[pos] != 0)
		pos = (pos + 1) & mask;
	list->hash[pos] = (uint32_t)idx + 1;
}

static void hash_rebuild(struct uidlist *list, size_t want)
{
	size_t size = 64;

	while (size < want * 2)
		size *= 2;
	free(list->hash);
	list->hash = xcalloc(size, sizeof(*list->hash));
	list->hash_size = size;
	for (size_t i = 0; i < list->count; i++)
		hash_insert(list, i);
}

struct uidlist *uidlist_new(void)
{
	struct uidlist *list = xcalloc(1, sizeof(*list));

	list->version = 3;
	list->next_uid = 1;
	hash_rebuild(list, 0);
	return list;
}

static void recs_clear(struct uidlist_rec *recs, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		free(recs[i].ext);
		free(recs[i].base);
	}
	free(recs);
}

void uidlist_free(struct uidlist **listp)
{
	struct uidlist *list = *listp;

	if (list == NULL)
		return;
	recs_clear(list->recs, list->count);
	free(list->hdr_extra);
	free(list->hash);
	free(list);
	*listp = NULL;
}

long uidlist_find(const struct uidlist *list, const char *base, size_t len)
{
	size_t mask = list->hash_size - 1;
	size_t pos = name_hash(base, len) & mask;

	while (list->hash[pos] != 0) {
		const char *b = list->recs[list->hash[pos] - 1].base;

		if (strncmp(b, base, len) == 0 && b[len] == '\0')
			return (long)list->hash[pos] - 1;
		pos = (pos + 1) & mask;
	}
	return -1;
}

long uidlist_find_uid(const struct uidlist *list, uint32_t uid)
{
	size_t lo = 0, hi = list->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (list->recs[mid].uid == uid)
			return (long)mid;
		if (list->recs[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static void recs_push(struct uidlist *list, uint32_t uid, char *ext, char *base)
{
	if (list->count == list->cap) {
		list->cap = list->cap == 0 ? 64 : list->cap * 2;
		list->recs =
			xrealloc(list->recs, list->cap * sizeof(*list->recs));
	}
	list->recs[list->count].uid = uid;
	list->recs[list->count].ext = ext;
	list->recs[list->count].base = base;
	list->count++;
	if (list->count * 2 > list->hash_size)
		hash_rebuild(list, list->count * 2);
	else
		hash_insert(list, list->count - 1);
}

/* Parses "<letter><digits>" header values V and N, keeps the rest. */
static int parse_header(struct uidlist *tmp, const char *line, size_t len,
			const char **error_r)
{
	struct buf extra;
	const char *p = line, *end = line + len;
	uint64_t v;

	buf_init(&extra, BUF_UNLIMITED);
	if (len >= 2 && line[0] == '1' && line[1] == ' ') {
		/* version 1 (Courier's courierimapuiddb): "1 <V> <N>" */
		char hdr[64], *sp;
		uint64_t uv, nu;

		if (len >= sizeof(hdr))
			goto bad;
		memcpy(hdr, line + 2, len - 2);
		hdr[len - 2] = '\0';
		sp = strchr(hdr, ' ');
		if (sp == NULL)
			goto bad;
		*sp++ = '\0';
		if (str_to_u64(hdr, UINT32_MAX, &uv) < 0 ||
		    str_to_u64(sp, UINT32_MAX, &nu) < 0 || uv == 0 || nu == 0)
			goto bad;
		tmp->version = 1;
		tmp->uidvalidity = (uint32_t)uv;
		tmp->next_uid = (uint32_t)nu;
		buf_free(&extra);
		return 0;
	}
	if (len < 1 || line[0] != '3' || (len > 1 && line[1] != ' ')) {
		*error_r = "unsupported version";
		return -1;
	}
	tmp->version = 3;
	p++;
	while (p < end) {
		const char *tok, *tend;

		while (p < end && *p == ' ')
			p++;
		tok = p;
		while (p < end && *p != ' ')
			p++;
		tend = p;
		if (tok == tend)
			break;
		if ((*tok == 'V' || *tok == 'N') && tend - tok > 1) {
			char num[24];
			size_t n = (size_t)(tend - tok - 1);

			if (n >= sizeof(num))
				goto bad;
			memcpy(num, tok + 1, n);
			num[n] = '\0';
			if (str_to_u64(num, UINT32_MAX, &v) < 0)
				goto bad;
			if (*tok == 'V')
				tmp->uidvalidity = (uint32_t)v;
			else
				tmp->next_uid = (uint32_t)v;
			continue;
		}
		if (extra.len > 0)
			buf_append(&extra, " ", 1);
		buf_append(&extra, tok, (size_t)(tend - tok));
	}
	if (tmp->uidvalidity == 0 || tmp->next_uid == 0)
		goto bad;
	tmp->hdr_extra = extra.len > 0 ? xstrdup(extra.data) : NULL;
	buf_free(&extra);
	return 0;
bad:
	buf_free(&extra);
	*error_r = "bad header";
	return -1;
}

/* "<uid> [<ext> ...] :<filename>" (v3) or "<uid> <filename>" (v1). */
static int parse_record(struct uidlist *tmp, const char *line, size_t len,
			uint32_t *last_uid, const char **error_r)
{
	const char *p = line, *end = line + len, *ext_start, *name;
	uint64_t uid = 0;
	size_t ext_len, name_len;

	while (p < end && *p >= '0' && *p <= '9') {
		uid = uid * 10 + (uint64_t)(*p++ - '0');
		if (uid > UINT32_MAX)
			break;
	}
	if (p == line || p == end || *p != ' ' || uid == 0 ||
	    uid > UINT32_MAX - 1) {
		*error_r = "bad UID in record";
		return -1;
	}
	if (uid <= *last_uid) {
		*error_r = "UIDs not in increasing order";
		return -1;
	}
	p++;
	ext_start = p;
	if (tmp->version == 1) {
		name = p;
	} else {
		/* ext fields are space separated; the name follows ":" */
		while (p < end && *p != ':') {
			while (p < end && *p != ' ')
				p++;
			while (p < end && *p == ' ')
				p++;
		}
		if (p == end) {
			*error_r = "record has no file name";
			return -1;
		}
		name = p + 1;
	}
	ext_len = (size_t)(name - ext_start);
	if (tmp->version != 1)
		ext_len--;
	while (ext_len > 0 && ext_start[ext_len - 1] == ' ')
		ext_len--;
	name_len = (size_t)(end - name);
	for (size_t i = 0; i < name_len; i++) {
		if (name[i] == ':') {
			name_len = i;
			break;
		}
	}
	if (name_len == 0 || memchr(name, '/', name_len) != NULL ||
	    memchr(name, '\0', name_len) != NULL) {
		*error_r = "bad file name in record";
		return -1;
	}
	if (uidlist_find(tmp, name, name_len) >= 0) {
		*error_r = "file name listed twice";
		return -1;
	}
	recs_push(tmp, (uint32_t)uid,
		  ext_len > 0 ? xstrndup(ext_start, ext_len) : NULL,
		  xstrndup(name, name_len));
	*last_uid = (uint32_t)uid;
	return 0;
}

static void uidlist_move(struct uidlist *dst, struct uidlist *src)
{
	recs_clear(dst->recs, dst->count);
	free(dst->hdr_extra);
	free(dst->hash);
	*dst = *src;
	memset(src, 0, sizeof(*src));
}

int uidlist_parse(struct uidlist *list, const char *data, size_t len,
		  const char **error_r)
{
	struct uidlist tmp;
	const char *p = data, *end = data + len, *nl;
	uint32_t last_uid = 0;
	bool header = true;

	memset(&tmp, 0, sizeof(tmp));
	hash_rebuild(&tmp, len / 40);
	if (memchr(data, '\0', len) != NULL) {
		*error_r = "NUL byte in file";
		goto fail;
	}
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL) {
			/* every line we and Dovecot write ends in LF: a
			 * partial last line is a torn write */
			*error_r = "last line is incomplete";
			goto fail;
		}
		if (header) {
			if (parse_header(&tmp, p, (size_t)(nl - p), error_r) <
			    0)
				goto fail;
			header = false;
		} else if (nl > p && parse_record(&tmp, p, (size_t)(nl - p),
						  &last_uid, error_r) < 0) {
			goto fail;
		}
		p = nl + 1;
	}
	if (header) {
		*error_r = "empty file";
		goto fail;
	}
	/* Dovecot may append records without rewriting the header */
	if (last_uid >= tmp.next_uid)
		tmp.next_uid = last_uid + 1;
	uidlist_move(list, &tmp);
	return 0;
fail:
	recs_clear(tmp.recs, tmp.count);
	free(tmp.hdr_extra);
	free(tmp.hash);
	return -1;
}

int uidlist_read(struct uidlist *list, const char *path, const char **error_r)
{
	const char *reason;
	struct stat st;
	char *data;
	size_t got = 0;
	int fd, ret;

	fd = maildir_file_open(path, &st, &reason);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		log_error("event=uidlist_read path=%s error=\"%s\"",
			  log_q(path), reason);
		*error_r = "cannot open the UID list";
		return -1;
	}
	if (st.st_size > (off_t)1 << 31) {
		close(fd);
		*error_r = "the UID list is too large";
		return -1;
	}
	data = xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, data + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	ret = uidlist_parse(list, data, got, error_r);
	free(data);
	return ret < 0 ? -1 : 1;
}

#define PEEK_MAX 8192

static int write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

static ssize_t pread_all(int fd, char *buf, size_t len, off_t at)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = pread(fd, buf + got, len - got, at + (off_t)got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -1 : (ssize_t)got;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* The header and the last record of an open list of size bytes. */
static int peek_fd(int fd, off_t size, uint32_t *uidvalidity_r,
		   uint32_t *next_uid_r)
{
	char buf[PEEK_MAX + 1];
	struct uidlist tmp;
	const char *error, *nl, *line;
	size_t want = size < PEEK_MAX ? (size_t)size : PEEK_MAX;
	ssize_t n;
	uint64_t last = 0;

	if (size <= 0 || (n = pread_all(fd, buf, want, 0)) != (ssize_t)want)
		return -1;
	nl = memchr(buf, '\n', want);
	if (nl == NULL)
		return -1;
	memset(&tmp, 0, sizeof(tmp));
	if (parse_header(&tmp, buf, (size_t)(nl - buf), &error) < 0 ||
	    tmp.version != 3) {
		free(tmp.hdr_extra);
		return -1;
	}
	free(tmp.hdr_extra);
	if ((off_t)(nl - buf) + 1 < size) {
		/* the last line: it ends the file and is a whole record */
		off_t at = size > PEEK_MAX ? size - PEEK_MAX : 0;

		want = (size_t)(size - at);
		if (pread_all(fd, buf, want, at) != (ssize_t)want ||
		    buf[want - 1] != '\n')
			return -1;
		buf[want - 1] = '\0';
		line = strrchr(buf, '\n');
		if (line == NULL && at > 0)
			return -1;
		line = line == NULL ? buf : line + 1;
		while (*line >= '0' && *line <= '9' && last <= UINT32_MAX)
			last = last * 10 + (uint64_t)(*line++ - '0');
		if (*line != ' ' || last == 0 || last >= UINT32_MAX)
			return -1;
	}
	*uidvalidity_r = tmp.uidvalidity;
	*next_uid_r = last >= tmp.next_uid ? (uint32_t)last + 1 : tmp.next_uid;
	return 1;
}

int uidlist_peek(const char *path, uint32_t *uidvalidity_r,
		 uint32_t *next_uid_r)
{
	const char *reason;
	struct stat st;
	int fd = maildir_file_open(path, &st, &reason), ret;

	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	ret = peek_fd(fd, st.st_size, uidvalidity_r, next_uid_r);
	close(fd);
	return ret;
}

int uidlist_append_file(const char *path, const char *base, size_t len,
			bool do_fsync, uint32_t *uid_r, const char **error_r)
{
	struct buf line;
	struct stat st;
	uint32_t uidvalidity, next = 0;
	int fd, ret = 0;

	if (len == 0 || len > PEEK_MAX / 2 || memchr(base, '/', len) != NULL ||
	    memchr(base, ':', len) != NULL || memchr(base, '\n', len) != NULL ||
	    memchr(base, '\0', len) != NULL)
		return 0;
	fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return 0;
	buf_init(&line, BUF_UNLIMITED);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    peek_fd(fd, st.st_size, &uidvalidity, &next) < 0)
		goto out;
	if (next == 0 || next >= UINT32_MAX - 1)
		goto out;
	buf_printf(&line, "%u :%.*s\n", next, (int)len, base);
	ret = -1;
	if (write_all(fd, line.data, line.len) < 0 ||
	    (do_fsync && fsync(fd) < 0)) {
		log_error("event=uidlist_append path=%s error=\"write: %s\"",
			  log_q(path), strerror(errno));
		/* take a partial line back: readers refuse a torn list */
		if (ftruncate(fd, st.st_size) < 0)
			log_error(
				"event=uidlist_append path=%s error=\"ftruncate: %s\"",
				log_q(path), strerror(errno));
		*error_r = "cannot write the UID list";
		goto out;
	}
	*uid_r = next;
	ret = 1;
out:
	buf_free(&line);
	close(fd);
	return ret;
}

void uidlist_serialize(const struct uidlist *list, struct buf *out)
{
	buf_printf(out, "3 V%u N%u", list->uidvalidity, list->next_uid);
	if (list->hdr_extra != NULL)
		buf_printf(out, " %s", list->hdr_extra);
	buf_append(out, "\n", 1);
	for (size_t i = 0; i < list->count; i++) {
		const struct uidlist_rec *r = &list->recs[i];

		if (r->ext != NULL)
			buf_printf(out, "%u %s :%s\n", r->uid, r->ext, r->base);
		else
			buf_printf(out, "%u :%s\n", r->uid, r->base);
	}
}

int uidlist_write(const struct uidlist *list, const char *path, bool do_fsync,
		  const char **error_r)
{
	struct buf text;
	int ret = 0;

	buf_init(&text, BUF_UNLIMITED);
	uidlist_serialize(list, &text);
	/* through the folder's tmp/, created exclusively: see
	 * maildir_file_replace() */
	if (maildir_file_replace(path, text.data == NULL ? "" : text.data,
				 text.len, do_fsync) < 0) {
		int err = errno;

		log_error("event=uidlist_write path=%s error=\"%s\"",
			  log_q(path), strerror(err));
		*error_r = "cannot write the UID list";
		errno = err;
		ret = -1;
	}
	buf_free(&text);
	return ret;
}

uint32_t uidlist_uidvalidity(const struct uidlist *list)
{
	return list->uidvalidity;
}

void uidlist_set_uidvalidity(struct uidlist *list, uint32_t uidvalidity)
{
	list->uidvalidity = uidvalidity;
}

uint32_t uidlist_next_uid(const struct uidlist *list)
{
	return list->next_uid;
}

void uidlist_raise_next_uid(struct uidlist *list, uint32_t next_uid)
{
	if (next_uid > list->next_uid)
		list->next_uid = next_uid;
}

size_t uidlist_count(const struct uidlist *list)
{
	return list->count;
}

const struct uidlist_rec *uidlist_get(const struct uidlist *list, size_t idx)
{
	return idx < list->count ? &list->recs[idx] : NULL;
}

/* The largest UID handed out: UIDNEXT (one more) must fit in 32 bits and
 * stay below 4294967295, which some clients take for "none". */
#define UIDLIST_UID_MAX (UINT32_MAX - 2)

bool uidlist_is_full(const struct uidlist *list)
{
	return list->next_uid == 0 || list->next_uid > UIDLIST_UID_MAX;
}

void uidlist_renumber(struct uidlist *list, uint32_t uidvalidity)
{
	for (size_t i = 0; i < list->count; i++)
		list->recs[i].uid = (uint32_t)i + 1;
	list->next_uid = (uint32_t)list->count + 1;
	list->uidvalidity = uidvalidity;
}

uint32_t uidlist_append(struct uidlist *list, const char *base, size_t len,
			const char *ext)
{
	uint32_t uid = list->next_uid;

	if (uidlist_is_full(list) || uidlist_find(list, base, len) >= 0)
		return 0;
	recs_push(list, uid, ext != NULL ? xstrdup(ext) : NULL,
		  xstrndup(base, len));
	list->next_uid = uid + 1;
	return uid;
}

void uidlist_remove_marked(struct uidlist *list, const bool *drop)
{
	size_t w = 0;

	for (size_t i = 0; i < list->count; i++) {
		if (drop[i]) {
			free(list->recs[i].ext);
			free(list->recs[i].base);
			continue;
		}
		list->recs[w++] = list->recs[i];
	}
	list->count = w;
	hash_rebuild(list, list->count);
}
