/* SPDX-License-Identifier: GPL-2.0-or-later */
/* THREAD (RFC 5256 4); see imap_thread.h. */
#include "protocols/imap/imap_thread.h"

#include "lib/xalloc.h"
#include "protocols/imap/imap_basesubject.h"
#include "protocols/imap/imap_msgkeys.h"
#include "protocols/imap/imap_search.h"
#include "protocols/imap/imap_search_text.h"
#include "storage/mailbox.h"

#include <stdlib.h>
#include <string.h>

enum thread_algorithm {
	THREAD_ORDEREDSUBJECT,
	THREAD_REFERENCES,
};

/* A message (item != NULL) or a dummy standing for a missing one. */
struct node {
	struct imap_msgkeys_item *item;
	struct node *parent, *first, *last; /* children: first..last */
	struct node *prev, *next;	    /* siblings */
	size_t nchildren;
};

struct thread_state {
	struct imap_search *search;
	enum thread_algorithm algorithm;
	bool searched;
	struct imap_msgkeys_item *items;
	size_t count, pos;
	struct node root; /* its children are the threads */
	struct imap_cmd *cmd;
	struct buf out; /* the response while it is written */
};

/* --- the tree --- */

static void unlink_node(struct node *n)
{
	struct node *p = n->parent;

	if (p == NULL)
		return;
	if (n->prev != NULL)
		n->prev->next = n->next;
	else
		p->first = n->next;
	if (n->next != NULL)
		n->next->prev = n->prev;
	else
		p->last = n->prev;
	p->nchildren--;
	n->parent = n->prev = n->next = NULL;
}

static void append_child(struct node *p, struct node *n)
{
	n->parent = p;
	n->next = NULL;
	n->prev = p->last;
	if (p->last != NULL)
		p->last->next = n;
	else
		p->first = n;
	p->last = n;
	p->nchildren++;
}

/* Puts n's children in n's place among its siblings. */
static void splice_children(struct node *n)
{
	struct node *p = n->parent, *c = n->first;

	while (c != NULL) {
		struct node *next = c->next;

		c->parent = p;
		c = next;
	}
	if (n->first != NULL) {
		n->first->prev = n->prev;
		n->last->next = n->next;
		if (n->prev != NULL)
			n->prev->next = n->first;
		else
			p->first = n->first;
		if (n->next != NULL)
			n->next->prev = n->last;
		else
			p->last = n->last;
		p->nchildren += n->nchildren - 1;
	} else {
		unlink_node(n);
		return;
	}
	n->parent = n->prev = n->next = n->first = n->last = NULL;
	n->nchildren = 0;
}

/* Walks the tree under the root without recursion: enter() in
   pre-order, leave() in post-order (after the node's children). */
typedef void (*node_fn)(struct thread_state *st, struct node *n);

static void walk(struct thread_state *st, node_fn enter, node_fn leave)
{
	struct node *n = st->root.first;

	while (n != NULL) {
		if (enter != NULL)
			enter(st, n);
		if (n->first != NULL) {
			n = n->first;
			continue;
		}
		while (n != &st->root) {
			struct node *next = n->next, *parent = n->parent;

			/* leave() may move n (prune): take the way on first */
			if (leave != NULL)
				leave(st, n);
			if (next != NULL) {
				n = next;
				break;
			}
			n = parent;
		}
		if (n == &st->root)
			break;
	}
}

/* --- ordering by sent date (RFC 5256 2.2), ties in mailbox order --- */

/* The message a node sorts by: a dummy's first child's. */
static const struct imap_msgkeys_item *sort_item(const struct node *n)
{
	while (n->item == NULL && n->first != NULL)
		n = n->first;
	return n->item;
}

static int cmp_sent(const void *x, const void *y)
{
	const struct imap_msgkeys_item *a = sort_item(*(struct node *const *)x);
	const struct imap_msgkeys_item *b = sort_item(*(struct node *const *)y);

	if (a == NULL || b == NULL)
		return (a == NULL) - (b == NULL);
	if (a->sent != b->sent)
		return a->sent < b->sent ? -1 : 1;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static void sort_children(struct thread_state *st, struct node *p)
{
	struct node **v;
	size_t n = 0;

	(void)st;
	if (p->nchildren < 2)
		return;
	v = xmalloc(p->nchildren * sizeof(*v));
	for (struct node *c = p->first; c != NULL; c = c->next)
		v[n++] = c;
	qsort(v, n, sizeof(*v), cmp_sent);
	p->first = p->last = NULL;
	p->nchildren = 0;
	for (size_t i = 0; i < n; i++)
		append_child(p, v[i]);
	free(v);
}

/* --- ORDEREDSUBJECT (RFC 5256 4) --- */

static int cmp_subject_sent(const void *x, const void *y)
{
	const struct imap_msgkeys_item *a = x, *b = y;
	int r = imap_basesubject_cmp(a->keys.subject, b->keys.subject);

	if (r != 0)
		return r;
	if (a->sent != b->sent)
		return a->sent < b->sent ? -1 : 1;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* Sorted by base subject then sent date; each run of one base subject
   is a thread: the first message the parent, the others its children;
   the threads in the order of their first messages' sent dates. */
static void ordered_subject(struct thread_state *st, struct arena *arena)
{
	struct node *nodes =
		arena_zalloc(arena, (st->count + 1) * sizeof(*nodes));
	struct node *top = NULL;

	qsort(st->items, st->count, sizeof(*st->items), cmp_subject_sent);
	for (size_t i = 0; i < st->count; i++) {
		nodes[i].item = &st->items[i];
		if (top != NULL &&
		    imap_basesubject_cmp(top->item->keys.subject,
					 st->items[i].keys.subject) == 0) {
			append_child(top, &nodes[i]);
			continue;
		}
		top = &nodes[i];
		append_child(&st->root, top);
	}
	sort_children(st, &st->root);
}

/* --- REFERENCES (RFC 5256 4) --- */

struct id_entry {
	const char *id;
	struct node *node;
};

static int cmp_id(const void *x, const void *y)
{
	return strcmp(((const struct id_entry *)x)->id,
		      ((const struct id_entry *)y)->id);
}

/* The table of every message ID mentioned, sorted, one node each. */
struct id_table {
	struct id_entry *v;
	size_t n;
};

static void ids_build(struct thread_state *st, struct arena *arena,
		      struct id_table *t)
{
	size_t n = 0, out = 0;

	for (size_t i = 0; i < st->count; i++)
		n += 1 + st->items[i].keys.ref_count;
	t->v = arena_zalloc(arena, (n + 1) * sizeof(*t->v));
	for (size_t i = 0; i < st->count; i++) {
		const struct imap_msgkeys *k = &st->items[i].keys;

		if (k->msgid != NULL)
			t->v[out++].id = k->msgid;
		for (unsigned r = 0; r < k->ref_count; r++)
			t->v[out++].id = k->refs[r];
	}
	qsort(t->v, out, sizeof(*t->v), cmp_id);
	n = 0;
	for (size_t i = 0; i < out; i++)
		if (n == 0 || strcmp(t->v[n - 1].id, t->v[i].id) != 0)
			t->v[n++] = t->v[i];
	for (size_t i = 0; i < n; i++)
		t->v[i].node = arena_zalloc(arena, sizeof(struct node));
	t->n = n;
}

static struct node *ids_find(const struct id_table *t, const char *id)
{
	struct id_entry key = {id, NULL};
	struct id_entry *e = bsearch(&key, t->v, t->n, sizeof(*t->v), cmp_id);

	return e != NULL ? e->node : NULL;
}

/* Linking parent -> child would make a loop: child is parent or one of
   its ancestors. */
static bool makes_loop(const struct node *parent, const struct node *child)
{
	/* a node without children is nobody's ancestor: the usual case
	   (a reply arriving after its parent) needs no walk */
	if (child->first == NULL)
		return child == parent;
	for (const struct node *a = parent; a != NULL; a = a->parent)
		if (a == child)
			return true;
	return false;
}

/* Step 1: parent/child links from each message's references. */
static void link_references(struct thread_state *st, struct arena *arena,
			    const struct id_table *ids, struct node **msg_nodes)
{
	for (size_t i = 0; i < st->count; i++) {
		struct imap_msgkeys_item *it = &st->items[i];
		const struct imap_msgkeys *k = &it->keys;
		struct node *self = NULL, *prev = NULL;

		/* no ID, or one an earlier message has: a unique ID */
		if (k->msgid != NULL) {
			self = ids_find(ids, k->msgid);
			if (self->item != NULL)
				self = NULL;
		}
		if (self == NULL)
			self = arena_zalloc(arena, sizeof(*self));
		self->item = it;
		msg_nodes[i] = self;
		/* 1.A: link the references in order; keep existing parents;
		   no loops */
		for (unsigned r = 0; r < k->ref_count; r++) {
			struct node *ref = ids_find(ids, k->refs[r]);

			if (prev != NULL && ref->parent == NULL &&
			    !makes_loop(prev, ref))
				append_child(prev, ref);
			prev = ref;
		}
		/* 1.B: the last reference is the parent (a truncated
		   References gave a wrong one: replace it) */
		unlink_node(self);
		if (prev != NULL && !makes_loop(prev, self))
			append_child(prev, self);
	}
}

/* Step 3, on leaving a node (its children are pruned already). */
static void prune(struct thread_state *st, struct node *n)
{
	if (n->item != NULL)
		return;
	if (n->nchildren == 0) {
		unlink_node(n);
		return;
	}
	/* children of the root only when there is just one */
	if (n->parent == &st->root && n->nchildren > 1)
		return;
	splice_children(n);
}

static void sort_on_leave(struct thread_state *st, struct node *n)
{
	sort_children(st, n);
}

/* The base subject a top-level node goes by (a dummy: its first
   child's), NULL when empty. */
static const struct imap_msgkeys_item *subject_item(const struct node *n)
{
	const struct imap_msgkeys_item *it = n->item;

	if (it == NULL && n->first != NULL)
		it = n->first->item;
	return it != NULL && it->keys.subject[0] != '\0' ? it : NULL;
}

struct subj_entry {
	struct node *node;
	size_t pos; /* in the sent-date order of the root's children */
};

static int cmp_subj_entry(const void *x, const void *y)
{
	const struct subj_entry *a = x, *b = y;
	int r = imap_basesubject_cmp(subject_item(a->node)->keys.subject,
				     subject_item(b->node)->keys.subject);

	if (r != 0)
		return r;
	return a->pos < b->pos ? -1 : a->pos > b->pos;
}

static bool is_reply(const struct node *n)
{
	return n->item != NULL && n->item->keys.reply_or_fwd;
}

/* Step 5.C for one base subject: which node the table holds. */
static struct node *subject_table(struct subj_entry *g, size_t n)
{
	struct node *t = g[0].node;

	for (size_t i = 1; i < n; i++) {
		struct node *cur = g[i].node;

		if (t->item != NULL &&
		    (cur->item == NULL || (is_reply(t) && !is_reply(cur))))
			t = cur;
	}
	return t;
}

/* Step 5.D for one base subject. */
static void merge_subject(struct thread_state *st, struct arena *arena,
			  struct subj_entry *g, size_t n)
{
	struct node *t = subject_table(g, n);

	for (size_t i = 0; i < n; i++) {
		struct node *cur = g[i].node, *d;

		if (cur == t)
			continue;
		if (t->item == NULL && cur->item == NULL) {
			/* both dummies: cur's children join t's */
			while (cur->first != NULL) {
				struct node *c = cur->first;

				unlink_node(c);
				append_child(t, c);
			}
			unlink_node(cur);
		} else if (t->item == NULL || (is_reply(cur) && !is_reply(t))) {
			unlink_node(cur);
			append_child(t, cur);
		} else {
			/* a new dummy in t's place holds both */
			d = arena_zalloc(arena, sizeof(*d));
			d->parent = &st->root;
			d->prev = t->prev;
			d->next = t->next;
			if (t->prev != NULL)
				t->prev->next = d;
			else
				st->root.first = d;
			if (t->next != NULL)
				t->next->prev = d;
			else
				st->root.last = d;
			t->parent = t->prev = t->next = NULL;
			append_child(d, t);
			unlink_node(cur);
			append_child(d, cur);
			t = d;
		}
	}
}

static void merge_subjects(struct thread_state *st, struct arena *arena)
{
	struct subj_entry *v =
		arena_alloc(arena, (st->root.nchildren + 1) * sizeof(*v));
	size_t n = 0, pos = 0;

	for (struct node *c = st->root.first; c != NULL; c = c->next, pos++)
		if (subject_item(c) != NULL)
			v[n++] = (struct subj_entry){c, pos};
	qsort(v, n, sizeof(*v), cmp_subj_entry);
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;

		while (j < n &&
		       imap_basesubject_cmp(
			       subject_item(v[i].node)->keys.subject,
			       subject_item(v[j].node)->keys.subject) == 0)
			j++;
		if (j - i > 1)
			merge_subject(st, arena, v + i, j - i);
		i = j;
	}
}

static void references(struct thread_state *st, struct arena *arena)
{
	struct node **msgs =
		arena_alloc(arena, (st->count + 1) * sizeof(*msgs));
	struct id_table ids;

	ids_build(st, arena, &ids);
	link_references(st, arena, &ids, msgs);
	/* 2: every node without a parent goes under the root: messages in
	   mailbox order, then dummies in ID order (step 4 sorts them) */
	for (size_t i = 0; i < st->count; i++)
		if (msgs[i]->parent == NULL)
			append_child(&st->root, msgs[i]);
	for (size_t i = 0; i < ids.n; i++)
		if (ids.v[i].node->item == NULL &&
		    ids.v[i].node->parent == NULL)
			append_child(&st->root, ids.v[i].node);
	walk(st, NULL, prune);	       /* 3 */
	walk(st, NULL, sort_on_leave); /* 4: a dummy goes by its first child */
	sort_children(st, &st->root);
	merge_subjects(st, arena);     /* 5 */
	walk(st, NULL, sort_on_leave); /* 6 */
	sort_children(st, &st->root);
}

/* --- the response: RFC 5256 5 thread-list --- */

/* A node opens a thread-list of its own unless it continues its
   parent's one-child chain. */
static bool own_list(const struct thread_state *st, const struct node *n)
{
	return n->parent == &st->root || n->parent->item == NULL ||
	       n->parent->nchildren > 1;
}

static void write_enter(struct thread_state *st, struct node *n)
{
	struct buf *b = &st->out;

	if (buf_room(b) < 32) {
		conn_write(st->cmd->s->conn, b->data, b->len);
		buf_reset(b);
	}
	buf_append_str(b, own_list(st, n) ? "(" : " ");
	if (n->item == NULL)
		return;
	if (st->cmd->uid) {
		struct mailbox_msg msg;

		mailbox_get(st->cmd->s->sel->box, n->item->idx, &msg);
		buf_printf(b, "%u", msg.uid);
	} else {
		buf_printf(b, "%u", n->item->idx + 1);
	}
	if (n->nchildren > 1)
		buf_append_str(b, " ");
}

static void write_leave(struct thread_state *st, struct node *n)
{
	if (!own_list(st, n))
		return;
	/* many lists may close in a row: flush here too */
	if (buf_room(&st->out) < 2) {
		conn_write(st->cmd->s->conn, st->out.data, st->out.len);
		buf_reset(&st->out);
	}
	buf_append_str(&st->out, ")");
}

static void write_threads(struct imap_cmd *cmd, struct thread_state *st)
{
	struct buf *b = &st->out;

	st->cmd = cmd;
	buf_init(b, 65536);
	buf_append_str(b, "* THREAD");
	if (st->root.first != NULL)
		buf_append_str(b, " ");
	walk(st, write_enter, write_leave);
	buf_append_str(b, "\r\n");
	conn_write(cmd->s->conn, b->data, b->len);
	buf_free(b);
}

/* --- the command --- */

static enum imap_cmd_result thread_resume(struct imap_cmd *cmd)
{
	struct thread_state *st = cmd->state;

	if (!st->searched) {
		const unsigned *hits;

		if (imap_search_step(st->search) == IMAP_SEARCH_MORE) {
			conn_kick(cmd->s->conn);
			return IMAP_CMD_PENDING;
		}
		st->searched = true;
		hits = imap_search_result(st->search, &st->count);
		st->items = arena_zalloc(cmd->arena,
					 (st->count + 1) * sizeof(*st->items));
		for (size_t i = 0; i < st->count; i++)
			st->items[i].idx = hits[i];
	}
	if (!imap_msgkeys_load(cmd->s->sel->box, cmd->arena, st->items,
			       st->count, &st->pos, IMAP_MSGKEYS_NEED_HEADER,
			       imap_msgkeys_now_usec() +
				       IMAP_SEARCH_SLICE_USEC)) {
		conn_kick(cmd->s->conn);
		return IMAP_CMD_PENDING;
	}
	if (st->algorithm == THREAD_ORDEREDSUBJECT)
		ordered_subject(st, cmd->arena);
	else
		references(st, cmd->arena);
	write_threads(cmd, st);
	return imap_cmd_ok(cmd, "THREAD completed");
}

static void thread_cleanup(struct imap_cmd *cmd)
{
	struct thread_state *st = cmd->state;

	imap_search_free(&st->search);
	cmd->state = NULL;
}

enum imap_cmd_result imap_cmd_thread(struct imap_cmd *cmd)
{
	struct thread_state *st = arena_zalloc(cmd->arena, sizeof(*st));
	struct strv w;

	if (imap_cmd_argc(cmd) < 3) {
		imap_reply(cmd, "BAD",
			   "THREAD needs an algorithm, a charset "
			   "and search keys");
		return IMAP_CMD_DONE;
	}
	if (!imap_arg_get_atom(imap_cmd_arg(cmd, 0), &w) ||
	    !(strv_eq_cstr_ci(w, "ORDEREDSUBJECT") ||
	      strv_eq_cstr_ci(w, "REFERENCES"))) {
		imap_reply(cmd, "BAD", "Unknown thread algorithm");
		return IMAP_CMD_DONE;
	}
	st->algorithm = strv_eq_cstr_ci(w, "REFERENCES")
				? THREAD_REFERENCES
				: THREAD_ORDEREDSUBJECT;
	if (!imap_arg_get_astring(imap_cmd_arg(cmd, 1), &w)) {
		imap_reply(cmd, "BAD", "THREAD needs a charset");
		return IMAP_CMD_DONE;
	}
	if (!imap_search_charset_key_ok(w.p, w.len))
		return imap_cmd_no(cmd, "[BADCHARSET (UTF-8 US-ASCII)] "
					"Unknown charset");
	if (imap_search_parse(cmd, 2, &st->search) < 0)
		return IMAP_CMD_DONE;
	cmd->state = st;
	cmd->cleanup = thread_cleanup;
	cmd->resume = thread_resume;
	return thread_resume(cmd);
}
