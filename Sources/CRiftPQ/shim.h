#ifndef CRIFT_PQ_SHIM_H
#define CRIFT_PQ_SHIM_H
#include <libpq-fe.h>

/* PG_DIAG_* are character macros ('C', 'M'), which Swift does not import. */
static inline int CRiftPQ_diagSQLState(void) { return PG_DIAG_SQLSTATE; }
static inline int CRiftPQ_diagMessagePrimary(void) { return PG_DIAG_MESSAGE_PRIMARY; }

/* A notice processor that drops notices: libpq's default prints them to stderr ("relation already exists, skipping"). */
static void CRiftPQ_ignoreNotice(void *arg, const char *message) { (void)arg; (void)message; }
static inline void CRiftPQ_silenceNotices(PGconn *connection) { PQsetNoticeProcessor(connection, CRiftPQ_ignoreNotice, 0); }
#endif
