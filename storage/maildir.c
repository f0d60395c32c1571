/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "storage/maildir.h"

#include "storage/mailbox.h"
#include "storage/mailbox_name.h"
#include "storage/maildir_file.h"
#include "storage/maildir_private.h"

#include "lib/log.h"
#include "lib/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SUBSCRIPTIONS_FILE "subscriptions"
/* Deleted folders are renamed here first so that a crash never leaves a
 * half-deleted folder visible; ".." names are never folders. */
#define DELETED_PREFIX "..merpati-deleted."

void maildir_settings_init(struct maildir_settings *set)
{
	set->fsync = true;
	set->lock_stale_secs = 120;
	set->lock_timeout_secs = 60;
	set->separator = '/';
	set->tmp_max_age_secs = 36 * 3600;
	set->quota_bytes = 0;
	set->quota_count = 0;
}

int maildir_open(const char *root, const struct maildir_settings *set,
		 bool create, struct maildir **store_r, const char **error_r)
{
	struct maildir *store = xcalloc(1, sizeof(*store));
	struct stat st;

	store->root = xstrdup(root);
	store->set = *set;
	if (store->set.separator == '\0')
		store->set.separator = '/';
	if (root[0] != '/') {
		*error_r = "mail root is not an absolute path";
		goto fail;
	}
	if (create) {
		/* the parents of the root (e.g. /var/vmail/example.org) too */
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "%s", root);
		for (char *p = path + 1; *p != '\0'; p++) {
			if (*p != '/')
				continue;
			*p = '\0';
			if (mkdir(path, 0700) < 0 && errno != EEXIST) {
				log_error("event=mkdir path=%s error=\"%s\"",
					  log_q(path), strerror(errno));
				*error_r = "cannot create the mail root";
				goto fail;
			}
			*p = '/';
		}
		if (maildir_make_dirs(root, false, set->fsync) < 0) {
			*error_r = "cannot create the mail root";
			goto fail;
		}
	} else if (stat(root, &st) < 0 || !S_ISDIR(st.st_mode)) {
		store->error = MAILDIR_ERROR_NOT_FOUND;
		*error_r = "mail root does not exist";
		goto fail;
	}
	*store_r = store;
	return 0;
fail:
	free(store->root);
	free(store);
	return -1;
}

void maildir_free(struct maildir **storep)
{
	if (*storep == NULL)
		return;
	free((*storep)->root);
	free(*storep);
	*storep = NULL;
}

const char *maildir_root(const struct maildir *store)
{
	return store->root;
}

const struct maildir_settings *maildir_settings(const struct maildir *store)
{
	return &store->set;
}

enum maildir_error maildir_last_error(const struct maildir *store)
{
	return store->error;
}

int maildir_folder_path(struct maildir *store, const char *name,
			struct buf *out, const char **error_r)
{
	size_t old_len = out->len;

	buf_append_str(out, store->root);
	if (mailbox_name_is_inbox(name))
		return 0;
	buf_append(out, "/", 1);
	if (mailbox_name_to_dir(name, store->set.separator, out, error_r) < 0) {
		buf_truncate(out, old_len);
		store->error = MAILDIR_ERROR_INVALID_NAME;
		return -1;
	}
	return 0;
}

bool maildir_folder_exists(struct maildir *store, const char *name)
{
	struct buf path;
	struct stat st;
	const char *error;
	bool ret;

	buf_init(&path, PATH_MAX);
	ret = maildir_folder_path(store, name, &path, &error) == 0 &&
	      stat(path.data, &st) == 0 && S_ISDIR(st.st_mode);
	buf_free(&path);
	return ret;
}

/* --- listing --- */

static int folder_cmp(const void *a, const void *b)
{
	const struct maildir_folder *fa = a, *fb = b;

	if (mailbox_name_is_inbox(fa->name))
		return -1;
	if (mailbox_name_is_inbox(fb->name))
		return 1;
	return strcmp(fa->name, fb->name);
}

static void folders_push(struct maildir_folder **folders, size_t *count,
			 size_t *cap, const char *name, bool noselect)
{
	if (*count == *cap) {
		*cap = *cap == 0 ? 16 : *cap * 2;
		*folders = xrealloc(*folders, *cap * sizeof(**folders));
	}
	(*folders)[*count].name = xstrdup(name);
	(*folders)[*count].noselect = noselect;
	(*folders)[*count].has_children = false;
	(*count)++;
}

/* Adds the implied parents of every folder and the has_children marks. */
static void folders_complete(struct maildir_folder **folders, size_t *count,
			     size_t *cap, char sep)
{
	size_t n = *count;

	for (size_t i = 0; i < n; i++) {
		char *name = xstrdup((*folders)[i].name), *p;

		while ((p = strrchr(name, sep)) != NULL) {
			bool found = false;

			*p = '\0';
			for (size_t k = 0; k < *count && !found; k++)
				found = strcmp((*folders)[k].name, name) == 0;
			if (!found)
				folders_push(folders, count, cap, name, true);
		}
		free(name);
	}
	qsort(*folders, *count, sizeof(**folders), folder_cmp);
	for (size_t i = 0; i + 1 < *count; i++) {
		size_t len = strlen((*folders)[i].name);
		const char *next = (*folders)[i + 1].name;

		/* sorted: a child directly follows its parent */
		(*folders)[i].has_children =
			strncmp(next, (*folders)[i].name, len) == 0 &&
			next[len] == sep;
	}
}

int maildir_list(struct maildir *store, struct maildir_folder **folders_r,
		 size_t *count_r, const char **error_r)
{
	struct maildir_folder *folders = NULL;
	size_t count = 0, cap = 0;
	struct buf name;
	struct dirent *d;
	DIR *dp;

	dp = opendir(store->root);
	if (dp == NULL) {
		log_error("event=list path=%s error=\"opendir: %s\"",
			  log_q(store->root), strerror(errno));
		return maildir_fail(store, maildir_errno_kind(errno),
				    "cannot list folders", error_r);
	}
	buf_init(&name, PATH_MAX);
	folders_push(&folders, &count, &cap, "INBOX", false);
	while ((d = readdir(dp)) != NULL) {
		const char *error;

		if (d->d_name[0] != '.' || d->d_name[1] == '.' ||
		    d->d_name[1] == '\0')
			continue;
		if (d->d_type != DT_DIR && d->d_type != DT_UNKNOWN)
			continue;
		buf_reset(&name);
		if (mailbox_name_from_dir(d->d_name, store->set.separator,
					  &name, &error) < 0) {
			log_warn(
				"event=list_skip path=%s name=%s reason=\"%s\"",
				log_q(store->root), log_q(d->d_name), error);
			continue;
		}
		folders_push(&folders, &count, &cap, name.data, false);
	}
	closedir(dp);
	buf_free(&name);
	folders_complete(&folders, &count, &cap, store->set.separator);
	*folders_r = folders;
	*count_r = count;
	return 0;
}

void maildir_folders_free(struct maildir_folder **folders, size_t count)
{
	if (*folders == NULL)
		return;
	for (size_t i = 0; i < count; i++)
		free((*folders)[i].name);
	free(*folders);
	*folders = NULL;
}

/* --- create, delete, rename --- */

int maildir_create(struct maildir *store, const char *name,
		   const char **error_r)
{
	char sep = store->set.separator;
	struct buf path;
	char *parent;
	int ret = -1;

	if (mailbox_name_validate(name, sep, error_r) < 0)
		return maildir_fail(store, MAILDIR_ERROR_INVALID_NAME, *error_r,
				    error_r);
	if (maildir_folder_exists(store, name))
		return maildir_fail(store, MAILDIR_ERROR_EXISTS,
				    "Mailbox already exists", error_r);
	/* parents first, so that a crash never leaves an orphan level */
	parent = xstrdup(name);
	for (char *p = strchr(parent, sep); p != NULL; p = strchr(p + 1, sep)) {
		*p = '\0';
		if (!maildir_folder_exists(store, parent) &&
		    maildir_create(store, parent, error_r) < 0) {
			free(parent);
			return -1;
		}
		*p = sep;
	}
	free(parent);
	buf_init(&path, PATH_MAX);
	if (maildir_folder_path(store, name, &path, error_r) < 0)
		goto out;
	/* build it under a temporary name, then rename: a folder appears
	 * complete (cur/ new/ tmp/) or not at all */
	{
		struct buf tmp;

		buf_init(&tmp, PATH_MAX);
		buf_printf(&tmp, "%s/" DELETED_PREFIX "new.", store->root);
		maildir_unique_base(&tmp);
		if (maildir_make_dirs(tmp.data, true, store->set.fsync) < 0 ||
		    rename(tmp.data, path.data) < 0) {
			int err = errno;

			maildir_remove_tree(tmp.data);
			buf_free(&tmp);
			if (err == EEXIST || err == ENOTEMPTY) {
				maildir_fail(store, MAILDIR_ERROR_EXISTS,
					     "Mailbox already exists", error_r);
				goto out;
			}
			log_error("event=create path=%s error=\"%s\"",
				  log_q(path.data), strerror(err));
			maildir_fail(store, maildir_errno_kind(err),
				     "cannot create the mailbox", error_r);
			goto out;
		}
		buf_free(&tmp);
	}
	if (store->set.fsync)
		(void)maildir_fsync_dir(store->root);
	ret = 0;
out:
	buf_free(&path);
	return ret;
}

/* Names of the directories of name's children (".A.B.x" for "A/B"). */
static int child_dirs(struct maildir *store, const char *name, char ***dirs_r,
		      size_t *count_r)
{
	struct buf prefix;
	const char *error;
	struct dirent *d;
	char **dirs = NULL;
	size_t count = 0;
	DIR *dp;

	buf_init(&prefix, PATH_MAX);
	if (mailbox_name_to_dir(name, store->set.separator, &prefix, &error) <
	    0) {
		buf_free(&prefix);
		return -1;
	}
	if (prefix.len == 0)
		buf_append_str(&prefix, ".INBOX");
	buf_append(&prefix, ".", 1);
	dp = opendir(store->root);
	if (dp == NULL) {
		buf_free(&prefix);
		return -1;
	}
	while ((d = readdir(dp)) != NULL) {
		if (strncmp(d->d_name, prefix.data, prefix.len) == 0 &&
		    d->d_name[prefix.len] != '\0') {
			dirs = xrealloc(dirs, (count + 1) * sizeof(*dirs));
			dirs[count++] = xstrdup(d->d_name);
		}
	}
	closedir(dp);
	buf_free(&prefix);
	*dirs_r = dirs;
	*count_r = count;
	return 0;
}

int maildir_delete(struct maildir *store, const char *name,
		   const char **error_r)
{
	struct buf path, trash;
	char **children = NULL;
	size_t nchildren = 0;
	int ret = -1;

	if (mailbox_name_validate(name, store->set.separator, error_r) < 0)
		return maildir_fail(store, MAILDIR_ERROR_INVALID_NAME, *error_r,
				    error_r);
	if (mailbox_name_is_inbox(name))
		return maildir_fail(store, MAILDIR_ERROR_NOT_ALLOWED,
				    "INBOX cannot be deleted", error_r);
	if (!maildir_folder_exists(store, name))
		return maildir_fail(store, MAILDIR_ERROR_NOT_FOUND,
				    "Mailbox doesn't exist", error_r);
	if (child_dirs(store, name, &children, &nchildren) == 0 &&
	    nchildren > 0) {
		maildir_names_free(children, nchildren);
		return maildir_fail(store, MAILDIR_ERROR_NOT_ALLOWED,
				    "Mailbox has children, delete them first",
				    error_r);
	}
	buf_init(&path, PATH_MAX);
	buf_init(&trash, PATH_MAX);
	maildir_folder_path(store, name, &path, error_r);
	buf_printf(&trash, "%s/" DELETED_PREFIX, store->root);
	maildir_unique_base(&trash);
	if (rename(path.data, trash.data) < 0) {
		log_error("event=delete path=%s error=\"rename: %s\"",
			  log_q(path.data), strerror(errno));
		maildir_fail(store,
			     errno == ENOENT ? MAILDIR_ERROR_NOT_FOUND
					     : maildir_errno_kind(errno),
			     "cannot delete the mailbox", error_r);
		goto out;
	}
	if (store->set.fsync)
		(void)maildir_fsync_dir(store->root);
	(void)maildir_remove_tree(trash.data);
	ret = 0;
out:
	buf_free(&path);
	buf_free(&trash);
	return ret;
}

static int rename_inbox(struct maildir *store, const char *new_name,
			const char **error_r)
{
	struct mailbox *inbox = NULL, *dst = NULL;
	uint32_t *uids;
	unsigned count;
	int ret = -1;

	if (maildir_create(store, new_name, error_r) < 0)
		return -1;
	if (mailbox_open(store, "INBOX", 0, &inbox, error_r) < 0 ||
	    mailbox_open(store, new_name, 0, &dst, error_r) < 0)
		goto out;
	count = mailbox_count(inbox);
	uids = xcalloc(count + 1, sizeof(*uids));
	for (unsigned i = 0; i < count; i++) {
		struct mailbox_msg msg;

		mailbox_get(inbox, i, &msg);
		uids[i] = msg.uid;
	}
	ret = mailbox_move(inbox, uids, count, dst, NULL, error_r);
	free(uids);
out:
	mailbox_free(&dst);
	mailbox_free(&inbox);
	return ret;
}

static int rename_dir(struct maildir *store, const char *from, const char *to)
{
	char a[PATH_MAX], b[PATH_MAX];

	snprintf(a, sizeof(a), "%s/%s", store->root, from);
	snprintf(b, sizeof(b), "%s/%s", store->root, to);
	if (rename(a, b) == 0)
		return 0;
	log_error("event=rename path=%s to=%s error=\"%s\"", log_q(a), log_q(b),
		  strerror(errno));
	store->error = maildir_errno_kind(errno);
	return -1;
}

int maildir_rename(struct maildir *store, const char *old_name,
		   const char *new_name, const char **error_r)
{
	char sep = store->set.separator;
	struct buf old_dir, new_dir, child;
	char **children = NULL, *parent, *p;
	size_t nchildren = 0;
	int ret = -1;

	if (mailbox_name_validate(old_name, sep, error_r) < 0 ||
	    mailbox_name_validate(new_name, sep, error_r) < 0)
		return maildir_fail(store, MAILDIR_ERROR_INVALID_NAME, *error_r,
				    error_r);
	if (!maildir_folder_exists(store, old_name))
		return maildir_fail(store, MAILDIR_ERROR_NOT_FOUND,
				    "Mailbox doesn't exist", error_r);
	if (maildir_folder_exists(store, new_name))
		return maildir_fail(store, MAILDIR_ERROR_EXISTS,
				    "Target mailbox already exists", error_r);
	if (mailbox_name_is_inbox(old_name))
		return rename_inbox(store, new_name, error_r);
	{
		size_t len = strlen(old_name);

		if (strncmp(new_name, old_name, len) == 0 &&
		    new_name[len] == sep)
			return maildir_fail(
				store, MAILDIR_ERROR_NOT_ALLOWED,
				"Cannot rename a mailbox under itself",
				error_r);
	}
	parent = xstrdup(new_name);
	if ((p = strrchr(parent, sep)) != NULL) {
		*p = '\0';
		if (!maildir_folder_exists(store, parent) &&
		    maildir_create(store, parent, error_r) < 0) {
			free(parent);
			return -1;
		}
	}
	free(parent);
	buf_init(&old_dir, PATH_MAX);
	buf_init(&new_dir, PATH_MAX);
	buf_init(&child, PATH_MAX);
	mailbox_name_to_dir(old_name, sep, &old_dir, error_r);
	mailbox_name_to_dir(new_name, sep, &new_dir, error_r);
	(void)child_dirs(store, old_name, &children, &nchildren);
	if (rename_dir(store, old_dir.data, new_dir.data) < 0) {
		*error_r = "cannot rename the mailbox";
		goto out;
	}
	/* children follow; a crash in between leaves them under the old
	 * name, still complete folders */
	for (size_t i = 0; i < nchildren; i++) {
		buf_reset(&child);
		buf_printf(&child, "%s%s", new_dir.data,
			   children[i] + old_dir.len);
		if (rename_dir(store, children[i], child.data) < 0) {
			*error_r = "cannot rename a child mailbox";
			goto out;
		}
	}
	if (store->set.fsync)
		(void)maildir_fsync_dir(store->root);
	ret = 0;
out:
	maildir_names_free(children, nchildren);
	buf_free(&old_dir);
	buf_free(&new_dir);
	buf_free(&child);
	return ret;
}

/* --- subscriptions --- */

void maildir_names_free(char **names, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(names[i]);
	free(names);
}

/* One line of the file (TAB-separated mUTF-7 levels) to a UTF-8 name. */
static int subs_line_to_name(struct maildir *store, const char *line,
			     size_t len, struct buf *out)
{
	const char *p = line, *end = line + len, *error;

	while (p <= end) {
		const char *tab = memchr(p, '\t', (size_t)(end - p));
		const char *lend = tab == NULL ? end : tab;

		if (p != line)
			buf_append(out, &store->set.separator, 1);
		if (mailbox_name_mutf7_to_utf8(p, (size_t)(lend - p), out,
					       &error) < 0)
			return -1;
		if (tab == NULL)
			break;
		p = tab + 1;
	}
	return mailbox_name_validate(out->data, store->set.separator, &error);
}

int maildir_subscriptions(struct maildir *store, char ***names_r,
			  size_t *count_r, const char **error_r)
{
	char path[PATH_MAX], data[65536];
	char **names = NULL;
	size_t count = 0, got = 0;
	const char *p, *end, *reason;
	struct buf name;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/" SUBSCRIPTIONS_FILE, store->root);
	*names_r = NULL;
	*count_r = 0;
	fd = maildir_file_open(path, NULL, &reason);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		log_error("event=subscriptions path=%s error=\"%s\"",
			  log_q(path), reason);
		return maildir_fail(store, MAILDIR_ERROR_TEMP,
				    "cannot read subscriptions", error_r);
	}
	while (got < sizeof(data) &&
	       (n = read(fd, data + got, sizeof(data) - got)) > 0)
		got += (size_t)n;
	close(fd);
	p = data;
	end = data + got;
	/* version 2 header "V\t2" and an empty line; version 1 has none */
	if (got >= 4 && memcmp(data, "V\t2\n", 4) == 0)
		p += 4;
	buf_init(&name, PATH_MAX);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *lend = nl == NULL ? end : nl;

		buf_reset(&name);
		if (lend > p && subs_line_to_name(store, p, (size_t)(lend - p),
						  &name) == 0) {
			names = xrealloc(names, (count + 1) * sizeof(*names));
			names[count++] = xstrdup(name.data);
		}
		p = lend + 1;
	}
	buf_free(&name);
	*names_r = names;
	*count_r = count;
	return 0;
}

/* A validated UTF-8 name as a file line: mUTF-7 levels split by TAB. */
static void subs_append_line(struct buf *text, const char *name, char sep)
{
	const char *error;

	for (const char *p = name; *p != '\0';) {
		const char *s = strchr(p, sep);
		size_t len = s == NULL ? strlen(p) : (size_t)(s - p);

		(void)mailbox_name_utf8_to_mutf7(p, len, text, &error);
		p += len;
		if (*p == sep) {
			buf_append(text, "\t", 1);
			p++;
		}
	}
	buf_append(text, "\n", 1);
}

int maildir_subscribe(struct maildir *store, const char *name, bool subscribe,
		      const char **error_r)
{
	char sep = store->set.separator, **names;
	char path[PATH_MAX];
	struct buf text;
	size_t count;
	bool found = false;
	int ret = -1;

	if (mailbox_name_validate(name, sep, error_r) < 0)
		return maildir_fail(store, MAILDIR_ERROR_INVALID_NAME, *error_r,
				    error_r);
	if (mailbox_name_is_inbox(name))
		name = "INBOX";
	if (maildir_subscriptions(store, &names, &count, error_r) < 0)
		return -1;
	buf_init(&text, BUF_UNLIMITED);
	buf_append_str(&text, "V\t2\n\n");
	for (size_t i = 0; i < count; i++) {
		if (strcmp(names[i], name) == 0) {
			found = true;
			if (!subscribe)
				continue;
		}
		subs_append_line(&text, names[i], sep);
	}
	if (subscribe && !found)
		subs_append_line(&text, name, sep);
	maildir_names_free(names, count);
	snprintf(path, sizeof(path), "%s/" SUBSCRIPTIONS_FILE, store->root);
	if (maildir_file_replace(path, text.data, text.len, store->set.fsync) <
	    0) {
		log_error("event=subscribe path=%s error=\"%s\"", log_q(path),
			  strerror(errno));
		maildir_fail(store, maildir_errno_kind(errno),
			     "cannot write subscriptions", error_r);
		goto out;
	}
	ret = 0;
out:
	buf_free(&text);
	return ret;
}
