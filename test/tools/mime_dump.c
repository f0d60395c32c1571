/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mime_dump: prints what FETCH (BODYSTRUCTURE ENVELOPE RFC822.SIZE) will
 * answer for message files, with the same parser and writers, so that the
 * differential test can compare Merpati with Dovecot before FETCH exists.
 *
 *	mime_dump [-c CHUNK] [-b] FILE...
 *
 * For the n'th FILE it writes "* n FETCH (BODYSTRUCTURE (...) ENVELOPE
 * (...) RFC822.SIZE size)" and CRLF, literals included, as a server
 * would. -c feeds the parser CHUNK bytes at a time; -b adds BODY (...).
 * Each tree also goes through the cache form and back: a difference is an
 * error.
 */
#include "protocols/imap/imap_bodystructure.h"
#include "protocols/imap/imap_envelope.h"
#include "storage/mime.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct mime_message *parse_file(const char *path, size_t chunk)
{
	struct mime_parser *p = mime_parser_new();
	char *buf = malloc(chunk);
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0 || buf == NULL) {
		perror(path);
		exit(2);
	}
	while ((n = read(fd, buf, chunk)) > 0)
		mime_parser_feed(p, buf, (size_t)n);
	if (n < 0) {
		perror(path);
		exit(2);
	}
	close(fd);
	free(buf);
	return mime_parser_finish(&p);
}

static void write_items(struct buf *out, const struct mime_message *msg,
			bool body)
{
	const struct mime_part *root = mime_message_root(msg);

	buf_append_str(out, "BODYSTRUCTURE (");
	imap_bodystructure_write(out, root, true);
	buf_append_str(out, ") ENVELOPE (");
	imap_envelope_write(out, root->envelope);
	buf_printf(out, ") RFC822.SIZE %llu",
		   (unsigned long long)(root->header.virtual +
					root->body.virtual));
	if (body) {
		buf_append_str(out, " BODY (");
		imap_bodystructure_write(out, root, false);
		buf_append_str(out, ")");
	}
}

int main(int argc, char **argv)
{
	size_t chunk = 65536;
	bool body = false;
	int opt, status = 0;

	while ((opt = getopt(argc, argv, "c:b")) != -1) {
		if (opt == 'c')
			chunk = (size_t)strtoul(optarg, NULL, 10);
		else if (opt == 'b')
			body = true;
		else
			return 2;
	}
	if (chunk == 0)
		chunk = 1;
	for (int i = optind; i < argc; i++) {
		struct mime_message *msg = parse_file(argv[i], chunk), *back;
		struct buf out, blob, again;

		buf_init(&out, BUF_UNLIMITED);
		buf_init(&blob, BUF_UNLIMITED);
		buf_init(&again, BUF_UNLIMITED);
		write_items(&out, msg, body);
		mime_message_serialize(msg, &blob);
		back = mime_message_deserialize(blob.data, blob.len);
		if (back == NULL) {
			fprintf(stderr, "%s: cache form not readable\n",
				argv[i]);
			status = 1;
		} else {
			write_items(&again, back, body);
			if (again.len != out.len ||
			    memcmp(again.data, out.data, out.len) != 0) {
				fprintf(stderr, "%s: cache form differs\n",
					argv[i]);
				status = 1;
			}
		}
		printf("* %d FETCH (", i - optind + 1);
		fwrite(out.data, 1, out.len, stdout);
		printf(")\r\n");
		mime_message_free(&msg);
		mime_message_free(&back);
		buf_free(&out);
		buf_free(&blob);
		buf_free(&again);
	}
	return status;
}
