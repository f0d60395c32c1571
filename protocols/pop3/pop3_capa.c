/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "protocols/pop3/pop3_private.h"

#include "auth/auth_client.h"

/* RFC 2449 5 and 6: list exactly what works in the current state. */
void pop3_cmd_capa(struct pop3_session *s)
{
	const struct pop3_settings *set = &s->ctx->set;
	bool authz = s->state == POP3_STATE_AUTHORIZATION;

	conn_write_str(s->conn, "+OK Capability list follows\r\n");
	conn_write_str(s->conn,
		       "TOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\n"
		       "PIPELINING\r\n");
	/* RFC 2449 6.7: 0 = retrieved mail is not kept, even without DELE */
	if (set->after_download == POP3_AFTER_DOWNLOAD_DELETE)
		conn_write_str(s->conn, "EXPIRE 0\r\n");
	else
		conn_write_str(s->conn, "EXPIRE NEVER\r\n");
	if (set->login_delay > 0)
		conn_printf(s->conn, "LOGIN-DELAY %u\r\n", set->login_delay);
	if (authz) {
		bool plain = pop3_plaintext_allowed(s);

		if (plain && set->auth != NULL)
			conn_write_str(s->conn, "USER\r\n");
		if (set->auth != NULL) {
			const char *mechs =
				auth_client_mechanisms(set->auth, plain);

			if (mechs[0] != '\0')
				conn_printf(s->conn, "SASL %s\r\n", mechs);
		}
		if (conn_can_starttls(s->conn))
			conn_write_str(s->conn, "STLS\r\n");
	}
	conn_write_str(s->conn, "IMPLEMENTATION Merpati\r\n.\r\n");
}
