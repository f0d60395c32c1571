/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "server/cli.h"

#include "lib/str.h"
#include "lib/xalloc.h"
#include "server/config.h"
#include "server/listener.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* RFC 1035 2.3.4: a name is at most 253 characters written out */
#define AUTOCONFIG_NAME_MAX 253

/* What one listener kind offers a remote client. */
struct autoconfig_service {
	enum config_listener kind;
	const char *type;      /* Thunderbird's incomingServer type */
	const char *socket;    /* Thunderbird's socketType */
	const char *srv;       /* RFC 6186 service label */
	unsigned srv_priority; /* RFC 8314 4.5: implicit TLS first */
};

/* In the order a client should prefer them. */
static const struct autoconfig_service autoconfig_services[] = {
	{CONFIG_LISTEN_IMAPS, "imap", "SSL", "_imaps", 0},
	{CONFIG_LISTEN_IMAP, "imap", "STARTTLS", "_imap", 10},
	{CONFIG_LISTEN_POP3S, "pop3", "SSL", "_pop3s", 20},
	{CONFIG_LISTEN_POP3, "pop3", "STARTTLS", "_pop3", 30},
};

#define AUTOCONFIG_N_SERVICES \
	(sizeof(autoconfig_services) / sizeof(autoconfig_services[0]))

static bool addr_is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;

		return (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

		return IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr) ||
		       (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr) &&
			s6->sin6_addr.s6_addr[12] == 127);
	}
	return false;
}

/* The port remote clients reach for the listener kind: the first address
   that is not loopback-only (a remote client cannot reach 127.0.0.1), or
   0 when there is none. */
static unsigned autoconfig_port(const struct config *config,
				enum config_listener kind)
{
	char *copy = xstrdup(config->listen[kind]), *save = NULL;
	unsigned port = 0;

	for (char *a = strtok_r(copy, " \t", &save); a != NULL && port == 0;
	     a = strtok_r(NULL, " \t", &save)) {
		struct sockaddr_storage ss;
		const char *error;
		unsigned len;

		if (listener_parse_addr(a, &ss, &len, &error) < 0 ||
		    addr_is_loopback(&ss))
			continue;
		if (ss.ss_family == AF_INET)
			port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		else
			port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	}
	free(copy);
	return port;
}

/* A host name as DNS and zone files take it: labels of letters, digits,
   '-' and '_', dot-separated, an optional final dot. */
static bool autoconfig_name_is_valid(const char *name)
{
	size_t len = strlen(name), label = 0;

	if (len == 0 || len > AUTOCONFIG_NAME_MAX)
		return false;
	for (const char *p = name; *p != '\0'; p++) {
		if (*p == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
			return false;
		if (++label > 63)
			return false;
	}
	return true;
}

/* Writes s with XML's five special characters escaped; control characters,
   which XML 1.0 does not allow, are left out. */
static void xml_put(FILE *out, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", out);
			break;
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		case '\'':
			fputs("&apos;", out);
			break;
		default:
			if ((unsigned char)*s >= 0x20 || *s == '\t')
				fputc(*s, out);
		}
	}
}

/* One element on its own line: <name>escaped text</name>. */
static void xml_elem(FILE *out, const char *indent, const char *name,
		     const char *text)
{
	fprintf(out, "%s<%s>", indent, name);
	xml_put(out, text);
	fprintf(out, "</%s>\n", name);
}

static void autoconfig_print_xml(const struct config *config,
				 const char *domain, const char *host,
				 FILE *out)
{
	const char *username =
		config->autoconfig_username == CONFIG_AUTOCONFIG_LOCALPART
			? "%EMAILLOCALPART%"
			: "%EMAILADDRESS%";
	char port_s[16];

	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	      "<clientConfig version=\"1.1\">\n"
	      "  <emailProvider id=\"",
	      out);
	xml_put(out, domain);
	fputs("\">\n", out);
	xml_elem(out, "    ", "domain", domain);
	xml_elem(out, "    ", "displayName",
		 config->autoconfig_display_name[0] != '\0'
			 ? config->autoconfig_display_name
			 : domain);
	xml_elem(out, "    ", "displayShortName", domain);
	for (size_t i = 0; i < AUTOCONFIG_N_SERVICES; i++) {
		const struct autoconfig_service *s = &autoconfig_services[i];
		unsigned port = autoconfig_port(config, s->kind);

		if (port == 0)
			continue;
		snprintf(port_s, sizeof(port_s), "%u", port);
		fprintf(out, "    <incomingServer type=\"%s\">\n", s->type);
		xml_elem(out, "      ", "hostname", host);
		xml_elem(out, "      ", "port", port_s);
		xml_elem(out, "      ", "socketType", s->socket);
		xml_elem(out, "      ", "authentication", "password-cleartext");
		xml_elem(out, "      ", "username", username);
		fputs("    </incomingServer>\n", out);
	}
	fputs("  </emailProvider>\n</clientConfig>\n", out);
}

/* RFC 6186 3.4: a service not offered is a record with the target "." */
static void autoconfig_print_srv(const struct config *config,
				 const char *domain, const char *host,
				 FILE *out)
{
	const char *dot_d = domain[strlen(domain) - 1] == '.' ? "" : ".";
	const char *dot_h = host[strlen(host) - 1] == '.' ? "" : ".";

	for (size_t i = 0; i < AUTOCONFIG_N_SERVICES; i++) {
		const struct autoconfig_service *s = &autoconfig_services[i];
		unsigned port = autoconfig_port(config, s->kind);

		if (port == 0)
			fprintf(out, "%s._tcp.%s%s 3600 IN SRV 0 0 0 .\n",
				s->srv, domain, dot_d);
		else
			fprintf(out, "%s._tcp.%s%s 3600 IN SRV %u 1 %u %s%s\n",
				s->srv, domain, dot_d, s->srv_priority, port,
				host, dot_h);
	}
}

static int autoconfig_usage(void)
{
	fprintf(stderr, "usage: merpati autoconfig [-c FILE] [--srv] DOMAIN\n");
	return 64;
}

/* merpati autoconfig [-c FILE] [--srv] DOMAIN: what a mail client needs to
   find the listeners by itself, as Thunderbird's config-v1.1.xml or as
   RFC 6186 SRV records in zone-file form. */
int cli_autoconfig(int argc, char **argv)
{
	const char *path = CONFIG_DEFAULT_PATH, *domain, *host;
	struct config *config;
	char *error = NULL;
	bool srv = false;
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--srv") == 0)
			srv = true;
		else if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			path = argv[++i];
		else if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else
			return autoconfig_usage();
	}
	if (i + 1 != argc)
		return autoconfig_usage();
	domain = argv[i];
	if (!autoconfig_name_is_valid(domain)) {
		fprintf(stderr,
			"merpati autoconfig: '%s' is not a domain name\n",
			domain);
		return 64;
	}
	config = config_load(path, &error);
	if (config == NULL) {
		fprintf(stderr, "merpati autoconfig: %s\n", error);
		free(error);
		return 1;
	}
	host = config->autoconfig_hostname[0] != '\0'
		       ? config->autoconfig_hostname
		       : domain;
	if (!autoconfig_name_is_valid(host)) {
		fprintf(stderr,
			"merpati autoconfig: %s:%d: autoconfig.hostname: '%s' is not a host name\n",
			path, config_line(config, &config->autoconfig_hostname),
			host);
		config_free(&config);
		return 1;
	}
	if (srv)
		autoconfig_print_srv(config, domain, host, stdout);
	else
		autoconfig_print_xml(config, domain, host, stdout);
	config_free(&config);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror("merpati autoconfig: stdout");
		return 1;
	}
	return 0;
}
