/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "protocols/imap/imap_folder.h"

#include "lib/xalloc.h"
#include "protocols/imap/imap_job.h"
#include "protocols/imap/imap_write.h"
#include "storage/mailbox.h"
#include "storage/mailbox_name.h"
#include "storage/maildir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool utf8_names(const struct imap_session *s)
{
	return (s->enabled & (IMAP_ENABLED_UTF8 | IMAP_ENABLED_IMAP4REV2)) != 0;
}

/* Text of a name or pattern in UTF-8 (mUTF-7 decoded unless UTF-8 is
   enabled). Returns a malloc'd string or NULL with *error_r. */
static char *decode_name(struct imap_session *s, struct strv raw,
			 const char **error_r)
{
	struct buf b;
	char *out;

	if (memchr(raw.p, '\0', raw.len) != NULL) {
		*error_r = "Invalid mailbox name";
		return NULL;
	}
	if (utf8_names(s))
		return xstrndup(raw.p, raw.len);
	buf_init(&b, 8 * raw.len + 16);
	if (mailbox_name_mutf7_to_utf8(raw.p, raw.len, &b, error_r) < 0) {
		buf_free(&b);
		return NULL;
	}
	out = xstrndup(b.data != NULL ? b.data : "", b.len);
	buf_free(&b);
	return out;
}

int imap_folder_name(struct imap_session *s, struct strv raw, char **name_r,
		     const char **error_r)
{
	char *name = decode_name(s, raw, error_r);

	if (name == NULL)
		return -1;
	if (mailbox_name_is_inbox(name)) {
		free(name);
		name = xstrdup("INBOX");
	} else if (mailbox_name_validate(name, IMAP_SEPARATOR, error_r) < 0) {
		free(name);
		return -1;
	}
	*name_r = name;
	return 0;
}

int imap_folder_arg(struct imap_cmd *cmd, size_t i, char **name_r)
{
	struct strv raw;
	const char *error = NULL;

	if (!imap_arg_get_mailbox(imap_cmd_arg(cmd, i), &raw)) {
		imap_reply(cmd, "BAD", "Missing or invalid mailbox name");
		return -1;
	}
	if (imap_folder_name(cmd->s, raw, name_r, &error) < 0) {
		imap_reply(cmd, "NO", "[CANNOT] %s", error);
		return -1;
	}
	return 0;
}

static bool match_at(const char *p, const char *n)
{
	for (; *p != '\0'; p++) {
		if (*p == '*' || *p == '%') {
			bool any = *p == '*';

			for (const char *t = n;; t++) {
				if (match_at(p + 1, t))
					return true;
				if (*t == '\0' ||
				    (!any && *t == IMAP_SEPARATOR))
					return false;
			}
		}
		if (*p != *n)
			return false;
		n++;
	}
	return *n == '\0';
}

bool imap_folder_match(const char *pattern, const char *name)
{
	if (match_at(pattern, name))
		return true;
	/* "inbox", "Inbox/%"...: INBOX is case-insensitive (RFC 3501
	   5.1) */
	if (strncasecmp(pattern, "INBOX", 5) == 0 &&
	    strncmp(name, "INBOX", 5) == 0) {
		char *p = xstrdup(pattern);
		bool ok;

		memcpy(p, "INBOX", 5);
		ok = match_at(p, name);
		free(p);
		return ok;
	}
	return false;
}

/* Simple commands on one name. */
enum folder_op {
	FOLDER_CREATE,
	FOLDER_DELETE,
	FOLDER_SUB,
	FOLDER_UNSUB
};

static enum imap_cmd_result folder_op(struct imap_cmd *cmd, enum folder_op op)
{
	struct imap_session *s = cmd->s;
	const char *error = NULL;
	char *name;
	int ret;

	if (imap_cmd_argc(cmd) != 1) {
		imap_reply(cmd, "BAD", "%s needs one mailbox name",
			   cmd->def->name);
		return IMAP_CMD_DONE;
	}
	if (op == FOLDER_CREATE) {
		/* RFC 3501 6.3.3: a trailing separator only says the client
		   intends to create names below it */
		struct strv raw;

		if (imap_arg_get_mailbox(imap_cmd_arg(cmd, 0), &raw) &&
		    raw.len > 1 && raw.p[raw.len - 1] == IMAP_SEPARATOR)
			((char *)raw.p)[raw.len - 1] = '\0';
	}
	if (imap_folder_arg(cmd, 0, &name) < 0)
		return IMAP_CMD_DONE;
	switch (op) {
	case FOLDER_CREATE:
		if (strcmp(name, "INBOX") == 0) {
			free(name);
			return imap_cmd_no(
				cmd, "[ALREADYEXISTS] INBOX always exists");
		}
		ret = maildir_create(s->store, name, &error);
		break;
	case FOLDER_DELETE:
		if (strcmp(name, "INBOX") == 0) {
			free(name);
			return imap_cmd_no(cmd, "[CANNOT] INBOX cannot be "
						"deleted");
		}
		if (s->sel != NULL && strcmp(s->sel->name, name) == 0)
			imap_session_unselect(s);
		ret = maildir_delete(s->store, name, &error);
		break;
	case FOLDER_SUB:
	case FOLDER_UNSUB:
		ret = maildir_subscribe(s->store, name, op == FOLDER_SUB,
					&error);
		break;
	}
	if (ret < 0) {
		enum imap_cmd_result r =
			imap_cmd_no(cmd, "%s%s", imap_storage_code(s), error);

		free(name);
		return r;
	}
	if (op == FOLDER_CREATE || op == FOLDER_DELETE)
		conn_log_info(s->conn, "event=%s folder=%s",
			      op == FOLDER_CREATE ? "create" : "delete",
			      log_q(name));
	free(name);
	return imap_cmd_ok(cmd, "%s completed", cmd->def->name);
}

enum imap_cmd_result imap_cmd_create(struct imap_cmd *cmd)
{
	return folder_op(cmd, FOLDER_CREATE);
}

enum imap_cmd_result imap_cmd_delete(struct imap_cmd *cmd)
{
	return folder_op(cmd, FOLDER_DELETE);
}

enum imap_cmd_result imap_cmd_subscribe(struct imap_cmd *cmd)
{
	return folder_op(cmd, FOLDER_SUB);
}

enum imap_cmd_result imap_cmd_unsubscribe(struct imap_cmd *cmd)
{
	return folder_op(cmd, FOLDER_UNSUB);
}

enum imap_cmd_result imap_cmd_rename(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->s;
	const char *error = NULL;
	char *from, *to;
	int ret;

	if (imap_cmd_argc(cmd) != 2) {
		imap_reply(cmd, "BAD", "RENAME needs two mailbox names");
		return IMAP_CMD_DONE;
	}
	if (imap_folder_arg(cmd, 0, &from) < 0)
		return IMAP_CMD_DONE;
	if (imap_folder_arg(cmd, 1, &to) < 0) {
		free(from);
		return IMAP_CMD_DONE;
	}
	if (strcmp(to, "INBOX") == 0) {
		ret = -1;
		free(from);
		free(to);
		return imap_cmd_no(cmd, "[ALREADYEXISTS] INBOX always exists");
	}
	ret = maildir_rename(s->store, from, to, &error);
	if (ret == 0)
		conn_log_info(s->conn, "event=rename folder=%s to=%s",
			      log_q(from), log_q(to));
	free(from);
	free(to);
	if (ret < 0)
		return imap_cmd_no(cmd, "%s%s", imap_storage_code(s), error);
	return imap_cmd_ok(cmd, "RENAME completed");
}

/* "* LIST (attrs) "/" name\r\n" */
static void write_list_line(struct imap_session *s, const char *what,
			    const char *attrs, const char *name)
{
	struct buf b;

	buf_init(&b, 65536);
	buf_printf(&b, "* %s (%s) \"%c\" ", what, attrs, IMAP_SEPARATOR);
	imap_write_mailbox(&b, name, utf8_names(s));
	buf_append_str(&b, "\r\n");
	conn_write(s->conn, b.data, b.len);
	buf_free(&b);
}

/* reference and pattern as one UTF-8 pattern, or NULL after replying */
static char *list_pattern(struct imap_cmd *cmd, bool *empty_r)
{
	struct strv ref, pat;
	const char *error = NULL;
	char *r, *p, *all;

	if (imap_cmd_argc(cmd) != 2 ||
	    !imap_arg_get_mailbox(imap_cmd_arg(cmd, 0), &ref) ||
	    !imap_arg_get_list_mailbox(imap_cmd_arg(cmd, 1), &pat)) {
		imap_reply(cmd, "BAD", "%s needs a reference and a pattern",
			   cmd->def->name);
		return NULL;
	}
	*empty_r = pat.len == 0;
	r = decode_name(cmd->s, ref, &error);
	p = r == NULL ? NULL : decode_name(cmd->s, pat, &error);
	if (p == NULL) {
		free(r);
		imap_reply(cmd, "BAD", "Invalid mailbox name: %s", error);
		return NULL;
	}
	/* RFC 3501 6.3.8: the pattern is interpreted below the reference */
	all = xmalloc(strlen(r) + strlen(p) + 1);
	strcpy(all, r);
	strcat(all, p);
	free(r);
	free(p);
	return all;
}

enum imap_cmd_result imap_cmd_list(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->s;
	struct maildir_folder *folders = NULL;
	size_t count = 0;
	const char *error = NULL;
	bool empty = false;
	char *pattern = list_pattern(cmd, &empty);

	if (pattern == NULL)
		return IMAP_CMD_DONE;
	if (empty) {
		/* RFC 3501 6.3.8: the separator and the root */
		free(pattern);
		write_list_line(s, "LIST", "\\Noselect", "");
		return imap_cmd_ok(cmd, "LIST completed");
	}
	if (maildir_list(s->store, &folders, &count, &error) < 0) {
		free(pattern);
		return imap_cmd_no(cmd, "%s%s", imap_storage_code(s), error);
	}
	for (size_t i = 0; i < count; i++) {
		const struct maildir_folder *f = &folders[i];
		char attrs[64];

		if (!imap_folder_match(pattern, f->name))
			continue;
		/* RFC 3348 CHILDREN */
		snprintf(attrs, sizeof(attrs), "%s%s",
			 f->noselect ? "\\Noselect " : "",
			 f->has_children ? "\\HasChildren" : "\\HasNoChildren");
		write_list_line(s, "LIST", attrs, f->name);
	}
	maildir_folders_free(&folders, count);
	free(pattern);
	return imap_cmd_ok(cmd, "LIST completed");
}

static bool name_in(char **names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(names[i], name) == 0)
			return true;
	}
	return false;
}

enum imap_cmd_result imap_cmd_lsub(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->s;
	char **subs = NULL, **shown = NULL;
	size_t count = 0, nshown = 0, levels = 0;
	const char *error = NULL;
	bool empty = false;
	char *pattern = list_pattern(cmd, &empty);

	if (pattern == NULL)
		return IMAP_CMD_DONE;
	if (empty) {
		free(pattern);
		write_list_line(s, "LSUB", "\\Noselect", "");
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

		if (imap_folder_match(pattern, name)) {
			if (!name_in(shown, nshown, name)) {
				write_list_line(s, "LSUB", "", name);
				shown[nshown++] = name;
			}
			continue;
		}
		/* RFC 3501 6.3.9: with "%", a parent of a subscribed name
		   that matches is shown \Noselect */
		char *parent = xstrdup(name);

		for (char *sep = strchr(parent, IMAP_SEPARATOR); sep != NULL;
		     sep = strchr(sep + 1, IMAP_SEPARATOR)) {
			*sep = '\0';
			if (imap_folder_match(pattern, parent) &&
			    !name_in(subs, count, parent) &&
			    !name_in(shown, nshown, parent)) {
				write_list_line(s, "LSUB", "\\Noselect",
						parent);
				shown[nshown++] = xstrdup(parent);
			}
			*sep = IMAP_SEPARATOR;
		}
		free(parent);
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

enum status_item {
	STATUS_MESSAGES = 1u << 0,
	STATUS_RECENT = 1u << 1,
	STATUS_UIDNEXT = 1u << 2,
	STATUS_UIDVALIDITY = 1u << 3,
	STATUS_UNSEEN = 1u << 4,
};

static const struct {
	const char *name;
	unsigned bit;
} status_items[] = {
	{"MESSAGES", STATUS_MESSAGES}, {"RECENT", STATUS_RECENT},
	{"UIDNEXT", STATUS_UIDNEXT},   {"UIDVALIDITY", STATUS_UIDVALIDITY},
	{"UNSEEN", STATUS_UNSEEN},
};

#define N_STATUS_ITEMS (sizeof(status_items) / sizeof(status_items[0]))

/* The requested items in the order asked, or -1 after replying BAD. */
static int status_parse(struct imap_cmd *cmd, unsigned *order, size_t *n_r)
{
	const struct imap_arg *list = imap_cmd_arg(cmd, 1);
	size_t n = imap_arg_count(list);

	if (imap_cmd_argc(cmd) != 2 || imap_arg_type(list) != IMAP_ARG_LIST ||
	    n == 0 || n > 16) {
		imap_reply(cmd, "BAD",
			   "STATUS needs a mailbox and a list of "
			   "items");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		struct strv item;
		size_t k = 0;

		if (imap_arg_get_atom(imap_arg_at(list, i), &item)) {
			while (k < N_STATUS_ITEMS &&
			       !strv_eq_cstr_ci(item, status_items[k].name))
				k++;
		} else {
			k = N_STATUS_ITEMS;
		}
		if (k == N_STATUS_ITEMS) {
			imap_reply(cmd, "BAD", "Unknown STATUS item");
			return -1;
		}
		order[i] = (unsigned)k;
	}
	*n_r = n;
	return 0;
}

/* STATUS opens the folder on a storage thread (imap_job.h): a cold open
   scans it. */
struct status_job {
	struct maildir *store;
	char *name;
	unsigned order[16];
	size_t n;
	int ret;
	const char *error;
	uint32_t messages, unseen, uidnext, uidvalidity;
};

static void status_work(void *ctx)
{
	struct status_job *j = ctx;
	struct mailbox *box = NULL;

	j->ret = mailbox_open(j->store, j->name, 0, &box, &j->error);
	if (j->ret < 0)
		return;
	j->messages = mailbox_count(box);
	for (unsigned i = 0; i < j->messages; i++) {
		struct mailbox_msg msg;

		mailbox_get(box, i, &msg);
		if ((msg.flags & MAILDIR_FLAG_SEEN) == 0)
			j->unseen++;
	}
	j->uidnext = mailbox_uidnext(box);
	j->uidvalidity = mailbox_uidvalidity(box);
	mailbox_free(&box);
}

static void status_free(void *ctx)
{
	struct status_job *j = ctx;

	free(j->name);
	free(j);
}

static enum imap_cmd_result status_done(struct imap_cmd *cmd, void *ctx)
{
	struct imap_session *s = cmd->s;
	struct status_job *j = ctx;
	struct buf b;

	if (j->ret < 0)
		return imap_cmd_no(cmd, "%s%s", imap_storage_code(s), j->error);
	buf_init(&b, 65536);
	buf_append_str(&b, "* STATUS ");
	imap_write_mailbox(&b, j->name, utf8_names(s));
	buf_append_str(&b, " (");
	for (size_t i = 0; i < j->n; i++) {
		unsigned bit = status_items[j->order[i]].bit;
		uint32_t v = bit == STATUS_MESSAGES	 ? j->messages
			     : bit == STATUS_RECENT	 ? 0
			     : bit == STATUS_UIDNEXT	 ? j->uidnext
			     : bit == STATUS_UIDVALIDITY ? j->uidvalidity
							 : j->unseen;

		buf_printf(&b, "%s%s %u", i > 0 ? " " : "",
			   status_items[j->order[i]].name, v);
	}
	buf_append_str(&b, ")\r\n");
	conn_write(s->conn, b.data, b.len);
	buf_free(&b);
	return imap_cmd_ok(cmd, "STATUS completed");
}

enum imap_cmd_result imap_cmd_status(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->s;
	struct status_job *j;
	unsigned order[16];
	size_t n;
	char *name;

	if (status_parse(cmd, order, &n) < 0 ||
	    imap_folder_arg(cmd, 0, &name) < 0)
		return IMAP_CMD_DONE;
	j = xcalloc(1, sizeof(*j));
	j->store = s->store;
	j->name = name;
	memcpy(j->order, order, sizeof(order));
	j->n = n;
	return imap_job_run(cmd, status_work, status_done, status_free, j,
			    true);
}
