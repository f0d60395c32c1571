/* What storage/mime.c and mime_serialize.c share. */
#ifndef MERPATI_MIME_PRIVATE_H
#define MERPATI_MIME_PRIVATE_H

#include "storage/mime.h"

struct arena;

struct mime_message {
	struct arena *arena; /* every part and string */
	struct mime_part *root;
};

struct mime_message *mime_message_new(void);

#endif
