/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * maildir: a user's mail store (the mail root) and its folders.
 *
 * Layout is Maildir++: INBOX is the root's cur/ new/ tmp/, folder "A/B" is
 * the directory ".A.B" (see mailbox_name.h), subscriptions live in the
 * root's `subscriptions` file in Dovecot's format ("V\t2", an empty line,
 * then one name per line, levels separated by TAB, mUTF-7 encoded).
 * Folder names given to and returned by this API are UTF-8 with the
 * settings' separator ('/' by default).
 *
 * A store is owned by one session (or the CLI) and is not thread-safe;
 * several processes may open the same root at once. Open folders with
 * mailbox_open() (mailbox.h).
 */
#ifndef MERPATI_MAILDIR_H
#define MERPATI_MAILDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct maildir_settings {
	bool fsync;		  /* fsync files and directories (mail.fsync) */
	unsigned lock_stale_secs; /* a UID list lock this old is stale (120) */
	unsigned lock_timeout_secs; /* give up waiting for a lock (60) */
	char separator;		    /* hierarchy separator shown to clients */
	unsigned tmp_max_age_secs;  /* tmp/ files older than this go (36 h) */
	uint64_t quota_bytes;	    /* Maildir++ quota limits, 0 = none */
	uint64_t quota_count;	    /* (see maildir_quota.h) */
};

/* Fills in the defaults above (fsync on, '/' separator, no quota). */
void maildir_settings_init(struct maildir_settings *set);

/* Why the last call on a store failed, for protocol response codes. */
enum maildir_error {
	MAILDIR_ERROR_NONE,
	MAILDIR_ERROR_NOT_FOUND,    /* no such folder / message (NONEXISTENT) */
	MAILDIR_ERROR_EXISTS,	    /* folder exists already (ALREADYEXISTS) */
	MAILDIR_ERROR_INVALID_NAME, /* refused folder name (CANNOT) */
	MAILDIR_ERROR_NOT_ALLOWED,  /* e.g. deleting INBOX, has children */
	MAILDIR_ERROR_EXPUNGED,	    /* the message was expunged meanwhile */
	MAILDIR_ERROR_UNREADABLE,   /* the message's file cannot be read (not
				       a regular file, permissions): skip it */
	MAILDIR_ERROR_TEMP,	    /* lock timeout, I/O error: try later */
	MAILDIR_ERROR_NO_SPACE,	    /* ENOSPC / EDQUOT (OVERQUOTA) */
};

struct maildir;

/*
 * Opens the mail root. With create, makes the root and INBOX's cur/ new/
 * tmp/ when missing (mode 0700); without it, a missing root is
 * MAILDIR_ERROR_NOT_FOUND. The settings are copied. Returns 0 or -1 with a
 * reason for the client in *error_r (details are logged).
 */
int maildir_open(const char *root, const struct maildir_settings *set,
		 bool create, struct maildir **store_r, const char **error_r);

/* Frees the store; open mailboxes must be freed first. Takes NULL. */
void maildir_free(struct maildir **store);

const char *maildir_root(const struct maildir *store);
const struct maildir_settings *maildir_settings(const struct maildir *store);
enum maildir_error maildir_last_error(const struct maildir *store);

struct maildir_folder {
	char *name;	   /* UTF-8, with the separator */
	bool noselect;	   /* a parent level with no directory of its own */
	bool has_children; /* some folder lies below it */
};

/*
 * Lists every folder, INBOX first then by name, with implied parent levels
 * as noselect entries. Directories whose names are not valid folder names
 * are skipped (and logged). Free with maildir_folders_free().
 */
int maildir_list(struct maildir *store, struct maildir_folder **folders_r,
		 size_t *count_r, const char **error_r);
void maildir_folders_free(struct maildir_folder **folders, size_t count);

/* True when the folder's directory exists (INBOX always does). */
bool maildir_folder_exists(struct maildir *store, const char *name);

/* Creates the folder and any missing parents (each with cur/ new/ tmp/ and
 * Dovecot's `maildirfolder` marker). Exists already: MAILDIR_ERROR_EXISTS. */
int maildir_create(struct maildir *store, const char *name,
		   const char **error_r);

/* Deletes a folder with everything in it. INBOX and folders that have
 * children are refused (MAILDIR_ERROR_NOT_ALLOWED). */
int maildir_delete(struct maildir *store, const char *name,
		   const char **error_r);

/*
 * Renames a folder and its children; missing parents of the new name are
 * created. Renaming INBOX moves its messages into the new folder (RFC 3501
 * 6.3.5) and leaves INBOX empty, INBOX's children stay where they are.
 */
int maildir_rename(struct maildir *store, const char *old_name,
		   const char *new_name, const char **error_r);

/* The subscribed names (UTF-8). Free with maildir_names_free(). */
int maildir_subscriptions(struct maildir *store, char ***names_r,
			  size_t *count_r, const char **error_r);
void maildir_names_free(char **names, size_t count);

/* Adds or removes a subscription (the folder need not exist). */
int maildir_subscribe(struct maildir *store, const char *name, bool subscribe,
		      const char **error_r);

#endif
