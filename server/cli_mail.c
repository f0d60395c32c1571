/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * merpati deliver / ls / index: the mail side of the admin tool.
 *
 * Every command loads the configuration, looks the user up in the
 * configured userdb (mail_user_resolve(): an unknown user is exit 67 and
 * nothing is created), becomes server.user (so that what it creates
 * belongs to the mail owner) and works through the storage API.
 */
#include "server/cli.h"

#include "auth/auth.h"
#include "server/auth_glue.h"
#include "server/config.h"
#include "server/privdrop.h"
#include "storage/cache.h"
#include "storage/mailbox.h"
#include "storage/mailbox_name.h"
#include "storage/maildir.h"
#include "storage/maildir_quota.h"

#include "lib/buf.h"
#include "lib/log.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <ev.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* sysexits(3) values the MTA understands */
#define EXIT_USAGE 64
#define EXIT_NOUSER 67
#define EXIT_TEMPFAIL 75
#define EXIT_NOPERM 77

#define DELIVER_CHUNK 65536

/*
 * A user name we are willing to turn into a path: letters, digits and
 * ".-_+=", at most one '@' with a non-empty local part and domain, no
 * leading dot, no "..", at most 255 bytes.
 */
static bool user_name_is_valid(const char *user)
{
	const char *at = strchr(user, '@');
	size_t len = strlen(user);

	if (len == 0 || len > 255 || user[0] == '.' || user[0] == '@' ||
	    strstr(user, "..") != NULL)
		return false;
	if (at != NULL && (at[1] == '\0' || at[1] == '.' ||
			   strchr(at + 1, '@') != NULL || at[-1] == '.'))
		return false;
	for (const char *p = user; *p != '\0'; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr(".-_+=@", *p) != NULL))
			return false;
	}
	return true;
}

/* Whether the auth.backend chain names a backend ("pam"). */
static bool chain_has(const char *chain, const char *name)
{
	size_t len = strlen(name);

	for (const char *p = chain; (p = strstr(p, name)) != NULL; p += len) {
		bool starts = p == chain || strchr(", \t", p[-1]) != NULL;
		bool ends = strchr(", \t", p[len]) != NULL; /* or NUL */

		if (starts && ends)
			return true;
	}
	return false;
}

struct lookup_result {
	bool done;
	enum auth_result result;
	struct auth_user *user;
	char reason[256];
};

static void lookup_cb(enum auth_result result, struct auth_user *user,
		      const char *reason, void *context)
{
	struct lookup_result *r = context;

	r->done = true;
	r->result = result;
	r->user = user;
	snprintf(r->reason, sizeof(r->reason), "%s", reason);
}

/*
 * Who the user is, asked of the configured userdb (auth.backend) in this
 * process, before privileges are dropped (the passwd-file may be
 * readable by root only):
 *  - a backend that can look users up (passwd-file) answers: its mail
 *    root (userdb_mail= / mail=, else mail.root with its home) and its
 *    extra fields (quota_rule=...) are used;
 *  - unknown there, a "pam" backend in the chain knows the system's users
 *    (getpwnam): mail.root with their home directory;
 *  - unknown there too, a "checkpassword" backend in the chain may know
 *    the user, but cannot say so without a password: the mail.root
 *    template is used only when that Maildir exists already (the user's
 *    first login made it, or the admin did); otherwise the user is unknown.
 * An unknown user is EXIT_NOUSER, an outage EXIT_TEMPFAIL. The root is
 * checked like every expansion of mail.root (auth_mail_root_expand()).
 */
static int mail_user_resolve(const struct config *config, const char *user,
			     struct buf *root, char ***extra_r,
			     const char **error_r)
{
	struct lookup_result r = {0};
	struct auth_settings set;
	struct ev_loop *loop;
	struct auth *auth;
	struct stat st;
	char *path = NULL;
	int ret = EXIT_NOUSER;

	if (!user_name_is_valid(user)) {
		*error_r = "invalid user name";
		return EXIT_NOUSER;
	}
	if (auth_glue_settings(config, &set, error_r) < 0)
		return EXIT_TEMPFAIL;
	loop = ev_loop_new(EVFLAG_AUTO);
	auth = loop == NULL ? NULL : auth_new(loop, &set, error_r);
	if (auth == NULL) {
		if (loop != NULL)
			ev_loop_destroy(loop);
		else
			*error_r = "cannot create an event loop";
		return EXIT_TEMPFAIL;
	}
	(void)auth_lookup(auth, user, lookup_cb, &r);
	while (!r.done)
		ev_run(loop, EVRUN_ONCE);
	auth_free(&auth);
	ev_loop_destroy(loop);
	if (r.result == AUTH_RESULT_TEMPFAIL &&
	    strcmp(r.reason, "cannot resolve the mail root") == 0) {
		/* the expansion was refused (logged): no place for this user */
		*error_r =
			"mail.root (or the userdb's mail=) gives a refused path for this user";
		return EXIT_NOUSER;
	}
	if (r.result == AUTH_RESULT_TEMPFAIL) {
		log_error("event=user_lookup user=%s error=%s", log_q(user),
			  log_q(r.reason));
		*error_r = "the user database is unavailable";
		return EXIT_TEMPFAIL;
	}
	if (r.result == AUTH_RESULT_OK) {
		path = r.user->mail_root;
		r.user->mail_root = NULL;
		*extra_r = r.user->overrides;
		r.user->overrides = xcalloc(1, sizeof(char *));
		auth_user_free(&r.user);
	} else if (chain_has(config->auth_backend, "pam")) {
		struct passwd pw, *pwp = NULL;
		char pwbuf[4096];

		if (getpwnam_r(user, &pw, pwbuf, sizeof(pwbuf), &pwp) != 0 ||
		    pwp == NULL) {
			*error_r = "unknown user";
			return EXIT_NOUSER;
		}
		path = auth_mail_root_expand(config->mail_root, user, pw.pw_dir,
					     error_r);
	} else if (chain_has(config->auth_backend, "checkpassword")) {
		path = auth_mail_root_expand(config->mail_root, user, NULL,
					     error_r);
		if (path != NULL &&
		    (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))) {
			*error_r = "unknown user (checkpassword cannot look "
				   "users up: no Maildir at the mail root yet)";
			free(path);
			return EXIT_NOUSER;
		}
	} else {
		*error_r = "unknown user";
		return EXIT_NOUSER;
	}
	if (path == NULL)
		return EXIT_NOUSER; /* *error_r says why */
	/* the result must be absolute and must not climb; an empty element
	 * would collapse ("/var/vmail//bob" from %d/%n is the directory of
	 * domain "bob", holding other users' roots) */
	if (strstr(path, "//") != NULL) {
		*error_r =
			"mail.root gives an empty path element for this user";
	} else if (path[0] != '/' || strstr(path, "/../") != NULL ||
		   (strlen(path) >= 3 &&
		    strcmp(path + strlen(path) - 3, "/..") == 0)) {
		*error_r = "the mail root is not an absolute path";
	} else {
		buf_append_str(root, path);
		while (root->len > 1 && root->data[root->len - 1] == '/')
			buf_truncate(root, root->len - 1);
		ret = 0;
	}
	free(path);
	return ret;
}

/* What every mail command starts with. */
struct mail_cmd {
	struct config *config;
	struct maildir_settings set;
	struct buf root;
	char **extra; /* the userdb's extra fields ("quota_rule=..."), or NULL */
};

/* Loads the config, drops privileges, resolves the root. Returns 0, or
 * the exit status to use. */
static int mail_cmd_init(struct mail_cmd *cmd, const char *name,
			 const char *config_path, const char *user,
			 int fail_status)
{
	const char *error, *stale;
	char *cerror = NULL;
	int ret;

	memset(cmd, 0, sizeof(*cmd));
	buf_init(&cmd->root, 4096);
	cmd->config = config_load(config_path, &cerror);
	if (cmd->config == NULL) {
		fprintf(stderr, "merpati %s: %s\n", name, cerror);
		free(cerror);
		return fail_status;
	}
	log_init("merpati", LOG_TARGET_STDERR, cmd->config->log_level);
	ret = mail_user_resolve(cmd->config, user, &cmd->root, &cmd->extra,
				&error);
	if (ret != 0) {
		fprintf(stderr, "merpati %s: %s: %s\n", name, log_q(user),
			error);
		return ret;
	}
	if (privdrop_to_user(cmd->config->user, &error) < 0) {
		fprintf(stderr, "merpati %s: %s\n", name, error);
		return fail_status;
	}
	maildir_settings_init(&cmd->set);
	cmd->set.fsync = cmd->config->mail_fsync;
	if (maildir_quota_settings(&cmd->set, config_quota_bytes(cmd->config),
				   (const char *const *)cmd->extra,
				   &error) < 0) {
		fprintf(stderr, "merpati %s: %s: %s\n", name, log_q(user),
			error);
		return fail_status;
	}
	/* for crash tests only: the documented default is 120 s */
	stale = getenv("MERPATI_LOCK_STALE_SECS");
	if (stale != NULL && atoi(stale) > 0)
		cmd->set.lock_stale_secs = (unsigned)atoi(stale);
	return 0;
}

static void mail_cmd_deinit(struct mail_cmd *cmd)
{
	config_free(&cmd->config);
	buf_free(&cmd->root);
	for (char **e = cmd->extra; e != NULL && *e != NULL; e++)
		free(*e);
	free(cmd->extra);
}

/* Streams stdin into the append; drops a leading mbox "From " envelope
 * line, however the reads split it (a pipe may hand over "Fro" first). */
static int deliver_copy(struct mailbox_append *ctx, const char **error_r)
{
	static char data[DELIVER_CHUNK];

	enum {
		UNDECIDED,
		SKIPPING,
		COPYING
	} state = UNDECIDED;

	size_t held = 0; /* bytes read before the first line was judged */
	ssize_t n;

	do {
		char *p = data, *nl;
		size_t len;

		n = read(STDIN_FILENO, data + held, sizeof(data) - held);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			*error_r = "cannot read the message from stdin";
			return -1;
		}
		len = held + (size_t)n;
		if (state == UNDECIDED) {
			if (n > 0 && len < 5 &&
			    memcmp(data, "From ", len) == 0) {
				held = len;
				continue;
			}
			held = 0;
			state = len >= 5 && memcmp(data, "From ", 5) == 0
					? SKIPPING
					: COPYING;
		}
		if (state == SKIPPING) {
			nl = memchr(p, '\n', len);
			if (nl == NULL)
				continue;
			state = COPYING;
			len -= (size_t)(nl + 1 - p);
			p = nl + 1;
		}
		if (len > 0 && mailbox_append_write(ctx, p, len, error_r) < 0)
			return -1;
	} while (n != 0);
	return 0;
}

static int deliver_usage(void)
{
	fprintf(stderr,
		"usage: merpati deliver [-c FILE] [-m FOLDER] USER < message\n"
		"  exit 0 stored, 67 unknown user, 75 temporary failure (or over\n"
		"  quota), 77 over quota with mail.quota_bounce = yes\n");
	return EXIT_USAGE;
}

int cli_deliver(int argc, char **argv)
{
	const char *config_path = CONFIG_DEFAULT_PATH, *folder = "INBOX";
	struct mailbox_append *ctx = NULL;
	struct maildir *store = NULL;
	struct mailbox *box = NULL;
	struct mail_cmd cmd;
	const char *error;
	uint32_t uid;
	int opt, ret;

	optind = 1;
	while ((opt = getopt(argc, argv, "c:m:")) != -1) {
		if (opt == 'c')
			config_path = optarg;
		else if (opt == 'm')
			folder = optarg;
		else
			return deliver_usage();
	}
	if (optind + 1 != argc)
		return deliver_usage();
	ret = mail_cmd_init(&cmd, "deliver", config_path, argv[optind],
			    EXIT_TEMPFAIL);
	if (ret != 0)
		goto out;
	if (maildir_open(cmd.root.data, &cmd.set, true, &store, &error) < 0) {
		struct stat st;

		fprintf(stderr, "merpati deliver: %s: %s\n", argv[optind],
			error);
		/* a Maildir that is there but not ours to write (an admin's
		 * chown mistake) is fixed by the admin: the MTA retries */
		ret = lstat(cmd.root.data, &st) == 0 ? EXIT_TEMPFAIL
						     : EXIT_NOUSER;
		goto out;
	}
	if (!mailbox_name_is_inbox(folder) &&
	    !maildir_folder_exists(store, folder) &&
	    maildir_create(store, folder, &error) < 0 &&
	    maildir_last_error(store) != MAILDIR_ERROR_EXISTS) {
		/* never lose mail over a folder: INBOX takes it */
		log_warn(
			"event=deliver user=%s folder=%s error=\"%s\" action=inbox",
			log_q(argv[optind]), log_q(folder), error);
		folder = "INBOX";
	}
	if (mailbox_open(store, folder, MAILBOX_OPEN_NO_SYNC, &box, &error) <
		    0 ||
	    mailbox_append_begin(box, &ctx, &error) < 0 ||
	    deliver_copy(ctx, &error) < 0 ||
	    mailbox_append_finish(&ctx, 0, 0, 0, &uid, &error) < 0) {
		mailbox_append_abort(&ctx);
		fprintf(stderr, "merpati deliver: %s: %s\n", argv[optind],
			error);
		/* over quota: the MTA retries (75), or with mail.quota_bounce
		 * bounces (77) with our text; a full disk is always 75 */
		ret = cmd.config->mail_quota_bounce && store != NULL &&
				      maildir_last_error(store) ==
					      MAILDIR_ERROR_NO_SPACE &&
				      strcmp(error, MAILDIR_QUOTA_EXCEEDED) == 0
			      ? EXIT_NOPERM
			      : EXIT_TEMPFAIL;
		goto out;
	}
	log_debug("event=deliver user=%s folder=%s uid=%u", log_q(argv[optind]),
		  log_q(folder), uid);
	ret = 0;
out:
	mailbox_free(&box);
	maildir_free(&store);
	mail_cmd_deinit(&cmd);
	return ret;
}

/* "quota: ..." for index and ls -s; recalculates first when asked. */
static int print_quota(struct maildir *store, bool recalc, bool kv)
{
	uint64_t ub, uc, lb, lc;
	const char *error;

	if ((recalc && maildir_quota_recalc(store, &error) < 0) ||
	    maildir_quota_get(store, &ub, &uc, &lb, &lc, &error) < 0) {
		fprintf(stderr, "merpati: quota: %s\n", error);
		return -1;
	}
	if (kv)
		printf(" quota_bytes=%llu quota_bytes_limit=%llu "
		       "quota_messages=%llu quota_messages_limit=%llu",
		       (unsigned long long)ub, (unsigned long long)lb,
		       (unsigned long long)uc, (unsigned long long)lc);
	else if (lb == 0 && lc == 0)
		printf("quota: none\n");
	else
		printf("quota: %llu of %llu bytes, %llu of %llu messages "
		       "(0: no limit), maildirsize recalculated\n",
		       (unsigned long long)ub, (unsigned long long)lb,
		       (unsigned long long)uc, (unsigned long long)lc);
	return 0;
}

static int ls_usage(void)
{
	fprintf(stderr,
		"usage: merpati ls [-c FILE] [-s] USER [FOLDER]\n"
		"  one line per message: UID FLAGS SIZE BASENAME\n"
		"  FLAGS: comma-separated, no spaces: \\Answered \\Flagged \\Deleted\n"
		"         \\Seen \\Draft $Forwarded and keyword names (kw:<letter>\n"
		"         for a letter without a name in dovecot-keywords); '-' if none\n"
		"  SIZE:  RFC822.SIZE (bytes with CRLF line ends)\n"
		"  -s:    print only 'uidvalidity=V uidnext=N messages=M\n"
		"         highestmodseq=H quota_bytes=B quota_bytes_limit=L\n"
		"         quota_messages=C quota_messages_limit=K' (limits 0: none)\n");
	return EXIT_USAGE;
}

int cli_ls(int argc, char **argv)
{
	const char *config_path = CONFIG_DEFAULT_PATH, *folder = "INBOX";
	struct maildir *store = NULL;
	struct mailbox *box = NULL;
	bool status_only = false;
	struct mail_cmd cmd;
	struct buf flags;
	const char *error;
	int opt, ret;

	optind = 1;
	while ((opt = getopt(argc, argv, "c:s")) != -1) {
		if (opt == 'c')
			config_path = optarg;
		else if (opt == 's')
			status_only = true;
		else
			return ls_usage();
	}
	if (optind >= argc || argc - optind > 2)
		return ls_usage();
	if (argc - optind == 2)
		folder = argv[optind + 1];
	buf_init(&flags, 4096);
	ret = mail_cmd_init(&cmd, "ls", config_path, argv[optind], 1);
	if (ret != 0)
		goto out;
	ret = 1;
	if (maildir_open(cmd.root.data, &cmd.set, false, &store, &error) < 0 ||
	    mailbox_open(store, folder, 0, &box, &error) < 0) {
		fprintf(stderr, "merpati ls: %s %s: %s\n", argv[optind], folder,
			error);
		goto out;
	}
	if (status_only) {
		printf("uidvalidity=%u uidnext=%u messages=%u highestmodseq=%llu",
		       mailbox_uidvalidity(box), mailbox_uidnext(box),
		       mailbox_count(box),
		       (unsigned long long)mailbox_highest_modseq(box));
		ret = print_quota(store, false, true) < 0 ? 1 : 0;
		printf("\n");
		goto out;
	}
	for (unsigned i = 0; i < mailbox_count(box); i++) {
		struct mailbox_msg msg;
		uint64_t size, vsize;

		mailbox_get(box, i, &msg);
		if (mailbox_msg_sizes(box, i, &size, &vsize, &error) < 0)
			continue; /* expunged meanwhile */
		buf_reset(&flags);
		maildir_flags_describe(&flags, msg.flags, msg.keywords,
				       mailbox_keyword_names(box));
		printf("%u %s %llu %.*s\n", msg.uid, flags.data,
		       (unsigned long long)vsize,
		       (int)maildir_filename_base_len(msg.filename),
		       msg.filename);
	}
	(void)mailbox_cache_save(box);
	ret = 0;
out:
	buf_free(&flags);
	mailbox_free(&box);
	maildir_free(&store);
	mail_cmd_deinit(&cmd);
	return ret;
}

/* Drops the folder's index (disposable: the next open rebuilds it from the
 * files and the UID list; merpati.modseq keeps MODSEQs from going back). */
static int index_drop(struct maildir *store, const char *folder,
		      const char **error_r)
{
	struct mailbox *box = NULL;
	char path[4096];

	if (mailbox_open(store, folder, MAILBOX_OPEN_NO_SYNC, &box, error_r) <
	    0)
		return -1;
	snprintf(path, sizeof(path), "%s/merpati.index", mailbox_path(box));
	mailbox_free(&box);
	if (unlink(path) < 0 && errno != ENOENT) {
		*error_r = "cannot remove merpati.index";
		return -1;
	}
	return 0;
}

static int index_folder(struct maildir *store, const char *folder)
{
	struct mailbox *box = NULL;
	const char *error;
	long nread;

	if (index_drop(store, folder, &error) < 0 ||
	    mailbox_open(store, folder, 0, &box, &error) < 0 ||
	    (nread = mailbox_cache_fill(box, true, &error)) < 0) {
		fprintf(stderr, "merpati index: %s: %s\n", folder, error);
		mailbox_free(&box);
		return -1;
	}
	printf("%s: %u messages, %ld files read, index rebuilt, "
	       "highestmodseq %llu\n",
	       folder, mailbox_count(box), nread,
	       (unsigned long long)mailbox_highest_modseq(box));
	mailbox_free(&box);
	return 0;
}

int cli_index(int argc, char **argv)
{
	const char *config_path = CONFIG_DEFAULT_PATH;
	struct maildir_folder *folders = NULL;
	struct maildir *store = NULL;
	struct mail_cmd cmd;
	size_t count = 0;
	const char *error;
	int opt, ret;

	optind = 1;
	while ((opt = getopt(argc, argv, "c:")) != -1) {
		if (opt != 'c') {
			fprintf(stderr,
				"usage: merpati index [-c FILE] USER [FOLDER]\n");
			return EXIT_USAGE;
		}
		config_path = optarg;
	}
	if (optind >= argc || argc - optind > 2) {
		fprintf(stderr,
			"usage: merpati index [-c FILE] USER [FOLDER]\n");
		return EXIT_USAGE;
	}
	ret = mail_cmd_init(&cmd, "index", config_path, argv[optind], 1);
	if (ret != 0)
		goto out;
	ret = 1;
	if (maildir_open(cmd.root.data, &cmd.set, false, &store, &error) < 0) {
		fprintf(stderr, "merpati index: %s: %s\n", argv[optind], error);
		goto out;
	}
	if (argc - optind == 2) {
		ret = index_folder(store, argv[optind + 1]) < 0 ||
				      print_quota(store, true, false) < 0
			      ? 1
			      : 0;
		goto out;
	}
	if (maildir_list(store, &folders, &count, &error) < 0) {
		fprintf(stderr, "merpati index: %s\n", error);
		goto out;
	}
	ret = 0;
	for (size_t i = 0; i < count; i++) {
		if (!folders[i].noselect &&
		    index_folder(store, folders[i].name) < 0)
			ret = 1;
	}
	if (print_quota(store, true, false) < 0)
		ret = 1;
out:
	maildir_folders_free(&folders, count);
	maildir_free(&store);
	mail_cmd_deinit(&cmd);
	return ret;
}
