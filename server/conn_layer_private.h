/* SPDX-License-Identifier: GPL-2.0-or-later */
/* conn_layer_private: what the layer implementations share. */
#ifndef MERPATI_CONN_LAYER_PRIVATE_H
#define MERPATI_CONN_LAYER_PRIVATE_H

#include "server/conn_layer.h"

struct conn_layer_ops {
	const char *name;
	ssize_t (*read)(struct conn_layer *layer, void *buf, size_t len);
	bool (*read_pending)(struct conn_layer *layer);
	ssize_t (*write)(struct conn_layer *layer, const void *buf, size_t len);
	/* 1 all of this layer's bytes are below it, 0 again, -1 error; the
	   caller flushes the layers below afterwards */
	int (*flush)(struct conn_layer *layer);
	void (*shutdown)(struct conn_layer *layer);
	void (*free)(struct conn_layer *layer);
};

/* The head of every layer's struct. */
struct conn_layer {
	const struct conn_layer_ops *ops;
	struct conn_layer *below; /* owned; NULL for the socket */
	const char *error;	  /* static or owned by the layer's library */
};

#endif
