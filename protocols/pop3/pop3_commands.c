/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "protocols/pop3/pop3_private.h"

#include "storage/mailbox.h"
#include "storage/maildir.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

/* Bytes read from a message file per step of a RETR/TOP. */
#define POP3_READ_CHUNK (64 * 1024)

/* Splits at most one argument off args; false (and -ERR written) when
   more follow or a required one is missing. */
static bool pop3_one_arg(struct pop3_session *s, struct strv args,
			 bool required, struct strv *arg_r)
{
	*arg_r = (struct strv){"", 0};
	if (args.len == 0) {
		if (!required)
			return true;
		pop3_reply(s, "-ERR", "Missing message number");
		return false;
	}
	(void)strv_next_token(&args, arg_r);
	if (args.len > 0) {
		pop3_reply(s, "-ERR", "Too many arguments");
		return false;
	}
	return true;
}

static bool pop3_no_args(struct pop3_session *s, struct strv args)
{
	if (args.len == 0)
		return true;
	pop3_reply(s, "-ERR", "Too many arguments");
	return false;
}

/* The message a number argument names, or NULL with -ERR written. */
static struct pop3_msg *pop3_msg_arg(struct pop3_session *s, struct strv arg)
{
	uint32_t n;

	if (arg.len == 0 || strv_to_u32(arg, &n) < 0) {
		if (arg.len > 20 || !pop3_printable(arg))
			pop3_reply(s, "-ERR", "Invalid message number");
		else
			pop3_reply(s, "-ERR", "Invalid message number: %.*s",
				   (int)arg.len, arg.p);
		return NULL;
	}
	if (n == 0 || n > s->count) {
		pop3_reply(s, "-ERR", "There is no message %u", n);
		return NULL;
	}
	if ((s->msgs[n - 1].marks & POP3_MARK_DELETED) != 0) {
		pop3_reply(s, "-ERR", "Message %u is already deleted", n);
		return NULL;
	}
	return &s->msgs[n - 1];
}

static unsigned pop3_msg_number(const struct pop3_session *s,
				const struct pop3_msg *m)
{
	return (unsigned)(m - s->msgs) + 1;
}

bool pop3_cmd_stat(struct pop3_session *s, struct strv args)
{
	if (pop3_no_args(s, args))
		pop3_reply(
			s, "+OK", "%u %llu", s->count - s->deleted,
			(unsigned long long)(s->total_size - s->deleted_size));
	return true;
}

static void pop3_uidl_line(struct pop3_session *s, const char *status,
			   const struct pop3_msg *m)
{
	/* Dovecot's default pop3_uidl_format %08Xu%08Xv, which its var_expand
	   prints in lowercase hex: migrated users
	   keep their UIDLs and do not download everything again */
	conn_printf(s->conn, "%s%u %08x%08x\r\n", status, pop3_msg_number(s, m),
		    m->uid, mailbox_uidvalidity(s->box));
}

static bool pop3_list_start(struct pop3_session *s, struct strv args,
			    enum pop3_job job)
{
	struct strv arg;
	struct pop3_msg *m;

	if (!pop3_one_arg(s, args, false, &arg))
		return true;
	if (arg.len == 0) {
		if (job == POP3_JOB_LIST)
			pop3_reply(s, "+OK", "%u messages (%llu octets)",
				   s->count - s->deleted,
				   (unsigned long long)(s->total_size -
							s->deleted_size));
		else
			conn_write_str(s->conn, "+OK\r\n");
		s->job = job;
		s->job_pos = 0;
		return true;
	}
	m = pop3_msg_arg(s, arg);
	if (m == NULL)
		return true;
	if (job == POP3_JOB_LIST)
		pop3_reply(s, "+OK", "%u %llu", pop3_msg_number(s, m),
			   (unsigned long long)m->vsize);
	else
		pop3_uidl_line(s, "+OK ", m);
	return true;
}

bool pop3_cmd_list(struct pop3_session *s, struct strv args)
{
	return pop3_list_start(s, args, POP3_JOB_LIST);
}

bool pop3_cmd_uidl(struct pop3_session *s, struct strv args)
{
	return pop3_list_start(s, args, POP3_JOB_UIDL);
}

bool pop3_job_list_run(struct pop3_session *s)
{
	while (s->job_pos < s->count) {
		const struct pop3_msg *m = &s->msgs[s->job_pos];

		if (conn_output_full(s->conn))
			return false;
		s->job_pos++;
		if ((m->marks & POP3_MARK_DELETED) != 0)
			continue;
		if (s->job == POP3_JOB_LIST)
			conn_printf(s->conn, "%u %llu\r\n",
				    pop3_msg_number(s, m),
				    (unsigned long long)m->vsize);
		else
			pop3_uidl_line(s, "", m);
	}
	conn_write_str(s->conn, ".\r\n");
	s->job = POP3_JOB_NONE;
	return true;
}

/* Opens the message for RETR/TOP; false with -ERR written. */
static bool pop3_send_start(struct pop3_session *s, struct pop3_msg *m,
			    bool top, uint64_t lines)
{
	const char *error;

	if (msg_stream_open(s->box, m->idx, MSG_PART_WHOLE, &s->msg, &error) <
	    0) {
		if (maildir_last_error(s->store) == MAILDIR_ERROR_EXPUNGED) {
			pop3_reply(
				s, "-ERR",
				"[SYS/PERM] Message %u was removed by another session",
				pop3_msg_number(s, m));
			return false;
		}
		conn_log_warn(s->conn,
			      "event=msg_open_failed uid=%u error=\"%s\"",
			      m->uid, error);
		pop3_reply(s, "-ERR", "[SYS/TEMP] %s", error);
		return false;
	}
	/* RFC 1939 7: TOP sends the header, the blank line, `lines` lines */
	if (top)
		msg_stream_set_body_lines(s->msg, lines);
	pop3_stream_init(&s->stream);
	s->job = POP3_JOB_SEND;
	return true;
}

bool pop3_cmd_retr(struct pop3_session *s, struct strv args)
{
	struct strv arg;
	struct pop3_msg *m;

	if (!pop3_one_arg(s, args, true, &arg))
		return true;
	m = pop3_msg_arg(s, arg);
	if (m == NULL || !pop3_send_start(s, m, false, 0))
		return true;
	m->marks |= POP3_MARK_RETRIEVED;
	pop3_reply(s, "+OK", "%llu octets", (unsigned long long)m->vsize);
	return true;
}

bool pop3_cmd_top(struct pop3_session *s, struct strv args)
{
	struct strv arg, lines_arg;
	struct pop3_msg *m;
	uint64_t lines;

	if (!strv_next_token(&args, &arg) ||
	    !strv_next_token(&args, &lines_arg) || args.len > 0) {
		pop3_reply(s, "-ERR", "Usage: TOP <message> <lines>");
		return true;
	}
	m = pop3_msg_arg(s, arg);
	if (m == NULL)
		return true;
	if (strv_to_u64(lines_arg, UINT64_MAX, &lines) < 0) {
		pop3_reply(s, "-ERR", "Invalid number of lines");
		return true;
	}
	if (pop3_send_start(s, m, true, lines))
		conn_write_str(s->conn, "+OK\r\n");
	return true;
}

void pop3_job_send_abort(struct pop3_session *s)
{
	msg_stream_free(&s->msg);
	if (s->job == POP3_JOB_SEND)
		s->job = POP3_JOB_NONE;
}

/* RFC 1939 3: CRLF line ends, dot-stuffing, ".\r\n" at the end; the file
   is read in chunks and the producer stops at the high-water mark. */
bool pop3_job_send_run(struct pop3_session *s)
{
	static char in[POP3_READ_CHUNK];

	while (!conn_output_full(s->conn)) {
		const char *error;
		ssize_t n = msg_stream_read(s->msg, in, sizeof(in), &error);

		if (n < 0) {
			conn_log_error(s->conn,
				       "event=msg_read_failed error=\"%s\"",
				       error);
			pop3_job_send_abort(s);
			/* the +OK is out: the only honest end is a hang-up */
			conn_close(s->conn, "message read error");
			return false;
		}
		buf_reset(&s->chunk);
		pop3_stream_feed(&s->stream, in, (size_t)n, &s->chunk);
		/* a short read is the end of the message */
		if ((size_t)n < sizeof(in)) {
			pop3_stream_finish(&s->stream, &s->chunk);
			conn_write(s->conn, s->chunk.data, s->chunk.len);
			pop3_job_send_abort(s);
			return true;
		}
		conn_write(s->conn, s->chunk.data, s->chunk.len);
	}
	return false;
}

bool pop3_cmd_dele(struct pop3_session *s, struct strv args)
{
	struct strv arg;
	struct pop3_msg *m;

	if (!pop3_one_arg(s, args, true, &arg))
		return true;
	m = pop3_msg_arg(s, arg);
	if (m == NULL)
		return true;
	m->marks |= POP3_MARK_DELETED;
	s->deleted++;
	s->deleted_size += m->vsize;
	pop3_reply(s, "+OK", "Marked to be deleted.");
	return true;
}

bool pop3_cmd_rset(struct pop3_session *s, struct strv args)
{
	if (!pop3_no_args(s, args))
		return true;
	/* RFC 1939 5: unmark deleted messages; retrievals are forgotten
	   too, so after_download leaves them alone (what the client asked
	   for by resetting) */
	for (unsigned i = 0; i < s->count; i++)
		s->msgs[i].marks = 0;
	s->deleted = 0;
	s->deleted_size = 0;
	pop3_reply(s, "+OK", "maildrop has %u messages (%llu octets)", s->count,
		   (unsigned long long)s->total_size);
	return true;
}

bool pop3_cmd_noop(struct pop3_session *s, struct strv args)
{
	if (pop3_no_args(s, args))
		conn_write_str(s->conn, "+OK\r\n");
	return true;
}

bool pop3_cmd_quit_transaction(struct pop3_session *s)
{
	pop3_maildrop_quit(s);
	return false;
}
