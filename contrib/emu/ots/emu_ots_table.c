/* SPDX-License-Identifier: MIT */
/*
 * emu_ots_table.c - Table Store table operations of difs-emu (CreateTable,
 * DescribeTable, UpdateTable, DeleteTable, ListTable).  The top of the
 * operation files: enabling, dropping and purging a table's stream and
 * purging its rows are done from here (emu_ots_stream.c, emu_ots_row.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ots.pb-c.h"

#include "emu_ots_i.h"
#include "log.h"

/* ---- helpers -------------------------------------------------------------------- */

static int
emu_ots_name_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > EMU_OTS_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
		    (i > 0 && c >= '0' && c <= '9')))
			return 0;
	}
	return 1;
}

#define EMU_OTS_UNPACK(type, fn, var, body, len, e) do {			\
	(var) = fn(NULL, (len), (body));					\
	if ((var) == NULL)							\
		return EMU_OTS_BADPARAM((e), "Failed to parse the ProtoBuf message."); \
} while (0)

static int
emu_ots_options_apply(struct emu_ots_table *t, const Ots__TableOptions *o,
    struct emu_ots_err *e)
{
	if (o == NULL)
		return 0;
	if (o->has_time_to_live) {
		if (o->time_to_live != -1 && o->time_to_live < 86400)
			return EMU_OTS_BADPARAM(e, "TimeToLive must be -1 or at least 86400 seconds.");
		t->ttl = o->time_to_live;
	}
	if (o->has_max_versions) {
		if (o->max_versions < 1)
			return EMU_OTS_BADPARAM(e, "MaxVersions must be greater than 0.");
		t->max_versions = o->max_versions;
	}
	if (o->has_deviation_cell_version_in_sec) {
		if (o->deviation_cell_version_in_sec < 1)
			return EMU_OTS_BADPARAM(e, "MaxTimeDeviation must be greater than 0.");
		t->deviation = o->deviation_cell_version_in_sec;
		t->has_deviation = 1;
	}
	return 0;
}

static void
emu_ots_options_fill(const struct emu_ots_table *t, Ots__TableOptions *o)
{
	ots__table_options__init(o);
	o->has_time_to_live = 1;
	o->time_to_live = t->ttl;
	o->has_max_versions = 1;
	o->max_versions = t->max_versions;
	if (t->has_deviation) {
		o->has_deviation_cell_version_in_sec = 1;
		o->deviation_cell_version_in_sec = t->deviation;
	}
}

static void
emu_ots_stream_fill(const struct emu_ots_table *t, Ots__StreamDetails *d)
{
	ots__stream_details__init(d);
	d->enable_stream = t->stream != 0;
	if (t->stream) {
		d->stream_id = (char *)(uintptr_t)t->stream_id;
		d->has_expiration_time = 1;
		d->expiration_time = t->expiration_h;
		d->has_last_enable_time = 1;
		d->last_enable_time = t->stream_created_us;
	}
}

static int
emu_ots_stream_spec_check(const Ots__StreamSpecification *s, struct emu_ots_err *e)
{
	if (s == NULL || !s->enable_stream)
		return 0;
	if (s->has_expiration_time && (s->expiration_time < 1 || s->expiration_time > 168))
		return EMU_OTS_BADPARAM(e, "ExpirationTime must be in range: [1, 168].");
	return 0;
}

/** Commit t's metadata (and the uid counter) in one write txn. */
static int
emu_ots_meta_commit(struct emu_ots *ots, const struct emu_ots_table *t)
{
	struct emu_ots_txn *txn;
	int rc;

	if ((rc = emu_ots_txn_begin(ots->store, 0, &txn)) != 0)
		return rc;
	if ((rc = emu_ots_store_put_table(txn, t)) != 0 ||
	    (rc = emu_ots_store_put_uid(txn, ots->next_uid)) != 0) {
		emu_ots_txn_abort(txn);
		return rc;
	}
	return emu_ots_txn_commit(txn);
}

/* ---- operations ------------------------------------------------------------- */

int
emu_ots_create_table(struct emu_ots *ots, const uint8_t *body, size_t len,
    struct buf *out, struct emu_ots_err *e)
{
	Ots__CreateTableRequest *rq;
	Ots__CreateTableResponse rs = OTS__CREATE_TABLE_RESPONSE__INIT;
	struct emu_ots_table *t = NULL, **nt;
	const Ots__TableMeta *m;
	int rc = -1, locked = 0;
	size_t i, j;

	EMU_OTS_UNPACK(Ots__CreateTableRequest, ots__create_table_request__unpack, rq, body, len, e);
	m = rq->table_meta;
	if (!emu_ots_name_ok(m->table_name)) {
		EMU_OTS_BADPARAM(e, "Invalid table name: '%s'.", m->table_name);
		goto out;
	}
	if (m->n_primary_key < 1 || m->n_primary_key > EMU_OTS_PK_MAX) {
		EMU_OTS_BADPARAM(e, "The number of primary key columns must be in range: [1, 4].");
		goto out;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	snprintf(t->name, sizeof(t->name), "%s", m->table_name);
	t->npk = (int)m->n_primary_key;
	for (i = 0; i < m->n_primary_key; i++) {
		const Ots__PrimaryKeySchema *s = m->primary_key[i];

		if (!emu_ots_name_ok(s->name)) {
			EMU_OTS_BADPARAM(e, "Invalid column name: '%s'.", s->name);
			goto out;
		}
		for (j = 0; j < i; j++)
			if (strcmp(t->pk[j].name, s->name) == 0) {
				EMU_OTS_BADPARAM(e, "Duplicated primary key name: '%s'.", s->name);
				goto out;
			}
		if (s->type < OTS__PRIMARY_KEY_TYPE__INTEGER || s->type > OTS__PRIMARY_KEY_TYPE__BINARY) {
			EMU_OTS_BADPARAM(e, "Invalid primary key type.");
			goto out;
		}
		snprintf(t->pk[i].name, sizeof(t->pk[i].name), "%s", s->name);
		t->pk[i].type = (int)s->type;
		if (s->has_option && s->option == OTS__PRIMARY_KEY_OPTION__AUTO_INCREMENT) {
			if (i == 0 || s->type != OTS__PRIMARY_KEY_TYPE__INTEGER) {
				EMU_OTS_BADPARAM(e, "AUTO_INCREMENT is only allowed on an INTEGER "
				    "primary key column that is not the partition key.");
				goto out;
			}
			t->pk[i].autoinc = 1;
		}
	}
	t->ttl = -1;
	t->max_versions = 1;
	if (emu_ots_options_apply(t, rq->table_options, e) != 0 ||
	    emu_ots_stream_spec_check(rq->stream_spec, e) != 0)
		goto out;
	pthread_mutex_lock(&ots->write_lock);
	pthread_rwlock_wrlock(&ots->meta_lock);
	locked = 1;
	t->nshards_init = emu_ots_shards_for(ots, t->name);
	if (emu_ots_table_find(ots, t->name) != NULL) {
		emu_ots_fail(e, 409, "OTSObjectAlreadyExist", "Requested table already exists.");
		goto out;
	}
	t->uid = ots->next_uid++;
	t->created_us = emu_ots_now_us();
	if (rq->stream_spec != NULL && rq->stream_spec->enable_stream &&
	    (rc = emu_ots_stream_enable(ots, t, rq->stream_spec->has_expiration_time ?
	    rq->stream_spec->expiration_time : 24)) != 0)
		goto out;
	if ((nt = realloc(ots->tables, (ots->ntables + 1) * sizeof(*nt))) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	ots->tables = nt;
	if ((rc = emu_ots_meta_commit(ots, t)) != 0)
		goto out;
	nt[ots->ntables++] = t;
	t = NULL;
	rc = emu_ots_pack(&rs, out);
out:
	if (locked) {
		pthread_rwlock_unlock(&ots->meta_lock);
		pthread_mutex_unlock(&ots->write_lock);
	}
	emu_ots_table_free(t);
	ots__create_table_request__free_unpacked(rq, NULL);
	return rc;
}

static int
emu_ots_no_table(struct emu_ots_err *e)
{
	return emu_ots_fail(e, 404, "OTSObjectNotExist", "Requested table does not exist.");
}

int
emu_ots_describe_table(struct emu_ots *ots, const uint8_t *body, size_t len,
    struct buf *out, struct emu_ots_err *e)
{
	Ots__DescribeTableRequest *rq;
	Ots__DescribeTableResponse rs = OTS__DESCRIBE_TABLE_RESPONSE__INIT;
	Ots__TableMeta meta = OTS__TABLE_META__INIT;
	Ots__PrimaryKeySchema pks[EMU_OTS_PK_MAX], *pkp[EMU_OTS_PK_MAX];
	Ots__ReservedThroughputDetails rtd = OTS__RESERVED_THROUGHPUT_DETAILS__INIT;
	Ots__CapacityUnit cu = OTS__CAPACITY_UNIT__INIT;
	Ots__TableOptions opts;
	Ots__StreamDetails sd;
	const struct emu_ots_table *t;
	int rc = -1, i;

	EMU_OTS_UNPACK(Ots__DescribeTableRequest, ots__describe_table_request__unpack, rq, body, len, e);
	pthread_rwlock_rdlock(&ots->meta_lock);
	if ((t = emu_ots_table_find(ots, rq->table_name)) == NULL) {
		emu_ots_no_table(e);
		goto out;
	}
	meta.table_name = (char *)(uintptr_t)t->name;
	for (i = 0; i < t->npk; i++) {
		ots__primary_key_schema__init(&pks[i]);
		pks[i].name = (char *)(uintptr_t)t->pk[i].name;
		pks[i].type = (Ots__PrimaryKeyType)t->pk[i].type;
		if (t->pk[i].autoinc) {
			pks[i].has_option = 1;
			pks[i].option = OTS__PRIMARY_KEY_OPTION__AUTO_INCREMENT;
		}
		pkp[i] = &pks[i];
	}
	meta.n_primary_key = (size_t)t->npk;
	meta.primary_key = pkp;
	cu.has_read = cu.has_write = 1;
	rtd.capacity_unit = &cu;
	rtd.last_increase_time = t->created_us / 1000000;
	emu_ots_options_fill(t, &opts);
	emu_ots_stream_fill(t, &sd);
	rs.table_meta = &meta;
	rs.reserved_throughput_details = &rtd;
	rs.table_options = &opts;
	rs.table_status = OTS__TABLE_STATUS__ACTIVE;
	rs.stream_details = &sd;
	rs.has_creation_time = 1;
	rs.creation_time = t->created_us;
	rc = emu_ots_pack(&rs, out);
out:
	pthread_rwlock_unlock(&ots->meta_lock);
	ots__describe_table_request__free_unpacked(rq, NULL);
	return rc;
}

int
emu_ots_update_table(struct emu_ots *ots, const uint8_t *body, size_t len,
    struct buf *out, struct emu_ots_err *e)
{
	Ots__UpdateTableRequest *rq;
	Ots__UpdateTableResponse rs = OTS__UPDATE_TABLE_RESPONSE__INIT;
	Ots__ReservedThroughputDetails rtd = OTS__RESERVED_THROUGHPUT_DETAILS__INIT;
	Ots__CapacityUnit cu = OTS__CAPACITY_UNIT__INIT;
	Ots__TableOptions opts;
	Ots__StreamDetails sd;
	struct emu_ots_table *t, saved;
	struct emu_ots_txn *txn = NULL;
	int rc = -1;

	EMU_OTS_UNPACK(Ots__UpdateTableRequest, ots__update_table_request__unpack, rq, body, len, e);
	if (emu_ots_stream_spec_check(rq->stream_spec, e) != 0) {
		ots__update_table_request__free_unpacked(rq, NULL);
		return -1;
	}
	pthread_mutex_lock(&ots->write_lock);
	pthread_rwlock_wrlock(&ots->meta_lock);
	if ((t = emu_ots_table_find(ots, rq->table_name)) == NULL) {
		emu_ots_no_table(e);
		goto out;
	}
	saved = *t;
	if (emu_ots_options_apply(t, rq->table_options, e) != 0)
		goto restore;
	if ((rc = emu_ots_txn_begin(ots->store, 0, &txn)) != 0)
		goto restore;
	if (rq->stream_spec != NULL) {
		int32_t hours = rq->stream_spec->has_expiration_time ?
		    rq->stream_spec->expiration_time : 24;

		if (rq->stream_spec->enable_stream && t->stream) {
			t->expiration_h = hours;
		} else if (rq->stream_spec->enable_stream) {
			if ((rc = emu_ots_stream_enable(ots, t, hours)) != 0)
				goto restore;
		} else if (t->stream) {
			emu_ots_stream_drop(t);
		}
	}
	if ((rc = emu_ots_store_put_table(txn, t)) != 0 ||
	    (rc = emu_ots_store_put_uid(txn, ots->next_uid)) != 0)
		goto restore;
	rc = emu_ots_txn_commit(txn);
	txn = NULL;
	if (rc != 0)
		goto restore;
	if (saved.shards != t->shards) {
		/* records of a disabled stream: unreachable now, purged in chunks */
		if (!t->stream && saved.stream &&
		    emu_ots_stream_purge(ots, saved.shards, saved.nshards) != 0)
			log_warnx("emu ots: cannot purge the old stream of %s", t->name);
		free(saved.shards);
	}
	cu.has_read = cu.has_write = 1;
	rtd.capacity_unit = &cu;
	rtd.last_increase_time = t->created_us / 1000000;
	emu_ots_options_fill(t, &opts);
	emu_ots_stream_fill(t, &sd);
	rs.reserved_throughput_details = &rtd;
	rs.table_options = &opts;
	rs.stream_details = &sd;
	rc = emu_ots_pack(&rs, out);
	goto out;
restore:
	emu_ots_txn_abort(txn);
	if (saved.shards != t->shards)
		free(t->shards);
	*t = saved;
	if (rc == 0)
		rc = -1;
out:
	pthread_rwlock_unlock(&ots->meta_lock);
	pthread_mutex_unlock(&ots->write_lock);
	ots__update_table_request__free_unpacked(rq, NULL);
	return rc;
}

int
emu_ots_delete_table(struct emu_ots *ots, const uint8_t *body, size_t len,
    struct buf *out, struct emu_ots_err *e)
{
	Ots__DeleteTableRequest *rq;
	Ots__DeleteTableResponse rs = OTS__DELETE_TABLE_RESPONSE__INIT;
	struct emu_ots_table *t = NULL;
	struct emu_ots_txn *txn = NULL;
	size_t i;
	int rc = -1;

	EMU_OTS_UNPACK(Ots__DeleteTableRequest, ots__delete_table_request__unpack, rq, body, len, e);
	pthread_mutex_lock(&ots->write_lock);
	pthread_rwlock_wrlock(&ots->meta_lock);
	for (i = 0; i < ots->ntables; i++)
		if (strcmp(ots->tables[i]->name, rq->table_name) == 0)
			t = ots->tables[i];
	if (t == NULL) {
		emu_ots_no_table(e);
		goto out;
	}
	if ((rc = emu_ots_txn_begin(ots->store, 0, &txn)) != 0)
		goto out;
	if ((rc = emu_ots_store_del_table(txn, t)) != 0)
		goto out;
	rc = emu_ots_txn_commit(txn);
	txn = NULL;
	if (rc != 0)
		goto out;
	/* the table record is gone (its uids are never reused): rows and
	 * records are unreachable; purge them in bounded transactions */
	if (emu_ots_rows_purge(ots, t->uid) != 0 ||
	    emu_ots_stream_purge(ots, t->shards, t->nshards) != 0)
		log_warnx("emu ots: cannot purge the data of deleted table %s", t->name);
	for (i = 0; i < ots->ntables; i++)
		if (ots->tables[i] == t) {
			memmove(&ots->tables[i], &ots->tables[i + 1],
			    (ots->ntables - i - 1) * sizeof(ots->tables[0]));
			ots->ntables--;
			break;
		}
	emu_ots_table_free(t);
	rc = emu_ots_pack(&rs, out);
out:
	emu_ots_txn_abort(txn);
	pthread_rwlock_unlock(&ots->meta_lock);
	pthread_mutex_unlock(&ots->write_lock);
	ots__delete_table_request__free_unpacked(rq, NULL);
	return rc;
}

static int
emu_ots_strcmp_p(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
emu_ots_list_table(struct emu_ots *ots, const uint8_t *body, size_t len,
    struct buf *out, struct emu_ots_err *e)
{
	Ots__ListTableRequest *rq;
	Ots__ListTableResponse rs = OTS__LIST_TABLE_RESPONSE__INIT;
	char **names = NULL;
	size_t i;
	int rc = -ENOMEM;

	EMU_OTS_UNPACK(Ots__ListTableRequest, ots__list_table_request__unpack, rq, body, len, e);
	pthread_rwlock_rdlock(&ots->meta_lock);
	if (ots->ntables > 0 && (names = calloc(ots->ntables, sizeof(*names))) == NULL)
		goto out;
	for (i = 0; i < ots->ntables; i++)
		names[i] = ots->tables[i]->name;
	if (ots->ntables > 1)
		qsort(names, ots->ntables, sizeof(*names), emu_ots_strcmp_p);
	rs.n_table_names = ots->ntables;
	rs.table_names = names;
	rc = emu_ots_pack(&rs, out);
out:
	pthread_rwlock_unlock(&ots->meta_lock);
	free(names);
	ots__list_table_request__free_unpacked(rq, NULL);
	return rc;
}
