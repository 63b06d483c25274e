/*
 * report_json.h — jansson helpers shared by the JSON and SARIF reports.
 * Strings from logs go through rj_str() (jansson refuses invalid UTF-8);
 * addresses are hex strings (JSON numbers lose precision above 2^53).
 */
#ifndef ANALYZER_REPORT_JSON_H
#define ANALYZER_REPORT_JSON_H

#include <jansson.h>

#include "report.h"

json_t *rj_str(const char *s);              /* NULL -> null */
json_t *rj_hex(uint64_t v);                 /* "0x..." */
json_t *rj_uint(uint64_t v);                /* clamped to the JSON integer range */
json_t *rj_uint_or_null(uint64_t v);        /* 0 -> null */
json_t *rj_frames(const struct sym_stack *s);
json_t *rj_event(const struct fnd_event *e);
/* A finding's crash fields (report_json_crash.c): signal, registers,
 * threads with their stacks and events, links. */
void report_json_crash_fields(json_t *j, const struct fnd *f);
/* A process's "namespaces", "namespaces_dropped" and "namespace_threads"
 * (report_ns.c). */
void report_ns_json_fields(json_t *p, const struct pt_node *n);
/* Dump root to out with a final newline; 0 or -1. */
int rj_dump(json_t *root, FILE *out);

#endif /* ANALYZER_REPORT_JSON_H */
