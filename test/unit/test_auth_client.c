/* SPDX-License-Identifier: GPL-2.0-or-later */
// links: mp_auth mp_lib
/*
 * The auth client talking to a real auth server: in-process on one loop
 * for most tests, and a forked helper (auth_server_spawn) for the
 * crash-and-restart test. Covers passwd-file with crypt hashes, SASL
 * PLAIN/LOGIN/SCRAM-SHA-256 through the wire, cancel, the penalty,
 * checkpassword and PAM (pam_permit / pam_deny services written here;
 * tests run as root).
 */
#include "auth/auth.h"
#include "auth/auth_client.h"
#include "auth/auth_hash.h"
#include "auth/auth_server.h"
#include "lib/base64.h"
#include "lib/buf.h"

#include <ev.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#define RFC7677_CRED \
	"{SCRAM-SHA-256}4096,W22ZaJ0SNY7soEsUEjb6gQ==,WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=,wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="

struct result {
	int calls;
	enum auth_client_status status;
	enum auth_client_error error;
	char user[256], mail_root[512], challenge[1024], reason[256];
	char override0[256];
	double at;
};

static void cb(const struct auth_client_reply *r, void *context)
{
	struct result *res = context;

	res->calls++;
	res->status = r->status;
	res->error = r->error;
	res->at = ev_time();
	snprintf(res->user, sizeof(res->user), "%s", r->user ? r->user : "");
	snprintf(res->mail_root, sizeof(res->mail_root), "%s",
		 r->mail_root ? r->mail_root : "");
	snprintf(res->challenge, sizeof(res->challenge), "%s",
		 r->challenge ? r->challenge : "");
	snprintf(res->reason, sizeof(res->reason), "%s",
		 r->reason ? r->reason : "");
	snprintf(res->override0, sizeof(res->override0), "%s",
		 r->overrides[0] ? r->overrides[0] : "");
}

struct fixture {
	struct ev_loop *loop;
	struct auth_server *server;
	struct auth_client *client;
	char dir[64], users[128], script[128];
	int channel[2]; /* auth_server_channel(): client end, server end */
	struct auth_settings set;
	char backend[512];
};

static const struct auth_client_info info = {"imap", "192.0.2.7", true};

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

static void wait_for(struct fixture *fx, const int *calls, int want, double max)
{
	double end = ev_time() + max;

	while (*calls < want && ev_time() < end)
		ev_run(fx->loop, EVRUN_ONCE);
}

static int setup_with(void **state, bool checkpassword, unsigned penalty)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	const char *error = NULL;
	char *h1, *h2, users[2048];
	int fd;

	strcpy(fx->dir, "/tmp/merpati-auth-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->users, sizeof(fx->users), "%s/users", fx->dir);
	snprintf(fx->script, sizeof(fx->script), "%s/checkpw", fx->dir);
	h1 = auth_hash_make("SHA512-CRYPT", "secret", 1000, &error);
	h2 = auth_hash_make("YESCRYPT", "slow", 5, &error);
	snprintf(users, sizeof(users),
		 "alice@example.org:%s::::::userdb_quota=1G\n"
		 "user:" RFC7677_CRED "\n"
		 "slowpoke:%s\n"
		 "homer:{PLAIN}doh::::/home/homer::userdb_mail=maildir:~/Mail\n"
		 "broken line without colon\n",
		 h1, h2);
	free(h1);
	free(h2);
	write_file(fx->users, users, 0600);
	write_file(fx->script,
		   "#!/bin/bash\n"
		   "IFS= read -r -d '' user <&3\n"
		   "IFS= read -r -d '' pass <&3\n"
		   "[ \"$user\" = temp ] && exit 111\n"
		   "[ \"$user\" = slow ] && exec sleep 30\n"
		   "[ \"$pass\" = good ] && exec \"$@\"\n"
		   "exit 1\n",
		   0755);
	if (checkpassword)
		snprintf(fx->backend, sizeof(fx->backend),
			 "passwd-file %s, checkpassword %s", fx->users,
			 fx->script);
	else
		snprintf(fx->backend, sizeof(fx->backend), "passwd-file %s",
			 fx->users);
	fx->set = (struct auth_settings){
		.backend = fx->backend,
		.allow_plain_scheme = true,
		.workers = 4,
		.penalty_max = penalty,
		.checkpassword_timeout = 1,
		.mail_root = "/var/vmail/%d/%n",
		.peer_uid = 0,
	};
	fx->loop = ev_loop_new(EVFLAG_AUTO);
	assert_int_equal(
		auth_server_channel(&fx->channel[0], &fx->channel[1], &error),
		0);
	fd = dup(fx->channel[1]);
	assert_true(fd >= 0);
	fx->server = auth_server_new(fx->loop, &fx->set, fd, &error);
	assert_non_null(fx->server);
	fx->client = auth_client_new(fx->loop, fx->channel[0]);
	*state = fx;
	return 0;
}

static int setup(void **state)
{
	return setup_with(state, true, 0);
}

static int setup_penalty(void **state)
{
	return setup_with(state, false, 1);
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[128];

	auth_client_free(&fx->client);
	auth_server_free(&fx->server);
	close(fx->channel[0]);
	close(fx->channel[1]);
	ev_loop_destroy(fx->loop);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", fx->dir);
	assert_int_equal(system(cmd), 0);
	free(fx);
	return 0;
}

static void verify(struct fixture *fx, const char *user, const char *pw,
		   struct result *res)
{
	memset(res, 0, sizeof(*res));
	(void)auth_client_verify(fx->client, &info, user, pw, cb, res);
	wait_for(fx, &res->calls, 1, 10);
	assert_int_equal(res->calls, 1);
}

static void test_verify(void **state)
{
	struct fixture *fx = *state;
	struct result res;

	verify(fx, "alice@example.org", "secret", &res);
	assert_int_equal(res.status, AUTH_CLIENT_OK);
	assert_string_equal(res.user, "alice@example.org");
	assert_string_equal(res.mail_root, "/var/vmail/example.org/alice");
	assert_string_equal(res.override0, "quota=1G");
	/* the domain is case-insensitive; the canonical name comes back */
	verify(fx, "alice@EXAMPLE.ORG", "secret", &res);
	assert_int_equal(res.status, AUTH_CLIENT_OK);
	assert_string_equal(res.user, "alice@example.org");
	verify(fx, "alice@example.org", "wrong", &res);
	assert_int_equal(res.status, AUTH_CLIENT_FAIL);
	verify(fx, "nobody", "secret", &res);
	assert_int_equal(res.status, AUTH_CLIENT_FAIL);
	verify(fx, "../../etc/passwd", "x", &res);
	assert_int_equal(res.status, AUTH_CLIENT_FAIL);
	verify(fx, "a\r\nb", "x", &res);
	assert_int_equal(res.status, AUTH_CLIENT_FAIL);
	/* home-based mail root from userdb_mail */
	verify(fx, "homer", "doh", &res);
	assert_int_equal(res.status, AUTH_CLIENT_OK);
	assert_string_equal(res.mail_root, "/home/homer/Mail");
	/* SCRAM credentials verify plaintext passwords too */
	verify(fx, "user", "pencil", &res);
	assert_int_equal(res.status, AUTH_CLIENT_OK);
}

static void test_checkpassword(void **state)
{
	struct fixture *fx = *state;
	struct result res;
	double t0;

	verify(fx, "cpuser", "good", &res);
	assert_int_equal(res.status, AUTH_CLIENT_OK);
	assert_string_equal(res.mail_root, "/var/vmail//cpuser");
	verify(fx, "cpuser", "bad", &res);
	assert_int_equal(res.status, AUTH_CLIENT_FAIL);
	verify(fx, "temp", "good", &res);
	assert_int_equal(res.status, AUTH_CLIENT_TEMPFAIL);
	assert_int_equal(res.error, AUTH_CLIENT_ERROR_TEMP);
	t0 = ev_time();
	verify(fx, "slow", "good", &res);
	assert_int_equal(res.status, AUTH_CLIENT_TEMPFAIL);
	assert_true(ev_time() - t0 < 5);
}

static void sasl(struct fixture *fx, struct auth_client_request **req,
		 const char *mech, const char *ir, struct result *res)
{
	memset(res, 0, sizeof(*res));
	*req = auth_client_sasl_start(fx->client, &info, mech, ir, cb, res);
	wait_for(fx, &res->calls, 1, 10);
	assert_int_equal(res->calls, 1);
}

static void cont(struct fixture *fx, struct auth_client_request *req,
		 const char *resp, struct result *res)
{
	res->calls = 0;
	auth_client_sasl_continue(req, resp);
	wait_for(fx, &res->calls, 1, 10);
	assert_int_equal(res->calls, 1);
}

static void test_sasl_plain_login(void **state)
{
	struct fixture *fx = *state;
	struct auth_client_request *req;
	struct result res;

	/* "\0alice@example.org\0secret" */
	sasl(fx, &req, "PLAIN", "AGFsaWNlQGV4YW1wbGUub3JnAHNlY3JldA==", &res);
	assert_int_equal(res.status, AUTH_CLIENT_OK);
	assert_string_equal(res.user, "alice@example.org");
	/* no initial response: empty challenge, then the response */
	sasl(fx, &req, "plain", NULL, &res);
	assert_int_equal(res.status, AUTH_CLIENT_CONTINUE);
	assert_string_equal(res.challenge, "");
	cont(fx, req, "AGFsaWNlQGV4YW1wbGUub3JnAHdyb25n", &res); /* wrong */
	assert_int_equal(res.status, AUTH_CLIENT_FAIL);
	assert_int_equal(res.error, AUTH_CLIENT_ERROR_REFUSED);
	/* malformed base64: a class of its own, not found in the text */
	sasl(fx, &req, "PLAIN", "AGFsaWNl!!", &res);
	assert_int_equal(res.status, AUTH_CLIENT_FAIL);
	assert_int_equal(res.error, AUTH_CLIENT_ERROR_MALFORMED);
	assert_non_null(strstr(res.reason, "base64"));
	/* "*" cancels */
	sasl(fx, &req, "PLAIN", NULL, &res);
	cont(fx, req, "*", &res);
	assert_int_equal(res.status, AUTH_CLIENT_FAIL);
	assert_int_equal(res.error, AUTH_CLIENT_ERROR_MALFORMED);
	assert_non_null(strstr(res.reason, "cancel"));
	/* unknown mechanism */
	sasl(fx, &req, "GSSAPI", NULL, &res);
	assert_int_equal(res.status, AUTH_CLIENT_FAIL);
	assert_int_equal(res.error, AUTH_CLIENT_ERROR_REFUSED);
	/* LOGIN */
	sasl(fx, &req, "LOGIN", NULL, &res);
	assert_int_equal(res.status, AUTH_CLIENT_CONTINUE);
	assert_string_equal(res.challenge, "VXNlcm5hbWU6"); /* Username: */
	cont(fx, req, "YWxpY2VAZXhhbXBsZS5vcmc=", &res);
	assert_int_equal(res.status, AUTH_CLIENT_CONTINUE);
	assert_string_equal(res.challenge, "UGFzc3dvcmQ6"); /* Password: */
	cont(fx, req, "c2VjcmV0", &res);
	assert_int_equal(res.status, AUTH_CLIENT_OK);
	assert_string_equal(res.mail_root, "/var/vmail/example.org/alice");
}

static void b64(struct buf *out, const void *p, size_t len)
{
	buf_reset(out);
	assert_int_equal(base64_encode(out, p, len), 0);
}

/* A SCRAM-SHA-256 client (RFC 5802 3) for password "pencil". */
static void test_sasl_scram(void **state)
{
	struct fixture *fx = *state;
	struct auth_client_request *req;
	struct result res;
	struct buf b, dec;
	const char *cfb = "n=user,r=clientnonce123";
	char cf[64], sfirst[512], cfwp[512], am[2048];
	unsigned char salt[64], sp[32], ck[32], sk[32], sig[32], proof[32];
	gnutls_datum_t key = {(unsigned char *)"pencil", 6}, sd;
	const char *s, *r_end;

	buf_init(&b, 8192);
	buf_init(&dec, 8192);
	snprintf(cf, sizeof(cf), "n,,%s", cfb);
	b64(&b, cf, strlen(cf));
	sasl(fx, &req, "SCRAM-SHA-256", b.data, &res);
	assert_int_equal(res.status, AUTH_CLIENT_CONTINUE);
	assert_int_equal(
		base64_decode(&dec, res.challenge, strlen(res.challenge)), 0);
	snprintf(sfirst, sizeof(sfirst), "%.*s", (int)dec.len, dec.data);
	assert_memory_equal(sfirst, "r=clientnonce123", 16);
	r_end = strstr(sfirst, ",s=");
	assert_non_null(r_end);
	s = r_end + 3;
	buf_reset(&dec);
	assert_int_equal(base64_decode(&dec, s, (size_t)(strstr(s, ",i=") - s)),
			 0);
	memcpy(salt, dec.data, dec.len);
	sd = (gnutls_datum_t){salt, (unsigned)dec.len};
	assert_int_equal(atoi(strstr(s, ",i=") + 3), 4096);
	assert_int_equal(
		gnutls_pbkdf2(GNUTLS_MAC_SHA256, &key, &sd, 4096, sp, 32), 0);
	gnutls_hmac_fast(GNUTLS_MAC_SHA256, sp, 32, "Client Key", 10, ck);
	gnutls_hash_fast(GNUTLS_DIG_SHA256, ck, 32, sk);
	snprintf(cfwp, sizeof(cfwp), "c=biws,%.*s", (int)(r_end - sfirst),
		 sfirst);
	snprintf(am, sizeof(am), "%s,%s,%s", cfb, sfirst, cfwp);
	gnutls_hmac_fast(GNUTLS_MAC_SHA256, sk, 32, am, strlen(am), sig);
	for (int i = 0; i < 32; i++)
		proof[i] = ck[i] ^ sig[i];
	buf_reset(&dec);
	buf_printf(&dec, "%s,p=", cfwp);
	base64_encode(&dec, proof, 32);
	b64(&b, dec.data, dec.len);
	cont(fx, req, b.data, &res);
	assert_int_equal(res.status, AUTH_CLIENT_CONTINUE); /* server-final */
	buf_reset(&dec);
	assert_int_equal(
		base64_decode(&dec, res.challenge, strlen(res.challenge)), 0);
	assert_memory_equal(dec.data, "v=", 2);
	cont(fx, req, "", &res);
	assert_int_equal(res.status, AUTH_CLIENT_OK);
	assert_string_equal(res.user, "user");

	/* wrong proof */
	b64(&b, cf, strlen(cf));
	sasl(fx, &req, "SCRAM-SHA-256", b.data, &res);
	assert_int_equal(res.status, AUTH_CLIENT_CONTINUE);
	b64(&b, "c=biws,r=x,p=AAAA", 17);
	cont(fx, req, b.data, &res);
	assert_int_equal(res.status, AUTH_CLIENT_FAIL);
	/* a user without SCRAM keys: a fake server-first, then the proof
	   fails like a wrong password (RFC 5802 5.1) */
	b64(&b, "n,,n=alice@example.org,r=abc", 28);
	sasl(fx, &req, "SCRAM-SHA-256", b.data, &res);
	assert_int_equal(res.status, AUTH_CLIENT_CONTINUE);
	b64(&b, "c=biws,r=x,p=AAAA", 17);
	cont(fx, req, b.data, &res);
	assert_int_equal(res.status, AUTH_CLIENT_FAIL);
	buf_free(&b);
	buf_free(&dec);
}

static void test_cancel(void **state)
{
	struct fixture *fx = *state;
	struct result res = {0}, res2 = {0};
	struct auth_client_request *req;
	double end;

	req = auth_client_verify(fx->client, &info, "slowpoke", "slow", cb,
				 &res);
	auth_client_request_cancel(&req);
	assert_null(req);
	req = auth_client_sasl_start(fx->client, &info, "PLAIN", NULL, cb,
				     &res);
	auth_client_request_cancel(&req);
	/* a later request still works and the cancelled ones never fire */
	(void)auth_client_verify(fx->client, &info, "alice@example.org",
				 "secret", cb, &res2);
	wait_for(fx, &res2.calls, 1, 10);
	end = ev_time() + 0.5;
	while (ev_time() < end)
		ev_run(fx->loop, EVRUN_NOWAIT);
	assert_int_equal(res.calls, 0);
	assert_int_equal(res2.status, AUTH_CLIENT_OK);
}

static void test_penalty(void **state)
{
	struct fixture *fx = *state;
	struct result res;
	double t0, fast, slow;

	t0 = ev_time();
	verify(fx, "alice@example.org", "wrong", &res);
	fast = ev_time() - t0;
	assert_int_equal(res.status, AUTH_CLIENT_FAIL);
	t0 = ev_time();
	verify(fx, "alice@example.org", "wrong", &res);
	slow = ev_time() - t0;
	assert_int_equal(res.status, AUTH_CLIENT_FAIL);
	printf("penalty: first failure %.3fs, second %.3fs\n", fast, slow);
	assert_true(slow >= 0.9);
	/* success resets (after one more delayed round) */
	verify(fx, "alice@example.org", "secret", &res);
	assert_int_equal(res.status, AUTH_CLIENT_OK);
	t0 = ev_time();
	verify(fx, "alice@example.org", "wrong", &res);
	assert_true(ev_time() - t0 < 0.9);
}

static void test_pam(void **state)
{
	struct fixture *fx = *state;
	struct auth_server *srv;
	struct auth_client *cl;
	struct auth_settings set = fx->set;
	const char *error = NULL;
	struct result res;
	int ch[2];

	(void)state;
	write_file(
		"/etc/pam.d/merpati-test-permit",
		"auth required pam_permit.so\naccount required pam_permit.so\n",
		0644);
	write_file("/etc/pam.d/merpati-test-deny",
		   "auth required pam_deny.so\naccount required pam_deny.so\n",
		   0644);
	/* deny first, then permit: the chain tries both in order */
	set.backend = "pam merpati-test-deny";
	assert_int_equal(auth_server_channel(&ch[0], &ch[1], &error), 0);
	srv = auth_server_new(fx->loop, &set, ch[1], &error);
	assert_non_null(srv);
	cl = auth_client_new(fx->loop, ch[0]);
	memset(&res, 0, sizeof(res));
	(void)auth_client_verify(cl, &info, "root", "x", cb, &res);
	wait_for(fx, &res.calls, 1, 10);
	assert_int_equal(res.status, AUTH_CLIENT_FAIL);
	auth_client_free(&cl);
	auth_server_free(&srv);
	close(ch[0]);

	set.backend = "pam merpati-test-deny, pam merpati-test-permit";
	assert_int_equal(auth_server_channel(&ch[0], &ch[1], &error), 0);
	srv = auth_server_new(fx->loop, &set, ch[1], &error);
	assert_non_null(srv);
	cl = auth_client_new(fx->loop, ch[0]);
	memset(&res, 0, sizeof(res));
	(void)auth_client_verify(cl, &info, "root", "x", cb, &res);
	wait_for(fx, &res.calls, 1, 10);
	assert_int_equal(res.status, AUTH_CLIENT_OK);
	assert_string_equal(res.user, "root");
	assert_string_equal(res.mail_root, "/var/vmail//root");
	auth_client_free(&cl);
	auth_server_free(&srv);
	close(ch[0]);
	unlink("/etc/pam.d/merpati-test-permit");
	unlink("/etc/pam.d/merpati-test-deny");
}

/* The forked helper: kill it mid-login, the login gets TEMPFAIL; after a
   respawn (what the master does on SIGCHLD) the next login succeeds. */
static void test_helper_restart(void **state)
{
	struct fixture *fx = *state;
	struct auth_settings set = fx->set;
	struct auth_client *cl;
	const char *error = NULL;
	struct result res = {0};
	pid_t pid;
	int status, ch[2];

	/* a channel of its own: the fixture's in-process server reads the
	   other one */
	assert_int_equal(auth_server_channel(&ch[0], &ch[1], &error), 0);
	assert_int_equal(auth_server_spawn(&set, ch[1], &pid, &error), 0);
	cl = auth_client_new(fx->loop, ch[0]);
	(void)auth_client_verify(cl, &info, "alice@example.org", "secret", cb,
				 &res);
	wait_for(fx, &res.calls, 1, 10);
	assert_int_equal(res.status, AUTH_CLIENT_OK);

	/* yescrypt cost 5 with these many in flight takes a while */
	struct result many[8];

	memset(many, 0, sizeof(many));
	for (int i = 0; i < 8; i++)
		(void)auth_client_verify(cl, &info, "slowpoke", "slow", cb,
					 &many[i]);
	for (int i = 0; i < 3; i++)
		ev_run(fx->loop, EVRUN_NOWAIT);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	for (int i = 0; i < 8; i++) {
		wait_for(fx, &many[i].calls, 1, 10);
		assert_int_equal(many[i].calls, 1);
	}
	assert_int_equal(many[7].status, AUTH_CLIENT_TEMPFAIL);

	assert_int_equal(auth_server_spawn(&set, ch[1], &pid, &error), 0);
	memset(&res, 0, sizeof(res));
	(void)auth_client_verify(cl, &info, "alice@example.org", "secret", cb,
				 &res);
	wait_for(fx, &res.calls, 1, 10);
	assert_int_equal(res.status, AUTH_CLIENT_OK);
	auth_client_free(&cl);
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	close(ch[0]);
	close(ch[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_verify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_checkpassword, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_sasl_plain_login, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_sasl_scram, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_penalty, setup_penalty,
						teardown),
		cmocka_unit_test_setup_teardown(test_pam, setup, teardown),
		cmocka_unit_test_setup_teardown(test_helper_restart, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
