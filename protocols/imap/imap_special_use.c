/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "protocols/imap/imap_special_use.h"

#include "lib/log.h"
#include "storage/maildir.h"
#include "storage/maildir_attr.h"
#include "storage/maildir_file.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* Written to the mail root once the folders are made: deleting one later
   is the user's choice, it does not come back. */
#define SETUP_DONE_FILE "merpati-special-use-done"

#define CREATE_USES                                                    \
	(MAILDIR_USE_ARCHIVE | MAILDIR_USE_DRAFTS | MAILDIR_USE_JUNK | \
	 MAILDIR_USE_SENT | MAILDIR_USE_TRASH)

static const unsigned config_uses[IMAP_SPECIAL_FOLDERS] = {
	MAILDIR_USE_SENT, MAILDIR_USE_DRAFTS,  MAILDIR_USE_TRASH,
	MAILDIR_USE_JUNK, MAILDIR_USE_ARCHIVE,
};

/* Uses that some folder carries already. */
static unsigned uses_present(struct maildir *store)
{
	struct maildir_folder *folders = NULL;
	size_t count = 0;
	const char *error;
	unsigned uses = 0;

	if (maildir_list(store, &folders, &count, &error) < 0)
		return 0;
	for (size_t i = 0; i < count; i++) {
		if (!folders[i].noselect)
			uses |= maildir_attr_uses(store, folders[i].name);
	}
	maildir_folders_free(&folders, count);
	return uses;
}

static int setup_one(struct imap_session *s, const char *name, unsigned use)
{
	const char *error = NULL;

	if (!maildir_folder_exists(s->store, name)) {
		if (maildir_create(s->store, name, &error) < 0 ||
		    maildir_subscribe(s->store, name, true, &error) < 0)
			goto fail;
	}
	if (maildir_attr_set_uses(s->store, name,
				  maildir_attr_uses(s->store, name) | use,
				  &error) < 0)
		goto fail;
	return 0;
fail:
	conn_log_error(s->conn, "event=special_use_setup folder=%s error=%s",
		       log_q(name), log_q(error));
	return -1;
}

void imap_special_use_setup(struct imap_session *s)
{
	const struct imap_settings *set = imap_session_settings(s);
	const char *root = maildir_root(s->store);
	char path[4096];
	unsigned present;
	int failed = 0;
	struct stat st;

	snprintf(path, sizeof(path), "%s/" SETUP_DONE_FILE, root);
	if (lstat(path, &st) == 0 || errno != ENOENT)
		return;
	present = uses_present(s->store);
	for (size_t i = 0; i < IMAP_SPECIAL_FOLDERS; i++) {
		const char *name = set->special_folders[i];

		if (name == NULL || name[0] == '\0' ||
		    (present & config_uses[i]) != 0)
			continue;
		if (setup_one(s, name, config_uses[i]) < 0)
			failed++;
	}
	/* a failure is tried again at the next login */
	if (failed == 0 && maildir_file_replace(path, "", 0, set->fsync) < 0)
		conn_log_error(s->conn,
			       "event=special_use_setup path=%s "
			       "error=\"%s\"",
			       log_q(path), strerror(errno));
}

int imap_special_use_create_arg(struct imap_cmd *cmd, unsigned *uses_r)
{
	const struct imap_arg *opts = imap_cmd_arg(cmd, 1);
	const struct imap_arg *list;
	struct strv word;
	size_t n;

	*uses_r = 0;
	if (imap_cmd_argc(cmd) == 1)
		return 0;
	/* RFC 6154 3: create-param = "USE" SP "(" [use-attr *(SP use-attr)]
	   ")" inside RFC 4466's create-params list */
	if (imap_cmd_argc(cmd) != 2 || imap_arg_type(opts) != IMAP_ARG_LIST ||
	    imap_arg_count(opts) != 2 ||
	    !imap_arg_get_atom(imap_arg_at(opts, 0), &word) ||
	    !strv_eq_cstr_ci(word, "USE") ||
	    imap_arg_type(list = imap_arg_at(opts, 1)) != IMAP_ARG_LIST) {
		imap_reply(cmd, "BAD", "CREATE takes a name and (USE (...))");
		return -1;
	}
	n = imap_arg_count(list);
	for (size_t i = 0; i < n; i++) {
		unsigned use = 0;

		if (imap_arg_get_flag(imap_arg_at(list, i), &word))
			use = maildir_use_from_name(word.p, word.len);
		/* \All and \Flagged are virtual folders Merpati has not */
		if ((use & CREATE_USES) == 0) {
			imap_cmd_no(cmd, "[USEATTR] Unsupported special use");
			return -1;
		}
		*uses_r |= use;
	}
	return 0;
}

void imap_special_use_write(struct buf *out, unsigned uses)
{
	for (unsigned i = 0; i < MAILDIR_USE_COUNT; i++) {
		if ((uses & (1u << i)) != 0)
			buf_printf(out, " %s", maildir_use_name(i));
	}
}
