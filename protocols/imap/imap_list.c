/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "protocols/imap/imap_list.h"

#include "lib/xalloc.h"
#include "protocols/imap/imap_folder.h"
#include "protocols/imap/imap_job.h"
#include "protocols/imap/imap_special_use.h"
#include "protocols/imap/imap_write.h"
#include "storage/mailbox_name.h"
#include "storage/maildir.h"
#include "storage/maildir_attr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* More patterns than any client sends (RFC 5258 3: "(p1 p2 ...)"). */
#define LIST_PATTERNS_MAX 32

/* Selection options (RFC 5258 3.1, RFC 6154 3). */
enum list_sel {
	SEL_SUBSCRIBED = 1u << 0,
	SEL_REMOTE = 1u << 1, /* no remote mailboxes here: no effect */
	SEL_RECURSIVEMATCH = 1u << 2,
	SEL_SPECIAL_USE = 1u << 3,
};

/* Return options (RFC 5258 3.2, RFC 5819, RFC 6154 3). */
enum list_ret {
	RET_SUBSCRIBED = 1u << 0,
	RET_CHILDREN = 1u << 1,
	RET_SPECIAL_USE = 1u << 2,
	RET_STATUS = 1u << 3,
};

struct list_entry {
	char *name;
	bool exists;	 /* a folder with a directory */
	bool implied;	 /* a level above folders, with no directory */
	bool children;	 /* some folder lies below it */
	bool subscribed; /* known when subscriptions were read */
	bool childinfo;	 /* RECURSIVEMATCH: a descendant meets the
			    selection but matches no pattern */
	bool marked;
	unsigned uses; /* enum maildir_use */
	int status_ret;
	uint64_t status[IMAP_STATUS_COUNT];
};

struct list_job {
	struct maildir *store;
	unsigned sel, ret;
	bool extended; /* LIST-EXTENDED syntax: its attribute rules */
	bool root;     /* an empty pattern: the root and separator */
	char *patterns[LIST_PATTERNS_MAX];
	size_t npatterns;
	struct imap_status_request status;
	int result;
	const char *error;
	struct list_entry *entries;
	size_t count;
};

/* INBOX first, then by bytes: the order of maildir_list(). */
static int name_cmp(const char *a, const char *b)
{
	bool ia = strcmp(a, "INBOX") == 0, ib = strcmp(b, "INBOX") == 0;

	if (ia || ib)
		return ia && ib ? 0 : ia ? -1 : 1;
	return strcmp(a, b);
}

static int name_ptr_cmp(const void *a, const void *b)
{
	return name_cmp(*(char *const *)a, *(char *const *)b);
}

static int folder_cmp(const void *a, const void *b)
{
	return name_cmp(((const struct maildir_folder *)a)->name,
			((const struct maildir_folder *)b)->name);
}

/* The folder (or implied level) called name, or NULL. */
static const struct maildir_folder *
folder_find(const struct maildir_folder *folders, size_t n, const char *name)
{
	struct maildir_folder key = {.name = (char *)name};

	return bsearch(&key, folders, n, sizeof(*folders), folder_cmp);
}

/* True when a folder lies below name. Sorted by bytes, the names that
   start with "name/" are one run that begins at the first name >=
   "name/" (not always right after name: "A-x" sorts between "A" and
   "A/B"). */
static bool folder_has_children(const struct maildir_folder *folders, size_t n,
				const char *name)
{
	size_t len = strlen(name), lo = 0, hi = n;
	char *prefix = xmalloc(len + 2);
	bool found;

	memcpy(prefix, name, len);
	prefix[len] = '/';
	prefix[len + 1] = '\0';
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (name_cmp(folders[mid].name, prefix) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	found = lo < n && strncmp(folders[lo].name, prefix, len + 1) == 0;
	free(prefix);
	return found;
}

static bool in_sorted(char **names, size_t n, const char *name)
{
	return bsearch(&name, names, n, sizeof(*names), name_ptr_cmp) != NULL;
}

static bool matches_any(const struct list_job *j, const char *name)
{
	for (size_t i = 0; i < j->npatterns; i++) {
		if (imap_folder_match(j->patterns[i], name))
			return true;
	}
	return false;
}

/* What the listing works from: the folders, the subscriptions, and the
   names that are candidates for the reply. */
struct list_data {
	struct maildir_folder *folders;
	size_t nfolders;
	char **subs;
	size_t nsubs;
	char **names;
	size_t nnames;
};

static void names_push(struct list_data *d, size_t *cap, const char *name)
{
	if (d->nnames == *cap) {
		*cap = *cap == 0 ? 64 : *cap * 2;
		d->names = xrealloc(d->names, *cap * sizeof(*d->names));
	}
	d->names[d->nnames++] = xstrdup(name);
}

/* The candidate names, sorted, each once: the subscriptions (with their
   parent levels for RECURSIVEMATCH) or the folders. */
static void list_candidates(const struct list_job *j, struct list_data *d)
{
	size_t cap = 0, out = 0;

	if ((j->sel & SEL_SUBSCRIBED) != 0) {
		for (size_t i = 0; i < d->nsubs; i++) {
			char *name = xstrdup(d->subs[i]), *p;

			names_push(d, &cap, name);
			while ((j->sel & SEL_RECURSIVEMATCH) != 0 &&
			       (p = strrchr(name, '/')) != NULL) {
				*p = '\0';
				names_push(d, &cap, name);
			}
			free(name);
		}
	} else {
		for (size_t i = 0; i < d->nfolders; i++)
			names_push(d, &cap, d->folders[i].name);
	}
	qsort(d->names, d->nnames, sizeof(*d->names), name_ptr_cmp);
	for (size_t i = 0; i < d->nnames; i++) {
		if (out > 0 && strcmp(d->names[out - 1], d->names[i]) == 0)
			free(d->names[i]);
		else
			d->names[out++] = d->names[i];
	}
	d->nnames = out;
}

/* True when name meets the selection options. */
static bool list_meets(const struct list_job *j, const struct list_data *d,
		       const char *name)
{
	const struct maildir_folder *f;

	if ((j->sel & SEL_SUBSCRIBED) != 0 &&
	    !in_sorted(d->subs, d->nsubs, name))
		return false;
	if ((j->sel & SEL_SPECIAL_USE) != 0) {
		f = folder_find(d->folders, d->nfolders, name);
		return f != NULL && !f->noselect &&
		       maildir_attr_uses(j->store, name) != 0;
	}
	return true;
}

/* RFC 5258 3.5 (RECURSIVEMATCH): some descendant of name meets the
   selection options (and, with unlisted, matches no pattern, so that it
   is not listed itself). */
static bool list_childinfo(const struct list_job *j, const struct list_data *d,
			   const char *name, bool unlisted)
{
	size_t len = strlen(name);
	char **names = (j->sel & SEL_SUBSCRIBED) != 0 ? d->subs : NULL;
	size_t n = names != NULL ? d->nsubs : d->nfolders;

	for (size_t i = 0; i < n; i++) {
		const char *c = names != NULL ? names[i] : d->folders[i].name;

		if (strncmp(c, name, len) == 0 && c[len] == '/' &&
		    (!unlisted || !matches_any(j, c)) && list_meets(j, d, c))
			return true;
	}
	return false;
}

static bool subs_have_children(const struct list_data *d, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < d->nsubs; i++) {
		if (strncmp(d->subs[i], name, len) == 0 &&
		    d->subs[i][len] == '/')
			return true;
	}
	return false;
}

static void list_fill(struct list_job *j, const struct list_data *d,
		      struct list_entry *e)
{
	const struct maildir_folder *f =
		folder_find(d->folders, d->nfolders, e->name);

	e->exists = f != NULL && !f->noselect;
	e->implied = f != NULL && f->noselect;
	e->children = folder_has_children(d->folders, d->nfolders, e->name);
	/* with the SUBSCRIBED selection a subscribed name below counts too,
	   as in Dovecot (a subscribed name may have no folder) */
	if (!e->children && (j->sel & SEL_SUBSCRIBED) != 0)
		e->children = subs_have_children(d, e->name);
	e->subscribed =
		d->subs != NULL && in_sorted(d->subs, d->nsubs, e->name);
	if (!e->exists)
		return;
	e->uses = maildir_attr_uses(j->store, e->name);
	e->marked = maildir_attr_marked(j->store, e->name);
	if ((j->ret & RET_STATUS) != 0)
		e->status_ret = imap_status_compute(
			j->store, e->name, &j->status, e->status, &j->error);
}

static void list_work(void *ctx)
{
	struct list_job *j = ctx;
	struct list_data d = {0};
	size_t cap = 0;

	j->result = maildir_list(j->store, &d.folders, &d.nfolders, &j->error);
	if (j->result < 0)
		return;
	if ((j->sel & SEL_SUBSCRIBED) != 0 || (j->ret & RET_SUBSCRIBED) != 0) {
		j->result = maildir_subscriptions(j->store, &d.subs, &d.nsubs,
						  &j->error);
		if (j->result < 0)
			goto out;
		qsort(d.subs, d.nsubs, sizeof(*d.subs), name_ptr_cmp);
	}
	list_candidates(j, &d);
	for (size_t i = 0; i < d.nnames; i++) {
		const char *name = d.names[i];
		bool meets, childinfo = false;

		if (!matches_any(j, name))
			continue;
		meets = list_meets(j, &d, name);
		/* a folder that meets the selection gets CHILDINFO for any
		   such descendant; one that does not is listed only for a
		   descendant that is not listed itself (as Dovecot) */
		if ((j->sel & SEL_RECURSIVEMATCH) != 0)
			childinfo = list_childinfo(j, &d, name, !meets);
		if (!meets && !childinfo)
			continue;
		if (j->count == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			j->entries =
				xrealloc(j->entries, cap * sizeof(*j->entries));
		}
		j->entries[j->count] = (struct list_entry){
			.name = xstrdup(name),
			.childinfo = childinfo,
		};
		list_fill(j, &d, &j->entries[j->count++]);
	}
out:
	maildir_folders_free(&d.folders, d.nfolders);
	maildir_names_free(d.subs, d.nsubs);
	maildir_names_free(d.names, d.nnames);
}

static void list_free(void *ctx)
{
	struct list_job *j = ctx;

	for (size_t i = 0; i < j->npatterns; i++)
		free(j->patterns[i]);
	for (size_t i = 0; i < j->count; i++)
		free(j->entries[i].name);
	free(j->entries);
	free(j);
}

/* The attributes of one reply line, each with a leading space. */
static void list_attrs(const struct list_job *j, const struct list_entry *e,
		       struct buf *b)
{
	bool subs = (j->sel & SEL_SUBSCRIBED) != 0 ||
		    (j->ret & RET_SUBSCRIBED) != 0;

	if (subs && e->subscribed)
		buf_append_str(b, " \\Subscribed");
	if (!e->exists)
		/* RFC 5258 3.4: \NonExistent implies \Noselect */
		buf_append_str(b,
			       j->extended ? " \\NonExistent" : " \\Noselect");
	/* RFC 3348 CHILDREN always in LIST; in LIST-EXTENDED on request */
	if (!j->extended || (j->ret & RET_CHILDREN) != 0)
		buf_append_str(b, e->children ? " \\HasChildren"
					      : " \\HasNoChildren");
	if (e->exists)
		buf_append_str(b, e->marked ? " \\Marked" : " \\Unmarked");
	/* RFC 6154 2: in LIST; in LIST-EXTENDED when asked for */
	if (!j->extended ||
	    ((j->ret & RET_SPECIAL_USE) | (j->sel & SEL_SPECIAL_USE)) != 0)
		imap_special_use_write(b, e->uses);
}

static enum imap_cmd_result list_done(struct imap_cmd *cmd, void *ctx)
{
	struct imap_session *s = cmd->s;
	struct list_job *j = ctx;
	bool utf8 = imap_folder_utf8(s);
	struct buf b;

	if (j->result < 0)
		return imap_cmd_no(cmd, "%s%s", imap_storage_code(s), j->error);
	buf_init(&b, BUF_UNLIMITED);
	if (j->root)
		/* RFC 3501 6.3.8: the separator and the root */
		buf_append_str(&b, "* LIST (\\Noselect) \"/\" \"\"\r\n");
	for (size_t i = 0; i < j->count; i++) {
		const struct list_entry *e = &j->entries[i];
		size_t start;

		buf_append_str(&b, "* LIST (");
		start = b.len;
		list_attrs(j, e, &b);
		if (b.len > start) /* no space after "(" */
			memmove(b.data + start, b.data + start + 1,
				--b.len - start);
		buf_printf(&b, ") \"%c\" ", IMAP_SEPARATOR);
		imap_write_mailbox(&b, e->name, utf8);
		if (e->childinfo)
			buf_printf(&b, " (CHILDINFO (\"%s\"))",
				   (j->sel & SEL_SUBSCRIBED) != 0
					   ? "SUBSCRIBED"
					   : "SPECIAL-USE");
		buf_append_str(&b, "\r\n");
		/* RFC 5819: STATUS right after the folder's LIST, none for a
		   folder that cannot be selected (or vanished meanwhile) */
		if ((j->ret & RET_STATUS) != 0 && e->exists &&
		    e->status_ret == 0)
			imap_status_write(s, &b, e->name, &j->status,
					  e->status);
		if (b.len >= 65536) {
			conn_write(s->conn, b.data, b.len);
			buf_reset(&b);
		}
	}
	conn_write(s->conn, b.data, b.len);
	buf_free(&b);
	return imap_cmd_ok(cmd, "LIST completed");
}

/* Options "(A B ...)": bits of names[] set in *bits_r; the STATUS return
   option takes the list after it. Returns 0 or -1 with a reason. */
static int list_options(const struct imap_arg *list, const char *const *names,
			unsigned *bits_r, struct list_job *j,
			const char **error_r)
{
	size_t n = imap_arg_count(list);

	for (size_t i = 0; i < n; i++) {
		struct strv w;
		size_t k = 0;

		if (!imap_arg_get_atom(imap_arg_at(list, i), &w)) {
			*error_r = "Invalid LIST option";
			return -1;
		}
		while (names[k] != NULL && !strv_eq_cstr_ci(w, names[k]))
			k++;
		if (names[k] == NULL) {
			*error_r = "Unknown LIST option";
			return -1;
		}
		*bits_r |= 1u << k;
		if (j != NULL && (1u << k) == RET_STATUS) {
			if (imap_status_parse(imap_arg_at(list, ++i),
					      &j->status, error_r) < 0)
				return -1;
		}
	}
	return 0;
}

/* ref + pattern in UTF-8 (RFC 3501 6.3.8: the pattern below the
   reference), or NULL with *error_r. */
static char *list_join(struct imap_session *s, struct strv ref, struct strv pat,
		       const char **error_r)
{
	char *r = imap_folder_decode(s, ref, error_r), *p, *all;

	p = r == NULL ? NULL : imap_folder_decode(s, pat, error_r);
	if (p == NULL) {
		free(r);
		return NULL;
	}
	all = xmalloc(strlen(r) + strlen(p) + 1);
	strcpy(all, r);
	strcat(all, p);
	free(r);
	free(p);
	return all;
}

/* The patterns: one, or RFC 5258's "(p1 p2 ...)". */
static int list_patterns(struct imap_cmd *cmd, struct list_job *j,
			 struct strv ref, const struct imap_arg *pats,
			 const char **error_r)
{
	bool many = imap_arg_type(pats) == IMAP_ARG_LIST;
	size_t n = many ? imap_arg_count(pats) : 1;

	if (n == 0 || n > LIST_PATTERNS_MAX) {
		*error_r = "LIST needs one to 32 patterns";
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const struct imap_arg *a = many ? imap_arg_at(pats, i) : pats;
		struct strv pat;
		char *p;

		if (!imap_arg_get_list_mailbox(a, &pat)) {
			*error_r = "Invalid LIST pattern";
			return -1;
		}
		if (pat.len == 0) {
			j->root = j->sel == 0;
			continue;
		}
		p = list_join(cmd->s, ref, pat, error_r);
		if (p == NULL)
			return -1;
		j->patterns[j->npatterns++] = p;
	}
	return 0;
}

/* LIST [(sel-opts)] ref (pattern / "(" patterns ")") [RETURN (opts)] */
static int list_parse(struct imap_cmd *cmd, struct list_job *j,
		      const char **error_r)
{
	static const char *const sel_names[] = {
		"SUBSCRIBED", "REMOTE", "RECURSIVEMATCH", "SPECIAL-USE", NULL};
	static const char *const ret_names[] = {"SUBSCRIBED", "CHILDREN",
						"SPECIAL-USE", "STATUS", NULL};
	size_t argc = imap_cmd_argc(cmd), i = 0;
	struct strv ref, word;

	*error_r = "LIST needs a reference and a pattern";
	if (imap_arg_type(imap_cmd_arg(cmd, 0)) == IMAP_ARG_LIST) {
		if (list_options(imap_cmd_arg(cmd, 0), sel_names, &j->sel, NULL,
				 error_r) < 0)
			return -1;
		j->extended = true;
		i = 1;
	}
	if (argc < i + 2 || !imap_arg_get_mailbox(imap_cmd_arg(cmd, i), &ref))
		return -1;
	if (argc > i + 2) {
		if (argc != i + 4 ||
		    !imap_arg_get_atom(imap_cmd_arg(cmd, i + 2), &word) ||
		    !strv_eq_cstr_ci(word, "RETURN") ||
		    imap_arg_type(imap_cmd_arg(cmd, i + 3)) != IMAP_ARG_LIST) {
			*error_r = "Invalid LIST arguments";
			return -1;
		}
		if (list_options(imap_cmd_arg(cmd, i + 3), ret_names, &j->ret,
				 j, error_r) < 0)
			return -1;
		j->extended = true;
	}
	if ((j->sel & SEL_RECURSIVEMATCH) != 0 &&
	    (j->sel & (SEL_SUBSCRIBED | SEL_SPECIAL_USE)) == 0) {
		/* RFC 5258 3.1 */
		*error_r = "RECURSIVEMATCH needs another selection option";
		return -1;
	}
	if (imap_arg_type(imap_cmd_arg(cmd, i + 1)) == IMAP_ARG_LIST)
		j->extended = true;
	return list_patterns(cmd, j, ref, imap_cmd_arg(cmd, i + 1), error_r);
}

enum imap_cmd_result imap_cmd_list(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->s;
	struct list_job *j = xcalloc(1, sizeof(*j));
	const char *error = NULL;

	j->store = s->store;
	if (list_parse(cmd, j, &error) < 0) {
		list_free(j);
		imap_reply(cmd, "BAD", "%s", error);
		return IMAP_CMD_DONE;
	}
	if (j->npatterns == 0) {
		/* only empty patterns: nothing to read */
		j->result = 0;
		(void)list_done(cmd, j);
		list_free(j);
		return IMAP_CMD_DONE;
	}
	return imap_job_run(cmd, list_work, list_done, list_free, j, true);
}

/* --- LSUB --- */

static bool name_in(char **names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(names[i], name) == 0)
			return true;
	}
	return false;
}

/* "* LSUB (attrs) "/" name\r\n"; attrs with a leading space or empty */
static void write_lsub_line(struct imap_session *s, const char *attrs,
			    const char *name)
{
	struct buf b;

	buf_init(&b, 65536);
	buf_printf(&b, "* LSUB (%s) \"%c\" ",
		   attrs[0] == ' ' ? attrs + 1 : attrs, IMAP_SEPARATOR);
	imap_write_mailbox(&b, name, imap_folder_utf8(s));
	buf_append_str(&b, "\r\n");
	conn_write(s->conn, b.data, b.len);
	buf_free(&b);
}

/* LSUB's pattern, or NULL after replying BAD. */
static char *lsub_pattern(struct imap_cmd *cmd, bool *empty_r)
{
	struct strv ref, pat;
	const char *error = NULL;
	char *p;

	if (imap_cmd_argc(cmd) != 2 ||
	    !imap_arg_get_mailbox(imap_cmd_arg(cmd, 0), &ref) ||
	    !imap_arg_get_list_mailbox(imap_cmd_arg(cmd, 1), &pat)) {
		imap_reply(cmd, "BAD", "LSUB needs a reference and a pattern");
		return NULL;
	}
	*empty_r = pat.len == 0;
	p = list_join(cmd->s, ref, pat, &error);
	if (p == NULL)
		imap_reply(cmd, "BAD", "Invalid mailbox name: %s", error);
	return p;
}

/* A subscribed name that matches: its special uses too (RFC 6154; Outlook
   reads them from LSUB). */
static void lsub_write_name(struct imap_session *s, const char *name)
{
	struct buf attrs;

	buf_init(&attrs, 256);
	imap_special_use_write(&attrs, maildir_attr_uses(s->store, name));
	write_lsub_line(s, attrs.data != NULL ? attrs.data : "", name);
	buf_free(&attrs);
}

/* RFC 3501 6.3.9: with "%", a parent of a subscribed name that matches is
   shown \Noselect. */
static void lsub_parents(struct imap_session *s, const char *pattern,
			 char **subs, size_t count, char **shown,
			 size_t *nshown, const char *name)
{
	char *parent = xstrdup(name);

	for (char *sep = strchr(parent, IMAP_SEPARATOR); sep != NULL;
	     sep = strchr(sep + 1, IMAP_SEPARATOR)) {
		*sep = '\0';
		if (imap_folder_match(pattern, parent) &&
		    !name_in(subs, count, parent) &&
		    !name_in(shown, *nshown, parent)) {
			write_lsub_line(s, "\\Noselect", parent);
			shown[(*nshown)++] = xstrdup(parent);
		}
		*sep = IMAP_SEPARATOR;
	}
	free(parent);
}

enum imap_cmd_result imap_cmd_lsub(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->s;
	char **subs = NULL, **shown = NULL;
	size_t count = 0, nshown = 0, levels = 0;
	const char *error = NULL;
	bool empty = false;
	char *pattern = lsub_pattern(cmd, &empty);

	if (pattern == NULL)
		return IMAP_CMD_DONE;
	if (empty) {
		free(pattern);
		write_lsub_line(s, "\\Noselect", "");
		return imap_cmd_ok(cmd, "LSUB completed");
	}
	if (maildir_subscriptions(s->store, &subs, &count, &error) < 0) {
		free(pattern);
		return imap_cmd_no(cmd, "%s%s", imap_storage_code(s), error);
	}
	/* every name shows at most itself and its parents */
	for (size_t i = 0; i < count; i++) {
		for (const char *c = subs[i]; *c != '\0'; c++)
			levels += *c == IMAP_SEPARATOR;
	}
	shown = xcalloc(count + levels + 1, sizeof(*shown));
	for (size_t i = 0; i < count; i++) {
		char *name = subs[i];

		if (!imap_folder_match(pattern, name)) {
			lsub_parents(s, pattern, subs, count, shown, &nshown,
				     name);
		} else if (!name_in(shown, nshown, name)) {
			lsub_write_name(s, name);
			shown[nshown++] = name;
		}
	}
	for (size_t i = 0; i < nshown; i++) {
		if (!name_in(subs, count, shown[i]))
			free(shown[i]);
	}
	free(shown);
	maildir_names_free(subs, count);
	free(pattern);
	return imap_cmd_ok(cmd, "LSUB completed");
}
